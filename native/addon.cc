// N-API surface: DumpFile, detectFormat, versions (the contract is src/dump/native.ts).
// Every DumpError becomes a JS Error with .code (and .address / .errno where they apply).
#include <napi.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstdint>
#include <cstring>
#include <vector>

#include "codecs.h"
#include "dwarf.h"
#include "errors.h"
#include "huge_map.h"
#include "kdumpfile_loader.h"
#include "reader.h"

namespace vaat {
namespace {

constexpr size_t kMaxRead = 1ULL << 30;  // one read or batch returns at most 1 GiB

Napi::Error toJs(Napi::Env env, const DumpError& e) {
  Napi::Error err = Napi::Error::New(env, e.what());
  err.Set("code", Napi::String::New(env, errCodeName(e.code)));
  if (e.hasAddress) err.Set("address", Napi::BigInt::New(env, e.address));
  // the number; src/dump/errors.ts names it (strerrorname_np is glibc 2.32+, the prebuilt floor is 2.31)
  if (e.sysErrno) err.Set("errno", Napi::Number::New(env, e.sysErrno));
  return err;
}

// Runs f, turning C++ failures into JS exceptions.
template <typename F>
auto guarded(Napi::Env env, F f) -> decltype(f()) {
  try {
    return f();
  } catch (const DumpError& e) {
    throw toJs(env, e);
  } catch (const std::bad_alloc&) {
    throw toJs(env, DumpError(ErrCode::IO, "out of memory"));
  }
}

uint64_t addressArg(const Napi::CallbackInfo& info, size_t i) {
  Napi::Value v = info[i];
  if (v.IsBigInt()) {
    bool lossless = false;
    uint64_t a = v.As<Napi::BigInt>().Uint64Value(&lossless);
    if (!lossless) throw Napi::TypeError::New(info.Env(), "address must be a 64-bit unsigned bigint");
    return a;
  }
  if (v.IsNumber()) {
    double d = v.As<Napi::Number>().DoubleValue();
    if (d < 0 || d > 9007199254740991.0 || d != static_cast<double>(static_cast<uint64_t>(d)))
      throw Napi::TypeError::New(info.Env(), "address must be a non-negative integer");
    return static_cast<uint64_t>(d);
  }
  throw Napi::TypeError::New(info.Env(), "address must be a bigint");
}

// Argument i as a typed array of kind K: its elements and their count (n); a TypeError saying
// `usage` when it is anything else.
template <typename T, napi_typedarray_type K>
T* typedArg(const Napi::CallbackInfo& info, size_t i, size_t& n, const char* usage) {
  if (info.Length() <= i || !info[i].IsTypedArray()) throw Napi::TypeError::New(info.Env(), usage);
  Napi::TypedArray t = info[i].As<Napi::TypedArray>();
  if (t.TypedArrayType() != K) throw Napi::TypeError::New(info.Env(), usage);
  n = t.ElementLength();
  return reinterpret_cast<T*>(static_cast<uint8_t*>(t.ArrayBuffer().Data()) + t.ByteOffset());
}

size_t lengthArg(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsNumber()) throw Napi::TypeError::New(info.Env(), "length must be a number");
  double d = info[i].As<Napi::Number>().DoubleValue();
  if (!(d >= 0) || d > double(kMaxRead) || d != static_cast<double>(static_cast<size_t>(d)))
    throw Napi::RangeError::New(info.Env(), "length must be an integer from 0 to 1 GiB");
  return static_cast<size_t>(d);
}

class DumpFile : public Napi::ObjectWrap<DumpFile> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "DumpFile",
                       {InstanceMethod<&DumpFile::Attrs>("attrs"), InstanceMethod<&DumpFile::CpuRegsJs>("cpuRegs"),
                        InstanceMethod<&DumpFile::ReadPhys>("readPhys"), InstanceMethod<&DumpFile::ReadVirt>("readVirt"),
                        InstanceMethod<&DumpFile::ReadPhysInto>("readPhysInto"), InstanceMethod<&DumpFile::ReadVirtInto>("readVirtInto"),
                        InstanceMethod<&DumpFile::VirtToPhys>("virtToPhys"), InstanceMethod<&DumpFile::ReadBatch>("readBatch"),
                        InstanceMethod<&DumpFile::Clone>("clone"), InstanceMethod<&DumpFile::Close>("close"),
                        InstanceMethod<&DumpFile::CacheStatsJs>("cacheStats")});
  }

  DumpFile(const Napi::CallbackInfo& info) : Napi::ObjectWrap<DumpFile>(info) {
    Napi::Env env = info.Env();
    if (info.Length() >= 1 && info[0].IsExternal()) {  // from clone(): adopt the prepared reader
      reader_.reset(info[0].As<Napi::External<Reader>>().Data());
      return;
    }
    if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(env, "DumpFile(path: string, options?)");
    std::string path = info[0].As<Napi::String>();
    std::string backend = "auto";
    size_t cacheBytes = kDefaultPageCacheBytes;
    if (info.Length() >= 2 && info[1].IsObject()) {
      Napi::Object o = info[1].As<Napi::Object>();
      Napi::Value b = o.Get("backend");
      if (b.IsString()) backend = b.As<Napi::String>();
      else if (!b.IsUndefined() && !b.IsNull()) throw Napi::TypeError::New(env, "options.backend must be a string");
      Napi::Value c = o.Get("pageCacheBytes");
      if (c.IsNumber()) {
        double v = c.As<Napi::Number>().DoubleValue();
        // 1 TiB: far above any sensible cache, and keeps the size_t conversion exact
        if (!(v >= 0 && v <= double(1ULL << 40))) throw Napi::RangeError::New(env, "options.pageCacheBytes must be 0..2^40");
        cacheBytes = size_t(v);
      } else if (!c.IsUndefined() && !c.IsNull()) {
        throw Napi::TypeError::New(env, "options.pageCacheBytes must be a number");
      }
    }
    reader_ = guarded(env, [&] { return Reader::open(path, backend, cacheBytes); });
  }

 private:
  Reader& reader(Napi::Env env) {
    if (!reader_) throw toJs(env, DumpError(ErrCode::IO, "dump file is closed"));
    return *reader_;
  }

  Napi::Value CacheStatsJs(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Backend::CacheStats st = reader(env).backend->cacheStats();
    Napi::Object o = Napi::Object::New(env);
    o.Set("pages", double(st.pages));
    o.Set("capacityPages", double(st.capacity));
    o.Set("pageBytes", double(st.pageBytes));
    return o;
  }

  Napi::Value Attrs(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Reader& r = reader(env);
    const DumpInfo& I = r.info;
    auto numOrNull = [&](int64_t v) -> Napi::Value { return v < 0 ? env.Null() : Napi::Number::New(env, double(v)); };
    Napi::Object o = Napi::Object::New(env);
    o.Set("backend", r.backend->name());
    o.Set("format", I.format);
    o.Set("container", I.container.empty() ? env.Null() : Napi::String::New(env, I.container));
    o.Set("codec", I.codec);
    o.Set("dumpLevel", numOrNull(I.dumpLevel));
    o.Set("pageSize", I.pageSize);
    o.Set("blockSize", I.blockSize);
    o.Set("arch", I.arch);
    o.Set("byteOrder", "little");
    o.Set("nrCpus", I.nrCpus);
    o.Set("maxPfn", double(I.maxPfn));
    o.Set("pagesPresent", numOrNull(I.pagesPresent));
    o.Set("pagesExcluded", numOrNull(I.pagesExcluded));
    o.Set("memorySize", double(I.memorySize));
    o.Set("fileSize", double(I.fileSize));
    o.Set("vmcoreinfo", I.vmcoreinfo);
    if (I.hasUts) {
      Napi::Object u = Napi::Object::New(env);
      const char* names[5] = {"sysname", "nodename", "release", "version", "machine"};
      for (int i = 0; i < 5; i++) u.Set(names[i], I.uts[i]);
      o.Set("uts", u);
    } else {
      o.Set("uts", env.Null());
    }
    o.Set("truncated", I.truncated);
    Napi::Array w = Napi::Array::New(env, I.warnings.size());
    for (size_t i = 0; i < I.warnings.size(); i++) w.Set(uint32_t(i), I.warnings[i]);
    o.Set("warnings", w);
    return o;
  }

  Napi::Value CpuRegsJs(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const auto& cpus = reader(env).info.cpus;
    Napi::Array out = Napi::Array::New(env, cpus.size());
    for (size_t i = 0; i < cpus.size(); i++) {
      Napi::Object c = Napi::Object::New(env);
      c.Set("cpu", cpus[i].cpu);
      c.Set("pid", cpus[i].pid);
      Napi::Object regs = Napi::Object::New(env);
      for (const auto& [name, value] : cpus[i].regs) regs.Set(name, Napi::BigInt::New(env, value));
      c.Set("regs", regs);
      out.Set(uint32_t(i), c);
    }
    return out;
  }

  Napi::Value Read(const Napi::CallbackInfo& info, bool virt) {
    Napi::Env env = info.Env();
    Reader& r = reader(env);
    uint64_t addr = addressArg(info, 0);
    size_t len = lengthArg(info, 1);
    bool zero = info.Length() >= 3 && info[2].ToBoolean();
    Napi::Buffer<uint8_t> buf = Napi::Buffer<uint8_t>::New(env, len);
    guarded(env, [&] {
      if (virt) r.backend->readVirt(addr, buf.Data(), len, zero);
      else r.backend->readPhys(addr, buf.Data(), len, zero);
    });
    return buf;
  }
  Napi::Value ReadPhys(const Napi::CallbackInfo& info) { return Read(info, false); }
  Napi::Value ReadVirt(const Napi::CallbackInfo& info) { return Read(info, true); }

  // Fill a caller's Uint8Array: small reads (a task_struct, a list node) then cost no native
  // allocation, whose finalizer bookkeeping costs more than the copy itself.
  Napi::Value ReadInto(const Napi::CallbackInfo& info, bool virt) {
    Napi::Env env = info.Env();
    Reader& r = reader(env);
    uint64_t addr = addressArg(info, 0);
    size_t len = 0;
    uint8_t* target = typedArg<uint8_t, napi_uint8_array>(info, 1, len, "target must be a Uint8Array");
    bool zero = info.Length() >= 3 && info[2].ToBoolean();
    guarded(env, [&] {
      if (virt) r.backend->readVirt(addr, target, len, zero);
      else r.backend->readPhys(addr, target, len, zero);
    });
    return env.Undefined();
  }
  Napi::Value ReadPhysInto(const Napi::CallbackInfo& info) { return ReadInto(info, false); }
  Napi::Value ReadVirtInto(const Napi::CallbackInfo& info) { return ReadInto(info, true); }

  Napi::Value VirtToPhys(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Reader& r = reader(env);
    uint64_t addr = addressArg(info, 0);
    return Napi::BigInt::New(env, guarded(env, [&] { return r.backend->virtToPhys(addr); }));
  }

  // Many reads, one call: per-entry faults become status codes instead of exceptions.
  Napi::Value ReadBatch(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Reader& r = reader(env);
    if (info.Length() < 3 || !info[0].IsString() || !info[1].IsTypedArray() || !info[2].IsTypedArray())
      throw Napi::TypeError::New(env, "readBatch(space: 'virt' | 'phys', addrs: BigUint64Array, sizes: Uint32Array)");
    std::string space = info[0].As<Napi::String>();
    if (space != "virt" && space != "phys") throw Napi::TypeError::New(env, "space must be 'virt' or 'phys'");
    auto addrsArr = info[1].As<Napi::TypedArray>();
    auto sizesArr = info[2].As<Napi::TypedArray>();
    if (addrsArr.TypedArrayType() != napi_biguint64_array || sizesArr.TypedArrayType() != napi_uint32_array)
      throw Napi::TypeError::New(env, "addrs must be a BigUint64Array and sizes a Uint32Array");
    auto addrs = addrsArr.As<Napi::TypedArrayOf<uint64_t>>();
    auto sizes = sizesArr.As<Napi::TypedArrayOf<uint32_t>>();
    size_t n = addrs.ElementLength();
    if (sizes.ElementLength() != n) throw Napi::RangeError::New(env, "addrs and sizes differ in length");
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++) total += sizes[i];
    if (total > kMaxRead) throw Napi::RangeError::New(env, "batch reads more than 1 GiB");
    Napi::Buffer<uint8_t> data = Napi::Buffer<uint8_t>::New(env, size_t(total));
    Napi::Uint8Array status = Napi::Uint8Array::New(env, n);
    uint8_t* out = data.Data();
    bool virt = space == "virt";
    guarded(env, [&] {
      for (size_t i = 0; i < n; i++) {
        uint32_t len = sizes[i];
        uint8_t st = r.backend->readStatus(virt, addrs[i], out, len);
        if (st != 0) std::memset(out, 0, len);
        status[i] = st;
        out += len;
      }
    });
    Napi::Object result = Napi::Object::New(env);
    result.Set("data", data);
    result.Set("status", status);
    return result;
  }

  Napi::Value Clone(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Reader& r = reader(env);
    std::unique_ptr<Reader> copy = guarded(env, [&] { return r.clone(); });
    Napi::FunctionReference* ctor = env.GetInstanceData<Napi::FunctionReference>();
    Napi::Object obj = ctor->New({Napi::External<Reader>::New(env, copy.get())});
    copy.release();  // now owned by the new object
    return obj;
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    reader_.reset();
    return info.Env().Undefined();
  }

  std::unique_ptr<Reader> reader_;
};

