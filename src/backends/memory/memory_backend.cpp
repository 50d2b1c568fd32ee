#include <cachekit/memory_backend.hpp>

#include "protocol/blake2b.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cstdint>
#include <functional>
#include <limits>
#include <list>
#include <mutex>
#include <random>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>

namespace cachekit {
inline namespace v0 {

namespace {

using clock_type = std::chrono::steady_clock;
using time_point = clock_type::time_point;

constexpr std::size_t max_shards = 1024;
constexpr std::string_view lock_suffix = ":lock";

struct string_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view text) const noexcept {
    return std::hash<std::string_view>{}(text);
  }
};

// `now + ttl`, saturating at the clock's maximum instead of overflowing (a TTL of centuries
// then simply never expires).
time_point expiry_after(time_point now, clock_type::duration ttl) {
  const time_point origin{};
  const time_point base = std::max(now, origin);
  if (ttl >= time_point::max() - base) return time_point::max();
  return now + ttl;
}

clock_type::duration to_clock_duration(std::chrono::seconds ttl) {
  constexpr auto max_seconds =
      std::chrono::duration_cast<std::chrono::seconds>(clock_type::duration::max());
  if (ttl >= max_seconds) return clock_type::duration::max();
  return std::chrono::duration_cast<clock_type::duration>(ttl);
}

// backend.hpp: a TTL of zero or less means the entry has already expired.
bool already_expired(ttl_seconds ttl) {
  return ttl && ttl->count() <= 0;
}

// A fresh, unpredictable lock token: 128 random bits as 32 lowercase hex digits.
std::string random_token() {
  thread_local std::mt19937_64 generator{[] {
    std::random_device device;
    std::seed_seq seed{device(), device(), device(), device()};
    return std::mt19937_64{seed};
  }()};
  std::array<std::uint64_t, 2> words{generator(), generator()};
  std::string token(32, '\0');
  detail::append_hex_lower(std::as_bytes(std::span{words}), token.data());
  return token;
}

}  // namespace

struct memory_backend::state {
  struct entry {
    byte_buffer value;
    std::optional<time_point> expires_at;  // nullopt: no expiry
    std::uint64_t written = 0;             // global write sequence: lower is older
    bool is_lock = false;                  // held by try_lock; never evicted
    std::list<const std::string*>::iterator order;
  };

  using entry_map = std::unordered_map<std::string, entry, string_hash, std::equal_to<>>;

  struct shard {
    std::mutex mutex;
    // Guarded by `mutex`. Map nodes never move, so `order` can point at their keys.
    entry_map entries;
    std::list<const std::string*> order;  // oldest write first
    std::list<const std::string*>::iterator sweep_cursor = order.end();
  };

  explicit state(memory_backend_options opts) : options(opts) {
    if (options.clock == nullptr) {
      throw error(errc::invalid_configuration,
                  "memory_backend clock must not be null; leave it unset for the coarse "
                  "monotonic clock, or pass a manual_clock in tests");
    }
    if (options.max_entries && *options.max_entries == 0) {
      throw error(errc::invalid_configuration,
                  "memory_backend max_entries must be at least 1; use std::nullopt for no bound");
    }
    if (options.max_bytes && *options.max_bytes == 0) {
      throw error(errc::invalid_configuration,
                  "memory_backend max_bytes must be at least 1; use std::nullopt for no bound");
    }
    if (options.shards == 0 || options.shards > max_shards) {
      throw error(errc::invalid_configuration,
                  "memory_backend shards must be between 1 and 1024, got " +
                      std::to_string(options.shards));
    }
    shard_count = std::bit_ceil(options.shards);
    shards = std::make_unique<shard[]>(shard_count);
    for (std::size_t i = 0; i < shard_count; ++i) shards[i].sweep_cursor = shards[i].order.end();
  }

  time_point now() const { return options.clock->now(); }

