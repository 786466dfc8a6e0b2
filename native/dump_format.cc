#include "dump_format.h"

#include <cstdlib>
#include <algorithm>
#include <cstdint>
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

void checkMetadataClaim(const DumpInfo& info, uint64_t fileSize, uint64_t offset, uint64_t bytes, uint64_t memory, const std::string& what) {
  // 64 MiB for any dump, else 4x its size on disk: real bitmaps and headers are a small fraction of a dump
  constexpr uint64_t kFloor = 64ULL << 20;
  const uint64_t budget = std::max<uint64_t>(kFloor, info.fileSize > (UINT64_MAX >> 3) ? UINT64_MAX : info.fileSize * 4);
  if (memory > budget)
    throw DumpError(ErrCode::Corrupt, what + " would take " + std::to_string(memory >> 20) + " MiB, more than a " +
                                          std::to_string(info.fileSize) + "-byte dump can describe (header field damaged)");
  if (offset > fileSize || bytes > fileSize - offset)
    throw DumpError(ErrCode::Truncated, what + " (" + std::to_string(bytes) + " bytes at offset " + std::to_string(offset) +
                                            ") extend past the end of the file (" + std::to_string(fileSize) + " bytes)");
}

namespace {
// struct elf_prstatus is laid out alike on x86_64 and arm64: pr_pid at 32, pr_reg at 112, then
// pr_fpvalid. pr_reg is x86_64's user_regs_struct (27 x u64) or arm64's user_pt_regs (34 x u64).
constexpr size_t kPrstatusPid = 32, kPrstatusReg = 112;
constexpr size_t kX86PrstatusSize = 336, kArm64PrstatusSize = 392;
const char* const kX86Regs[27] = {"r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9",
                                  "r8",  "rax", "rcx", "rdx", "rsi", "rdi", "orig_rax", "rip", "cs",
                                  "eflags", "rsp", "ss", "fs_base", "gs_base", "ds", "es", "fs", "gs"};
const char* const kArm64Regs[34] = {"x0",  "x1",  "x2",  "x3",  "x4",  "x5",  "x6",  "x7",  "x8",  "x9",  "x10", "x11",
                                    "x12", "x13", "x14", "x15", "x16", "x17", "x18", "x19", "x20", "x21", "x22", "x23",
                                    "x24", "x25", "x26", "x27", "x28", "x29", "x30", "sp",  "pc",  "pstate"};
constexpr uint32_t NT_PRSTATUS = 1;

bool parseU64(const std::string& s, uint64_t& out) {
  if (s.empty()) return false;
  char* end = nullptr;
  out = std::strtoull(s.c_str(), &end, 0);
  return end && *end == '\0';
}
}  // namespace

std::string archFromMachine(const std::string& machine) {
  if (machine == "x86_64" || machine == "amd64") return "x86_64";
  if (machine == "aarch64" || machine == "arm64") return "aarch64";
  return "";
}

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
      // The note's size tells the architecture when the header did not (QEMU's "Unknown" machine).
      if (info.arch.empty() && descsz == kX86PrstatusSize) info.arch = "x86_64";
      if (info.arch.empty() && descsz == kArm64PrstatusSize) info.arch = "aarch64";
      const char* const* names = nullptr;
      size_t count = 0;
      if (info.arch == "x86_64") names = kX86Regs, count = 27;
      if (info.arch == "aarch64") names = kArm64Regs, count = 34;
      if (names && descsz >= kPrstatusReg + count * 8) {
        c.pid = les32(desc + kPrstatusPid);
        for (size_t i = 0; i < count; i++) c.regs.emplace_back(names[i], le64(desc + kPrstatusReg + 8 * i));
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

void finishInfo(DumpInfo& I) {
  // Each architecture exports its own page-table facts in VMCOREINFO.
  if (I.arch.empty() && !vmcoreinfoValue(I.vmcoreinfo, "SYMBOL(init_top_pgt)").empty()) I.arch = "x86_64";
  if (I.arch.empty() && !vmcoreinfoValue(I.vmcoreinfo, "NUMBER(kimage_voffset)").empty()) I.arch = "aarch64";
  I.pageSize = I.blockSize;
  uint64_t ps = 0;
  if (parseU64(vmcoreinfoValue(I.vmcoreinfo, "PAGESIZE"), ps)) {
    if (ps >= 4096 && ps <= 65536 && (ps & (ps - 1)) == 0) I.pageSize = uint32_t(ps);
    else I.warnings.push_back("VMCOREINFO PAGESIZE " + std::to_string(ps) + " is not a page size; using the dump's block size " + std::to_string(I.blockSize));
  }
  // Counts in kernel pages, not in the file's blocks.
  auto scale = [&](uint64_t blocks) { return I.blockSize >= I.pageSize ? blocks * (I.blockSize / I.pageSize) : (blocks * I.blockSize + I.pageSize - 1) / I.pageSize; };
  if (I.pagesPresent >= 0) I.pagesPresent = int64_t(scale(uint64_t(I.pagesPresent)));
  if (I.pagesExcluded >= 0) I.pagesExcluded = int64_t(scale(uint64_t(I.pagesExcluded)));
  I.maxPfn = scale(I.maxPfn);
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
