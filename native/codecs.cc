#include "codecs.h"

#include <lzo/lzo1x.h>
#include <snappy-c.h>
#include <snappy-stubs-public.h>
#include <zlib.h>
#include <zstd.h>

namespace vaat {

const char* codecName(uint32_t flags) {
  switch (flags & kDescCodecMask) {
    case kDescZlib: return "zlib";
    case kDescLzo: return "lzo";
    case kDescSnappy: return "snappy";
    case kDescZstd: return "zstd";
    case 0: return "none";
    default: return "mixed";
  }
}

PageDecoder::~PageDecoder() { ZSTD_freeDCtx(zstd_); }

std::string PageDecoder::decode(uint32_t flags, const uint8_t* in, size_t n, uint8_t* out, size_t pageSize) {
  switch (flags & kDescCodecMask) {
    case kDescZlib: {
      uLongf len = pageSize;
      int rc = uncompress(out, &len, in, n);
      if (rc != Z_OK) return "zlib error " + std::to_string(rc);
      if (len != pageSize) return "zlib output is " + std::to_string(len) + " bytes";
      return "";
    }
    case kDescLzo: {
      static const bool ready = lzo_init() == LZO_E_OK;
      if (!ready) return "liblzo2 failed to initialise";
      lzo_uint len = pageSize;
      int rc = lzo1x_decompress_safe(in, n, out, &len, nullptr);
      if (rc != LZO_E_OK) return "lzo error " + std::to_string(rc);
      if (len != pageSize) return "lzo output is " + std::to_string(len) + " bytes";
      return "";
    }
    case kDescSnappy: {
      size_t len = 0;
      const char* src = reinterpret_cast<const char*>(in);
      if (snappy_uncompressed_length(src, n, &len) != SNAPPY_OK) return "snappy header is invalid";
      if (len != pageSize) return "snappy output would be " + std::to_string(len) + " bytes";
      if (snappy_uncompress(src, n, reinterpret_cast<char*>(out), &len) != SNAPPY_OK) return "snappy data is invalid";
      return "";
    }
    case kDescZstd: {
      if (!zstd_ && !(zstd_ = ZSTD_createDCtx())) return "cannot allocate a zstd context";
      size_t len = ZSTD_decompressDCtx(zstd_, out, pageSize, in, n);
      if (ZSTD_isError(len)) return std::string("zstd: ") + ZSTD_getErrorName(len);
      if (len != pageSize) return "zstd output is " + std::to_string(len) + " bytes";
      return "";
    }
    default:
      return "page descriptor names several codecs (flags " + std::to_string(flags) + ")";
  }
}

std::string zlibVersionString() { return zlibVersion(); }
uint32_t crc32Of(const uint8_t* data, size_t n) { return uint32_t(crc32_z(0, data, n)); }
std::string lzoVersionString() { return lzo_version_string(); }
std::string zstdVersionString() { return ZSTD_versionString(); }
std::string snappyVersionString() {
  return std::to_string(SNAPPY_MAJOR) + "." + std::to_string(SNAPPY_MINOR) + "." + std::to_string(SNAPPY_PATCHLEVEL);
}

}  // namespace vaat
