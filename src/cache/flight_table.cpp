#include <cachekit/flight_table.hpp>

#include "process/per_process.hpp"

#include <array>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <unordered_map>

namespace cachekit {
inline namespace v0 {
namespace detail {

struct flight_table::flight {
  std::mutex mutex;
  std::condition_variable done_signal;
  bool done = false;                  // guarded by mutex
  std::shared_ptr<const void> value;  // guarded by mutex
  std::exception_ptr error;           // guarded by mutex
  std::string key;                    // immutable: the table entry to remove at the end
};

namespace {

struct string_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};

// Sharded so that misses on different keys do not queue on one lock.
constexpr std::size_t shard_count = 16;

struct shard {
  std::mutex mutex;
  std::unordered_map<std::string, std::shared_ptr<flight_table::flight>, string_hash,
                     std::equal_to<>>
      flights;  // guarded by mutex
};

struct shard_set {
  std::array<shard, shard_count> shards;
  shard& of(std::string_view key) { return shards[string_hash{}(key) % shard_count]; }
};

// Built at the first miss: a memoized function that never misses (or is never called) costs a
// few bytes, not sixteen locks and maps.
struct lazy_shard_set {
  std::once_flag built;
  std::unique_ptr<shard_set> set;
  shard_set& get() {
    std::call_once(built, [this] { set = std::make_unique<shard_set>(); });
    return *set;
  }
};

}  // namespace

struct flight_table::shards {
  per_process<lazy_shard_set> set;  // a forked child never takes a lock its parent's threads held
};

flight_table::flight_table() : shards_(std::make_unique<shards>()) {}
flight_table::~flight_table() = default;

flight_table::ticket::~ticket() {
  if (leader_ && !finished_ && flight_) {
    // The leader left without an outcome (an exception escaped before finish): waiters get an
    // error rather than waiting forever.
    table_->finish(*this, nullptr,
                   std::make_exception_ptr(std::logic_error(
                       "cachekit single-flight: the leading call ended without an outcome")));
  }
}

flight_table::ticket flight_table::join(std::string_view key) {
  shard& s = shards_->set.get().get().of(key);
  std::lock_guard lock(s.mutex);
  if (auto it = s.flights.find(key); it != s.flights.end()) {
    return ticket(this, it->second, false);
  }
  auto fresh = std::make_shared<flight>();
  fresh->key = std::string(key);
  s.flights.emplace(fresh->key, fresh);
  return ticket(this, std::move(fresh), true);
}

void flight_table::finish(ticket& t, std::shared_ptr<const void> value,
                          std::exception_ptr error) noexcept {
  if (!t.leader_ || t.finished_) return;
  t.finished_ = true;
  flight& f = *t.flight_;
  {
    // Out of the table first: a caller that arrives from now on starts a new flight (and so
    // reads what the leader just stored) instead of joining one that is over.
    shard& s = shards_->set.get().get().of(f.key);
    std::lock_guard lock(s.mutex);
    if (auto it = s.flights.find(f.key); it != s.flights.end() && it->second == t.flight_) {
      s.flights.erase(it);
    }
  }
  {
    std::lock_guard lock(f.mutex);
    f.value = std::move(value);
    f.error = std::move(error);
    f.done = true;
  }
  f.done_signal.notify_all();
}

std::shared_ptr<const void> flight_table::wait(ticket& t) const {
  flight& f = *t.flight_;
  std::unique_lock lock(f.mutex);
  f.done_signal.wait(lock, [&] { return f.done; });
  if (f.error) std::rethrow_exception(f.error);
  return f.value;
}

std::size_t flight_table::in_flight() const {
  std::size_t n = 0;
  for (shard& s : shards_->set.get().get().shards) {
    std::lock_guard lock(s.mutex);
    n += s.flights.size();
  }
  return n;
}

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
