// DWARF type index: read a vmlinux's DWARF with libdw and flatten its types, variables and
// functions into one compact, deduplicated binary blob that src/types/dwarf.ts reads.
// The blob layout is documented in dwarf.cc next to the code that writes it.
#pragma once
#include <napi.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace vaat {

// code is what JS sees on err.code: NOT_ELF, NO_DWARF, CORRUPT, IO, BUILD_ID_MISMATCH.
class DwarfError : public std::runtime_error {
 public:
  DwarfError(const char* code, const std::string& msg) : std::runtime_error(msg), code(code) {}
  const char* code;
};

struct ElfIdentity {
  std::string buildId;  // lowercase hex, empty when the file has no GNU build-id note
  std::string release;  // from the "Linux version X" banner in .rodata, empty when absent
  bool hasDebugInfo = false;
  std::string type;     // "exec", "rel", "dyn", "core", "other"
};

struct DwarfIndexOptions {
  bool inlines = false;        // also collect inlined-subroutine pc ranges
  std::string expectBuildId;   // refuse (BUILD_ID_MISMATCH) before extracting when set and different
};

struct DwarfIndexStats {
  uint32_t cus = 0, types = 0, members = 0, variables = 0, functions = 0, inlines = 0;
  uint32_t fwdResolved = 0, merged = 0;
  double ms = 0;
};

ElfIdentity readElfIdentity(const std::string& path);
// An allocated section and the address its DWARF was relocated to: the link address in an
// executable; for a relocatable file (a kernel module .ko), where libdwfl laid it out, which is
// what the index's addresses (inline ranges, variables) are relative to.
struct SectionAddress {
  uint32_t index = 0;
  std::string name;
  uint64_t addr = 0, size = 0;
};

std::vector<uint8_t> buildDwarfIndex(const std::string& path, const DwarfIndexOptions& opts, ElfIdentity& id,
                                     DwarfIndexStats& stats, std::vector<SectionAddress>* sectionsOut = nullptr);

// exports.elfIdentity(path) and exports.dwarfIndex(path, options)
void registerDwarf(Napi::Env env, Napi::Object exports);

}  // namespace vaat
