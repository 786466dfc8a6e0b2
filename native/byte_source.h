// Byte sources: random access to the logical bytes of a dump file, whatever container wraps it.
// FileSource reads a plain file; FlattenedSource and LzopSource unwrap makedumpfile's flattened
// stream and a whole-file lzop stream over another source, without temp files.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "errors.h"
#include "lru.h"
#include "mapped_file.h"

namespace vaat {

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Logical size: the bytes this source can serve.
  virtual uint64_t size() const = 0;
  // Reads up to len bytes at off; returns how many were available (short only at the end).
  virtual size_t read(uint64_t off, void* buf, size_t len) = 0;
  // An independent reader sharing the (immutable) index and file descriptor.
  virtual std::unique_ptr<ByteSource> clone() const = 0;
  // Containers from the outside in ('lzop', 'flattened', 'lzop+flattened'); '' for a plain file.
  virtual std::string container() const { return ""; }
  // True when the container stream itself ended early (missing end marker, cut block).
  virtual bool truncated() const { return false; }
  virtual std::vector<std::string> warnings() const { return {}; }

  // Reads exactly len bytes or throws TRUNCATED naming `what`.
  void readExact(uint64_t off, void* buf, size_t len, const char* what);
};

// Owns a file descriptor; shared by clones so it is closed once, by the last user.
struct SharedFd {
  explicit SharedFd(int fd) : fd(fd) {}
  ~SharedFd();
  SharedFd(const SharedFd&) = delete;
  SharedFd& operator=(const SharedFd&) = delete;
  int fd;
};

class FileSource : public ByteSource {
 public:
  static std::unique_ptr<FileSource> open(const std::string& path);
  FileSource(std::shared_ptr<SharedFd> fd, uint64_t size, std::shared_ptr<const MappedFile> map)
      : fd_(std::move(fd)), size_(size), map_(std::move(map)) {}
  uint64_t size() const override { return size_; }
  size_t read(uint64_t off, void* buf, size_t len) override;
  std::unique_ptr<ByteSource> clone() const override { return std::make_unique<FileSource>(fd_, size_, map_); }

 private:
  size_t preadAll(uint64_t off, void* buf, size_t len);

  // Small reads (page descriptors, compressed pages) walk forward through two regions of a dump
  // at once, so two read-ahead windows turn most of them into a memcpy instead of a system call.
  struct Window {
    std::vector<uint8_t> data;
    uint64_t off = 0;
    size_t len = 0;
    uint64_t used = 0;  // for least-recently-used replacement
    bool hop = false;     // filled by a full-size hop read-ahead
    bool reused = false;  // served a read past what a small hop would have held
  };
  static constexpr size_t kWindowSize = 256 * 1024;
  static constexpr size_t kHopWindowSize = 32 * 1024;
  static constexpr size_t kWindows = 2;
  // A hop smaller than kHopWindowSize, for when hops land far apart (a lock scan reading one
  // stack page per task): copying 32 KiB for a 2 KiB compressed page then cost more than the rest.
  static constexpr size_t kSmallHopSize = 4 * 1024;
  // every so many hops, one full-size hop tests whether read-ahead pays again
  static constexpr unsigned kHopProbe = 16;
  std::shared_ptr<SharedFd> fd_;
  uint64_t size_;
  // A regular file is read through a mapping (mapped_file.h); the windows below serve the rest
  // (block devices, files that cannot be mapped, VAAT_FILE_IO=pread).
  std::shared_ptr<const MappedFile> map_;
  // The mapping's pages count in the process's resident set although the page cache holds them:
  // once reads have touched kMappedResident bytes' worth of distinct chunks, they are released
  // (MappedFile::release) and counting starts again, so a walk over a big dump keeps a bounded
  // footprint (a 20,000-task walk touches ~48 MB of a 78 MB dump, 100,000 tasks five times that).
  // A chunk is what one page fault maps (the kernel's fault-around, 64 KiB by default).
  void noteMapped(uint64_t off, size_t len);
  static constexpr unsigned kChunkShift = 16;
  static constexpr size_t kMappedResident = size_t{64} << 20;
  std::vector<uint8_t> touched_;  // per chunk: read since the last release
  size_t touchedChunks_ = 0;
  Window windows_[kWindows];
  uint64_t tick_ = 0;
  // bit i: the i-th most recent full-size hop window served another read before it was replaced
  uint8_t hopReuse_ = 0xff;
  unsigned hops_ = 0;
};