  shard& shard_for(std::string_view key) {
    // Fibonacci hashing picks the shard from the mixed hash's top bits; the map inside reduces
    // the hash modulo a prime, so keys of one shard still spread over its buckets.
    const std::uint64_t mixed =
        static_cast<std::uint64_t>(string_hash{}(key)) * 0x9E3779B97F4A7C15ull;
    const int bits = std::countr_zero(shard_count);
    return shards[bits == 0 ? 0 : static_cast<std::size_t>(mixed >> (64 - bits))];
  }

  static std::size_t footprint(std::string_view key, std::size_t value_size) {
    return key.size() + value_size;
  }

  static bool expired(const entry& e, time_point at) { return e.expires_at && at >= *e.expires_at; }

  // `set` and `set_if_absent` past their TTL checks: false when `only_if_absent` found a live
  // entry, which is then left as it is.
  result<bool> store(std::string_view key, byte_view value, ttl_seconds ttl, bool only_if_absent) {
    if (options.max_bytes && footprint(key, value.size()) > *options.max_bytes) {
      return fail(errc::backend_permanent, "entry of " +
                                               std::to_string(footprint(key, value.size())) +
                                               " bytes (key + value) exceeds max_bytes " +
                                               std::to_string(*options.max_bytes));
    }
    const auto at = now();
    std::optional<time_point> expires_at;
    if (ttl) expires_at = expiry_after(at, to_clock_duration(*ttl));
    {
      auto& s = shard_for(key);
      std::lock_guard guard(s.mutex);
      if (only_if_absent && find_live(s, key, at) != s.entries.end()) return false;
      put(s, key, value, expires_at, /*is_lock=*/false);
      sweep(s, at);
    }
    enforce_bounds(key);
    return true;
  }

  // Caller holds s.mutex.
  void erase_entry(shard& s, entry_map::iterator it) {
    if (s.sweep_cursor == it->second.order) ++s.sweep_cursor;
    s.order.erase(it->second.order);
    count.fetch_sub(1, std::memory_order_relaxed);
    bytes.fetch_sub(footprint(it->first, it->second.value.size()), std::memory_order_relaxed);
    s.entries.erase(it);
  }

  // The live entry of `key`, removing it when expired. Caller holds s.mutex.
  entry_map::iterator find_live(shard& s, std::string_view key, time_point at) {
    auto it = s.entries.find(key);
    if (it != s.entries.end() && expired(it->second, at)) {
      erase_entry(s, it);
      return s.entries.end();
    }
    return it;
  }

  // Inserts or replaces `key`; the entry becomes the newest write. Caller holds s.mutex.
  void put(shard& s, std::string_view key, byte_view value, std::optional<time_point> expires_at,
           bool is_lock) {
    const std::uint64_t written = sequence.fetch_add(1, std::memory_order_relaxed);
    auto it = s.entries.find(key);
    if (it == s.entries.end()) {
      it = s.entries.try_emplace(std::string(key)).first;
      s.order.push_back(&it->first);
      it->second.order = std::prev(s.order.end());
      count.fetch_add(1, std::memory_order_relaxed);
      bytes.fetch_add(footprint(key, value.size()), std::memory_order_relaxed);
    } else {
      if (s.sweep_cursor == it->second.order) ++s.sweep_cursor;
      s.order.splice(s.order.end(), s.order, it->second.order);
      bytes.fetch_add(value.size(), std::memory_order_relaxed);
      bytes.fetch_sub(it->second.value.size(), std::memory_order_relaxed);
    }
    entry& e = it->second;
    e.value.assign(value.begin(), value.end());
    e.expires_at = expires_at;
    e.written = written;
    e.is_lock = is_lock;
  }

  // Examines up to sweep_limit entries of the shard, round robin, removing expired ones.
  // Caller holds s.mutex.
  void sweep(shard& s, time_point at) {
    for (std::size_t i = 0; i < options.sweep_limit && !s.entries.empty(); ++i) {
      if (s.sweep_cursor == s.order.end()) s.sweep_cursor = s.order.begin();
      auto it = s.entries.find(**s.sweep_cursor);
      if (expired(it->second, at)) {
        erase_entry(s, it);  // advances the cursor
      } else {
        ++s.sweep_cursor;
      }
    }
  }

