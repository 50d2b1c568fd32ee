// The L2 side of asynchronous calls: reads and writes wait in one bounded queue, and up to
// `threads` dispatcher threads each take up to `batch` of them and issue ONE
// `backend::get_many_with_ttl` (or `get_many`, without an L1 to backfill) or `set_many` through
// the cache's wrapped backend, so the circuit breaker, backpressure and timeouts apply per batch,
// then complete each request on the dispatcher thread. An L2 wait holds no thread of its own.
//
// Requests are completed by callbacks run on a dispatcher thread; they must not block for long
// (they run decodes, L1 backfills and hand misses to the function pool).
//
// Per process (as refresh_executor): a forked child starts with an empty queue and no threads;
// requests its parent had queued stay with the parent and are never completed in the child.
//
// `stop` (and the destructor) refuses new requests, drops the queued reads (their callbacks are
// destroyed unrun, outside the lock: whatever they own completes its caller from its destructor),
// has the threads flush the queued writes (in batches, through the reliability layers: bounded
// by their timeouts and the breaker) and joins them. A callback may hold the last
// reference to the owner of this dispatcher, so the destructor may run on a dispatcher thread:
// that thread is detached and leaves when it is back in its loop.
//
// Thread-safe.
#pragma once

#include <cachekit/async_options.hpp>
#include <cachekit/backend.hpp>

#include "process/per_process.hpp"

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace cachekit {
inline namespace v0 {
namespace detail {

// Throws cachekit::error (errc::invalid_configuration) for a zero field of `options`.
void check_async_options(const async_options& options);

class async_dispatcher {
 public:
  struct settings {
    std::size_t threads = 2;
    std::size_t batch = 256;
    std::size_t max_pending = 100'000;
    bool with_ttl = true;  // read entries' remaining TTL (an L1 copy will be made)
  };
  // The read's outcome and how long its batch's round trip took.
  using read_done =
      std::function<void(result<std::optional<timed_value>> got, std::chrono::nanoseconds took)>;
  using write_done =
      std::function<void(const result<void>& written, std::chrono::nanoseconds took)>;

  // `l2` is the cache's wrapped backend. `settings` fields must be positive.
  async_dispatcher(std::shared_ptr<backend> l2, settings s);
  ~async_dispatcher();
  async_dispatcher(const async_dispatcher&) = delete;
  async_dispatcher& operator=(const async_dispatcher&) = delete;

  // Queues a read of `key`. False (and `done` destroyed unrun) when `max_pending` requests
  // already wait, when stopped, or when no thread could be started.
  [[nodiscard]] bool read(std::string key, read_done done);
  // Queues a write (as `backend::set_many`'s `write_request`; `registry` empty: plain set).
  // `done` may be empty. False as `read`.
  [[nodiscard]] bool write(std::string key, byte_buffer value, ttl_seconds ttl,
                           std::string registry, write_done done);

  // Refuses new requests, drops the queued reads, flushes the queued writes, joins the threads.
  // Idempotent.
  void stop();

  // Requests waiting in this process (for tests and health reports).
  [[nodiscard]] std::size_t pending();
  // Dispatcher threads this process started (for tests).
  [[nodiscard]] std::size_t threads_started();

 private:
  struct pool;
  struct process_pool {
    process_pool();
    std::shared_ptr<pool> shared;
  };
  static void work(const std::shared_ptr<pool>& p);
  [[nodiscard]] bool start_thread_locked(const std::shared_ptr<pool>& p);

  std::shared_ptr<backend> l2_;
  settings settings_;
  per_process<process_pool> pools_;
};

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
