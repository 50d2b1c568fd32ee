/// @file
/// `async_options`: how a cache serves asynchronous calls (`memoized::async`,
/// `memoized::async_then`, `cache::get_async`, `cache::set_async`; docs/async.md).
///
/// Asynchronous L2 reads and writes wait in one queue per cache; a few dispatcher threads each
/// take up to `batch` of them and issue one `backend::get_many_with_ttl` (or `set_many`) through
/// the cache's reliability layers, so an L2 wait holds no thread of its own: 10,000 reads in
/// flight cost the dispatcher threads. A miss runs the (blocking) function on a bounded pool of
/// `function_threads`: a miss holds a pool thread while the function runs.
///
/// Thread safety: a plain value type.
#pragma once

#include <cstddef>

namespace cachekit {
inline namespace v0 {

struct async_options {
  /// Dispatcher threads issuing batched L2 reads and writes; started one by one as work waits,
  /// none before the first asynchronous call. Positive.
  std::size_t threads = 2;
  /// Most reads (and, separately, writes) one dispatcher thread sends in one batch. Positive.
  std::size_t batch = 256;
  /// Most L2 reads and writes waiting in the queue, and most misses waiting for a pool thread.
  /// Beyond it a call still completes: a memoized call runs its function without L2 (as when
  /// L2 fails), `get_async` returns errc::backpressure, `set_async` writes L2 on the caller's
  /// thread. Positive.
  std::size_t max_pending = 100'000;
  /// Threads running the functions of asynchronous memoized misses. Positive.
  std::size_t function_threads = 8;
};

}  // namespace v0
}  // namespace cachekit
