#include "page_cache.h"

#include <sys/mman.h>

#include <new>

namespace vaat {

PageCache::PageCache(size_t pages, uint32_t pageSize) : pageSize_(pageSize), slots_(pages) {
  bytes_ = pages * pageSize;
  // NORESERVE: only the slots used become memory, so a large pageCacheBytes costs nothing until filled
  void* p = mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p != MAP_FAILED) {
    arena_ = static_cast<uint8_t*>(p);
    mapped_ = true;
#ifdef MADV_HUGEPAGE
    madvise(p, bytes_, MADV_HUGEPAGE);  // advice only: without THP the arena is ordinary pages
#endif
  } else {
    arena_ = new uint8_t[bytes_];  // std::bad_alloc reaches JS as an out-of-memory error (addon.cc)
  }
}

PageCache::~PageCache() {
  if (mapped_) munmap(arena_, bytes_);
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
