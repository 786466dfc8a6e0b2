#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "backend.h"
#include "errors.h"

namespace vaat {
namespace {
constexpr uint64_t kStartKernelMap = 0xffffffff80000000ULL;  // __START_KERNEL_map
constexpr uint64_t kPresent = 0x1, kHuge = 0x80;              // _PAGE_PRESENT, _PAGE_PSE
constexpr uint64_t kAddrMask = 0x000ffffffffff000ULL;        // physical address bits of an entry

bool parseU64(const std::string& s, int base, uint64_t& out) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  out = std::strtoull(s.c_str(), &end, base);
  return errno == 0 && end && *end == '\0';
}
bool parseS64(const std::string& s, int64_t& out) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  out = std::strtoll(s.c_str(), &end, 10);
  return errno == 0 && end && *end == '\0';
}
}  // namespace

// Decoded pages kept per reader: 16 MiB. Walks of kernel objects (task_structs span 2-3 pages
// each, slabs interleave) revisit far more than 64 pages, and a miss costs a decompression.
constexpr size_t kPageCachePages = 4096;

VaatBackend::VaatBackend(PageStore& store) : store_(store), pageSize_(store.info().pageSize), pages_(kPageCachePages), xlat_(4096) {
  const DumpInfo& I = store.info();
  if (I.arch != "x86_64") {
    virtError_ = "virtual addresses are only supported on x86_64 (dump arch '" + I.arch + "')";
    return;
  }
  // The page-table root is init_top_pgt, a kernel-image address: phys = vaddr - __START_KERNEL_map
  // + phys_base. phys_base is signed decimal in VMCOREINFO (it is negative with KASLR).
  uint64_t pgt = 0;
  int64_t physBase = 0;
  if (!parseU64(vmcoreinfoValue(I.vmcoreinfo, "SYMBOL(init_top_pgt)"), 16, pgt)) {
    virtError_ = "VMCOREINFO has no SYMBOL(init_top_pgt): cannot find the kernel page tables";
    return;
  }
  if (!parseS64(vmcoreinfoValue(I.vmcoreinfo, "NUMBER(phys_base)"), physBase)) {
    // QEMU's header phys_base is not trustworthy (it parses the decimal VMCOREINFO value as hex).
    if (!I.hasHeaderPhysBase || I.format.find("qemu") != std::string::npos) {
      virtError_ = "VMCOREINFO has no NUMBER(phys_base)";
      return;
    }
    physBase = I.headerPhysBase;
  }
  root_ = pgt - kStartKernelMap + uint64_t(physBase);
  levels_ = vmcoreinfoValue(I.vmcoreinfo, "NUMBER(pgtable_l5_enabled)") == "1" ? 5 : 4;
  uint64_t sme = 0;  // AMD SME encryption bit, set in page-table entries when memory encryption is on
  parseU64(vmcoreinfoValue(I.vmcoreinfo, "NUMBER(sme_mask)"), 10, sme);
  entryMask_ = kAddrMask & ~sme;
}

VaatBackend::Fault VaatBackend::wholePage(uint64_t pfn, uint8_t* out) {
  switch (store_.state(pfn)) {
    case PageState::Present: store_.readPage(pfn, out); return Fault::None;
    case PageState::Excluded: return Fault::Excluded;
    case PageState::Absent: return Fault::Absent;
  }
  return Fault::Absent;
}

const uint8_t* VaatBackend::page(uint64_t pfn, Fault& fault) {
  if (auto* hit = pages_.get(pfn)) return hit->data();
  switch (store_.state(pfn)) {
    case PageState::Present: break;
    case PageState::Excluded: fault = Fault::Excluded; return nullptr;
    case PageState::Absent: fault = Fault::Absent; return nullptr;
  }
  std::vector<uint8_t> buf(pageSize_);
  store_.readPage(pfn, buf.data());
  return pages_.put(pfn, std::move(buf)).data();
}

VaatBackend::Fault VaatBackend::physRange(uint64_t addr, uint8_t* buf, size_t len, bool zeroExcluded, uint64_t& at) {
  size_t done = 0;
  while (done < len) {
    at = addr + done;
    if (at < addr) return Fault::Absent;  // wrapped past the top of the address space
    uint64_t inPage = at % pageSize_;
    size_t n = static_cast<size_t>(std::min<uint64_t>(len - done, pageSize_ - inPage));
    Fault f = Fault::None;
    if (n == pageSize_ && !pages_.get(at / pageSize_)) {
      // A whole uncached page (bulk reads: BTF, log rings, page scans) is decoded straight into
      // the caller's buffer: caching it would cost an allocation and a copy and only churn the cache.
      f = wholePage(at / pageSize_, buf + done);
      if (f == Fault::None) { done += n; continue; }
    } else if (const uint8_t* p = page(at / pageSize_, f)) {
      std::memcpy(buf + done, p + inPage, n);
      done += n;
      continue;
    }
    if (f != Fault::Excluded || !zeroExcluded) return f;
    std::memset(buf + done, 0, n);
    done += n;
  }
  return Fault::None;
}

