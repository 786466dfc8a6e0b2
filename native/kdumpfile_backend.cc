// The 'libkdumpfile' back end: one kdump_ctx per reader, reads via kdump_read().
#include <fcntl.h>
#include <libkdumpfile/kdumpfile.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "backend.h"
#include "byte_source.h"
#include "errors.h"
#include "kdumpfile_loader.h"

namespace vaat {
namespace {

class KdumpfileBackend : public Backend {
 public:
  // Takes ownership of ctx; fd must stay open as long as ctx (libkdumpfile does not own it).
  KdumpfileBackend(kdump_ctx_t* ctx, std::shared_ptr<SharedFd> fd, PageStore& store) : ctx_(ctx), fd_(std::move(fd)), store_(store) {}
  ~KdumpfileBackend() override { kdump_free(ctx_); }
  KdumpfileBackend(const KdumpfileBackend&) = delete;
  KdumpfileBackend& operator=(const KdumpfileBackend&) = delete;

  const char* name() const override { return "libkdumpfile"; }

  void readPhys(uint64_t addr, uint8_t* buf, size_t len, bool zeroExcluded) override { read(KDUMP_KPHYSADDR, addr, buf, len, zeroExcluded); }
  void readVirt(uint64_t addr, uint8_t* buf, size_t len, bool zeroExcluded) override { read(KDUMP_KVADDR, addr, buf, len, zeroExcluded); }

  uint64_t virtToPhys(uint64_t addr) override {
    uint64_t phys;
    addrxlat_status st = translate(addr, phys);
    if (st != ADDRXLAT_OK) throw DumpError(ErrCode::NotMapped, "virtual address " + hex(addr) + " is not mapped: " + lastError(), addr);
    return phys;
  }

  std::unique_ptr<Backend> clone(PageStore& store) const override {
    kdump_ctx_t* c = kdump_clone(ctx_, 0);
    if (!c) throw std::bad_alloc();
    return std::make_unique<KdumpfileBackend>(c, fd_, store);
  }

 private:
  std::string lastError() {
    const char* e = kdump_get_err(ctx_);
    return e ? e : "unknown libkdumpfile error";
  }

  addrxlat_status translate(uint64_t vaddr, uint64_t& phys) {
    addrxlat_ctx_t* axctx = nullptr;
    addrxlat_sys_t* axsys = nullptr;
    if (kdump_get_addrxlat(ctx_, &axctx, &axsys) != KDUMP_OK) return ADDRXLAT_ERR_NOMETH;
    addrxlat_fulladdr_t fa{vaddr, ADDRXLAT_KVADDR};
    addrxlat_status st = addrxlat_fulladdr_conv(&fa, ADDRXLAT_KPHYSADDR, axctx, axsys);
    addrxlat_ctx_decref(axctx);
    addrxlat_sys_decref(axsys);
    phys = fa.addr;
    return st;
  }

  // Our error for a libkdumpfile failure at `addr`. NODATA means "not stored in the file"; our
  // own bitmaps tell whether that is a filtered page or a hole in physical memory.
  DumpError error(kdump_status st, kdump_addrspace_t as, uint64_t addr) {
    int sysErrno = errno;
    std::string why = lastError();
    switch (st) {
      case KDUMP_ERR_NODATA: {
        uint64_t phys = addr;
        if (as == KDUMP_KVADDR && translate(addr, phys) != ADDRXLAT_OK)
          return DumpError(ErrCode::NotMapped, "virtual address " + hex(addr) + " is not mapped", addr);
        if (store_.state(phys / store_.info().blockSize) == PageState::Absent) return DumpError(ErrCode::NotMapped, "address " + hex(addr) + " is not in the dump", addr);
        return DumpError(ErrCode::ExcludedPage, "page at " + hex(addr) + " was excluded from the dump", addr);
      }
      case KDUMP_ERR_ADDRXLAT: return DumpError(ErrCode::NotMapped, "cannot translate " + hex(addr) + ": " + why, addr);
      case KDUMP_ERR_CORRUPT: return DumpError(ErrCode::Corrupt, "at " + hex(addr) + ": " + why, addr);
      case KDUMP_ERR_EOF: return DumpError(ErrCode::Truncated, "at " + hex(addr) + ": " + why, addr);
      case KDUMP_ERR_NOTIMPL: return DumpError(ErrCode::Unsupported, why);
      case KDUMP_ERR_SYSTEM: {
        DumpError e(ErrCode::IO, "at " + hex(addr) + ": " + why);
        e.sysErrno = sysErrno;
        return e;
      }
      default: return DumpError(ErrCode::Corrupt, "libkdumpfile error " + std::to_string(int(st)) + " at " + hex(addr) + ": " + why, addr);
    }
  }

