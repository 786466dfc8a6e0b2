// libkdumpfile, opened at run time (native/kdumpfile_loader.cc).
#pragma once

namespace vaat {

// Opens libkdumpfile on first use; throws DumpError(Unsupported) saying why when it cannot.
void requireKdumpfile();

// The libkdumpfile version the addon was built against when the library loads, else nullptr.
const char* kdumpfileVersion();

}  // namespace vaat