Napi::Value DetectFormat(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(env, "detectFormat(path: string)");
  std::string path = info[0].As<Napi::String>();
  std::string fmt = guarded(env, [&] { return detectFormat(path); });
  return fmt.empty() ? env.Null() : Napi::String::New(env, fmt);
}

// A whole (cache) file in memory asked for transparent huge pages: reading the 11 MiB DWARF type
// index into an ordinary Buffer faulted ~2,800 times (13-19 us each under a hypervisor), more
// than reading it cost. The Buffer owns the mapping; `limit` bounds what is read.
// A Buffer of the first `len` bytes of a huge-page mapping, which it unmaps when collected.
Napi::Value hugeBufferOf(Napi::Env env, const HugeMap& m, size_t len) {
  return Napi::Buffer<uint8_t>::New(env, static_cast<uint8_t*>(m.data), len,
                                    [](Napi::Env, uint8_t*, HugeMap* hm) { unmapHuge(*hm); delete hm; }, new HugeMap(m));
}

Napi::Value ReadFileHuge(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString()) throw Napi::TypeError::New(env, "readFileHuge(path: string, limit: number)");
  std::string path = info[0].As<Napi::String>();
  size_t limit = lengthArg(info, 1);
  return guarded(env, [&]() -> Napi::Value {
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throwIO("cannot open " + path, errno);
    struct Closer { int fd; ~Closer() { close(fd); } } closer{fd};
    struct stat st {};
    if (fstat(fd, &st) != 0) throwIO("cannot stat " + path, errno);
    if (!S_ISREG(st.st_mode)) throw DumpError(ErrCode::IO, path + " is not a regular file");
    if (uint64_t(st.st_size) > limit) throw DumpError(ErrCode::IO, path + " is larger than " + std::to_string(limit) + " bytes");
    size_t size = size_t(st.st_size);
    if (size == 0) return Napi::Buffer<uint8_t>::New(env, 0);
    HugeMap m = mapHuge(size, false);
    if (!m.data) throw std::bad_alloc();
    uint8_t* p = static_cast<uint8_t*>(m.data);
    size_t done = 0;
    while (done < size) {  // the file may shrink under us: keep what was read
      ssize_t n = pread(fd, p + done, size - done, off_t(done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) { int e = errno; unmapHuge(m); throwIO("cannot read " + path, e); }
      if (n == 0) break;
      done += size_t(n);
    }
    return hugeBufferOf(env, m, done);
  });
}

