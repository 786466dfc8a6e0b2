// The kernel's page tables, per architecture: where the root is and how an entry is decoded.
// Facts come from VMCOREINFO; entries are read through the caller's physical reader.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "dump_format.h"

namespace vaat {

class PageTables {
 public:
  virtual ~PageTables() = default;
  // Reads the 8-byte little-endian entry at a physical address; false if it is not in the dump.
  using ReadEntry = std::function<bool(uint64_t phys, uint64_t& entry)>;
  // Translates a kernel virtual address; false when it is not mapped (or a table is not in the dump).
  virtual bool walk(uint64_t vaddr, uint64_t& phys, const ReadEntry& read) const = 0;
};

// The page tables of the dump's architecture, or null with `why` set when they cannot be found.
std::unique_ptr<PageTables> makePageTables(const DumpInfo& info, std::string& why);

}  // namespace vaat
