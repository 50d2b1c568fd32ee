#include "cache/async_dispatcher.hpp"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <span>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace cachekit {
inline namespace v0 {
namespace detail {

namespace {

struct read_request {
  std::string key;
  async_dispatcher::read_done done;
};

struct write_item {
  std::string key;
  byte_buffer value;
  ttl_seconds ttl;
  std::string registry;
  async_dispatcher::write_done done;
};

}  // namespace

struct async_dispatcher::pool {
  std::mutex mutex;
  std::condition_variable work;  // a request waits, or stopping
  std::deque<read_request> reads;
  std::deque<write_item> writes;
  std::vector<std::thread> threads;
  std::size_t idle_threads = 0;
  bool stopping = false;
  // Set once by the owner before the first thread starts; read by the threads.
  std::shared_ptr<backend> l2;
  settings config;
};

async_dispatcher::process_pool::process_pool() : shared(std::make_shared<pool>()) {}

async_dispatcher::async_dispatcher(std::shared_ptr<backend> l2, settings s)
    : l2_(std::move(l2)), settings_(s) {}

async_dispatcher::~async_dispatcher() {
  stop();
}

bool async_dispatcher::start_thread_locked(const std::shared_ptr<pool>& p) {
  if (p->idle_threads > 0 || p->threads.size() >= settings_.threads) return true;
  if (!p->l2) {
    p->l2 = l2_;
    p->config = settings_;
  }
  try {
    p->threads.emplace_back([p] { work(p); });
  } catch (const std::system_error&) {
    return !p->threads.empty();  // queued work is served by the threads there are
  }
  return true;
}

bool async_dispatcher::read(std::string key, read_done done) {
  std::shared_ptr<pool> p = pools_.get().shared;
  std::unique_lock lock(p->mutex);
  if (p->stopping || p->reads.size() + p->writes.size() >= settings_.max_pending) return false;
  if (!start_thread_locked(p)) return false;
  p->reads.push_back({std::move(key), std::move(done)});
  lock.unlock();
  p->work.notify_one();
  return true;
}

bool async_dispatcher::write(std::string key, byte_buffer value, ttl_seconds ttl,
                             std::string registry, write_done done) {
  std::shared_ptr<pool> p = pools_.get().shared;
  std::unique_lock lock(p->mutex);
  if (p->stopping || p->reads.size() + p->writes.size() >= settings_.max_pending) return false;
  if (!start_thread_locked(p)) return false;
  p->writes.push_back(
      {std::move(key), std::move(value), ttl, std::move(registry), std::move(done)});
  lock.unlock();
  p->work.notify_one();
  return true;
}

void async_dispatcher::work(const std::shared_ptr<pool>& p) {
  std::vector<read_request> reads;
  std::vector<write_item> writes;
  std::vector<std::string_view> keys;
  std::vector<write_request> requests;
  std::unique_lock lock(p->mutex);
  for (;;) {
    ++p->idle_threads;
    p->work.wait(lock, [&] { return p->stopping || !p->reads.empty() || !p->writes.empty(); });
    --p->idle_threads;
    // Stopping: reads were dropped; queued writes are flushed first (their values are in L1
    // and a process that ends would otherwise lose them).
    if (p->stopping && p->writes.empty()) return;
    const std::size_t batch = p->config.batch;
    while (!p->reads.empty() && reads.size() < batch) {
      reads.push_back(std::move(p->reads.front()));
      p->reads.pop_front();
    }
    while (!p->writes.empty() && writes.size() < batch) {
      writes.push_back(std::move(p->writes.front()));
      p->writes.pop_front();
    }
    // More waits: another idle thread takes the next batch while this one waits on L2.
    if (!p->reads.empty() || !p->writes.empty()) p->work.notify_one();
    lock.unlock();
    // Writes first: their callbacks hold no reference to the owner, while a read's may hold the
    // last one, after which nothing of the owner may be touched (see the header).
    if (!writes.empty()) {
      requests.clear();
      for (const write_item& w : writes) {
        requests.push_back(write_request{
            .key = w.key, .value = byte_view(w.value), .ttl = w.ttl, .registry = w.registry});
      }
      const auto started = std::chrono::steady_clock::now();
      const result<void> written = p->l2->set_many(requests);
      const std::chrono::nanoseconds took = std::chrono::steady_clock::now() - started;
      requests.clear();
      for (write_item& w : writes) {
        if (!w.done) continue;
        try {
          w.done(written, took);
        } catch (...) {
        }
      }
      writes.clear();
    }
    if (!reads.empty()) {
      keys.clear();
      for (const read_request& r : reads) keys.emplace_back(r.key);
      const auto started = std::chrono::steady_clock::now();
      result<std::vector<std::optional<timed_value>>> got =
          std::vector<std::optional<timed_value>>{};
      if (p->config.with_ttl) {
        got = p->l2->get_many_with_ttl(keys);
      } else if (auto plain = p->l2->get_many(keys); plain) {
        got->reserve(plain->size());
        for (auto& v : *plain) {
          if (v) {
            got->emplace_back(timed_value{std::move(*v), std::nullopt, false});
          } else {
            got->emplace_back(std::nullopt);
          }
        }
      } else {
        got = std::move(plain).error();
      }
      const std::chrono::nanoseconds took = std::chrono::steady_clock::now() - started;
      if (got && got->size() != reads.size()) {
        got = fail(errc::backend_permanent, "the backend's get_many answered " +
                                                std::to_string(got->size()) + " entries for " +
                                                std::to_string(reads.size()) + " keys");
      }
      for (std::size_t i = 0; i < reads.size(); ++i) {
        result<std::optional<timed_value>> one =
            got ? result<std::optional<timed_value>>(std::move((*got)[i]))
                : result<std::optional<timed_value>>(got.error());
        try {
          reads[i].done(std::move(one), took);
        } catch (...) {  // callbacks complete their callers themselves; nothing escapes a thread
        }
      }
      keys.clear();
      reads.clear();  // may drop the last reference to this dispatcher's owner: see the header
    }
    lock.lock();
  }
}

void async_dispatcher::stop() {
  std::shared_ptr<pool> p = pools_.get().shared;
  std::deque<read_request> dropped_reads;
  std::deque<write_item> dropped_writes;
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(p->mutex);
    p->stopping = true;
    dropped_reads.swap(p->reads);
    threads.swap(p->threads);
    // No thread to flush them, or this is one of the threads (a callback dropped the last
    // reference to the owner, whose callbacks the writes would call): dropped.
    const bool on_own_thread = std::any_of(threads.begin(), threads.end(), [](const auto& t) {
      return t.get_id() == std::this_thread::get_id();
    });
    if (threads.empty() || on_own_thread) dropped_writes.swap(p->writes);
  }
  p->work.notify_all();
  dropped_reads.clear();  // their destructors complete their callers; outside the lock
  dropped_writes.clear();
  for (std::thread& t : threads) {
    if (t.get_id() == std::this_thread::get_id()) {
      t.detach();
    } else {
      t.join();
    }
  }
}

std::size_t async_dispatcher::pending() {
  std::shared_ptr<pool> p = pools_.get().shared;
  std::lock_guard lock(p->mutex);
  return p->reads.size() + p->writes.size();
}

std::size_t async_dispatcher::threads_started() {
  std::shared_ptr<pool> p = pools_.get().shared;
  std::lock_guard lock(p->mutex);
  return p->threads.size();
}

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
