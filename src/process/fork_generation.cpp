#include "process/fork_generation.hpp"

#include <openssl/err.h>
#include <openssl/rand.h>
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

std::uint64_t fresh_random_u64() noexcept {
  std::array<unsigned char, 8> bytes{};
  std::size_t got = 0;
  while (got < bytes.size()) {
    const ssize_t n = getrandom(bytes.data() + got, bytes.size() - got, 0);
    if (n > 0) {
      got += static_cast<std::size_t>(n);
    } else if (n < 0 && errno != EINTR) {
      break;
    }
  }
  if (got < bytes.size() && RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    ERR_clear_error();
    std::random_device device;
    for (auto& b : bytes) b = static_cast<unsigned char>(device());
  }
  std::uint64_t value = 0;
  for (auto b : bytes) value = (value << 8) | b;
  return value;
}

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
