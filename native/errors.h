// DumpError: the one exception type native code throws. Its code is what JS sees on err.code.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>

namespace vaat {

enum class ErrCode { NotADump, Unsupported, Truncated, Corrupt, ExcludedPage, NotMapped, IO };

const char* errCodeName(ErrCode c);

class DumpError : public std::runtime_error {
 public:
  DumpError(ErrCode code, const std::string& msg) : std::runtime_error(msg), code(code) {}
  DumpError(ErrCode code, const std::string& msg, uint64_t address)
      : std::runtime_error(msg), code(code), address(address), hasAddress(true) {}
  ErrCode code;
  uint64_t address = 0;
  bool hasAddress = false;
  int sysErrno = 0;  // set for ErrCode::IO
};

[[noreturn]] void throwIO(const std::string& what, int err);
std::string hex(uint64_t v);

}  // namespace vaat
