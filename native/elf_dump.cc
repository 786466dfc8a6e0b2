// ELF vmcores (/proc/vmcore, makedumpfile -E). Physical memory is the PT_LOAD segments by p_paddr.
//
// Bytes in [p_filesz, p_memsz) of a segment: plain ELF says they read as zeros, but in a vmcore
// the only writer of such segments is makedumpfile -E, which ends a segment's file part where a
// run of excluded pages begins. Reading them as zeros would be silent wrong data, so they are
// EXCLUDED pages (zeros only when the caller asks for zeroExcluded), like a kdump bitmap miss.
#include <algorithm>
#include <cstring>
#include <map>

#include "bytes.h"
#include "dump_format.h"
#include "errors.h"

namespace vaat {
namespace {

constexpr uint32_t PT_LOAD = 1, PT_NOTE = 4;
constexpr uint16_t ET_CORE = 4, PN_XNUM = 0xffff;
constexpr uint64_t kMaxNotes = 64ULL << 20;
constexpr uint64_t kMaxPhys = 1ULL << 52;  // x86_64's physical address limit

// A run of physical addresses with one meaning: file bytes at `fileOff`, or excluded (no bytes).
struct Run {
  uint64_t start, end;
  bool data;
  uint64_t fileOff;
};

class ElfDump : public PageStore {
 public:
  ElfDump(std::unique_ptr<ByteSource> src, std::shared_ptr<const DumpInfo> info, std::shared_ptr<const std::vector<Run>> runs)
      : src_(std::move(src)), runs_(std::move(runs)) {
    info_ = std::move(info);
  }

  PageState state(uint64_t pfn) const override {
    bool data = false, excluded = false;
    forRuns(pfn, [&](const Run& r) { (r.data ? data : excluded) = true; });
    return data ? PageState::Present : excluded ? PageState::Excluded : PageState::Absent;
  }

  void readPage(uint64_t pfn, uint8_t* buf) override {
    const uint64_t ps = info_->blockSize, base = pfn * ps;
    std::memset(buf, 0, ps);  // bytes of the page no segment covers (a segment ending mid-page)
    forRuns(pfn, [&](const Run& r) {
      if (!r.data) return;
      uint64_t s = std::max(r.start, base), e = std::min(r.end, base + ps);
      uint64_t at = r.fileOff + (s - r.start);
      if (src_->read(at, buf + (s - base), e - s) != e - s)
        throw DumpError(info_->truncated ? ErrCode::Truncated : ErrCode::Corrupt,
                        "data of physical page " + hex(base) + " lies beyond the end of the file", base);
    });
  }

  std::unique_ptr<PageStore> clone() const override { return std::make_unique<ElfDump>(src_->clone(), info_, runs_); }

