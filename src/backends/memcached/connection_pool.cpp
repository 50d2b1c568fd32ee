#include "backends/memcached/connection_pool.hpp"

#include <libmemcached-1.0/memcached.h>

#include <new>
#include <optional>
#include <utility>

namespace cachekit {
inline namespace v0 {
namespace detail {
namespace {

using std::chrono::steady_clock;

std::string milliseconds_text(std::chrono::milliseconds ms) {
  return std::to_string(ms.count()) + " ms";
}

}  // namespace

memcached_connection_pool::lease::lease(lease&& other) noexcept
    : pool_(std::exchange(other.pool_, nullptr)),
      handle_(std::exchange(other.handle_, nullptr)),
      reused_(other.reused_),
      discard_(other.discard_) {}

memcached_connection_pool::lease::~lease() {
  if (pool_ != nullptr) pool_->give_back(handle_, discard_);
}

memcached_connection_pool::memcached_connection_pool(const memcached_server_address& server,
                                                     const memcached_pool_settings& settings)
    : address_(server.host + ":" + std::to_string(server.port)),
      settings_(settings),
      template_(memcached_create(nullptr)) {
  if (template_ == nullptr) throw std::bad_alloc();
  // The ASCII protocol (libmemcached's default) is what pymemcache speaks. Timeouts are in
  // milliseconds; libmemcached's sockets are always non-blocking and every wait is a poll().
  memcached_behavior_set(template_, MEMCACHED_BEHAVIOR_TCP_NODELAY, 1);
  memcached_behavior_set(template_, MEMCACHED_BEHAVIOR_CONNECT_TIMEOUT,
                         static_cast<std::uint64_t>(settings.connect_timeout.count()));
  memcached_behavior_set(template_, MEMCACHED_BEHAVIOR_POLL_TIMEOUT,
                         static_cast<std::uint64_t>(settings.timeout.count()));
  const memcached_return_t rc = memcached_server_add(template_, server.host.c_str(), server.port);
  if (rc != MEMCACHED_SUCCESS) {
    const std::string reason = memcached_strerror(template_, rc);
    memcached_free(template_);
    throw error(errc::invalid_configuration,
                "libmemcached does not accept memcached server " + address_ + ": " + reason);
  }
  try {
    // give_back runs in destructors: its push_back must never need to allocate.
    idle_.reserve(settings.max_connections);
  } catch (...) {
    memcached_free(template_);
    throw;
  }
}

memcached_connection_pool::~memcached_connection_pool() {
  // Every lease has ended: the backend is destroyed only when no operation runs.
  for (const idle_handle& idle : idle_) memcached_free(idle.handle);
  memcached_free(template_);
}

result<memcached_connection_pool::lease> memcached_connection_pool::acquire(bool fresh) {
  std::unique_lock lock(mutex_);
  // The clock is read only when it matters: a healthy server has no failures to time.
  if (failures_in_a_row_ > 0) {
    const auto now = steady_clock::now();
    if (now < skip_until_) {
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(skip_until_ - now);
      return fail(errc::transient,
                  "memcached server " + address_ + " failed " + std::to_string(failures_in_a_row_) +
                      " times in a row and is skipped for another " + milliseconds_text(left) +
                      " (memcached_options::retry_attempts / retry_timeout)");
    }
  }
  std::optional<steady_clock::time_point> deadline;
  for (;;) {
    if (!idle_.empty()) {
      const idle_handle idle = idle_.back();
      idle_.pop_back();
      if (!fresh) return lease(this, idle.handle, idle.used);
      memcached_st* replacement = memcached_clone(nullptr, template_);
      if (replacement == nullptr) --open_;
      lock.unlock();
      memcached_free(idle.handle);
      if (replacement == nullptr) {
        returned_.notify_one();
        return fail(errc::transient, "libmemcached could not allocate a connection handle");
      }
      return lease(this, replacement, false);
    }
    if (open_ < settings_.max_connections) {
      memcached_st* handle = memcached_clone(nullptr, template_);
      if (handle == nullptr) {
        return fail(errc::transient, "libmemcached could not allocate a connection handle");
      }
      ++open_;
      return lease(this, handle, false);
    }
    if (!deadline) deadline = steady_clock::now() + settings_.timeout;
    if (returned_.wait_until(lock, *deadline) == std::cv_status::timeout && idle_.empty() &&
        open_ >= settings_.max_connections) {
      return fail(errc::transient,
                  "all " + std::to_string(settings_.max_connections) +
                      " connections to memcached server " + address_ + " stayed busy for " +
                      milliseconds_text(settings_.timeout) +
                      "; raise memcached_options::pool_size or lower the concurrency");
    }
  }
}

void memcached_connection_pool::give_back(memcached_st* handle, bool discard) noexcept {
  if (discard) {
    {
      std::lock_guard lock(mutex_);
      --open_;
    }
    memcached_free(handle);  // may send "quit": outside the lock
  } else {
    std::lock_guard lock(mutex_);
    idle_.push_back({handle, true});
  }
  returned_.notify_one();
}

void memcached_connection_pool::close_idle() {
  std::vector<idle_handle> closing;
  closing.reserve(settings_.max_connections);  // idle_ never holds more
  {
    std::lock_guard lock(mutex_);
    closing.assign(idle_.begin(), idle_.end());
    open_ -= idle_.size();
    idle_.clear();  // keeps the capacity reserved in the constructor
  }
  for (const idle_handle& idle : closing) memcached_free(idle.handle);
  if (!closing.empty()) returned_.notify_all();
}

void memcached_connection_pool::record_success() noexcept {
  if (!failing_.load(std::memory_order_relaxed)) return;  // the common case takes no lock
  std::lock_guard lock(mutex_);
  failures_in_a_row_ = 0;
  failing_.store(false, std::memory_order_relaxed);
}

void memcached_connection_pool::record_failure() noexcept {
  std::lock_guard lock(mutex_);
  ++failures_in_a_row_;
  failing_.store(true, std::memory_order_relaxed);
  // The count is kept when the window opens: after it, one more failure skips the server
  // again (pymemcache does the same), and only a success clears it.
  if (settings_.retry_attempts > 0 && failures_in_a_row_ >= settings_.retry_attempts) {
    skip_until_ = steady_clock::now() + settings_.retry_timeout;
  }
}

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