// What every container index records, whatever it indexes: the logical size, whether the
// container was cut short, and what its scan noticed.
struct ContainerIndex {
  uint64_t size = 0;
  bool truncated = false;
  std::vector<std::string> warnings;
};

// A container over another source (flattened, lzop): the parts both kinds share. Subclasses
// keep their own typed index and report its common part through index().
class ContainerSource : public ByteSource {
 public:
  uint64_t size() const override { return index().size; }
  bool truncated() const override { return index().truncated || inner_->truncated(); }
  // containers nest (lzop around flattened): the outermost name comes last, "flattened+lzop"
  std::string container() const override {
    std::string in = inner_->container();
    return in.empty() ? kind_ : in + "+" + kind_;
  }
  std::vector<std::string> warnings() const override {
    auto w = inner_->warnings();
    w.insert(w.end(), index().warnings.begin(), index().warnings.end());
    return w;
  }

 protected:
  ContainerSource(const char* kind, std::unique_ptr<ByteSource> inner) : inner_(std::move(inner)), kind_(kind) {}
  virtual const ContainerIndex& index() const = 0;
  std::unique_ptr<ByteSource> inner_;

 private:
  const char* kind_;
};

// makedumpfile -F: a 4096-byte header, then records {be64 offset, be64 size, data}, then an end
// marker. Records are indexed once into sorted, non-overlapping extents (later records win).
class FlattenedSource : public ContainerSource {
 public:
  struct Extent {
    uint64_t logical;  // offset in the reassembled file
    uint64_t length;
    uint64_t inner;    // offset in the underlying source
  };
  struct Index : ContainerIndex {
    std::vector<Extent> extents;  // sorted by logical, non-overlapping
  };
  static bool probe(const uint8_t* head, size_t n);
  static std::unique_ptr<FlattenedSource> open(std::unique_ptr<ByteSource> inner);
  FlattenedSource(std::unique_ptr<ByteSource> inner, std::shared_ptr<const Index> index)
      : ContainerSource("flattened", std::move(inner)), index_(std::move(index)) {}
  size_t read(uint64_t off, void* buf, size_t len) override;
  std::unique_ptr<ByteSource> clone() const override;

 private:
  const ContainerIndex& index() const override { return *index_; }
  std::shared_ptr<const Index> index_;
};

// A whole-file lzop stream. Block headers are scanned once; reads decompress only the blocks
// they touch (liblzo2), keeping a few decompressed blocks in an LRU.
class LzopSource : public ContainerSource {
 public:
  struct Block {
    uint64_t logical;     // offset of the block's first byte in the decompressed stream
    uint32_t rawLen;      // decompressed length
    uint32_t packedLen;   // stored length (== rawLen: stored uncompressed)
    uint64_t inner;       // offset of the block data in the underlying source
    uint32_t rawCheck;    // checksum of decompressed data (if the header flags ask for it)
    uint32_t packedCheck; // checksum of compressed data (if asked for and the block is compressed)
  };
  struct Index : ContainerIndex {
    std::vector<Block> blocks;
    uint32_t flags = 0;
  };
  static bool probe(const uint8_t* head, size_t n);
  static std::unique_ptr<LzopSource> open(std::unique_ptr<ByteSource> inner);
  LzopSource(std::unique_ptr<ByteSource> inner, std::shared_ptr<const Index> index)
      : ContainerSource("lzop", std::move(inner)), index_(std::move(index)), cache_(4) {}
  size_t read(uint64_t off, void* buf, size_t len) override;
  std::unique_ptr<ByteSource> clone() const override;

 private:
  const ContainerIndex& index() const override { return *index_; }
  const std::vector<uint8_t>& block(size_t i);
  const std::vector<uint8_t>& decode(size_t i);
  std::shared_ptr<const Index> index_;
  Lru<size_t, std::vector<uint8_t>> cache_;
  std::unordered_map<size_t, DumpError> failed_;  // blocks that do not decode, and why
  std::vector<uint8_t> packed_;
};

// Opens path and unwraps containers, detected by content (magic), never by name. Stores the
// size of the file itself in *onDiskSize when given.
std::unique_ptr<ByteSource> openSource(const std::string& path, uint64_t* onDiskSize = nullptr);

}  // namespace vaat