// Zeroed memory of `bytes` backed by transparent huge pages, as a Buffer: for a large read from
// a dump (the ORC tables: 3.7 MB), whose 4 KiB pages would each cost a first-touch fault.
Napi::Value AllocHuge(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1) throw Napi::TypeError::New(env, "allocHuge(bytes: number)");
  size_t bytes = lengthArg(info, 0);  // at most kMaxRead, as any one read
  return guarded(env, [&]() -> Napi::Value {
    if (bytes == 0) return Napi::Buffer<uint8_t>::New(env, 0);
    HugeMap m = mapHuge(bytes, false);
    if (!m.data) throw std::bad_alloc();
    return hugeBufferOf(env, m, bytes);
  });
}

// zlib's CRC-32 of a buffer: the cache files' checksum (~2 ms for the 11 MB type index; SHA-1 in
// Node took ~7 ms and loading node:crypto at every start).
Napi::Value Crc32(const Napi::CallbackInfo& info) {
  size_t n = 0;
  const uint8_t* data = typedArg<const uint8_t, napi_uint8_array>(info, 0, n, "crc32(data: Uint8Array)");
  return Napi::Number::New(info.Env(), double(crc32Of(data, n)));
}

// Checks and one in-place shift over the symbol columns a cache file holds (~140,000 entries for a
// kernel), run at every start: as JavaScript loops each was interpreted, then compiled on the
// side by V8's optimizing compiler for a single use (~14 ms and ~760 page faults of every
// command). Each reads only within the arrays it is given.

