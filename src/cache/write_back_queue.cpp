#include "cache/write_back_queue.hpp"

#include <utility>
#include <vector>

namespace cachekit {
inline namespace v0 {
namespace detail {

write_back_queue::write_back_queue(write_back_options options, writer write)
    : options_(options), write_(std::move(write)) {}

write_back_queue::~write_back_queue() = default;

write_back_queue::state::~state() {
  stop();
}

void write_back_queue::state::stop() {
  std::thread ending;
  {
    std::lock_guard lock(mutex);
    stopping.store(true, std::memory_order_relaxed);
    keys.clear();
    waiting.store(0, std::memory_order_relaxed);
    ending.swap(thread);
  }
  wake.notify_all();
  // Never this thread itself: the writer holds no reference to the cache, so the queue is never
  // destroyed or stopped from inside a write.
  if (ending.joinable()) ending.join();
}

void write_back_queue::stop() {
  stopped_.store(true, std::memory_order_relaxed);
  state_.get().stop();
}

void write_back_queue::record(std::string_view key, std::string_view l1_key, bool expires) {
  if (stopped_.load(std::memory_order_relaxed)) return;
  state& s = state_.get();
  std::lock_guard lock(s.mutex);
  if (s.stopping.load(std::memory_order_relaxed)) return;
  if (s.keys.size() >= options_.max_entries && !s.keys.contains(std::string(key))) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  // Kept as first recorded: the L1 key of one key does not change, and the bytes are read
  // when written.
  s.keys.try_emplace(std::string(key), waiting_key{std::string(l1_key), expires});
  s.waiting.store(s.keys.size(), std::memory_order_relaxed);
  if (!s.thread.joinable()) s.thread = std::thread([this, &s] { run(s); });
}

void write_back_queue::l2_answered() noexcept {
  state& s = state_.get();
  if (s.waiting.load(std::memory_order_relaxed) == 0) return;
  {
    std::lock_guard lock(s.mutex);
    s.woken = true;
  }
  s.wake.notify_one();
}

void write_back_queue::run(state& s) {
  std::unique_lock lock(s.mutex);
  while (!s.stopping.load(std::memory_order_relaxed)) {
    if (s.keys.empty()) {
      s.wake.wait(lock,
                  [&] { return s.stopping.load(std::memory_order_relaxed) || !s.keys.empty(); });
      continue;
    }
    // L2 failed moments ago: wait for a sign of life, or try again after the interval.
    s.wake.wait_for(lock, options_.retry_interval,
                    [&] { return s.stopping.load(std::memory_order_relaxed) || s.woken; });
    s.woken = false;
    if (s.stopping.load(std::memory_order_relaxed)) break;
    lock.unlock();
    drain(s);
    lock.lock();
  }
}

void write_back_queue::drain(state& s) {
  std::unordered_map<std::string, waiting_key> batch;
  {
    std::lock_guard lock(s.mutex);
    batch.swap(s.keys);
    s.waiting.store(0, std::memory_order_relaxed);
  }
  auto it = batch.begin();
  for (; it != batch.end() && !s.stopping.load(std::memory_order_relaxed); ++it) {
    const outcome done = write_(it->first, it->second);
    if (done == outcome::failed) break;
    if (done == outcome::written) written_.fetch_add(1, std::memory_order_relaxed);
  }
  if (it == batch.end()) return;
  // L2 failed again (or the cache is closing): the rest wait for the next try. Keys recorded
  // meanwhile stay as recorded.
  std::lock_guard lock(s.mutex);
  for (; it != batch.end(); ++it) {
    if (s.keys.size() >= options_.max_entries) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    s.keys.try_emplace(it->first, std::move(it->second));
  }
  s.waiting.store(s.keys.size(), std::memory_order_relaxed);
}

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
