#include <algorithm>
#include <cstring>

#include "backend.h"
#include "errors.h"

namespace vaat {
// Decoded pages kept per reader: cacheBytes (default 16 MiB, 4096 pages of 4 KiB), never fewer
// than 64 pages. Walks of kernel objects (task_structs span 2-3 pages each, slabs interleave)
// revisit far more than 64 pages, and a miss costs a decompression.
VaatBackend::VaatBackend(PageStore& store, size_t cacheBytes)
    : store_(store), blockSize_(store.info().blockSize), cacheBytes_(cacheBytes),
      pages_(std::max<size_t>(64, cacheBytes / std::max<uint32_t>(1, store.info().blockSize)), store.info().blockSize), xlat_(4096) {
  tables_ = makePageTables(store.info(), virtError_);
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
  if (const uint8_t* hit = pages_.get(pfn)) return hit;
  switch (store_.state(pfn)) {
    case PageState::Present: break;
    case PageState::Excluded: fault = Fault::Excluded; return nullptr;
    case PageState::Absent: fault = Fault::Absent; return nullptr;
  }
  uint8_t* buf = pages_.insert(pfn);
  try {
    store_.readPage(pfn, buf);
  } catch (...) {
    pages_.erase(pfn);  // never leave a half-read page cached
    throw;
  }
  return buf;
}

VaatBackend::Fault VaatBackend::physRange(uint64_t addr, uint8_t* buf, size_t len, bool zeroExcluded, uint64_t& at) {
  size_t done = 0;
  while (done < len) {
    at = addr + done;
    if (at < addr) return Fault::Absent;  // wrapped past the top of the address space
    uint64_t inPage = at % blockSize_;
    size_t n = static_cast<size_t>(std::min<uint64_t>(len - done, blockSize_ - inPage));
    Fault f = Fault::None;
    if (n == blockSize_ && !pages_.get(at / blockSize_)) {
      // A whole uncached page (bulk reads: BTF, log rings, page scans) is decoded straight into
      // the caller's buffer: caching it would cost an allocation and a copy and only churn the cache.
      f = wholePage(at / blockSize_, buf + done);
      if (f == Fault::None) { done += n; continue; }
    } else if (const uint8_t* p = page(at / blockSize_, f)) {
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
      throw DumpError(ErrCode::ExcludedPage, "page at physical " + hex(at - at % blockSize_) + " was excluded from the dump", at);
    default: throw DumpError(ErrCode::NotMapped, "physical address " + hex(at) + " is not in the dump", at);
  }
}

VaatBackend::Fault VaatBackend::walk(uint64_t v, uint64_t& phys) {
  if (!tables_) throw DumpError(ErrCode::Unsupported, virtError_);
  auto read = [this](uint64_t at, uint64_t& entry) {
    uint8_t e[8];
    uint64_t where;
    if (physRange(at, e, 8, false, where) != Fault::None) return false;  // table not in the dump
    std::memcpy(&entry, e, 8);
    return true;
  };
  return tables_->walk(v, phys, read) ? Fault::None : Fault::Unmapped;
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
