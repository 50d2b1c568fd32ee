#include "cache/refresh_executor.hpp"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace cachekit {
inline namespace v0 {
namespace detail {

struct refresh_executor::pool {
  std::mutex mutex;
  std::condition_variable work;  // a job waits, or stopping
  std::condition_variable idle;  // a job ended
  std::deque<std::function<void()>> queue;
  std::vector<std::thread> threads;
  std::size_t waiting_threads = 0;  // threads blocked on `work`
  std::size_t running = 0;          // jobs taken off the queue and not yet destroyed
  bool stopping = false;
};

refresh_executor::refresh_executor(std::size_t max_pending, std::size_t workers)
    : max_pending_(max_pending), workers_(workers) {}

refresh_executor::process_pool::process_pool() : shared(std::make_shared<pool>()) {}

std::shared_ptr<refresh_executor::pool> refresh_executor::current_shared() {
  return pools_.get().shared;
}

refresh_executor::~refresh_executor() {
  stop();
}

void refresh_executor::stop() {
  // get() in a forked child installs the child's (empty) pool, so the parent's, whose threads
  // do not exist here, is abandoned rather than destroyed.
  std::shared_ptr<pool> p = pools_.get().shared;
  std::deque<std::function<void()>> dropped;
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(p->mutex);
    p->stopping = true;
    dropped.swap(p->queue);
    threads.swap(p->threads);
  }
  p->work.notify_all();
  p->idle.notify_all();
  dropped.clear();  // their destructors end their claims; outside the lock
  for (std::thread& t : threads) {
    if (t.get_id() == std::this_thread::get_id()) {
      t.detach();  // the last reference was dropped by one of our own jobs: see the header
    } else {
      t.join();
    }
  }
}

void refresh_executor::work(const std::shared_ptr<pool>& p) {
  std::unique_lock lock(p->mutex);
  for (;;) {
    ++p->waiting_threads;
    p->work.wait(lock, [&] { return p->stopping || !p->queue.empty(); });
    --p->waiting_threads;
    if (p->stopping) return;
    std::function<void()> job = std::move(p->queue.front());
    p->queue.pop_front();
    ++p->running;
    lock.unlock();
    try {
      job();
    } catch (...) {  // jobs report their own failures; nothing may escape a thread
    }
    job = nullptr;  // may destroy this executor's owner (and run ~refresh_executor) here
    lock.lock();
    --p->running;
    p->idle.notify_all();
  }
}

bool refresh_executor::submit(std::function<void()> job) {
  std::shared_ptr<pool> p = current_shared();
  std::unique_lock lock(p->mutex);
  if (p->stopping || p->queue.size() >= max_pending_) return false;  // `job` destroyed by caller
  const bool need_thread = p->waiting_threads == 0 && p->threads.size() < workers_;
  if (need_thread) {
    try {
      p->threads.emplace_back([p] { work(p); });
    } catch (const std::system_error&) {
      if (p->threads.empty()) return false;  // no thread will ever run it
    }
  }
  p->queue.push_back(std::move(job));
  lock.unlock();
  p->work.notify_one();
  return true;
}

bool refresh_executor::wait_idle(std::chrono::milliseconds timeout) {
  std::shared_ptr<pool> p = current_shared();
  std::unique_lock lock(p->mutex);
  return p->idle.wait_for(lock, timeout, [&] { return p->queue.empty() && p->running == 0; });
}

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
