#include "page_cache.h"

#include <new>

namespace vaat {

PageCache::PageCache(size_t pages, uint32_t pageSize) : pageSize_(pageSize), slots_(pages) {
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
  uint32_t fresh;
  if (!free_.empty()) {
    fresh = free_.back();
    free_.pop_back();
  } else if (used_ < slots_.capacity()) {
    fresh = used_++;
  } else {
    // full: the least recently used entry is recycled, keeping its slot
    return at(slots_.recycle(pfn));
  }
  slots_.recycle(pfn) = fresh;
  return at(fresh);
}

void PageCache::erase(uint64_t pfn) {
  const uint32_t* slot = slots_.get(pfn);
  if (!slot) return;
  free_.push_back(*slot);
  slots_.erase(pfn);
}

}  // namespace vaat
