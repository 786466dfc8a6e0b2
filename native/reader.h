// Reader: one opened dump = our own parse (PageStore + DumpInfo, always) + the back end chosen
// to serve reads. The N-API layer (addon.cc) wraps exactly one Reader per DumpFile object.
#pragma once
#include <memory>
#include <string>

#include "backend.h"
#include "dump_format.h"

namespace vaat {

struct Reader {
  std::string path;
  std::string choice;  // 'auto' | 'libkdumpfile' | 'vaat', as asked
  DumpInfo info;       // the store's facts plus warnings from choosing the back end
  std::unique_ptr<PageStore> store;
  std::unique_ptr<Backend> backend;

  // pageCacheBytes: the decoded-page cache of our own back end (libkdumpfile keeps its own)
  static std::unique_ptr<Reader> open(const std::string& path, const std::string& choice, size_t pageCacheBytes = kDefaultPageCacheBytes);
  std::unique_ptr<Reader> clone() const;
};

// Format name by content, with containers ('lzop+elf'); '' when not a dump. Throws only IO errors.
std::string detectFormat(const std::string& path);

}  // namespace vaat
