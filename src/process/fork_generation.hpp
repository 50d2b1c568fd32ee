// Which process we are in, as far as per-process state is concerned: a number that fork()
// changes in the child. Everything that must not be shared by a parent and its child (nonce
// sequences, pooled sockets, locks that a vanished thread may hold) records the generation it
// was made in and replaces itself when the current one differs.
//
// A pthread_atfork child handler bumps the generation, so the check on a hot path is one
// relaxed load and a compare, not a getpid() system call. Generations only grow along a line of
// descent (a child starts from its parent's value plus one), so state inherited from any
// ancestor never matches the child's generation. Processes made by a raw clone(2) system call
// or vfork() that does not exec are not seen: glibc runs no atfork handlers for them.
//
// Thread-safe; the handler is async-signal-safe (one atomic increment).
#pragma once

#include <atomic>
#include <cstdint>
#include <span>

namespace cachekit {
inline namespace v0 {
namespace detail {

// Bumped in every child process. Read through fork_generation(); written only by the handler.
extern std::atomic<std::uint64_t> fork_generation_counter;

// The current generation: one relaxed load. Relaxed is enough: the child runs its handler
// before fork() returns, and threads it starts later see the new value through thread creation.
[[nodiscard]] inline std::uint64_t fork_generation() noexcept {
  return fork_generation_counter.load(std::memory_order_relaxed);
}

// Registers the atfork handler (once per process) and returns the current generation. Call it
// when making state that fork_generation() will later guard, so a fork is never missed.
[[nodiscard]] std::uint64_t watch_forks() noexcept;

// Fills `out` with random bytes from the operating system (getrandom; std::random_device when
// that is unavailable), never from a generator whose state a fork would copy, and never through
// a lock another thread may hold at fork (OpenSSL 3's RAND_bytes takes one: a child forked
// while a parent thread was inside it waited forever). Safe in a child forked from a threaded
// parent; thread-safe.
void fill_fresh_random(std::span<unsigned char> out) noexcept;

// A random 64-bit number from fill_fresh_random.
[[nodiscard]] std::uint64_t fresh_random_u64() noexcept;

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
