#include "mapped_file.h"

#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "errors.h"

namespace vaat {

namespace {

// The copy this thread is doing, for the SIGBUS handler: where to jump back to, and the mapped
// range a fault must lie in to be ours. Set only around the memcpy in MappedFile::copy.
struct Guard {
  sigjmp_buf* env;
  uintptr_t lo, hi;
};
thread_local Guard* volatile t_guard = nullptr;

struct sigaction g_previous;
pthread_once_t g_installed = PTHREAD_ONCE_INIT;

void onSigbus(int sig, siginfo_t* info, void* ctx) {
  Guard* g = t_guard;
  const auto at = reinterpret_cast<uintptr_t>(info->si_addr);
  if (g && at >= g->lo && at < g->hi) siglongjmp(*g->env, 1);
  // Not a read of ours: whoever had SIGBUS before us decides.
  if (g_previous.sa_flags & SA_SIGINFO) {
    if (g_previous.sa_sigaction) return g_previous.sa_sigaction(sig, info, ctx);
  } else if (g_previous.sa_handler != SIG_DFL && g_previous.sa_handler != SIG_IGN) {
    return g_previous.sa_handler(sig);
  }
  // The default action: restored, it takes effect when the faulting instruction runs again (or
  // at once for a signal sent with kill()).
  sigaction(SIGBUS, &g_previous, nullptr);
  if (info->si_code <= 0) raise(sig);
}

void installHandler() {
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = onSigbus;
  sigemptyset(&sa.sa_mask);
  // NODEFER: siglongjmp leaves the handler without restoring the signal mask (sigsetjmp(env, 0)
  // saves none, which keeps each copy free of a system call), so SIGBUS must not be blocked in it.
  sa.sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK;
  sigaction(SIGBUS, &sa, &g_previous);
}

}  // namespace

std::shared_ptr<const MappedFile> MappedFile::map(int fd, uint64_t size) {
  if (size == 0 || size > (uint64_t{1} << 46)) return nullptr;
  void* p = mmap(nullptr, static_cast<size_t>(size), PROT_READ, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) return nullptr;
  // pthread_once, not std::call_once: the latter crashes in an addon that links libstdc++
  // statically into a process that has its own (its TLS callable is the other copy's)
  pthread_once(&g_installed, installHandler);
  return std::make_shared<const MappedFile>(static_cast<const uint8_t*>(p), size);
}

void MappedFile::release() const { madvise(const_cast<uint8_t*>(data_), static_cast<size_t>(size_), MADV_DONTNEED); }

MappedFile::~MappedFile() { munmap(const_cast<uint8_t*>(data_), static_cast<size_t>(size_)); }

void MappedFile::copy(uint64_t off, void* dst, size_t len) const {
  sigjmp_buf env;
  Guard g{&env, reinterpret_cast<uintptr_t>(data_ + off), reinterpret_cast<uintptr_t>(data_ + off + len)};
  if (sigsetjmp(env, 0) != 0) {
    t_guard = nullptr;
    throwIO("cannot read the dump at offset " + hex(off) + " (the file shrank, or its storage failed, while open)", EIO);
  }
  t_guard = &g;
  std::atomic_signal_fence(std::memory_order_seq_cst);  // the guard is in place before the copy
  std::memcpy(dst, data_ + off, len);
  std::atomic_signal_fence(std::memory_order_seq_cst);
  t_guard = nullptr;
}

}  // namespace vaat
