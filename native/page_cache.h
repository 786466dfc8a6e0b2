// Decoded pages of one reader, least recently used evicted, in ONE arena: a cache of 4,096
// separately allocated pages cost a page fault per page as it first filled (13-19 us each under
// a hypervisor), and the whole arena is asked for transparent huge pages (a fault per 2 MiB
// where the kernel allows it: "madvise" mode, Debian's default; src: huge_map.h).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "huge_map.h"
#include "lru.h"

namespace vaat {

class PageCache {
 public:
  PageCache(size_t pages, uint32_t pageSize);
  ~PageCache();
  PageCache(const PageCache&) = delete;
  PageCache& operator=(const PageCache&) = delete;

  // The cached page or nullptr; a hit becomes the most recently used.
  const uint8_t* get(uint64_t pfn) {
    const uint32_t* slot = slots_.get(pfn);
    return slot ? at(*slot) : nullptr;
  }
  // A slot for pfn (not cached) for the caller to fill, evicting the least recently used page.
  uint8_t* insert(uint64_t pfn);
  // Forgets pfn (a slot whose filling failed).
  void erase(uint64_t pfn);

  size_t size() const { return slots_.size(); }
  size_t capacity() const { return slots_.capacity(); }

 private:
  uint8_t* at(uint32_t slot) const { return arena_ + size_t(slot) * pageSize_; }

  const uint32_t pageSize_;
  size_t bytes_ = 0;
  uint8_t* arena_ = nullptr;
  HugeMap map_;                      // arena_'s mapping (none: arena_ from new[])
  Lru<uint64_t, uint32_t> slots_;    // pfn -> slot in the arena
  std::vector<uint32_t> free_;       // slots given back by erase()
  uint32_t used_ = 0;                // slots handed out so far (never more than capacity)
};

}  // namespace vaat