// The first i with a[i-1] > a[i], or -1: whether symbol addresses arrive sorted.
Napi::Value FirstDescent(const Napi::CallbackInfo& info) {
  const char* usage = "firstDescent(a: BigUint64Array)";
  size_t n = 0;
  const uint64_t* a = typedArg<const uint64_t, napi_biguint64_array>(info, 0, n, usage);
  for (size_t i = 1; i < n; i++)
    if (a[i - 1] > a[i]) return Napi::Number::New(info.Env(), double(i));
  return Napi::Number::New(info.Env(), -1);
}

// Whether a holds each index below its length exactly once.
Napi::Value IsPermutation(const Napi::CallbackInfo& info) {
  const char* usage = "isPermutation(a: Uint32Array)";
  size_t n = 0;
  const uint32_t* a = typedArg<const uint32_t, napi_uint32_array>(info, 0, n, usage);
  std::vector<bool> seen(n, false);
  for (size_t k = 0; k < n; k++) {
    uint32_t i = a[k];
    if (i >= n || seen[i]) return Napi::Boolean::New(info.Env(), false);
    seen[i] = true;
  }
  return Napi::Boolean::New(info.Env(), true);
}

// Whether `starts` (n + 1 entries) splits `text` into n NUL-separated names: starts[0] is 0, they
// ascend, each name but the last ends at a NUL, and starts[n] is one past the text's end.
Napi::Value StartsFit(const Napi::CallbackInfo& info) {
  const char* usage = "startsFit(text: Uint8Array, starts: Uint32Array)";
  size_t len = 0, m = 0;
  const uint8_t* text = typedArg<const uint8_t, napi_uint8_array>(info, 0, len, usage);
  const uint32_t* starts = typedArg<const uint32_t, napi_uint32_array>(info, 1, m, usage);
  auto answer = [&](bool ok) { return Napi::Boolean::New(info.Env(), ok); };
  if (m == 0 || starts[0] != 0) return answer(false);
  size_t n = m - 1;
  if (n == 0) return answer(len == 0);
  if (uint64_t(starts[n]) != uint64_t(len) + 1) return answer(false);
  for (size_t i = 1; i < n; i++) {
    uint32_t at = starts[i];
    if (at <= starts[i - 1] || at > len || text[at - 1] != 0) return answer(false);
  }
  return answer(true);
}

