// libkdumpfile is the alternative reader (--reader libkdumpfile) and the tests' oracle, not
// something every user has: the prebuilt addon must load without it. So it is not linked. The
// entry points the libkdumpfile back end calls (including those the header's inline helpers call)
// are defined here and forward to the library opened with dlopen on first use.
#include "kdumpfile_loader.h"

#include <dlfcn.h>
#include <libkdumpfile/kdumpfile.h>

#include <cstdlib>
#include <mutex>
#include <type_traits>
#include <string>

#include "errors.h"

namespace vaat {
namespace {

// The soname of the ABI the header describes (Debian's libkdumpfile10, upstream 0.5.x).
// VAAT_LIBKDUMPFILE names another file (a private prefix's copy of the same ABI).
constexpr const char* kSoname = "libkdumpfile.so.10";

struct Api {
  decltype(&::kdump_new) kdump_new = nullptr;
  decltype(&::kdump_clone) kdump_clone = nullptr;
  decltype(&::kdump_free) kdump_free = nullptr;
  decltype(&::kdump_get_err) kdump_get_err = nullptr;
  decltype(&::kdump_get_addrxlat) kdump_get_addrxlat = nullptr;
  decltype(&::kdump_open_fdset) kdump_open_fdset = nullptr;
  decltype(&::kdump_read) kdump_read = nullptr;
  decltype(&::kdump_set_attr) kdump_set_attr = nullptr;
  // libaddrxlat is a dependency of libkdumpfile: dlsym on its handle finds these too.
  decltype(&::addrxlat_ctx_decref) addrxlat_ctx_decref = nullptr;
  decltype(&::addrxlat_sys_decref) addrxlat_sys_decref = nullptr;
  decltype(&::addrxlat_fulladdr_conv) addrxlat_fulladdr_conv = nullptr;
  bool loaded = false;
  std::string why;  // set when not loaded
};

const Api& api() {
  static Api a;
  static std::once_flag once;
  std::call_once(once, [] {
    const char* env = std::getenv("VAAT_LIBKDUMPFILE");
    const std::string lib = env && *env ? env : kSoname;
    void* h = dlopen(lib.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!h) {
      const char* e = dlerror();
      a.why = e ? e : lib + ": cannot load";
      return;
    }
    bool ok = true;
    auto bind = [&](auto& fn, const char* name) {
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(dlsym(h, name));
      if (!fn && ok) {
        ok = false;
        a.why = lib + " has no " + name;
      }
    };
    bind(a.kdump_new, "kdump_new");
    bind(a.kdump_clone, "kdump_clone");
    bind(a.kdump_free, "kdump_free");
    bind(a.kdump_get_err, "kdump_get_err");
    bind(a.kdump_get_addrxlat, "kdump_get_addrxlat");
    bind(a.kdump_open_fdset, "kdump_open_fdset");
    bind(a.kdump_read, "kdump_read");
    bind(a.kdump_set_attr, "kdump_set_attr");
    bind(a.addrxlat_ctx_decref, "addrxlat_ctx_decref");
    bind(a.addrxlat_sys_decref, "addrxlat_sys_decref");
    bind(a.addrxlat_fulladdr_conv, "addrxlat_fulladdr_conv");
    a.loaded = ok;  // the handle stays open for the life of the process
  });
  return a;
}

}  // namespace

void requireKdumpfile() {
  const Api& a = api();
  if (!a.loaded)
    throw DumpError(ErrCode::Unsupported, "the libkdumpfile reader needs libkdumpfile, which is not installed (" + a.why +
                                              "; Debian/Ubuntu: apt install libkdumpfile10); the default reader needs nothing");
}

const char* kdumpfileVersion() { return api().loaded ? KDUMPFILE_VERSION_STRING : nullptr; }

}  // namespace vaat

// The forwarders. Only reached after requireKdumpfile() succeeded (every call needs a context
// from kdump_new), so the pointers are set.
using vaat::api;
extern "C" {
kdump_ctx_t* kdump_new(void) { return api().loaded ? api().kdump_new() : nullptr; }
kdump_ctx_t* kdump_clone(const kdump_ctx_t* orig, unsigned long flags) { return api().kdump_clone(orig, flags); }
void kdump_free(kdump_ctx_t* ctx) { api().kdump_free(ctx); }
const char* kdump_get_err(kdump_ctx_t* ctx) { return api().kdump_get_err(ctx); }
kdump_status kdump_get_addrxlat(kdump_ctx_t* ctx, addrxlat_ctx_t** axctx, addrxlat_sys_t** axsys) { return api().kdump_get_addrxlat(ctx, axctx, axsys); }
kdump_status kdump_open_fdset(kdump_ctx_t* ctx, unsigned nfds, const int* fds) { return api().kdump_open_fdset(ctx, nfds, fds); }
kdump_status kdump_read(kdump_ctx_t* ctx, kdump_addrspace_t as, kdump_addr_t addr, void* buffer, size_t* plength) { return api().kdump_read(ctx, as, addr, buffer, plength); }
kdump_status kdump_set_attr(kdump_ctx_t* ctx, const char* key, const kdump_attr_t* valp) { return api().kdump_set_attr(ctx, key, valp); }
unsigned long addrxlat_ctx_decref(addrxlat_ctx_t* ctx) { return api().addrxlat_ctx_decref(ctx); }
unsigned long addrxlat_sys_decref(addrxlat_sys_t* sys) { return api().addrxlat_sys_decref(sys); }
addrxlat_status addrxlat_fulladdr_conv(addrxlat_fulladdr_t* faddr, addrxlat_addrspace_t as, addrxlat_ctx_t* ctx, addrxlat_sys_t* sys) { return api().addrxlat_fulladdr_conv(faddr, as, ctx, sys); }
}
