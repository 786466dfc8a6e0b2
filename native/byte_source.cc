#include "byte_source.h"

#include <fcntl.h>
#include <lzo/lzo1x.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>

#include "bytes.h"
#include "errors.h"

namespace vaat {

void ByteSource::readExact(uint64_t off, void* buf, size_t len, const char* what) {
  if (read(off, buf, len) != len)
    throw DumpError(ErrCode::Truncated, std::string("file ends inside ") + what + " (at offset " + hex(off) + ")");
}

SharedFd::~SharedFd() {
  if (fd >= 0) ::close(fd);
}

std::unique_ptr<FileSource> FileSource::open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throwIO("cannot open", errno);
  auto shared = std::make_shared<SharedFd>(fd);
  struct stat st;
  if (fstat(fd, &st) != 0) throwIO("cannot stat", errno);
  if (S_ISDIR(st.st_mode)) throwIO("is a directory", EISDIR);
  uint64_t size = static_cast<uint64_t>(st.st_size);
  if (S_ISBLK(st.st_mode)) {
    off_t end = lseek(fd, 0, SEEK_END);
    if (end < 0) throwIO("cannot size block device", errno);
    size = static_cast<uint64_t>(end);
  }
  // VAAT_FILE_IO=pread: the read-ahead windows, as for files that cannot be mapped
  const char* io = std::getenv("VAAT_FILE_IO");
  const bool mapIt = S_ISREG(st.st_mode) && !(io && std::strcmp(io, "pread") == 0);
  auto map = mapIt ? MappedFile::map(fd, size) : nullptr;
  return std::make_unique<FileSource>(std::move(shared), size, std::move(map));
}

size_t FileSource::read(uint64_t off, void* buf, size_t len) {
  if (off >= size_) return 0;
  len = static_cast<size_t>(std::min<uint64_t>(len, size_ - off));
  if (map_) {
    noteMapped(off, len);
    map_->copy(off, buf, len);
    return len;
  }
  if (len > kWindowSize / 4) return preadAll(off, buf, len);
  Window* w = nullptr;
  for (auto& cand : windows_)
    if (off >= cand.off && off + len <= cand.off + cand.len) w = &cand;
  if (!w) {
    // A miss just past a window continues a forward scan (bulk reads, descriptors in pfn order):
    // refill that window with a large read-ahead. Any other miss is a hop (a task walk visits
    // slab pages all over the file): read a small window, since copying 256 KiB per hop cost
    // more than decompressing the page it was for. A hop reads kHopWindowSize while recent such
    // windows served further reads (neighbouring slab pages), else only kSmallHopSize.
    Window* ahead = nullptr;
    for (auto& cand : windows_)
      if (cand.len && off >= cand.off + cand.len && off - (cand.off + cand.len) < kHopWindowSize) ahead = &cand;
    w = ahead;
    if (!w) {  // the least recently used window
      w = &windows_[0];
      for (auto& cand : windows_) if (cand.used < w->used) w = &cand;
    }
    if (w->hop) hopReuse_ = static_cast<uint8_t>((hopReuse_ << 1) | (w->reused ? 1 : 0));
    bool fullHop = false;
    if (!ahead) fullHop = __builtin_popcount(hopReuse_) >= 2 || ++hops_ % kHopProbe == 0;
    // a forward scan doubles its read-ahead each refill, up to kWindowSize
    const size_t want = std::max(len, ahead ? std::min(kWindowSize, 2 * ahead->len) : fullHop ? kHopWindowSize : kSmallHopSize);
    w->data.resize(kWindowSize);
    w->len = preadAll(off, w->data.data(), static_cast<size_t>(std::min<uint64_t>(want, size_ - off)));
    w->off = off;
    w->hop = fullHop;
    w->reused = false;
  } else if (off + len > w->off + kSmallHopSize) {
    w->reused = true;  // a read a small hop would have missed
  }
  w->used = ++tick_;
  const uint64_t end = w->off + w->len;
  const size_t n = off + len <= end ? len : static_cast<size_t>(end > off ? end - off : 0);
  std::memcpy(buf, w->data.data() + (off - w->off), n);
  return n;
}