// Adds delta (mod 2^64) to every element >= base, in place: a cached symbol table moved to another
// KASLR offset (its image symbols move; per-CPU offsets and absolute symbols below base do not).
Napi::Value ShiftAbove(const Napi::CallbackInfo& info) {
  const char* usage = "shiftAbove(a: BigUint64Array, delta: bigint, base: bigint)";
  size_t n = 0;
  uint64_t* a = typedArg<uint64_t, napi_biguint64_array>(info, 0, n, usage);
  if (info.Length() < 3) throw Napi::TypeError::New(info.Env(), usage);
  // both below 2^64 (the caller reduces delta mod 2^64), as addresses are
  uint64_t delta = addressArg(info, 1);
  uint64_t base = addressArg(info, 2);
  for (size_t i = 0; i < n; i++)
    if (a[i] >= base) a[i] += delta;
  return info.Env().Undefined();
}

// Ctrl-C while JavaScript computes synchronously: Node runs a SIGINT listener only when its event
// loop turns, so a long command would finish (and print) before noticing. While armed, SIGINT
// ends the process here, as the CLI's own handler does: one line and status 130. Disarming
// hands SIGINT back to whoever had it (Node's loop).
struct sigaction savedSigint;
bool sigintArmed = false;

void exitOnSigint(int) {
  static const char msg[] = "\nvaat: interrupted\n";
  ssize_t n = write(2, msg, sizeof msg - 1);
  (void)n;
  _exit(130);
}

