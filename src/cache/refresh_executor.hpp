// The background threads of stale-while-revalidate (cache_options::swr): a bounded queue of
// refresh jobs and up to `workers` threads that run them, each started when a job waits and no
// thread is idle. A job that cannot be queued (queue full) is destroyed unrun, so whatever it
// holds is released by its destructor: jobs end their claims (l1_cache::end_refresh) there.
//
// Per process: a forked child starts with an empty queue and no threads (the parent's did not
// survive the fork); its first job starts a thread of its own. The parent's queue and threads
// are abandoned in the child, never touched.
//
// Destruction drops the jobs still waiting and joins the threads. A job may hold the last
// reference to what owns this executor, so the destructor may run on one of its own threads:
// that thread is detached instead, and leaves once it is back in its loop (the queue it reads
// is shared with it, so nothing it touches is freed under it).
//
// Thread-safe.
#pragma once

#include "process/per_process.hpp"

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>

namespace cachekit {
inline namespace v0 {
namespace detail {

class refresh_executor {
 public:
  // `max_pending` and `workers` must be positive.
  refresh_executor(std::size_t max_pending, std::size_t workers);
  ~refresh_executor();
  refresh_executor(const refresh_executor&) = delete;
  refresh_executor& operator=(const refresh_executor&) = delete;

  // Queues `job` to run on a background thread. Returns false, destroying `job` unrun, when
  // `max_pending` jobs already wait, the executor is shutting down, or no thread could be
  // started. A job must not throw (one that does is ended quietly).
  bool submit(std::function<void()> job);

  // Drops the jobs still waiting, refuses new ones from now on, and waits for the running ones
  // (joins the threads; a thread that calls this from its own job is detached instead, see
  // above). Idempotent; the destructor calls it. `cache::~cache` calls it so that no refresh
  // outlives the cache a program destroys before it exits.
  void stop();

  // For tests: waits until no job waits or runs, or `timeout` passes (real time; not a timing
  // assertion). Returns whether it is idle.
  bool wait_idle(std::chrono::milliseconds timeout);

 private:
  struct pool;
  struct process_pool {
    process_pool();  // makes `shared`
    std::shared_ptr<pool> shared;
  };
  std::shared_ptr<pool> current_shared();
  static void work(const std::shared_ptr<pool>& p);

  const std::size_t max_pending_;
  const std::size_t workers_;
  per_process<process_pool> pools_;
};

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