void VaatBackend::readPhys(uint64_t addr, uint8_t* buf, size_t len, bool zeroExcluded) {
  uint64_t at = addr;
  switch (physRange(addr, buf, len, zeroExcluded, at)) {
    case Fault::None: return;
    case Fault::Excluded:
      throw DumpError(ErrCode::ExcludedPage, "page at physical " + hex(at - at % pageSize_) + " was excluded from the dump", at);
    default: throw DumpError(ErrCode::NotMapped, "physical address " + hex(at) + " is not in the dump", at);
  }
}

VaatBackend::Fault VaatBackend::walk(uint64_t v, uint64_t& phys) {
  if (!virtError_.empty()) throw DumpError(ErrCode::Unsupported, virtError_);
  const int topShift = levels_ == 5 ? 48 : 39;
  // Canonical form: the bits above the top level's index must all equal its highest bit.
  int64_t sv = int64_t(v);
  if ((sv << (63 - (topShift + 8))) >> (63 - (topShift + 8)) != sv) return Fault::Unmapped;
  uint64_t table = root_;
  for (int shift = topShift; shift >= 12; shift -= 9) {
    uint8_t e[8];
    uint64_t at;
    if (physRange(table + ((v >> shift) & 511) * 8, e, 8, false, at) != Fault::None) return Fault::Unmapped;  // table not in the dump
    uint64_t entry;
    std::memcpy(&entry, e, 8);
    if (!(entry & kPresent)) return Fault::Unmapped;
    if ((shift == 30 || shift == 21) && (entry & kHuge)) {  // 1 GiB / 2 MiB page
      uint64_t span = 1ULL << shift;
      phys = (entry & entryMask_ & ~(span - 1)) | (v & (span - 1));
      return Fault::None;
    }
    table = entry & entryMask_;
  }
  phys = table | (v & 0xfff);
  return Fault::None;
}

VaatBackend::Fault VaatBackend::translate(uint64_t v, uint64_t& phys) {
  uint64_t vpn = v >> 12;
  if (auto* hit = xlat_.get(vpn)) {
    phys = *hit | (v & 0xfff);
    return Fault::None;
  }
  Fault f = walk(v, phys);
  if (f == Fault::None) xlat_.put(vpn, phys & ~0xfffULL);
  return f;
}

uint64_t VaatBackend::virtToPhys(uint64_t v) {
  uint64_t phys = 0;
  if (translate(v, phys) != Fault::None) throw DumpError(ErrCode::NotMapped, "virtual address " + hex(v) + " is not mapped", v);
  return phys;
}

VaatBackend::Fault VaatBackend::virtRange(uint64_t addr, uint8_t* buf, size_t len, bool zeroExcluded, uint64_t& at, uint64_t& atPhys) {
  size_t done = 0;
  while (done < len) {
    at = addr + done;
    atPhys = 0;
    if (at < addr) return Fault::Unmapped;
    size_t n = static_cast<size_t>(std::min<uint64_t>(len - done, 4096 - (at & 0xfff)));
    Fault f = translate(at, atPhys);
    if (f == Fault::None) f = physRange(atPhys, buf + done, n, zeroExcluded, atPhys);
    if (f != Fault::None) return f;
    done += n;
  }
  return Fault::None;
}

void VaatBackend::readVirt(uint64_t addr, uint8_t* buf, size_t len, bool zeroExcluded) {
  uint64_t at = addr, phys = 0;
  // Faults are reported at the virtual address the caller asked for.
  switch (virtRange(addr, buf, len, zeroExcluded, at, phys)) {
    case Fault::None: return;
    case Fault::Excluded:
      throw DumpError(ErrCode::ExcludedPage, "page at " + hex(at) + " (physical " + hex(phys) + ") was excluded from the dump", at);
    case Fault::Absent:
      throw DumpError(ErrCode::NotMapped, hex(at) + " maps to physical " + hex(phys) + ", which is not in the dump", at);
    case Fault::Unmapped: throw DumpError(ErrCode::NotMapped, "virtual address " + hex(at) + " is not mapped", at);
  }
}

uint8_t VaatBackend::readStatus(bool virt, uint64_t addr, uint8_t* buf, size_t len) {
  uint64_t at = 0, phys = 0;
  Fault f;
  try {
    f = virt ? virtRange(addr, buf, len, false, at, phys) : physRange(addr, buf, len, false, at);
  } catch (const DumpError&) {
    return 3;
  }
  return f == Fault::None ? 0 : f == Fault::Excluded ? 1 : 2;
}

uint8_t Backend::readStatus(bool virt, uint64_t addr, uint8_t* buf, size_t len) {
  try {
    if (virt) readVirt(addr, buf, len, false);
    else readPhys(addr, buf, len, false);
    return 0;
  } catch (const DumpError& e) {
    return e.code == ErrCode::ExcludedPage ? 1 : e.code == ErrCode::NotMapped ? 2 : 3;
  }
}

}  // namespace vaat