 private:
  template <typename F>
  void forRuns(uint64_t pfn, F f) const {
    const uint64_t ps = info_->blockSize, base = pfn * ps;
    const auto& runs = *runs_;
    auto it = std::upper_bound(runs.begin(), runs.end(), base, [](uint64_t a, const Run& r) { return a < r.end; });
    for (; it != runs.end() && it->start < base + ps; ++it) f(*it);
  }
  std::unique_ptr<ByteSource> src_;
  std::shared_ptr<const std::vector<Run>> runs_;
};

// Adds [start, end) to a map of non-overlapping runs, only where nothing is there yet (so data
// inserted first wins over excluded ranges, and the first of two overlapping segments wins).
void fillGaps(std::map<uint64_t, Run>& m, Run r) {
  uint64_t pos = r.start;
  auto it = m.upper_bound(pos);
  if (it != m.begin() && std::prev(it)->second.end > pos) pos = std::prev(it)->second.end;
  while (pos < r.end) {
    while (it != m.end() && it->second.end <= pos) ++it;
    uint64_t stop = (it == m.end()) ? r.end : std::min(r.end, it->second.start);
    if (stop > pos) {
      Run piece = r;
      piece.start = pos;
      piece.end = stop;
      piece.fileOff = r.fileOff + (pos - r.start);
      m[pos] = piece;
    }
    if (it == m.end()) break;
    pos = std::max(pos, it->second.end);
  }
}

}  // namespace

std::unique_ptr<PageStore> openElf(std::unique_ptr<ByteSource> src, std::shared_ptr<DumpInfo> info) {
  DumpInfo& I = *info;
  const uint64_t fsize = src->size();
  uint8_t e[64];
  src->readExact(0, e, sizeof e, "the ELF header");
  if (e[4] != 2) throw DumpError(ErrCode::Unsupported, "32-bit ELF dumps are not supported");
  if (e[5] != 1) throw DumpError(ErrCode::Unsupported, "big-endian ELF dumps are not supported");
  if (le16(e + 16) != ET_CORE) throw DumpError(ErrCode::NotADump, "an ELF file but not a core dump (e_type " + std::to_string(le16(e + 16)) + ")");
  uint16_t machine = le16(e + 18);
  if (machine == EM_X86_64) I.arch = "x86_64";
  else if (machine == EM_AARCH64) I.arch = "aarch64";
  else throw DumpError(ErrCode::Unsupported, "ELF machine " + std::to_string(machine) + " (only x86_64 and aarch64 are supported)");
  I.format = "elf";
  uint64_t phoff = le64(e + 32), shoff = le64(e + 40);
  uint16_t phentsize = le16(e + 54);
  uint64_t phnum = le16(e + 56);
  if (phentsize != 56) throw DumpError(ErrCode::Corrupt, "ELF program header size " + std::to_string(phentsize));
  if (phnum == PN_XNUM) {  // more than 65534 segments: the real count is section 0's sh_info
    uint8_t sh[64];
    if (shoff == 0 || shoff > fsize) throw DumpError(ErrCode::Corrupt, "ELF e_phnum is PN_XNUM but there is no section header");
    src->readExact(shoff, sh, sizeof sh, "the ELF section header");
    phnum = le32(sh + 44);
  }
  if (phnum == 0 || phnum > (1u << 24) || phoff > fsize + (1ULL << 32))
    throw DumpError(ErrCode::Corrupt, "ELF program headers (" + std::to_string(phnum) + " at offset " + hex(phoff) + ")");
  // the table and the runs built from it, before anything is allocated
  checkMetadataClaim(I, fsize, phoff, phnum * 56, phnum * (56 + 2 * sizeof(Run)), "ELF program headers (" + std::to_string(phnum) + ")");
  std::vector<uint8_t> ph(phnum * 56);
  src->readExact(phoff, ph.data(), ph.size(), "the ELF program headers");

  std::vector<Run> dataRuns, excludedRuns;
  uint64_t expectedEnd = phoff + ph.size();
  for (uint64_t i = 0; i < phnum; i++) {
    const uint8_t* p = ph.data() + i * 56;
    uint32_t type = le32(p);
    uint64_t off = le64(p + 8), paddr = le64(p + 24), filesz = le64(p + 32), memsz = le64(p + 40);
    if (type != PT_LOAD && type != PT_NOTE) continue;
    if (off > kMaxPhys || filesz > kMaxPhys)
      throw DumpError(ErrCode::Corrupt, "ELF program header " + std::to_string(i) + " has offset " + hex(off) + " size " + hex(filesz));
    expectedEnd = std::max(expectedEnd, off + filesz);
    if (type == PT_NOTE) {
      if (filesz > kMaxNotes) throw DumpError(ErrCode::Corrupt, "ELF note segment of " + std::to_string(filesz) + " bytes");
      checkMetadataClaim(I, fsize, off, filesz, filesz, "the ELF notes");
      std::vector<uint8_t> notes(filesz);
      src->readExact(off, notes.data(), notes.size(), "the ELF notes");
      parseElfNotes(notes.data(), notes.size(), I);
      continue;
    }
    if (filesz > memsz || paddr > kMaxPhys || memsz > kMaxPhys - paddr)
      throw DumpError(ErrCode::Corrupt, "ELF PT_LOAD " + std::to_string(i) + " (paddr " + hex(paddr) + ", filesz " + hex(filesz) +
                                            ", memsz " + hex(memsz) + ") is inconsistent");
    if (filesz) dataRuns.push_back(Run{paddr, paddr + filesz, true, off});
    if (memsz > filesz) excludedRuns.push_back(Run{paddr + filesz, paddr + memsz, false, 0});
  }
  std::map<uint64_t, Run> m;
  for (auto& r : dataRuns) fillGaps(m, r);
  for (auto& r : excludedRuns) fillGaps(m, r);
  auto runs = std::make_shared<std::vector<Run>>();
  for (auto& kv : m) runs->push_back(kv.second);

  // Page counts: a page with any file bytes is present; one with only excluded bytes is excluded.
  const uint64_t ps = I.blockSize;
  auto pageHasData = [&](uint64_t pfn) {
    auto it = std::upper_bound(runs->begin(), runs->end(), pfn * ps, [](uint64_t a, const Run& r) { return a < r.end; });
    for (; it != runs->end() && it->start < (pfn + 1) * ps; ++it)
      if (it->data) return true;
    return false;
  };
  uint64_t present = 0, excluded = 0, lastPresent = ~0ULL, lastExcluded = ~0ULL, covered = 0, maxEnd = 0;
  for (auto& r : *runs) {
    covered += r.end - r.start;
    maxEnd = std::max(maxEnd, r.end);
    uint64_t first = r.start / ps, last = (r.end - 1) / ps;
    if (r.data) {
      present += last - first + 1 - (first == lastPresent ? 1 : 0);
      lastPresent = last;
    } else {
      uint64_t n = last - first + 1 - (first == lastExcluded ? 1 : 0);
      if (first != lastExcluded && pageHasData(first)) n--;
      if (last != first && pageHasData(last)) n--;
      excluded += n;
      lastExcluded = last;
    }
  }
  I.pagesPresent = int64_t(present);
  I.pagesExcluded = int64_t(excluded);
  I.memorySize = covered;
  I.maxPfn = (maxEnd + ps - 1) / ps;
  I.nrCpus = int(I.cpus.size());
  if (fsize < expectedEnd) {
    I.truncated = true;
    I.warnings.push_back("file is truncated: " + std::to_string(fsize) + " of " + std::to_string(expectedEnd) + " bytes");
  }
  if (I.vmcoreinfo.empty()) I.warnings.push_back("no VMCOREINFO in the dump");
  finishInfo(I);
  return std::make_unique<ElfDump>(std::move(src), std::move(info), std::move(runs));
}

}  // namespace vaat
