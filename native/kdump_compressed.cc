// The kdump-compressed format (makedumpfile -c/-l/-p/-z, QEMU dump-guest-memory kdump-*):
//   block 0              disk_dump_header (signature, utsname, block_size, sub_hdr_size, ...)
//   block 1..            kdump_sub_header (phys_base, dump_level, ...), then ELF notes + VMCOREINFO
//   1 + sub_hdr_size     bitmaps: 1st = pages that are RAM, 2nd = pages written to the file
//   then                 one page_desc {offset, size, flags, page_flags} per 2nd-bitmap pfn, in order
//   then                 page data (all zero pages share one descriptor's data)
#include <algorithm>
#include <cstring>

#include "bytes.h"
#include "codecs.h"
#include "dump_format.h"
#include "errors.h"

namespace vaat {
namespace {

// disk_dump_header field offsets (x86_64 layout: 6 x 65-byte utsname, then 8-aligned timeval).
constexpr size_t kHdrSize = 464, kHdrVersion = 8, kHdrUts = 12, kHdrBlockSize = 428, kHdrSubHdrSize = 432,
                 kHdrBitmapBlocks = 436, kHdrMaxMapnr = 440, kHdrNrCpus = 460;
// kdump_sub_header field offsets; which exist depends on header_version.
constexpr size_t kSubPhysBase = 0, kSubDumpLevel = 8, kSubSplit = 12, kSubOffVmcoreinfo = 32, kSubSizeVmcoreinfo = 40,
                 kSubOffNote = 48, kSubSizeNote = 56, kSubStartPfn64 = 80, kSubEndPfn64 = 88, kSubMaxMapnr64 = 96,
                 kSubSize = 104;
constexpr size_t kDescSize = 24;  // page_desc: i64 offset, u32 size, u32 flags, u64 page_flags
constexpr uint64_t kMaxPfnSane = 1ULL << 40;  // 4 EiB of 4K pages: anything larger is corrupt
constexpr uint64_t kMaxNotes = 64ULL << 20;

std::string cstr(const uint8_t* p, size_t n) { return std::string(reinterpret_cast<const char*>(p), strnlen(reinterpret_cast<const char*>(p), n)); }

// Immutable after open; shared by clones.
struct Layout {
  uint64_t maxMapnr = 0;
  uint64_t descStart = 0, descEnd = 0, nDesc = 0;
  bool bitmapsComplete = false;
  std::vector<uint64_t> ram, dumped;  // 1st and 2nd bitmaps as little-endian words
  std::vector<uint64_t> rankBefore;   // set bits of `dumped` before each word
};

bool bit(const std::vector<uint64_t>& bm, uint64_t pfn) { return (bm[pfn >> 6] >> (pfn & 63)) & 1; }

class KdumpCompressed : public PageStore {
 public:
  KdumpCompressed(std::unique_ptr<ByteSource> src, std::shared_ptr<const DumpInfo> info, std::shared_ptr<const Layout> layout)
      : src_(std::move(src)), layout_(std::move(layout)), packed_(info->blockSize) {
    info_ = std::move(info);
  }

  PageState state(uint64_t pfn) const override {
    const Layout& L = *layout_;
    if (pfn >= L.maxMapnr) return PageState::Absent;
    if (!L.bitmapsComplete) throw DumpError(ErrCode::Truncated, "file ends inside the page bitmaps");
    if (bit(L.dumped, pfn)) return PageState::Present;
    return bit(L.ram, pfn) ? PageState::Excluded : PageState::Absent;
  }

  void readPage(uint64_t pfn, uint8_t* buf) override {
    const uint32_t ps = info_->blockSize;
    Desc d = descriptor(pfn);
    if ((d.flags & kDescCodecMask) == 0) {
      src_->readExact(d.offset, buf, ps, "page data");
      return;
    }
    src_->readExact(d.offset, packed_.data(), d.size, "page data");
    std::string why = decoder_.decode(d.flags, packed_.data(), d.size, buf, ps);
    if (!why.empty()) throw DumpError(ErrCode::Corrupt, "page pfn " + hex(pfn) + " does not decompress: " + why, pfn * ps);
  }

  void check(uint64_t pfn) override { descriptor(pfn); }

  std::unique_ptr<PageStore> clone() const override {
    return std::make_unique<KdumpCompressed>(src_->clone(), info_, layout_);
  }

 private:
  struct Desc {
    uint64_t offset;
    uint32_t size, flags;
  };

