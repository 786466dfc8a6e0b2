// Decoded pages of one reader, least recently used evicted, in ONE arena: a cache of 4,096
// separately allocated pages cost a page fault per page as it first filled (13-19 us each under
// a hypervisor), and the whole arena is asked for transparent huge pages (a fault per 2 MiB
// where the kernel allows it: "madvise" mode, Debian's default; src: huge_map.h).
//
// The cache grows to its size only while that pays: it starts with one 2 MiB step of pages and
// takes another each time kGhostHitsPerStep misses were for pages it evicted lately (ghosts),
// which more room would have kept. A walk that reads each page once (every task_struct, every
// stack) then stays at one step: filling all 16 MiB only made the kernel zero 14 MiB more of
// fresh memory (~15-30 ms of a 10,000-task `ps` under a hypervisor) for no hit.
#pragma once
#include <cstddef>
#include <cstdint>
#include <unordered_set>
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
  // the most pages it may hold: the size asked for (it may hold fewer until re-reads grow it)
  size_t capacity() const { return maxPages_; }

  // misses on ghosts that earn one more step of room
  static constexpr unsigned kGhostHitsPerStep = 64;

 private:
  uint8_t* at(uint32_t slot) const { return arena_ + size_t(slot) * pageSize_; }
  void remember(uint64_t evicted);

  const uint32_t pageSize_;
  const size_t maxPages_;
  const size_t step_;                // pages of one 2 MiB step (at least 64)
  size_t bytes_ = 0;
  uint8_t* arena_ = nullptr;
  HugeMap map_;                      // arena_'s mapping (none: arena_ from new[])
  Lru<uint64_t, uint32_t> slots_;    // pfn -> slot in the arena
  std::vector<uint32_t> free_;       // slots given back by erase()
  uint32_t used_ = 0;                // slots handed out so far (never more than slots_ may hold now)
  // pages evicted lately, at most capacity() of them, oldest first in ghostOrder_ (a ring)
  std::unordered_set<uint64_t> ghosts_;
  std::vector<uint64_t> ghostOrder_;
  size_t ghostNext_ = 0;
  unsigned ghostHits_ = 0;
};

}  // namespace vaat
