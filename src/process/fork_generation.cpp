#include "process/fork_generation.hpp"

#include <pthread.h>
#include <sys/random.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <random>

namespace cachekit {
inline namespace v0 {
namespace detail {

std::atomic<std::uint64_t> fork_generation_counter{0};

namespace {

extern "C" void bump_fork_generation() {
  fork_generation_counter.fetch_add(1, std::memory_order_relaxed);
}

bool register_handler() noexcept {
  // Failing to register (ENOMEM) would let children reuse nonces: refusing to run is safer.
  if (pthread_atfork(nullptr, nullptr, &bump_fork_generation) != 0) std::abort();
  return true;
}

}  // namespace

std::uint64_t watch_forks() noexcept {
  static const bool registered = register_handler();
  (void)registered;
  return fork_generation();
}

void fill_fresh_random(std::span<unsigned char> out) noexcept {
  std::size_t got = 0;
  while (got < out.size()) {
    const ssize_t n = getrandom(out.data() + got, out.size() - got, 0);
    if (n > 0) {
      got += static_cast<std::size_t>(n);
    } else if (n < 0 && errno != EINTR) {
      break;
    }
  }
  if (got == out.size()) return;
  // getrandom is missing (a kernel before 3.17) or refused by a seccomp filter. Not OpenSSL's
  // RAND_bytes: OpenSSL 3 takes a process-wide lock there, which a thread of the parent may hold
  // at fork, and the child would wait on it forever. random_device reads the kernel's pool
  // (/dev/urandom or the CPU's RDRAND) and holds no lock across fork.
  try {
    std::random_device device;
    for (std::size_t i = got; i < out.size(); ++i) out[i] = static_cast<unsigned char>(device());
  } catch (...) {  // no entropy source at all: keep what getrandom gave, zero the rest
    std::memset(out.data() + got, 0, out.size() - got);
  }
}

std::uint64_t fresh_random_u64() noexcept {
  std::array<unsigned char, 8> bytes{};
  fill_fresh_random(bytes);
  std::uint64_t value = 0;
  for (auto b : bytes) value = (value << 8) | b;
  return value;
}

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