  // The page descriptor of a Present pfn, checked against the file: in bounds, a sane size.
  Desc descriptor(uint64_t pfn) {
    const Layout& L = *layout_;
    const DumpInfo& I = *info_;
    const uint64_t addr = pfn * I.blockSize;
    uint64_t w = pfn >> 6;
    uint64_t rank = L.rankBefore[w] + __builtin_popcountll(L.dumped[w] & ((1ULL << (pfn & 63)) - 1));
    uint8_t d[kDescSize];
    if (src_->read(L.descStart + rank * kDescSize, d, kDescSize) != kDescSize)
      throw DumpError(ErrCode::Truncated, "page descriptor of pfn " + hex(pfn) + " lies beyond the end of the file", addr);
    int64_t off = les64(d);
    uint32_t size = le32(d + 8), flags = le32(d + 12);
    // Built only when a check fails: formatting it for every page costs more than decompressing.
    auto where = [pfn] { return "page descriptor of pfn " + hex(pfn); };
    if (size == 0 || size > I.blockSize) throw DumpError(ErrCode::Corrupt, where() + " has size " + std::to_string(size), addr);
    if (off < 0 || uint64_t(off) < L.descEnd)
      throw DumpError(ErrCode::Corrupt, where() + " points into the headers (offset " + std::to_string(off) + ")", addr);
    if (uint64_t(off) + size > src_->size()) {
      if (I.truncated) throw DumpError(ErrCode::Truncated, "data of pfn " + hex(pfn) + " lies beyond the end of the truncated file", addr);
      throw DumpError(ErrCode::Corrupt, where() + " points beyond the end of the file", addr);
    }
    if ((flags & kDescCodecMask) == 0 && size != I.blockSize)
      throw DumpError(ErrCode::Corrupt, where() + ": uncompressed page of " + std::to_string(size) + " bytes", addr);
    return Desc{uint64_t(off), size, flags};
  }