Napi::Value InterruptExits(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bool on = info.Length() > 0 && info[0].ToBoolean().Value();
  if (on && !sigintArmed) {
    struct sigaction sa {};
    sa.sa_handler = exitOnSigint;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGINT, &sa, &savedSigint) == 0) sigintArmed = true;
  } else if (!on && sigintArmed) {
    sigaction(SIGINT, &savedSigint, nullptr);
    sigintArmed = false;
  }
  return env.Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = DumpFile::Define(env);
  env.SetInstanceData(new Napi::FunctionReference(Napi::Persistent(ctor)));
  exports.Set("DumpFile", ctor);
  exports.Set("detectFormat", Napi::Function::New(env, DetectFormat, "detectFormat"));
  exports.Set("interruptExits", Napi::Function::New(env, InterruptExits, "interruptExits"));
  exports.Set("readFileHuge", Napi::Function::New(env, ReadFileHuge, "readFileHuge"));
  exports.Set("allocHuge", Napi::Function::New(env, AllocHuge, "allocHuge"));
  exports.Set("crc32", Napi::Function::New(env, Crc32, "crc32"));
  exports.Set("firstDescent", Napi::Function::New(env, FirstDescent, "firstDescent"));
  exports.Set("isPermutation", Napi::Function::New(env, IsPermutation, "isPermutation"));
  exports.Set("startsFit", Napi::Function::New(env, StartsFit, "startsFit"));
  exports.Set("shiftAbove", Napi::Function::New(env, ShiftAbove, "shiftAbove"));
  Napi::Object versions = Napi::Object::New(env);
  // A getter: asking opens libkdumpfile (optional, native/kdumpfile_loader.cc); null when it is not installed.
  versions.DefineProperty(Napi::PropertyDescriptor::Accessor(
      env, versions, "libkdumpfile",
      [](const Napi::CallbackInfo& info) -> Napi::Value {
        const char* v = kdumpfileVersion();
        return v ? Napi::Value(Napi::String::New(info.Env(), v)) : info.Env().Null();
      },
      napi_enumerable));
  versions.Set("lzo", lzoVersionString());
  versions.Set("zstd", zstdVersionString());
  versions.Set("zlib", zlibVersionString());
  versions.Set("snappy", snappyVersionString());
  exports.Set("versions", versions);
  registerDwarf(env, exports);  // elfIdentity, dwarfIndex (native/dwarf.cc)
  return exports;
}

}  // namespace
}  // namespace vaat

static Napi::Object InitVaat(Napi::Env env, Napi::Object exports) { return vaat::Init(env, exports); }
NODE_API_MODULE(vaat_native, InitVaat)
