// Page codecs of the kdump-compressed format: one compressed page in, exactly one page out.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

struct ZSTD_DCtx_s;

namespace vaat {

// page_desc.flags bits (makedumpfile diskdump_mod.h).
constexpr uint32_t kDescZlib = 0x1, kDescLzo = 0x2, kDescSnappy = 0x4, kDescZstd = 0x20;
constexpr uint32_t kDescCodecMask = kDescZlib | kDescLzo | kDescSnappy | kDescZstd;

const char* codecName(uint32_t flags);  // 'zlib' | 'lzo' | 'snappy' | 'zstd' | 'none'

class PageDecoder {
 public:
  PageDecoder() = default;
  ~PageDecoder();
  PageDecoder(const PageDecoder&) = delete;
  PageDecoder& operator=(const PageDecoder&) = delete;
  // Decompresses in[0..n) with the codec named by flags into out[0..pageSize). Returns '' on
  // success, else why it failed (wrong output length counts as failure).
  std::string decode(uint32_t flags, const uint8_t* in, size_t n, uint8_t* out, size_t pageSize);

 private:
  ZSTD_DCtx_s* zstd_ = nullptr;  // reused across pages
};

std::string zlibVersionString();
// CRC-32 (zlib's polynomial, as zlib.crc32 and gzip compute it)
uint32_t crc32Of(const uint8_t* data, size_t n);
std::string lzoVersionString();
std::string zstdVersionString();
std::string snappyVersionString();

}  // namespace vaat
