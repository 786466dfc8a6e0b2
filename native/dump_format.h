// What every dump format reader provides: the facts attrs() reports (DumpInfo) and page-granular
// access to physical memory (PageStore). Formats: kdump_compressed.cc, elf_dump.cc.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "byte_source.h"

namespace vaat {

struct CpuRegs {
  int cpu = 0;
  int32_t pid = 0;
  // The architecture's prstatus register names: x86_64 user_regs_struct (rip, rsp, ...) or
  // arm64 user_pt_regs (x0..x30, sp, pc, pstate).
  std::vector<std::pair<const char*, uint64_t>> regs;
};

struct DumpInfo {
  std::string format;     // 'kdump-compressed', 'kdump-compressed (qemu)', 'elf'
  std::string container;  // '' | 'flattened' | 'lzop' | 'lzop+flattened'
  std::string codec = "none";
  int dumpLevel = -1;     // -1: the format does not record one
  // The PageStore's unit: pfn = physical address / blockSize. makedumpfile writes one kernel page
  // per block; QEMU's dump-guest-memory on arm64 writes 64 KiB blocks whatever the kernel's page.
  uint32_t blockSize = 4096;
  uint32_t pageSize = 4096;  // the kernel's page size: VMCOREINFO PAGESIZE, else blockSize
  std::string arch;          // 'x86_64', 'aarch64', or '' when unknown
  int nrCpus = 0;
  uint64_t maxPfn = 0;
  int64_t pagesPresent = -1, pagesExcluded = -1;  // -1: unknown
  uint64_t memorySize = 0;
  uint64_t fileSize = 0;  // bytes on disk
  std::string vmcoreinfo;
  bool hasUts = false;
  std::string uts[5];     // sysname nodename release version machine
  bool truncated = false;
  std::vector<std::string> warnings;
  std::vector<CpuRegs> cpus;
  int64_t headerPhysBase = 0;  // kdump sub-header phys_base (fallback when VMCOREINFO lacks it)
  bool hasHeaderPhysBase = false;
};

enum class PageState { Present, Excluded, Absent };

class PageStore {
 public:
  virtual ~PageStore() = default;
  const DumpInfo& info() const { return *info_; }
  // Whether page pfn is in the file, was filtered out (dump level), or is not in the dump at all.
  // Throws TRUNCATED when the file ends before the data that would say.
  virtual PageState state(uint64_t pfn) const = 0;
  // Fills buf (pageSize bytes) with a Present page. Throws TRUNCATED / CORRUPT.
  virtual void readPage(uint64_t pfn, uint8_t* buf) = 0;
  // Throws what readPage would for a Present page's metadata (descriptor out of bounds, data past
  // the end), without reading the data: the libkdumpfile back end calls it first, because
  // libkdumpfile 0.5.1 returns zeros or garbage for such descriptors instead of failing.
  virtual void check(uint64_t pfn) { (void)pfn; }
  virtual std::unique_ptr<PageStore> clone() const = 0;

 protected:
  std::shared_ptr<const DumpInfo> info_;
};

// Recognises the dump format in src by magic and opens it; NOT_A_DUMP if it is none we know.
std::unique_ptr<PageStore> openDumpFormat(std::unique_ptr<ByteSource> src, uint64_t fileSizeOnDisk);

// Format name from the first bytes alone ('kdump-compressed', 'elf'), or '' if none.
std::string formatFromMagic(const uint8_t* head, size_t n);

// Both formats carry ELF notes (kdump copies them from /proc/vmcore). Fills cpus, vmcoreinfo
// (if the note is there) and arch (from PRSTATUS size when still unknown); returns true if any
// QEMU-named note was seen (the tell-tale of QEMU's dump-guest-memory).
bool parseElfNotes(const uint8_t* p, size_t n, DumpInfo& info);

// Architecture name for a uname machine / ELF e_machine value: 'x86_64', 'aarch64', or ''.
std::string archFromMachine(const std::string& machine);
constexpr uint16_t EM_X86_64 = 62, EM_AARCH64 = 183;

// Called by each format once VMCOREINFO and the notes are read: the architecture when the header
// did not name it, the kernel page size, and page counts in kernel pages.
void finishInfo(DumpInfo& info);

// Value of `key=` in VMCOREINFO text, or '' when absent.
std::string vmcoreinfoValue(const std::string& text, const std::string& key);

// Header-claimed metadata (bitmaps, program headers, notes) is allocated only after this check:
// `bytes` read from [offset, offset + bytes) must lie inside the (logical) file, and the memory
// all such metadata takes may not exceed a budget set by what is on disk (a container can expand
// its data, a bare header cannot claim more than its file holds). Throws TRUNCATED / CORRUPT.
void checkMetadataClaim(const DumpInfo& info, uint64_t fileSize, uint64_t offset, uint64_t bytes, uint64_t memory, const std::string& what);

std::unique_ptr<PageStore> openKdumpCompressed(std::unique_ptr<ByteSource> src, std::shared_ptr<DumpInfo> info);
std::unique_ptr<PageStore> openElf(std::unique_ptr<ByteSource> src, std::shared_ptr<DumpInfo> info);

}  // namespace vaat
