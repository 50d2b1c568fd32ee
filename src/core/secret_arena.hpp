// Memory for key material (`secret_bytes`) on pages kept out of core dumps and, where the
// process may, out of swap: a crash dump or a swapped-out page is a copy of the key on disk
// that outlives the process.
//
// Each page is mapped privately, advised MADV_DONTDUMP (the kernel leaves it out of core dumps;
// Linux 3.4+) and locked with mlock, best effort: mlock fails beyond RLIMIT_MEMLOCK (often
// 64 KiB or 8 MiB for unprivileged processes) and the page is then simply not locked. Blocks of
// up to `secret_slot_size` bytes (every AES key and master key up to 64 bytes) share pages in
// slots; larger blocks get pages of their own. Freed slots are reused; pages are kept for the
// life of the process (a process holds a few pages: one per 64 keys).
//
// Callers wipe a block before freeing it; the arena does not.
//
// Thread safety: thread-safe. Fork-safe: the lock is taken around fork() (pthread_atfork), so a
// child never inherits it held.
#pragma once

#include <cstddef>

namespace cachekit {
inline namespace v0 {
namespace detail {

inline constexpr std::size_t secret_slot_size = 64;

// `size` (> 0) zeroed bytes on excluded pages. Throws std::bad_alloc when no page can be mapped.
[[nodiscard]] std::byte* secret_allocate(std::size_t size);

// Returns a block from secret_allocate(size) (same size). Null is ignored.
void secret_deallocate(std::byte* block, std::size_t size) noexcept;

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
