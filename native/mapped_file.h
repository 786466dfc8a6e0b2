// A read-only mapping of a whole dump file, so that a read is a memory copy instead of a system
// call. Under a hypervisor a pread costs ~10 us whatever its size, and the read-ahead windows
// that amortise it copied the bytes of a 78 MB dump 2-9 times over; a mapping touches each page
// of the file once, through the kernel's page cache, and keeps no second copy of it.
//
// A page of a mapped file that can no longer be read (the file shrank after it was mapped, an
// NFS server went away) raises SIGBUS instead of returning an error. Copies run under a guard
// that turns that signal into a DumpError, so hostile or vanishing input never kills the process.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>

namespace vaat {

class MappedFile {
 public:
  // The whole of `fd` (a regular file of `size` bytes) mapped read-only; null when it cannot be
  // mapped (not a regular file, empty, no address space): the caller then reads with pread.
  static std::shared_ptr<const MappedFile> map(int fd, uint64_t size);
  MappedFile(const uint8_t* data, uint64_t size) : data_(data), size_(size) {}
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  uint64_t size() const { return size_; }
  // Copies [off, off + len) (inside size()) into dst; throws DumpError(IO) when the pages
  // cannot be read (SIGBUS).
  void copy(uint64_t off, void* dst, size_t len) const;
  // Drops the mapping's pages from this process's page tables (the page cache keeps them; a
  // later copy maps them again). Harmless to a copy running on another thread: it faults them back.
  void release() const;

 private:
  const uint8_t* data_;
  uint64_t size_;
};

}  // namespace vaat