  // Reads page by page, and only pages our own map says are in the file: libkdumpfile 0.5.1
  // crashes (SIGSEGV in kdump_read) on some pages a makedumpfile -E ELF file does not hold
  // (physical page 0, below the first PT_LOAD; the last page of a PT_LOAD with p_filesz 0).
  // Excluded and absent pages therefore never reach it, nor pages whose descriptor is bad (it
  // would return zeros or garbage for those); DumpErrors from our own checks propagate. Returns KDUMP_OK or the failing status, with `at` set.
  kdump_status readRange(kdump_addrspace_t as, uint64_t addr, uint8_t* buf, size_t len, bool zeroExcluded, uint64_t& at) {
    const uint64_t ps = store_.info().blockSize;
    size_t done = 0;
    while (done < len) {
      at = addr + done;
      size_t n = static_cast<size_t>(std::min<uint64_t>(len - done, ps - at % ps));
      uint64_t phys = at;
      if (as == KDUMP_KVADDR && translate(at, phys) != ADDRXLAT_OK) return KDUMP_ERR_ADDRXLAT;
      PageState s = store_.state(phys / ps);
      if (s == PageState::Excluded && zeroExcluded) {
        std::memset(buf + done, 0, n);
        done += n;
        continue;
      }
      if (s != PageState::Present) return KDUMP_ERR_NODATA;
      store_.check(phys / ps);
      size_t got = n;
      kdump_status st = kdump_read(ctx_, as, at, buf + done, &got);
      if (st != KDUMP_OK) return st;
      done += n;
    }
    return KDUMP_OK;
  }

  void read(kdump_addrspace_t as, uint64_t addr, uint8_t* buf, size_t len, bool zeroExcluded) {
    uint64_t at = addr;
    kdump_status st = readRange(as, addr, buf, len, zeroExcluded, at);
    if (st != KDUMP_OK) throw error(st, as, at);
  }

 public:
  uint8_t readStatus(bool virt, uint64_t addr, uint8_t* buf, size_t len) override {
    kdump_addrspace_t as = virt ? KDUMP_KVADDR : KDUMP_KPHYSADDR;
    uint64_t at = addr;
    kdump_status st;
    try {
      st = readRange(as, addr, buf, len, false, at);
    } catch (const DumpError&) {
      return 3;
    }
    if (st == KDUMP_OK) return 0;
    if (st == KDUMP_ERR_ADDRXLAT) return 2;
    if (st != KDUMP_ERR_NODATA) return 3;
    DumpError e = error(st, as, at);
    return e.code == ErrCode::ExcludedPage ? 1 : e.code == ErrCode::NotMapped ? 2 : 3;
  }

 private:
  kdump_ctx_t* ctx_;
  std::shared_ptr<SharedFd> fd_;
  PageStore& store_;
};

}  // namespace

std::unique_ptr<Backend> openKdumpfileBackend(const std::string& path, PageStore& store) {
  requireKdumpfile();  // libkdumpfile is optional: loaded at run time
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throwIO("cannot open", errno);
  auto shared = std::make_shared<SharedFd>(fd);
  kdump_ctx_t* ctx = kdump_new();
  if (!ctx) throw std::bad_alloc();
  auto backend = std::make_unique<KdumpfileBackend>(ctx, shared, store);  // frees ctx on any throw below
  // Set before opening, so libkdumpfile reads per-CPU notes and sets up Linux translation. QEMU's
  // dumps leave the header utsname empty: the architecture must come from our own parse.
  auto setString = [&](const char* key, const std::string& value) {
    if (kdump_set_string_attr(ctx, key, value.c_str()) != KDUMP_OK)
      throw DumpError(ErrCode::Unsupported, std::string("libkdumpfile: cannot set ") + key + ": " + kdump_get_err(ctx));
  };
  setString(KDUMP_ATTR_OSTYPE, "linux");
  if (!store.info().arch.empty()) setString(KDUMP_ATTR_ARCH_NAME, store.info().arch);
  kdump_status st = kdump_open_fd(ctx, fd);
  if (st != KDUMP_OK) {
    const char* e = kdump_get_err(ctx);
    throw DumpError(st == KDUMP_ERR_NOTIMPL ? ErrCode::Unsupported : st == KDUMP_ERR_EOF ? ErrCode::Truncated : ErrCode::Corrupt,
                    std::string("libkdumpfile cannot open it: ") + (e ? e : "unknown error"));
  }
  return backend;
}

}  // namespace vaat