void FileSource::noteMapped(uint64_t off, size_t len) {
  if (len == 0) return;
  if (touched_.empty()) touched_.resize(static_cast<size_t>((size_ >> kChunkShift) + 1));
  for (uint64_t c = off >> kChunkShift, last = (off + len - 1) >> kChunkShift; c <= last; c++) {
    if (touched_[c]) continue;
    if ((touchedChunks_ + 1) << kChunkShift > kMappedResident) {
      map_->release();
      std::fill(touched_.begin(), touched_.end(), 0);
      touchedChunks_ = 0;
    }
    touched_[c] = 1;
    touchedChunks_++;
  }
}

size_t FileSource::preadAll(uint64_t off, void* buf, size_t len) {
  size_t done = 0;
  while (done < len) {
    ssize_t n = ::pread(fd_->fd, static_cast<uint8_t*>(buf) + done, len - done, static_cast<off_t>(off + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      throwIO("read failed at offset " + hex(off + done), errno);
    }
    if (n == 0) break;  // file shrank under us
    done += static_cast<size_t>(n);
  }
  return done;
}

// ---------------------------------------------------------------- flattened (makedumpfile -F)

namespace {
constexpr size_t kFlatHeaderSize = 4096;   // MAX_SIZE_MDF_HEADER
constexpr int64_t kFlatTypeFlat = 1;       // TYPE_FLAT_HEADER
constexpr uint64_t kMaxLogical = 1ULL << 52;  // no real dump is bigger; larger offsets are corrupt

// Sequential reader with a large buffer, for one-pass index scans.
class Scanner {
 public:
  explicit Scanner(ByteSource& src) : src_(src), buf_(1 << 20) {}
  // Reads n bytes at the current position; returns false (position unchanged) if fewer are left.
  bool take(void* out, size_t n) {
    if (!fill(n)) return false;
    std::memcpy(out, buf_.data() + (pos_ - bufStart_), n);
    pos_ += n;
    return true;
  }
  void skip(uint64_t n) { pos_ += n; }
  uint64_t pos() const { return pos_; }

 private:
  bool fill(size_t n) {
    if (pos_ >= bufStart_ && pos_ + n <= bufStart_ + bufLen_) return true;
    if (n > buf_.size()) buf_.resize(n);
    bufStart_ = pos_;
    bufLen_ = src_.read(pos_, buf_.data(), buf_.size());
    return bufLen_ >= n;
  }
  ByteSource& src_;
  std::vector<uint8_t> buf_;
  uint64_t pos_ = 0, bufStart_ = 0;
  size_t bufLen_ = 0;
};
}  // namespace

bool FlattenedSource::probe(const uint8_t* head, size_t n) {
  static const char sig[16] = "makedumpfile";  // 12 chars, NUL padded to 16
  return n >= 16 && std::memcmp(head, sig, 16) == 0;
}

std::unique_ptr<FlattenedSource> FlattenedSource::open(std::unique_ptr<ByteSource> inner) {
  uint8_t hdr[32];
  inner->readExact(0, hdr, sizeof hdr, "flattened header");
  int64_t type = static_cast<int64_t>(be64(hdr + 16));
  int64_t version = static_cast<int64_t>(be64(hdr + 24));
  if (type != kFlatTypeFlat)
    throw DumpError(ErrCode::Unsupported, "flattened header type " + std::to_string(type) + " (expected 1)");
  if (version < 1) throw DumpError(ErrCode::Corrupt, "flattened header version " + std::to_string(version));
  if (inner->size() < kFlatHeaderSize) throw DumpError(ErrCode::Truncated, "file ends inside flattened header");

  auto index = std::make_shared<Index>();
  // Logical start -> extent. Later records overwrite earlier bytes of the same range, so each new
  // record trims or removes whatever it overlaps before it is inserted.
  std::map<uint64_t, Extent> extents;
  Scanner scan(*inner);
  scan.skip(kFlatHeaderSize);
  uint64_t records = 0;
  bool ended = false;
  for (;;) {
    uint8_t rec[16];
    uint64_t at = scan.pos();
    if (!scan.take(rec, sizeof rec)) break;
    int64_t off = static_cast<int64_t>(be64(rec));
    int64_t len = static_cast<int64_t>(be64(rec + 8));
    if (off == -1 && len == -1) { ended = true; break; }  // END_FLAG_FLAT_HEADER
    if (off < 0 || len < 0 || static_cast<uint64_t>(off) + static_cast<uint64_t>(len) > kMaxLogical)
      throw DumpError(ErrCode::Corrupt, "flattened record at " + hex(at) + " has offset " + std::to_string(off) +
                                            " size " + std::to_string(len));
    uint64_t dataAt = scan.pos();
    uint64_t avail = inner->size() > dataAt ? inner->size() - dataAt : 0;
    uint64_t have = std::min<uint64_t>(static_cast<uint64_t>(len), avail);
    Extent e{static_cast<uint64_t>(off), have, dataAt};
    if (have > 0) {
      uint64_t s = e.logical, end = e.logical + e.length;
      auto it = extents.lower_bound(s);
      if (it != extents.begin()) --it;
      while (it != extents.end() && it->second.logical < end) {
        Extent old = it->second;
        uint64_t oldEnd = old.logical + old.length;
        if (oldEnd <= s) { ++it; continue; }
        it = extents.erase(it);
        if (old.logical < s) extents[old.logical] = Extent{old.logical, s - old.logical, old.inner};
        if (oldEnd > end) extents[end] = Extent{end, oldEnd - end, old.inner + (end - old.logical)};
      }
      extents[s] = e;
      index->size = std::max(index->size, end);
    }
    records++;
    if (have < static_cast<uint64_t>(len)) break;  // record cut by end of file
    scan.skip(static_cast<uint64_t>(len));
  }
  if (!ended) {
    index->truncated = true;
    index->warnings.push_back("flattened stream ends without its end marker after " + std::to_string(records) +
                              " records (file truncated)");
  }
  index->extents.reserve(extents.size());
  for (auto& kv : extents) index->extents.push_back(kv.second);
  return std::make_unique<FlattenedSource>(std::move(inner), std::move(index));
}

size_t FlattenedSource::read(uint64_t off, void* buf, size_t len) {
  const auto& ex = index_->extents;
  if (off >= index_->size) return 0;
  len = static_cast<size_t>(std::min<uint64_t>(len, index_->size - off));
  uint8_t* out = static_cast<uint8_t*>(buf);
  auto it = std::upper_bound(ex.begin(), ex.end(), off, [](uint64_t o, const Extent& e) { return o < e.logical; });
  if (it != ex.begin()) --it;
  uint64_t pos = off, end = off + len;
  while (pos < end) {
    while (it != ex.end() && it->logical + it->length <= pos) ++it;
    // A hole: bytes no record wrote. In a complete stream they are zeros (makedumpfile -R leaves
    // them sparse); in a truncated one they are simply missing, so the read ends there.
    uint64_t holeEnd = (it == ex.end() || it->logical >= end) ? end : it->logical;
    if (holeEnd > pos) {
      if (index_->truncated) return static_cast<size_t>(pos - off);
      std::memset(out + (pos - off), 0, holeEnd - pos);
      pos = holeEnd;
      if (pos == end) break;
    }
    size_t n = static_cast<size_t>(std::min(end, it->logical + it->length) - pos);
    inner_->readExact(it->inner + (pos - it->logical), out + (pos - off), n, "flattened record");
    pos += n;
  }
  return len;
}

std::unique_ptr<ByteSource> FlattenedSource::clone() const {
  return std::make_unique<FlattenedSource>(inner_->clone(), index_);
}

// ---------------------------------------------------------------- lzop

namespace {
const uint8_t kLzopMagic[9] = {0x89, 0x4c, 0x5a, 0x4f, 0x00, 0x0d, 0x0a, 0x1a, 0x0a};
// Header flags (lzop's conf.h).
constexpr uint32_t F_ADLER32_D = 0x1, F_ADLER32_C = 0x2, F_H_EXTRA_FIELD = 0x40, F_CRC32_D = 0x100,
                   F_CRC32_C = 0x200, F_MULTIPART = 0x400, F_H_FILTER = 0x800, F_H_CRC32 = 0x1000;
constexpr uint32_t kMaxLzopBlock = 64u << 20;  // lzop's MAX_BLOCK_SIZE

uint32_t lzopCheck(bool crc, const uint8_t* p, size_t n) {
  return crc ? lzo_crc32(0, p, static_cast<lzo_uint>(n)) : lzo_adler32(1, p, static_cast<lzo_uint>(n));
}
}  // namespace

bool LzopSource::probe(const uint8_t* head, size_t n) {
  return n >= sizeof kLzopMagic && std::memcmp(head, kLzopMagic, sizeof kLzopMagic) == 0;
}

std::unique_ptr<LzopSource> LzopSource::open(std::unique_ptr<ByteSource> inner) {
  static const bool lzoReady = lzo_init() == LZO_E_OK;
  if (!lzoReady) throw DumpError(ErrCode::Unsupported, "liblzo2 failed to initialise");

  // The header is small (< 300 bytes plus an optional extra field); read it field by field.
  Scanner scan(*inner);
  std::vector<uint8_t> hdr;  // bytes covered by the header checksum (everything after the magic)
  auto take = [&](size_t n, const char* what) {
    size_t at = hdr.size();
    hdr.resize(at + n);
    if (!scan.take(hdr.data() + at, n)) throw DumpError(ErrCode::Truncated, std::string("file ends inside lzop header (") + what + ")");
    return hdr.data() + at;
  };
  scan.skip(sizeof kLzopMagic);
  uint16_t version = be16(take(2, "version"));
  take(2, "lib version");
  if (version >= 0x0940) {
    uint16_t needed = be16(take(2, "version needed"));
    if (needed > 0x1040) throw DumpError(ErrCode::Unsupported, "lzop format version " + hex(needed) + " is newer than we know");
  }
  uint8_t method = *take(1, "method");
  if (version >= 0x0940) take(1, "level");
  uint32_t flags = be32(take(4, "flags"));
  if (method < 1 || method > 3)  // M_LZO1X_1, M_LZO1X_1_15, M_LZO1X_999: all decode with lzo1x
    throw DumpError(ErrCode::Unsupported, "lzop method " + std::to_string(method) + " (only LZO1X is supported)");
  if (flags & F_MULTIPART) throw DumpError(ErrCode::Unsupported, "multi-part lzop files are not supported");
  if (flags & F_H_FILTER) take(4, "filter");
  take(4, "mode");
  take(4, "mtime");
  if (version >= 0x0940) take(4, "mtime high");
  uint8_t nameLen = *take(1, "name length");
  if (nameLen) take(nameLen, "name");
  bool hcrc = flags & F_H_CRC32;
  uint32_t want = lzopCheck(hcrc, hdr.data(), hdr.size());
  uint8_t sum[4];
  if (!scan.take(sum, 4)) throw DumpError(ErrCode::Truncated, "file ends inside lzop header (checksum)");
  if (be32(sum) != want) throw DumpError(ErrCode::Corrupt, "lzop header checksum mismatch");
  if (flags & F_H_EXTRA_FIELD) {
    uint8_t len4[4];
    if (!scan.take(len4, 4)) throw DumpError(ErrCode::Truncated, "file ends inside lzop extra field");
    scan.skip(uint64_t(be32(len4)) + 4);  // extra data + its checksum
  }

  auto index = std::make_shared<Index>();
  index->flags = flags;
  bool ended = false;
  for (;;) {
    uint64_t at = scan.pos();
    uint8_t w[4];
    if (!scan.take(w, 4)) break;
    uint32_t raw = be32(w);
    if (raw == 0) { ended = true; break; }
    if (!scan.take(w, 4)) break;
    uint32_t packed = be32(w);
    // LZO1X output grows by at most 255 bytes per input byte (a long match's length runs on in
    // zero bytes, 255 each), so a block claiming more than that cannot decompress to its claim.
    if (raw > kMaxLzopBlock || packed == 0 || packed > raw || (packed < raw && raw > uint64_t(packed) * 256 + 64))
      throw DumpError(ErrCode::Corrupt, "lzop block at " + hex(at) + " has sizes " + std::to_string(raw) + "/" + std::to_string(packed));
    Block b{index->size, raw, packed, 0, 0, 0};
    // Checksum words follow in this order; compressed-data ones only for compressed blocks. If a
    // file has both adler32 and crc32 of the same data we keep (and verify) the crc32.
    bool cut = false;
    auto word = [&](uint32_t& into) {
      if (!scan.take(w, 4)) cut = true;
      else into = be32(w);
    };
    if (flags & F_ADLER32_D) word(b.rawCheck);
    if (flags & F_CRC32_D) word(b.rawCheck);
    if (packed < raw && (flags & F_ADLER32_C)) word(b.packedCheck);
    if (packed < raw && (flags & F_CRC32_C)) word(b.packedCheck);
    b.inner = scan.pos();
    if (cut || b.inner + packed > inner->size()) break;
    index->blocks.push_back(b);
    index->size += raw;
    scan.skip(packed);
  }
  if (!ended) {
    index->truncated = true;
    index->warnings.push_back("lzop stream ends without its end marker after " + std::to_string(index->blocks.size()) +
                              " complete blocks (file truncated)");
  }
  return std::make_unique<LzopSource>(std::move(inner), std::move(index));
}

const std::vector<uint8_t>& LzopSource::block(size_t i) {
  if (auto* hit = cache_.get(i)) return *hit;
  // A block that failed fails again at once: re-reading and re-decompressing it (up to 64 MiB
  // claimed) on every read that touches it made a walk over a damaged block take minutes.
  if (auto bad = failed_.find(i); bad != failed_.end()) throw bad->second;
  try {
    return decode(i);
  } catch (const DumpError& e) {
    if (e.code == ErrCode::Corrupt || e.code == ErrCode::Truncated) failed_.emplace(i, e);
    throw;
  }
}

const std::vector<uint8_t>& LzopSource::decode(size_t i) {
  const Block& b = index_->blocks[i];
  uint32_t flags = index_->flags;
  std::vector<uint8_t> out;
  if (b.packedLen == b.rawLen) {  // stored
    out.resize(b.rawLen);
    inner_->readExact(b.inner, out.data(), b.rawLen, "lzop block");
  } else {
    packed_.resize(b.packedLen);
    inner_->readExact(b.inner, packed_.data(), b.packedLen, "lzop block");
    if ((flags & (F_ADLER32_C | F_CRC32_C)) && lzopCheck(flags & F_CRC32_C, packed_.data(), b.packedLen) != b.packedCheck)
      throw DumpError(ErrCode::Corrupt, "lzop block at " + hex(b.inner) + ": compressed-data checksum mismatch");
    // Decompressed into memory left uninitialised: zero-filling the claimed length first cost a
    // page fault per 4 KiB of a claim the data may not back.
    std::unique_ptr<uint8_t[]> raw(new uint8_t[b.rawLen]);
    lzo_uint n = b.rawLen;
    int rc = lzo1x_decompress_safe(packed_.data(), b.packedLen, raw.get(), &n, nullptr);
    if (rc != LZO_E_OK)
      throw DumpError(ErrCode::Corrupt, "lzop block at " + hex(b.inner) + " does not decompress (lzo error " + std::to_string(rc) + ")");
    if (n != b.rawLen)
      throw DumpError(ErrCode::Corrupt, "lzop block at " + hex(b.inner) + " decompresses to " + std::to_string(n) +
                                            " bytes, not the " + std::to_string(b.rawLen) + " its header claims");
    out.assign(raw.get(), raw.get() + n);
  }
  if ((flags & (F_ADLER32_D | F_CRC32_D)) && lzopCheck(flags & F_CRC32_D, out.data(), out.size()) != b.rawCheck)
    throw DumpError(ErrCode::Corrupt, "lzop block at " + hex(b.inner) + ": checksum mismatch");
  return cache_.put(i, std::move(out));
}

size_t LzopSource::read(uint64_t off, void* buf, size_t len) {
  const auto& bl = index_->blocks;
  if (off >= index_->size) return 0;
  len = static_cast<size_t>(std::min<uint64_t>(len, index_->size - off));
  auto it = std::upper_bound(bl.begin(), bl.end(), off, [](uint64_t o, const Block& b) { return o < b.logical; });
  size_t i = static_cast<size_t>(it - bl.begin()) - 1;  // blocks are contiguous from 0, so i is valid
  uint8_t* out = static_cast<uint8_t*>(buf);
  size_t done = 0;
  while (done < len) {
    const auto& data = block(i);
    uint64_t inBlock = off + done - bl[i].logical;
    size_t n = static_cast<size_t>(std::min<uint64_t>(len - done, data.size() - inBlock));
    std::memcpy(out + done, data.data() + inBlock, n);
    done += n;
    i++;
  }
  return len;
}

std::unique_ptr<ByteSource> LzopSource::clone() const { return std::make_unique<LzopSource>(inner_->clone(), index_); }

// ---------------------------------------------------------------- detection

std::unique_ptr<ByteSource> openSource(const std::string& path, uint64_t* onDiskSize) {
  std::unique_ptr<ByteSource> src = FileSource::open(path);
  if (onDiskSize) *onDiskSize = src->size();
  // Unwrap at most a few nested containers (e.g. a flattened dump piped through lzop).
  for (int depth = 0; depth < 3; depth++) {
    uint8_t head[16] = {0};
    size_t n = src->read(0, head, sizeof head);
    if (LzopSource::probe(head, n)) src = LzopSource::open(std::move(src));
    else if (FlattenedSource::probe(head, n)) src = FlattenedSource::open(std::move(src));
    else break;
  }
  return src;
}

}  // namespace vaat
