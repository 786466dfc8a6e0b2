#include "errors.h"

#include <cstdio>
#include <cstring>

namespace vaat {

const char* errCodeName(ErrCode c) {
  switch (c) {
    case ErrCode::NotADump: return "NOT_A_DUMP";
    case ErrCode::Unsupported: return "UNSUPPORTED";
    case ErrCode::Truncated: return "TRUNCATED";
    case ErrCode::Corrupt: return "CORRUPT";
    case ErrCode::ExcludedPage: return "EXCLUDED_PAGE";
    case ErrCode::NotMapped: return "NOT_MAPPED";
    case ErrCode::IO: return "IO";
  }
  return "IO";
}

void throwIO(const std::string& what, int err) {
  DumpError e(ErrCode::IO, what + ": " + std::strerror(err));
  e.sysErrno = err;
  throw e;
}

std::string hex(uint64_t v) {
  char b[24];
  std::snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(v));
  return b;
}

}  // namespace vaat