  bool over_bounds() const {
    return (options.max_entries && count.load(std::memory_order_relaxed) > *options.max_entries) ||
           (options.max_bytes && bytes.load(std::memory_order_relaxed) > *options.max_bytes);
  }

  // Evicts the oldest-written entries until both bounds hold, sparing `keep` (the entry just
  // written) and held locks. Takes one shard lock at a time; with concurrent writers the choice
  // of "oldest" is best effort.
  void enforce_bounds(std::string_view keep) {
    // Every round evicts an entry or finds none to evict; a round that lost a race to another
    // thread retries, a bounded number of times.
    for (std::size_t attempts = 0; over_bounds() && attempts < 4 * shard_count + 64;) {
      std::size_t best_shard = shard_count;
      std::uint64_t best_written = std::numeric_limits<std::uint64_t>::max();
      std::string best_key;
      for (std::size_t i = 0; i < shard_count; ++i) {
        shard& s = shards[i];
        std::lock_guard guard(s.mutex);
        for (const std::string* key : s.order) {
          const entry& e = s.entries.find(*key)->second;
          if (e.is_lock || *key == keep) continue;
          if (e.written < best_written) {
            best_written = e.written;
            best_shard = i;
            best_key = *key;
          }
          break;  // the first evictable entry is the shard's oldest
        }
      }
      if (best_shard == shard_count) return;  // nothing evictable
      shard& s = shards[best_shard];
      std::lock_guard guard(s.mutex);
      auto it = s.entries.find(best_key);
      if (it != s.entries.end() && it->second.written == best_written) {
        erase_entry(s, it);
        evictions.fetch_add(1, std::memory_order_relaxed);
      } else {
        ++attempts;
      }
    }
  }

  memory_backend_options options;
  std::size_t shard_count = 1;
  std::unique_ptr<shard[]> shards;
  std::atomic<std::uint64_t> sequence{0};
  std::atomic<std::size_t> count{0};
  std::atomic<std::size_t> bytes{0};
  std::atomic<std::uint64_t> evictions{0};
};

memory_backend::memory_backend(memory_backend_options options)
    : state_(std::make_unique<state>(options)) {}

memory_backend::~memory_backend() = default;

result<std::optional<byte_buffer>> memory_backend::get(std::string_view key) {
  const auto now = state_->now();
  auto& s = state_->shard_for(key);
  std::lock_guard guard(s.mutex);
  auto it = state_->find_live(s, key, now);
  if (it == s.entries.end()) return std::optional<byte_buffer>{};
  return std::optional<byte_buffer>{it->second.value};
}

result<void> memory_backend::set(std::string_view key, byte_view value, ttl_seconds ttl) {
  if (already_expired(ttl)) {
    (void)erase(key);
    return {};
  }
  auto stored = state_->store(key, value, ttl, /*only_if_absent=*/false);
  if (!stored) return std::move(stored).error();
  return {};
}

result<bool> memory_backend::set_if_absent(std::string_view key, byte_view value, ttl_seconds ttl) {
  if (already_expired(ttl)) return false;
  return state_->store(key, value, ttl, /*only_if_absent=*/true);
}

result<bool> memory_backend::erase(std::string_view key) {
  const auto now = state_->now();
  auto& s = state_->shard_for(key);
  std::lock_guard guard(s.mutex);
  auto it = state_->find_live(s, key, now);
  if (it == s.entries.end()) return false;
  state_->erase_entry(s, it);
  return true;
}

result<std::size_t> memory_backend::erase_prefix(std::string_view prefix) {
  const auto now = state_->now();
  std::size_t removed = 0;
  for (std::size_t i = 0; i < state_->shard_count; ++i) {
    auto& s = state_->shards[i];
    std::lock_guard guard(s.mutex);
    for (auto it = s.entries.begin(); it != s.entries.end();) {
      const auto here = it++;  // erase_entry invalidates only `here`
      if (here->second.is_lock || !std::string_view(here->first).starts_with(prefix)) continue;
      if (!state_->expired(here->second, now)) ++removed;
      state_->erase_entry(s, here);
    }
  }
  return removed;
}

