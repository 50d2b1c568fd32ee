#include "backends/memcached/connection_pool.hpp"

#include "backends/host_lookup.hpp"
#include "process/fork_generation.hpp"

#include <libmemcached-1.0/memcached.h>

#include <algorithm>
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

// The host as getaddrinfo wants it: an IPv6 literal without its brackets.
std::string bare_host(const std::string& host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    return host.substr(1, host.size() - 2);
  }
  return host;
}

// The ASCII protocol (libmemcached's default) is what pymemcache speaks. Timeouts are in
// milliseconds; libmemcached's sockets are always non-blocking and every wait is a poll().
void configure(memcached_st* handle, std::chrono::milliseconds connect_timeout,
               std::chrono::milliseconds timeout) {
  memcached_behavior_set(handle, MEMCACHED_BEHAVIOR_TCP_NODELAY, 1);
  memcached_behavior_set(handle, MEMCACHED_BEHAVIOR_CONNECT_TIMEOUT,
                         static_cast<std::uint64_t>(connect_timeout.count()));
  memcached_behavior_set(handle, MEMCACHED_BEHAVIOR_POLL_TIMEOUT,
                         static_cast<std::uint64_t>(timeout.count()));
}

}  // namespace

memcached_connection_pool::lease::lease(lease&& other) noexcept
    : pool_(std::exchange(other.pool_, nullptr)),
      slots_(std::exchange(other.slots_, nullptr)),
      handle_(std::exchange(other.handle_, nullptr)),
      reused_(other.reused_),
      discard_(other.discard_) {}

memcached_connection_pool::lease::~lease() {
  if (pool_ != nullptr) pool_->give_back(*slots_, handle_, discard_);
}

memcached_connection_pool::slots::slots(std::uint64_t gen, std::size_t max_connections)
    : generation(gen) {
  // give_back runs in destructors: its push_back must never need to allocate.
  idle.reserve(max_connections);
}

memcached_connection_pool::memcached_connection_pool(const memcached_server_address& server,
                                                     const memcached_pool_settings& settings)
    : address_(server.host + ":" + std::to_string(server.port)),
      host_(bare_host(server.host)),
      port_(server.port),
      by_name_(!numeric_host(host_).has_value()),
      settings_(settings),
      template_(memcached_create(nullptr)) {
  if (template_ == nullptr) throw std::bad_alloc();
  configure(template_, settings.connect_timeout, settings.timeout);
  // A template for a host name is never cloned (open_by_name makes those handles), but adding
  // the server checks the name's syntax once, here.
  const memcached_return_t rc = memcached_server_add(template_, server.host.c_str(), server.port);
  if (rc != MEMCACHED_SUCCESS) {
    const std::string reason = memcached_strerror(template_, rc);
    memcached_free(template_);
    throw error(errc::invalid_configuration,
                "libmemcached does not accept memcached server " + address_ + ": " + reason);
  }
  try {
    slots_.store(new slots(watch_forks(), settings.max_connections), std::memory_order_release);
  } catch (...) {
    memcached_free(template_);
    throw;
  }
}

memcached_connection_pool::~memcached_connection_pool() {
  // Every lease has ended: the backend is destroyed only when no operation runs.
  slots* current = slots_.load(std::memory_order_acquire);
  for (const idle_handle& idle : current->idle) memcached_free(idle.handle);
  delete current;
  memcached_free(template_);
}

memcached_connection_pool::slots& memcached_connection_pool::current_slots() {
  slots* current = slots_.load(std::memory_order_acquire);
  const std::uint64_t generation = fork_generation();
  if (current->generation == generation) [[likely]] {
    return *current;
  }
  // First use in a forked child. No lock: a lock of the parent's may be held forever here.
  // The inherited slots are abandoned whole, never freed: their handles would say "quit" on
  // the parent's sockets, and their condition variable may count waiters that do not exist
  // here (destroying it would wait for them forever).
  auto fresh = std::make_unique<slots>(generation, settings_.max_connections);
  while (current->generation != generation) {
    if (slots_.compare_exchange_weak(current, fresh.get(), std::memory_order_acq_rel,
                                     std::memory_order_acquire)) {
      return *fresh.release();
    }
  }
  return *current;  // another thread of this child installed its slots first
}

