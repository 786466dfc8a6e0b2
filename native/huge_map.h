// Anonymous memory asked for transparent huge pages. Under a hypervisor each first touch of a
// 4 KiB page costs 13-19 us; a 2 MiB huge page costs one fault. The kernel backs only the
// 2 MiB-aligned whole 2 MiB extents of a mapping with huge pages, so the mapping is aligned and
// rounded up to 2 MiB here (a 1.5 MiB cache file got none). Advice only: where THP is off the
// memory is ordinary pages.
#pragma once
#include <cstddef>

namespace vaat {

struct HugeMap {
  void* data = nullptr;  // nullptr when mmap failed
  size_t bytes = 0;      // what to unmap (a multiple of 2 MiB)
};

// At least `bytes` of zeroed, readable and writable memory; noreserve: no swap or overcommit
// reservation (pages become memory only when touched).
HugeMap mapHuge(size_t bytes, bool noreserve);
void unmapHuge(const HugeMap& m);

}  // namespace vaat
