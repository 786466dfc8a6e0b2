#include "dump_format.h"

#include <cstring>

#include "bytes.h"
#include "errors.h"

namespace vaat {

std::string formatFromMagic(const uint8_t* head, size_t n) {
  if (n >= 8 && (std::memcmp(head, "KDUMP   ", 8) == 0 || std::memcmp(head, "DISKDUMP", 8) == 0)) return "kdump-compressed";
  if (n >= 4 && std::memcmp(head, "\x7f" "ELF", 4) == 0) return "elf";
  return "";
}

std::unique_ptr<PageStore> openDumpFormat(std::unique_ptr<ByteSource> src, uint64_t fileSizeOnDisk) {
  auto info = std::make_shared<DumpInfo>();
  info->fileSize = fileSizeOnDisk;
  info->container = src->container();
  info->warnings = src->warnings();
  info->truncated = src->truncated();
  if (src->size() == 0) {
    if (info->container.empty()) throw DumpError(ErrCode::NotADump, "empty file");
    // A container cut before its first complete block (or record) is a truncated dump, not an empty one.
    if (src->truncated()) throw DumpError(ErrCode::Truncated, info->container + " container is truncated before its first complete block");
    throw DumpError(ErrCode::NotADump, info->container + " container holds no data");
  }
  uint8_t head[8] = {0};
  size_t n = src->read(0, head, sizeof head);
  std::string fmt = formatFromMagic(head, n);
  if (fmt == "kdump-compressed") return openKdumpCompressed(std::move(src), info);
  if (fmt == "elf") return openElf(std::move(src), info);
  throw DumpError(ErrCode::NotADump, "not a kernel dump (no kdump, ELF, flattened or lzop signature)");
}

namespace {
// x86_64 struct elf_prstatus: pr_pid at 32, pr_reg (27 x u64, user_regs_struct order) at 112.
constexpr size_t kPrstatusPid = 32, kPrstatusReg = 112, kPrstatusSize = 336;
const char* const kX86Regs[27] = {"r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9",
                                  "r8",  "rax", "rcx", "rdx", "rsi", "rdi", "orig_rax", "rip", "cs",
                                  "eflags", "rsp", "ss", "fs_base", "gs_base", "ds", "es", "fs", "gs"};
constexpr uint32_t NT_PRSTATUS = 1;
}  // namespace

bool parseElfNotes(const uint8_t* p, size_t n, DumpInfo& info) {
  bool qemu = false;
  size_t off = 0;
  int prstatus = 0;
  while (off + 12 <= n) {
    uint32_t namesz = le32(p + off), descsz = le32(p + off + 4), type = le32(p + off + 8);
    uint64_t nameAt = off + 12;
    uint64_t descAt = nameAt + ((uint64_t(namesz) + 3) & ~3ULL);
    uint64_t next = descAt + ((uint64_t(descsz) + 3) & ~3ULL);
    if (next > n) {
      if (namesz == 0 && descsz == 0) break;  // zero padding at the end of the note area
      info.warnings.push_back("ELF note at offset " + std::to_string(off) + " overruns the note area; later notes ignored");
      break;
    }
    std::string name(reinterpret_cast<const char*>(p + nameAt), namesz);
    while (!name.empty() && name.back() == '\0') name.pop_back();
    const uint8_t* desc = p + descAt;
    if (name == "CORE" && type == NT_PRSTATUS) {
      CpuRegs c;
      c.cpu = prstatus++;
      if (info.arch.empty() && descsz == kPrstatusSize) info.arch = "x86_64";
      if (info.arch == "x86_64" && descsz >= kPrstatusReg + 27 * 8) {
        c.pid = les32(desc + kPrstatusPid);
        for (int i = 0; i < 27; i++) c.regs.emplace_back(kX86Regs[i], le64(desc + kPrstatusReg + 8 * i));
      }
      info.cpus.push_back(std::move(c));
    } else if (name == "VMCOREINFO") {
      std::string text(reinterpret_cast<const char*>(desc), descsz);
      text.resize(strnlen(text.c_str(), text.size()));
      info.vmcoreinfo = text;
    } else if (name == "QEMU") {
      qemu = true;
    }
    off = static_cast<size_t>(next);
  }
  return qemu;
}

std::string vmcoreinfoValue(const std::string& text, const std::string& key) {
  std::string needle = key + "=";
  size_t pos = 0;
  while ((pos = text.find(needle, pos)) != std::string::npos) {
    if (pos == 0 || text[pos - 1] == '\n') {
      size_t end = text.find('\n', pos);
      return text.substr(pos + needle.size(), end == std::string::npos ? std::string::npos : end - pos - needle.size());
    }
    pos += needle.size();
  }
  return "";
}

}  // namespace vaat