result<bool> memory_backend::exists(std::string_view key) {
  const auto now = state_->now();
  auto& s = state_->shard_for(key);
  std::lock_guard guard(s.mutex);
  return state_->find_live(s, key, now) != s.entries.end();
}

result<remaining_ttl> memory_backend::ttl(std::string_view key) {
  const auto now = state_->now();
  auto& s = state_->shard_for(key);
  std::lock_guard guard(s.mutex);
  auto it = state_->find_live(s, key, now);
  if (it == s.entries.end()) return remaining_ttl{};
  if (!it->second.expires_at) return remaining_ttl{.exists = true, .ttl = std::nullopt};
  if (*it->second.expires_at == time_point::max()) {  // a saturated TTL: centuries left
    return remaining_ttl{
        .exists = true,
        .ttl = std::chrono::duration_cast<std::chrono::seconds>(clock_type::duration::max())};
  }
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(*it->second.expires_at - now);
  return remaining_ttl{.exists = true, .ttl = std::chrono::seconds{(left.count() + 500) / 1000}};
}

result<bool> memory_backend::touch(std::string_view key, ttl_seconds ttl) {
  if (already_expired(ttl)) return erase(key);
  const auto now = state_->now();
  auto& s = state_->shard_for(key);
  std::lock_guard guard(s.mutex);
  auto it = state_->find_live(s, key, now);
  if (it == s.entries.end()) return false;
  it->second.expires_at.reset();
  if (ttl) it->second.expires_at = expiry_after(now, to_clock_duration(*ttl));
  return true;
}

result<std::optional<lock_token>> memory_backend::try_lock(std::string_view key,
                                                           std::chrono::milliseconds timeout) {
  lock_token token{.key = std::string(key) + std::string(lock_suffix), .value = random_token()};
  const auto now = state_->now();
  const auto hold = std::max(timeout, std::chrono::milliseconds{1});
  {
    auto& s = state_->shard_for(token.key);
    std::lock_guard guard(s.mutex);
    if (state_->find_live(s, token.key, now) != s.entries.end()) {
      return std::optional<lock_token>{};
    }
    state_->put(s, token.key, as_byte_view(token.value), expiry_after(now, hold),
                /*is_lock=*/true);
  }
  state_->enforce_bounds(token.key);
  return std::optional<lock_token>{std::move(token)};
}

result<bool> memory_backend::release_lock(const lock_token& token) {
  const auto now = state_->now();
  auto& s = state_->shard_for(token.key);
  std::lock_guard guard(s.mutex);
  auto it = state_->find_live(s, token.key, now);
  if (it == s.entries.end()) return false;
  const auto held = as_string_view(it->second.value);
  if (held != token.value) return false;
  state_->erase_entry(s, it);
  return true;
}

backend_health memory_backend::health() {
  const auto start = std::chrono::steady_clock::now();
  backend_health report;
  report.healthy = true;
  report.backend_type = "memory";
  report.details["entries"] = std::to_string(entry_count());
  report.details["bytes"] = std::to_string(byte_count());
  report.details["shards"] = std::to_string(state_->shard_count);
  report.details["evictions"] = std::to_string(state_->evictions.load());
  if (state_->options.max_entries) {
    report.details["max_entries"] = std::to_string(*state_->options.max_entries);
  }
  if (state_->options.max_bytes) {
    report.details["max_bytes"] = std::to_string(*state_->options.max_bytes);
  }
  report.latency = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - start);
  return report;
}

std::size_t memory_backend::entry_count() const noexcept {
  return state_->count.load(std::memory_order_relaxed);
}

std::size_t memory_backend::byte_count() const noexcept {
  return state_->bytes.load(std::memory_order_relaxed);
}

void memory_backend::clear() {
  for (std::size_t i = 0; i < state_->shard_count; ++i) {
    auto& s = state_->shards[i];
    std::lock_guard guard(s.mutex);
    while (!s.entries.empty()) state_->erase_entry(s, s.entries.begin());
  }
}

}  // namespace v0
}  // namespace cachekit
