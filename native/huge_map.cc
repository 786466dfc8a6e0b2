#include "huge_map.h"

#include <sys/mman.h>

#include <cstdint>

namespace vaat {

namespace {
constexpr size_t kHuge = size_t(2) << 20;
size_t roundUp(size_t n) { return (n + kHuge - 1) & ~(kHuge - 1); }
}  // namespace

HugeMap mapHuge(size_t bytes, bool noreserve) {
  const size_t want = roundUp(bytes);
  if (want < bytes) return {};  // overflow
  const int flags = MAP_PRIVATE | MAP_ANONYMOUS | (noreserve ? MAP_NORESERVE : 0);
  // one huge page more than needed, then the unaligned head and the tail given back
  void* p = mmap(nullptr, want + kHuge, PROT_READ | PROT_WRITE, flags, -1, 0);
  if (p == MAP_FAILED) return {};
  const auto raw = reinterpret_cast<uintptr_t>(p);
  const uintptr_t start = (raw + kHuge - 1) & ~uintptr_t(kHuge - 1);
  if (start > raw) munmap(p, start - raw);
  const uintptr_t end = raw + want + kHuge;
  if (end > start + want) munmap(reinterpret_cast<void*>(start + want), end - (start + want));
  void* data = reinterpret_cast<void*>(start);
#ifdef MADV_HUGEPAGE
  madvise(data, want, MADV_HUGEPAGE);
#endif
  return {data, want};
}

void unmapHuge(const HugeMap& m) {
  if (m.data) munmap(m.data, m.bytes);
}

}  // namespace vaat