result<memcached_connection_pool::lease> memcached_connection_pool::acquire(bool fresh) {
  slots& s = current_slots();
  std::unique_lock lock(s.mutex);
  // The clock is read only when it matters: a healthy server has no failures to time.
  if (s.failures_in_a_row > 0) {
    const auto now = settings_.clock->now();
    if (now < s.skip_until) {
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(s.skip_until - now);
      return fail(errc::transient, "memcached server " + address_ + " failed " +
                                       std::to_string(s.failures_in_a_row) +
                                       " times in a row and is skipped for another " +
                                       milliseconds_text(left) +
                                       " (memcached_options::retry_attempts / retry_timeout)");
    }
  }
  // A handle for a host name needs a lookup first: outside the lock, with the slot counted.
  auto new_handle_by_name = [&](memcached_st* retired) -> result<lease> {
    lock.unlock();
    if (retired != nullptr) memcached_free(retired);  // may send "quit": outside the lock
    auto opened = open_by_name();
    if (!opened) {
      {
        std::lock_guard relock(s.mutex);
        --s.open;
      }
      s.returned.notify_one();
      record_failure();
      return std::move(opened).error();
    }
    return lease(this, &s, *opened, false);
  };
  std::optional<steady_clock::time_point> deadline;
  for (;;) {
    if (!s.idle.empty()) {
      const idle_handle idle = s.idle.back();
      s.idle.pop_back();
      if (!fresh) return lease(this, &s, idle.handle, idle.used);
      if (by_name_) return new_handle_by_name(idle.handle);
      memcached_st* replacement = memcached_clone(nullptr, template_);
      if (replacement == nullptr) --s.open;
      lock.unlock();
      memcached_free(idle.handle);
      if (replacement == nullptr) {
        s.returned.notify_one();
        return fail(errc::transient, "libmemcached could not allocate a connection handle");
      }
      return lease(this, &s, replacement, false);
    }
    if (s.open < settings_.max_connections) {
      if (by_name_) {
        ++s.open;
        return new_handle_by_name(nullptr);
      }
      memcached_st* handle = memcached_clone(nullptr, template_);
      if (handle == nullptr) {
        return fail(errc::transient, "libmemcached could not allocate a connection handle");
      }
      ++s.open;
      return lease(this, &s, handle, false);
    }
    if (!deadline) deadline = steady_clock::now() + settings_.timeout;
    if (s.returned.wait_until(lock, *deadline) == std::cv_status::timeout && s.idle.empty() &&
        s.open >= settings_.max_connections) {
      return fail(errc::transient,
                  "all " + std::to_string(settings_.max_connections) +
                      " connections to memcached server " + address_ + " stayed busy for " +
                      milliseconds_text(settings_.timeout) +
                      "; raise memcached_options::pool_size or lower the concurrency");
    }
  }
}

result<memcached_st*> memcached_connection_pool::open_by_name() const {
  const auto deadline = steady_clock::now() + settings_.connect_timeout;
  auto addresses =
      lookup_host(host_, settings_.connect_timeout, "memcached_options::connect_timeout");
  if (!addresses) {
    failure f = std::move(addresses).error();
    f.detail = "memcached server " + address_ + ": " + f.detail;
    return f;
  }
  // libmemcached connects on the handle's first operation, right after this: what is left of
  // connect_timeout bounds it, so lookup and connect share the budget as with Redis.
  const auto left =
      std::max(std::chrono::milliseconds(1),
               std::chrono::ceil<std::chrono::milliseconds>(deadline - steady_clock::now()));
  memcached_st* handle = memcached_create(nullptr);
  if (handle == nullptr) {
    return fail(errc::transient, "libmemcached could not allocate a connection handle");
  }
  configure(handle, left, settings_.timeout);
  const std::string& address = addresses->front();
  if (memcached_server_add(handle, address.c_str(), port_) != MEMCACHED_SUCCESS) {
    memcached_free(handle);
    return fail(errc::transient, "memcached server " + address_ +
                                     ": libmemcached does not accept its address " + address);
  }
  return handle;
}

void memcached_connection_pool::give_back(slots& owner, memcached_st* handle,
                                          bool discard) noexcept {
  if (owner.generation != fork_generation()) {
    // Leased before a fork and ended in the child: abandoned like the rest of the parent's
    // handles (freeing it would send "quit" on the parent's socket).
    return;
  }
  if (discard) {
    {
      std::lock_guard lock(owner.mutex);
      --owner.open;
    }
    memcached_free(handle);  // may send "quit": outside the lock
  } else {
    std::lock_guard lock(owner.mutex);
    owner.idle.push_back({handle, true});
  }
  owner.returned.notify_one();
}

void memcached_connection_pool::close_idle() {
  slots& s = current_slots();
  std::vector<idle_handle> closing;
  closing.reserve(settings_.max_connections);  // idle never holds more
  {
    std::lock_guard lock(s.mutex);
    closing.assign(s.idle.begin(), s.idle.end());
    s.open -= s.idle.size();
    s.idle.clear();  // keeps the capacity reserved in the constructor
  }
  for (const idle_handle& idle : closing) memcached_free(idle.handle);
  if (!closing.empty()) s.returned.notify_all();
}

void memcached_connection_pool::record_success() noexcept {
  slots& s = current_slots();
  if (!s.failing.load(std::memory_order_relaxed)) return;  // the common case takes no lock
  std::lock_guard lock(s.mutex);
  s.failures_in_a_row = 0;
  s.failing.store(false, std::memory_order_relaxed);
}

void memcached_connection_pool::record_failure() noexcept {
  slots& s = current_slots();
  std::lock_guard lock(s.mutex);
  ++s.failures_in_a_row;
  s.failing.store(true, std::memory_order_relaxed);
  // The count is kept when the window opens: after it, one more failure skips the server
  // again (pymemcache does the same), and only a success clears it.
  if (settings_.retry_attempts > 0 && s.failures_in_a_row >= settings_.retry_attempts) {
    s.skip_until = settings_.clock->now() + settings_.retry_timeout;
  }
}

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
