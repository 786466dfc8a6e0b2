// A back end serves reads of physical and kernel virtual memory. Two exist: our own ('vaat',
// over a PageStore) and libkdumpfile's. All faults are thrown as DumpError.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "dump_format.h"
#include "lru.h"
#include "page_cache.h"
#include "page_tables.h"

namespace vaat {

class Backend {
 public:
  virtual ~Backend() = default;
  virtual const char* name() const = 0;
  // Fill buf[0..len) from physical / kernel virtual memory. Excluded pages throw EXCLUDED_PAGE
  // (address = first excluded byte, in the address space of the request) unless zeroExcluded.
  virtual void readPhys(uint64_t addr, uint8_t* buf, size_t len, bool zeroExcluded) = 0;
  virtual void readVirt(uint64_t addr, uint8_t* buf, size_t len, bool zeroExcluded) = 0;
  virtual uint64_t virtToPhys(uint64_t addr) = 0;
  // For readBatch: like readVirt/readPhys (no zeroExcluded) but reports the common faults as a
  // status instead of throwing: 0 ok, 1 excluded, 2 not mapped, 3 any other error.
  virtual uint8_t readStatus(bool virt, uint64_t addr, uint8_t* buf, size_t len);
  // The decoded-page cache: pages held now, at most, and the bytes of one (zeros: no cache of ours).
  struct CacheStats { size_t pages = 0, capacity = 0, pageBytes = 0; };
  virtual CacheStats cacheStats() const { return {}; }
  // A new back end on `store` (the clone's own PageStore) for independent use.
  virtual std::unique_ptr<Backend> clone(PageStore& store) const = 0;
};

// Our own reader: pages from the PageStore through a small cache of decoded pages, virtual
// addresses through the kernel's page tables (x86_64 or arm64, page_tables.h) found via VMCOREINFO.
// Default size of the decoded-page cache of one reader (DumpFile option pageCacheBytes).
constexpr size_t kDefaultPageCacheBytes = 16 << 20;

class VaatBackend : public Backend {
 public:
  explicit VaatBackend(PageStore& store, size_t cacheBytes = kDefaultPageCacheBytes);
  const char* name() const override { return "vaat"; }
  void readPhys(uint64_t addr, uint8_t* buf, size_t len, bool zeroExcluded) override;
  void readVirt(uint64_t addr, uint8_t* buf, size_t len, bool zeroExcluded) override;
  uint64_t virtToPhys(uint64_t addr) override;
  uint8_t readStatus(bool virt, uint64_t addr, uint8_t* buf, size_t len) override;
  CacheStats cacheStats() const override { return {pages_.size(), pages_.capacity(), blockSize_}; }
  std::unique_ptr<Backend> clone(PageStore& store) const override { return std::make_unique<VaatBackend>(store, cacheBytes_); }

 private:
  // The expected faults (excluded page, address not in the dump / not mapped) are returned, not
  // thrown, so batches of reads over sparse memory stay fast; `at` is where the fault is.
  enum class Fault { None, Excluded, Absent, Unmapped };
  const uint8_t* page(uint64_t pfn, Fault& fault);
  Fault wholePage(uint64_t pfn, uint8_t* out);
  Fault physRange(uint64_t addr, uint8_t* buf, size_t len, bool zeroExcluded, uint64_t& at);
  Fault virtRange(uint64_t addr, uint8_t* buf, size_t len, bool zeroExcluded, uint64_t& at, uint64_t& atPhys);
  Fault walk(uint64_t vaddr, uint64_t& phys);
  Fault translate(uint64_t vaddr, uint64_t& phys);

  PageStore& store_;
  const uint32_t blockSize_;
  const size_t cacheBytes_;
  PageCache pages_;
  Lru<uint64_t, uint64_t> xlat_;  // virtual page number -> physical page base
  // The kernel's page tables; when null, virtError_ says why translation is impossible.
  std::unique_ptr<PageTables> tables_;
  std::string virtError_;
};

struct kdump_ctx;

// libkdumpfile 0.5.1 over a plain file. NODATA faults are classified (excluded vs. not in the
// dump) with our own PageStore's bitmaps, so both back ends raise the same errors.
std::unique_ptr<Backend> openKdumpfileBackend(const std::string& path, PageStore& store);

}  // namespace vaat