  std::unique_ptr<ByteSource> src_;
  std::shared_ptr<const Layout> layout_;
  std::vector<uint8_t> packed_;
  PageDecoder decoder_;
};

// Reads a bitmap of `bits` bits at off into words; returns false if the file ends first.
bool loadBitmap(ByteSource& src, uint64_t off, uint64_t bits, std::vector<uint64_t>& out) {
  uint64_t bytes = (bits + 7) / 8;
  out.assign((bits + 63) / 64 + 1, 0);  // +1: rank lookups may touch the word after the last pfn
  if (src.read(off, out.data(), static_cast<size_t>(bytes)) != bytes) return false;
  if (bits & 63) out[bits >> 6] &= (1ULL << (bits & 63)) - 1;  // ignore padding bits past maxMapnr
  return true;
}

}  // namespace

std::unique_ptr<PageStore> openKdumpCompressed(std::unique_ptr<ByteSource> src, std::shared_ptr<DumpInfo> info) {
  DumpInfo& I = *info;
  const uint64_t fsize = src->size();
  uint8_t h[kHdrSize];
  src->readExact(0, h, kHdrSize, "the kdump header");
  bool diskdump = std::memcmp(h, "DISKDUMP", 8) == 0;  // the old diskdump layout has no kdump_sub_header
  int32_t version = les32(h + kHdrVersion);
  int32_t blockSize = les32(h + kHdrBlockSize);
  int32_t subHdrBlocks = les32(h + kHdrSubHdrSize);
  uint32_t bitmapBlocks = le32(h + kHdrBitmapBlocks);
  int32_t nrCpus = les32(h + kHdrNrCpus);
  if (version < 0 || version > 1000) throw DumpError(ErrCode::Corrupt, "kdump header version " + std::to_string(version));
  if (blockSize < 512 || blockSize > (1 << 20) || (blockSize & (blockSize - 1)))
    throw DumpError(ErrCode::Corrupt, "kdump header block size " + std::to_string(blockSize));
  if (subHdrBlocks < 0 || subHdrBlocks > (1 << 16))
    throw DumpError(ErrCode::Corrupt, "kdump header sub-header size " + std::to_string(subHdrBlocks) + " blocks");
  if (bitmapBlocks == 0) throw DumpError(ErrCode::Corrupt, "kdump header has no bitmap blocks");
  if (nrCpus < 0 || nrCpus > (1 << 20)) throw DumpError(ErrCode::Corrupt, "kdump header nr_cpus " + std::to_string(nrCpus));
  const uint64_t bs = uint64_t(blockSize);
  I.blockSize = uint32_t(blockSize);  // makedumpfile and QEMU write one page per block

  for (int i = 0; i < 5; i++) I.uts[i] = cstr(h + kHdrUts + 65 * i, 65);
  // QEMU writes "Unknown" here on arm64: then the ELF notes or VMCOREINFO name the architecture.
  I.arch = archFromMachine(I.uts[4]);

  uint64_t maxMapnr = le32(h + kHdrMaxMapnr);
  uint64_t subEnd = bs * (1 + uint64_t(subHdrBlocks));  // end of the sub-header area
  bool qemu = false;
  if (!diskdump && version >= 1) {
    if (subHdrBlocks < 1) throw DumpError(ErrCode::Corrupt, "kdump header version " + std::to_string(version) + " without a sub-header");
    uint8_t s[kSubSize] = {0};
    size_t subLen = version >= 6 ? kSubSize : version >= 5 ? 80 : version >= 4 ? 64 : version >= 3 ? 48 : version >= 2 ? 32 : 12;
    src->readExact(bs, s, subLen, "the kdump sub-header");
    I.headerPhysBase = les64(s + kSubPhysBase);
    I.hasHeaderPhysBase = true;
    I.dumpLevel = les32(s + kSubDumpLevel);
    if (version >= 2 && les32(s + kSubSplit))
      I.warnings.push_back("split dump: this file holds only part of memory (pfns " +
                           hex(version >= 6 ? le64(s + kSubStartPfn64) : le64(s + 16)) + "-" +
                           hex(version >= 6 ? le64(s + kSubEndPfn64) : le64(s + 24)) + ")");
    if (version >= 6) maxMapnr = le64(s + kSubMaxMapnr64);
    // VMCOREINFO and the ELF notes live inside the sub-header area.
    auto region = [&](size_t offField, size_t sizeField, const char* what) -> std::vector<uint8_t> {
      int64_t off = les64(s + offField);
      uint64_t size = le64(s + sizeField);
      if (size == 0) return {};
      if (off < int64_t(bs) || size > kMaxNotes || uint64_t(off) + size > subEnd)
        throw DumpError(ErrCode::Corrupt, std::string("kdump sub-header ") + what + " (offset " + std::to_string(off) +
                                              ", size " + std::to_string(size) + ") lies outside the sub-header area");
      checkMetadataClaim(I, fsize, uint64_t(off), size, size, std::string("the kdump ") + what);
      std::vector<uint8_t> buf(size);
      src->readExact(uint64_t(off), buf.data(), size, what);
      return buf;
    };
    if (version >= 4) {
      auto notes = region(kSubOffNote, kSubSizeNote, "ELF notes");
      qemu = parseElfNotes(notes.data(), notes.size(), I);
    }
    if (version >= 3 && I.vmcoreinfo.empty()) {
      auto vi = region(kSubOffVmcoreinfo, kSubSizeVmcoreinfo, "VMCOREINFO");
      I.vmcoreinfo.assign(reinterpret_cast<const char*>(vi.data()), strnlen(reinterpret_cast<const char*>(vi.data()), vi.size()));
    }
  }
  if (maxMapnr == 0 || maxMapnr > kMaxPfnSane) throw DumpError(ErrCode::Corrupt, "kdump header max_mapnr " + hex(maxMapnr));
  uint64_t bitmapOff = subEnd;
  uint64_t bitmapLen = uint64_t(bitmapBlocks) * bs;
  if (bitmapLen / 2 * 8 < maxMapnr)
    throw DumpError(ErrCode::Corrupt, "kdump bitmaps (" + std::to_string(bitmapBlocks) + " blocks) cannot cover max_mapnr " + hex(maxMapnr));
  // makedumpfile sizes each bitmap to max_mapnr bits rounded up to a block; far more is a damaged field.
  const uint64_t bitmapNeed = (maxMapnr + 7) / 8;
  if (bitmapLen / 2 > 2 * bitmapNeed + 2 * uint64_t(bs))
    throw DumpError(ErrCode::Corrupt, "kdump bitmaps (" + std::to_string(bitmapBlocks) + " blocks) are far larger than max_mapnr " + hex(maxMapnr) + " needs");

  // QEMU's dump-guest-memory leaves the utsname empty (except the machine) and adds QEMU notes.
  if (qemu || (I.uts[0].empty() && I.uts[2].empty())) {
    I.format = "kdump-compressed (qemu)";
    if (I.uts[0].empty() && I.uts[2].empty()) I.warnings.push_back("written by QEMU dump-guest-memory: header utsname is empty (release taken from VMCOREINFO)");
  } else {
    I.format = "kdump-compressed";
  }
  I.hasUts = !(I.uts[0].empty() && I.uts[2].empty());
  I.nrCpus = I.cpus.empty() ? nrCpus : int(I.cpus.size());
  I.maxPfn = maxMapnr;
  I.memorySize = maxMapnr * bs;

  auto L = std::make_shared<Layout>();
  L->maxMapnr = maxMapnr;
  L->descStart = bitmapOff + bitmapLen;
  // Two bitmaps and a rank table of max_mapnr bits each: never allocated for a claim the file
  // cannot back (a 64 KiB file saying 2^34 pages) nor past the budget; bitmaps the file ends
  // inside are a truncated dump, as before, without reading them.
  const uint64_t words = (maxMapnr + 63) / 64 + 1;
  checkMetadataClaim(I, UINT64_MAX, 0, 0, words * 8 * 3, "the page bitmaps for max_mapnr " + hex(maxMapnr));
  const bool bitmapsInFile = bitmapOff <= fsize && bitmapLen <= fsize - bitmapOff;
  L->bitmapsComplete = bitmapsInFile && loadBitmap(*src, bitmapOff, maxMapnr, L->ram) &&
                       loadBitmap(*src, bitmapOff + bitmapLen / 2, maxMapnr, L->dumped);
  if (L->bitmapsComplete) {
    L->rankBefore.resize(L->dumped.size());
    uint64_t n = 0;
    for (size_t i = 0; i < L->dumped.size(); i++) { L->rankBefore[i] = n; n += __builtin_popcountll(L->dumped[i]); }
    L->nDesc = n;
    L->descEnd = L->descStart + n * kDescSize;
    I.pagesPresent = int64_t(n);
    uint64_t excluded = 0;
    for (size_t i = 0; i < L->ram.size(); i++) excluded += __builtin_popcountll(L->ram[i] & ~L->dumped[i]);
    I.pagesExcluded = int64_t(excluded);
  } else {
    L->ram.clear();
    L->dumped.clear();
    I.truncated = true;
    I.warnings.push_back("file is truncated inside the page bitmaps: no page can be read");
  }

  // Codec: look at the first descriptors (raw pages appear in every dump: pages that did not
  // compress are stored as-is, so 'none' only counts when no codec is seen at all).
  if (L->bitmapsComplete && L->nDesc > 0) {
    uint64_t sample = std::min<uint64_t>(L->nDesc, 8192);
    std::vector<uint8_t> descs(sample * kDescSize);
    size_t got = src->read(L->descStart, descs.data(), descs.size()) / kDescSize;
    uint32_t seen = 0;
    for (size_t i = 0; i < got; i++) seen |= le32(descs.data() + i * kDescSize + 12) & kDescCodecMask;
    I.codec = codecName(seen);
    // Truncation: the descriptor table or the last page's data runs past the end of the file.
    // Data is written in pfn order, except that zero pages share one early copy, so the end of
    // the data is the largest end among the last descriptors.
    if (fsize < L->descEnd) {
      I.truncated = true;
      I.warnings.push_back("file is truncated inside the page descriptors (" + std::to_string(fsize) + " of at least " +
                           std::to_string(L->descEnd) + " bytes)");
    } else {
      uint64_t tail = std::min<uint64_t>(L->nDesc, 4096);
      std::vector<uint8_t> last(tail * kDescSize);
      // A short read: a truncated container stream lost some descriptors (reads of them fail later).
      if (src->read(L->descEnd - last.size(), last.data(), last.size()) != last.size()) tail = 0;
      uint64_t dataEnd = 0;
      for (uint64_t i = 0; i < tail; i++) {
        int64_t off = les64(last.data() + i * kDescSize);
        if (off > 0) dataEnd = std::max<uint64_t>(dataEnd, uint64_t(off) + le32(last.data() + i * kDescSize + 8));
      }
      if (dataEnd > fsize) {
        I.truncated = true;
        I.warnings.push_back("file is truncated inside the page data (" + std::to_string(fsize) + " of " + std::to_string(dataEnd) + " bytes)");
      }
    }
  }
  if (I.vmcoreinfo.empty()) I.warnings.push_back("no VMCOREINFO in the dump");
  finishInfo(I);
  return std::make_unique<KdumpCompressed>(std::move(src), std::move(info), std::move(L));
}

}  // namespace vaat
