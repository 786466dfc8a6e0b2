#include "page_cache.h"

#include <algorithm>
#include <new>

namespace vaat {

namespace {
constexpr size_t kStepBytes = 2 << 20;
}

PageCache::PageCache(size_t pages, uint32_t pageSize)
    : pageSize_(pageSize), maxPages_(pages),
      step_(std::max<size_t>(64, kStepBytes / std::max<uint32_t>(1, pageSize))),
      slots_(std::min(pages, step_)) {
  bytes_ = pages * pageSize;
  // noreserve: only the slots used become memory, so a large pageCacheBytes costs nothing until filled
  map_ = mapHuge(bytes_, true);
  arena_ = map_.data ? static_cast<uint8_t*>(map_.data) : new uint8_t[bytes_];  // std::bad_alloc reaches JS as an out-of-memory error (addon.cc)
}

PageCache::~PageCache() {
  if (map_.data) unmapHuge(map_);
  else delete[] arena_;
}

uint8_t* PageCache::insert(uint64_t pfn) {
  if (ghosts_.erase(pfn) && ++ghostHits_ >= kGhostHitsPerStep && slots_.capacity() < maxPages_) {
    // a page evicted lately is wanted again, often enough: more room would have kept them
    ghostHits_ = 0;
    slots_.grow(std::min(maxPages_, slots_.capacity() + step_));
  }
  uint32_t fresh;
  if (!free_.empty()) {
    fresh = free_.back();
    free_.pop_back();
  } else if (used_ < slots_.capacity()) {
    fresh = used_++;
  } else {
    // full: the least recently used entry is recycled, keeping its slot
    uint64_t evicted = pfn;
    uint32_t& slot = slots_.recycle(pfn, &evicted);
    if (evicted != pfn) remember(evicted);
    return at(slot);
  }
  slots_.recycle(pfn) = fresh;
  return at(fresh);
}

void PageCache::remember(uint64_t evicted) {
  if (slots_.capacity() >= maxPages_) return;  // at its size: growing is over
  // as many ghosts as the cache could hold at its size: a page read again within that many
  // evictions is one a cache of that size would have kept
  const size_t bound = maxPages_;
  if (ghostOrder_.size() < bound) {
    ghostOrder_.push_back(evicted);
  } else {
    // the oldest entry gives way; if that pfn was evicted again since, the set forgets it early,
    // which only delays growth
    ghostNext_ %= ghostOrder_.size();
    ghosts_.erase(ghostOrder_[ghostNext_]);
    ghostOrder_[ghostNext_++] = evicted;
  }
  ghosts_.insert(evicted);
}

void PageCache::erase(uint64_t pfn) {
  const uint32_t* slot = slots_.get(pfn);
  if (!slot) return;
  free_.push_back(*slot);
  slots_.erase(pfn);
}

}  // namespace vaat
