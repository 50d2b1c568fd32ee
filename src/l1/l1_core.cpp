// The sharded, locked L1 store shared by l1_cache and object_cache: picks the shard from the
// key's hash, takes the shard's lock shared for reads and exclusive for writes, and keeps the
// counters. The eviction policy lives in s3fifo_shard.
#include "l1/s3fifo_shard.hpp"
#include "l1/shard_mutex.hpp"
#include "process/fork_generation.hpp"

#include <cachekit/error.hpp>
#include <cachekit/l1_cache.hpp>

#include <xxhash.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <new>
#include <string>
#include <thread>

namespace cachekit {
inline namespace v0 {
namespace detail {
namespace {

static_assert(sizeof(void*) != 8 || sizeof(l1_entry) == 64,
              "the entry header is one cache line; l1_entry_overhead assumes it");

constexpr std::size_t max_shards = 256;
constexpr std::size_t max_auto_shards = 64;
constexpr std::size_t min_auto_shard_entries = 64;
// Shards are picked from high hash bits; each shard's table indexes by the low bits.
constexpr int shard_hash_shift = 40;

std::uint64_t hash_key(std::string_view key) noexcept {
  return XXH3_64bits(key.data(), key.size());
}

monotonic_clock::time_point expiry_after(monotonic_clock::time_point now,
                                         monotonic_clock::duration ttl) noexcept {
  const auto room = monotonic_clock::time_point::max() - now;
  return ttl >= room ? monotonic_clock::time_point::max() : now + ttl;
}

[[noreturn]] void reject_config(const l1_core_config& config, const std::string& what) {
  throw cachekit::error(errc::invalid_configuration, std::string(config.options_name) + "." + what);
}

std::size_t resolve_shards(const l1_core_config& config) {
  if (config.shards) {
    const std::size_t n = *config.shards;
    if (n == 0 || n > max_shards || !std::has_single_bit(n)) {
      reject_config(config, "shards must be a power of two from 1 to 256 (got " +
                                std::to_string(n) +
                                "); leave it unset to size it from the "
                                "hardware threads");
    }
    if (config.max_entries && *config.max_entries < n) {
      reject_config(config, "shards (" + std::to_string(n) + ") exceeds max_entries (" +
                                std::to_string(*config.max_entries) +
                                "): every shard needs room for one entry; use fewer shards");
    }
    return n;
  }
  const std::size_t threads = std::max(1u, std::thread::hardware_concurrency());
  std::size_t n = std::min(std::bit_ceil(2 * threads), max_auto_shards);
  while (n > 1 && (config.max_charge / n < config.min_auto_shard_charge ||
                   (config.max_entries && *config.max_entries / n < min_auto_shard_entries))) {
    n /= 2;
  }
  return n;
}

/// Allocates an entry for `key` with `payload_size` bytes of payload, holding a copy of
/// `value` when given.
l1_entry* make_entry(std::string_view key, std::uint64_t hash, std::size_t payload_size,
                     byte_view value) {
  const std::size_t offset = l1_entry::payload_offset(key.size());
  // operator new aligns to 16 bytes, the header is 64: the payload is 16-byte aligned.
  void* memory = ::operator new(sizeof(l1_entry) + offset + payload_size);
  auto* entry = new (memory) l1_entry;
  auto* tail = reinterpret_cast<std::byte*>(entry + 1);
  if (!key.empty()) std::memcpy(tail, key.data(), key.size());
  if (!value.empty()) std::memcpy(tail + offset, value.data(), value.size());
  entry->hash = hash;
  entry->key_size = static_cast<std::uint32_t>(key.size());
  return entry;
}

}  // namespace

void destroy_entry(l1_entry* entry) noexcept {
  if (entry->holds_object) {
    using object_ptr = std::shared_ptr<const void>;
    std::launder(reinterpret_cast<object_ptr*>(const_cast<std::byte*>(entry->value_data())))
        ->~object_ptr();
  }
  entry->~l1_entry();
  ::operator delete(static_cast<void*>(entry));
}

struct alignas(64) l1_core::shard {
  shard_mutex mutex;
  // Next to the lock word: a hit writes one cache line that other threads share, not two.
  std::atomic<std::uint64_t> hits{0};
  s3fifo_shard store CACHEKIT_GUARDED_BY(mutex);
  std::atomic<std::uint64_t> misses{0};
  std::atomic<std::uint64_t> rejections{0};
  // Copies of the store's sizes, so size() and size_bytes() take no lock.
  std::atomic<std::size_t> charge{0};
  std::atomic<std::size_t> entries{0};
  // The latest `written_at` stamped in this shard: each write is stamped after it.
  monotonic_clock::time_point last_written CACHEKIT_GUARDED_BY(mutex){};

  // Stamps `fresh->written_at`: `now`, or a tick after the shard's previous write, so that
  // every write of a key has its own stamp.
  void stamp(l1_entry* fresh, monotonic_clock::time_point now) CACHEKIT_REQUIRES(mutex) {
    const monotonic_clock::time_point after = last_written + monotonic_clock::duration{1};
    fresh->written_at = now < after ? after : now;
    last_written = fresh->written_at;
  }

  void publish_sizes() CACHEKIT_REQUIRES(mutex) {
    charge.store(store.charge(), std::memory_order_relaxed);
    entries.store(store.entries(), std::memory_order_relaxed);
  }
};

l1_core::l1_core(const l1_core_config& config)
    : clock_(config.clock),
      default_ttl_(config.default_ttl),
      keep_expired_for_(config.keep_expired_for) {
  if (config.keep_expired_for < monotonic_clock::duration::zero()) {
    reject_config(config, "keep_expired_for must not be negative");
  }
  if (config.max_charge == 0) {
    reject_config(config, std::string(config.charge_name) + " must be positive");
  }
  if (config.max_entries && *config.max_entries == 0) {
    reject_config(config, "max_entries must be positive");
  }
  if (config.default_ttl <= monotonic_clock::duration::zero()) {
    reject_config(config, "default_ttl must be positive (cachekit-py uses 300s)");
  }
  if (config.clock == nullptr) {
    reject_config(config, "clock must not be null; use &cachekit::monotonic_clock::coarse()");
  }
  const std::size_t n = resolve_shards(config);
  shard_mask_ = n - 1;
  const std::size_t shard_budget = config.max_charge / n;
  max_entry_charge_ = std::min(
      shard_budget, config.max_charge / std::max<std::size_t>(1, config.entry_share_divisor));
  shards_ = std::make_unique<shard[]>(n);
  for (std::size_t i = 0; i < n; ++i) {
    shard_limits limits{.max_charge = shard_budget + (i < config.max_charge % n ? 1 : 0),
                        .max_entries = std::nullopt,
                        .small_fraction = config.small_fraction,
                        .promote_threshold = config.promote_threshold};
    if (config.max_entries) {
      limits.max_entries = *config.max_entries / n + (i < *config.max_entries % n ? 1 : 0);
    }
    exclusive_lock lock(shards_[i].mutex);
    shards_[i].store.set_limits(limits);
  }
  generation_.store(watch_forks(), std::memory_order_release);
  adopting_.store(generation_.load(std::memory_order_relaxed), std::memory_order_relaxed);
}

void l1_core::follow_fork() const {
  const std::uint64_t generation = fork_generation();
  if (generation_.load(std::memory_order_acquire) != generation) [[unlikely]] {
    adopt_after_fork(generation);
  }
}

void l1_core::adopt_after_fork(std::uint64_t generation) const {
  // One thread of the child adopts; the others wait for it, before touching any shard.
  std::uint64_t claimed = adopting_.load(std::memory_order_acquire);
  while (claimed != generation) {
    if (adopting_.compare_exchange_weak(claimed, generation, std::memory_order_acq_rel)) {
      for (std::size_t i = 0; i <= shard_mask_; ++i) {
        shard& s = shards_[i];
        if (!s.mutex.forget_holders_after_fork()) {  // no writer: entries are whole
          // Refreshes claimed by the parent's threads will never end here: claimable again.
          exclusive_lock lock(s.mutex);
          s.store.for_each([](l1_entry& entry) {
            if (entry.refresh_mark.load(std::memory_order_relaxed) == 1) {
              entry.refresh_mark.store(0, std::memory_order_relaxed);
            }
          });
          continue;
        }
        // A writer of the parent was inside: the shard's lists may be half-linked. Its entries
        // are abandoned (never freed: freeing walks those lists) and it starts empty.
        // Its limits were set once by the constructor, never by a writer: they are whole.
        exclusive_lock lock(s.mutex);
        const shard_limits limits = s.store.limits();
        new (&s.store) s3fifo_shard();
        s.store.set_limits(limits);
        s.publish_sizes();
      }
      generation_.store(generation, std::memory_order_release);
      return;
    }
  }
  while (generation_.load(std::memory_order_acquire) != generation) std::this_thread::yield();
}

l1_core::~l1_core() = default;

l1_core::shard& l1_core::shard_for(std::uint64_t hash) const noexcept {
  return shards_[(hash >> shard_hash_shift) & shard_mask_];
}

l1_entry* l1_core::acquire(std::string_view key) {
  l1_entry* result = nullptr;
  visit(key, [&result](const l1_entry& entry) {
    result = const_cast<l1_entry*>(&entry);
    retain(result);
  });
  return result;
}

bool l1_core::visit_impl(std::string_view key, visitor on_hit, void* context) {
  follow_fork();
  const std::uint64_t hash = hash_key(key);
  shard& s = shard_for(hash);
  const monotonic_clock::time_point now = clock_->now();
  bool expired = false;
  {
    shared_lock lock(s.mutex);
    if (const l1_entry* entry = s.store.find(hash, key); entry != nullptr) {
      if (now < entry->expires_at) {
        // S3-FIFO's only bookkeeping on a hit; a lost race between two readers loses a count.
        if (const auto freq = entry->freq.load(std::memory_order_relaxed);
            freq < s3fifo_shard::max_freq) {
          entry->freq.store(static_cast<std::uint8_t>(freq + 1), std::memory_order_relaxed);
        }
        on_hit(context, *entry);
        s.hits.fetch_add(1, std::memory_order_relaxed);
        return true;
      }
      // Expired: removed now, unless kept for visit_kept (a miss either way).
      expired = keep_expired_for_ == monotonic_clock::duration::zero() ||
                kept_until(entry->expires_at) <= now;
    }
  }
  if (expired) {
    retired_entries retired;  // released after the lock below
    exclusive_lock lock(s.mutex);
    if (l1_entry* entry = s.store.find(hash, key);
        entry != nullptr && kept_until(entry->expires_at) <= now) {
      s.store.expire(entry, retired);
      s.publish_sizes();
    }
  }
  s.misses.fetch_add(1, std::memory_order_relaxed);
  return false;
}

bool l1_core::visit_kept_impl(std::string_view key, visitor on_hit, void* context) const {
  follow_fork();
  const std::uint64_t hash = hash_key(key);
  shard& s = shard_for(hash);
  const monotonic_clock::time_point now = clock_->now();
  shared_lock lock(s.mutex);
  const l1_entry* entry = s.store.find(hash, key);
  if (entry == nullptr || kept_until(entry->expires_at) <= now) return false;
  on_hit(context, *entry);
  return true;
}

monotonic_clock::time_point l1_core::kept_until(
    monotonic_clock::time_point expires_at) const noexcept {
  return expiry_after(expires_at, keep_expired_for_);
}

bool l1_core::admissible(std::string_view key, std::size_t charge,
                         monotonic_clock::duration lifetime) const noexcept {
  return charge <= max_entry_charge_ && lifetime > monotonic_clock::duration::zero() &&
         key.size() <= std::numeric_limits<std::uint32_t>::max();
}

void l1_core::reject(std::string_view key, std::uint64_t hash) {
  shard& s = shard_for(hash);
  retired_entries retired;  // released after the lock below
  exclusive_lock lock(s.mutex);
  // Not cacheable: an older value of the key must not outlive this write.
  if (l1_entry* old = s.store.find(hash, key); old != nullptr) {
    s.store.erase(old, retired);
    s.publish_sizes();
  }
  s.rejections.fetch_add(1, std::memory_order_relaxed);
}

void l1_core::insert(l1_entry* fresh, monotonic_clock::time_point now) {
  shard& s = shard_for(fresh->hash);
  retired_entries retired;  // released after the lock below
  exclusive_lock lock(s.mutex);
  s.stamp(fresh, now);
  s.store.put(fresh, now, retired);
  s.publish_sizes();
}

l1_entry* l1_core::build_bytes_entry(std::string_view key, std::uint64_t hash, byte_view value,
                                     monotonic_clock::duration lifetime,
                                     monotonic_clock::time_point now) {
  l1_entry* fresh = make_entry(key, hash, value.size(), value);
  fresh->charge = key.size() + value.size() + l1_entry_overhead;
  fresh->expires_at = expiry_after(now, lifetime);
  return fresh;
}

bool l1_core::put_bytes(std::string_view key, byte_view value,
                        std::optional<monotonic_clock::duration> ttl) {
  follow_fork();
  const std::uint64_t hash = hash_key(key);
  const std::size_t charge = key.size() + value.size() + l1_entry_overhead;
  const monotonic_clock::duration lifetime = ttl.value_or(default_ttl_);
  if (!admissible(key, charge, lifetime)) {
    reject(key, hash);
    return false;
  }
  const monotonic_clock::time_point now = clock_->now();
  // Built before taking the lock: copying the value needs no lock.
  insert(build_bytes_entry(key, hash, value, lifetime, now), now);
  return true;
}

bool l1_core::set_refresh_mark(std::string_view key, monotonic_clock::time_point written_at,
                               std::uint32_t mark) const {
  follow_fork();
  const std::uint64_t hash = hash_key(key);
  shard& s = shard_for(hash);
  shared_lock lock(s.mutex);
  const l1_entry* entry = s.store.find(hash, key);
  if (entry == nullptr || entry->written_at != written_at) return false;
  entry->refresh_mark.store(mark, std::memory_order_relaxed);
  return true;
}

std::optional<monotonic_clock::time_point> l1_core::replace_bytes(
    std::string_view key, byte_view value, std::optional<monotonic_clock::duration> ttl,
    monotonic_clock::time_point written_at) {
  follow_fork();
  const std::uint64_t hash = hash_key(key);
  shard& s = shard_for(hash);
  const std::size_t charge = key.size() + value.size() + l1_entry_overhead;
  const monotonic_clock::duration lifetime = ttl.value_or(default_ttl_);
  const monotonic_clock::time_point now = clock_->now();
  // Built before taking the lock, and released unused when the entry changed meanwhile.
  l1_entry* fresh = admissible(key, charge, lifetime)
                        ? build_bytes_entry(key, hash, value, lifetime, now)
                        : nullptr;
  retired_entries retired;  // released after the lock below
  exclusive_lock lock(s.mutex);
  l1_entry* current = s.store.find(hash, key);
  if (current == nullptr || current->written_at != written_at) {
    if (fresh != nullptr) retired.add(fresh);
    return std::nullopt;
  }
  if (fresh == nullptr) {  // not cacheable: the older value must not outlive this write
    s.store.erase(current, retired);
    s.rejections.fetch_add(1, std::memory_order_relaxed);
    s.publish_sizes();
    return std::nullopt;
  }
  s.stamp(fresh, now);
  s.store.put(fresh, now, retired);
  s.publish_sizes();
  return fresh->written_at;
}

bool l1_core::put_object(std::string_view key, std::shared_ptr<const void> object,
                         std::size_t charge, std::optional<monotonic_clock::duration> ttl) {
  follow_fork();
  const std::uint64_t hash = hash_key(key);
  const monotonic_clock::duration lifetime = ttl.value_or(default_ttl_);
  if (object == nullptr || !admissible(key, charge, lifetime)) {
    reject(key, hash);
    return false;
  }
  const monotonic_clock::time_point now = clock_->now();
  // The payload area holds the shared_ptr itself; make_entry leaves it uninitialised.
  l1_entry* fresh = make_entry(key, hash, sizeof(std::shared_ptr<const void>), {});
  new (const_cast<std::byte*>(fresh->value_data())) std::shared_ptr<const void>(std::move(object));
  fresh->holds_object = true;
  fresh->charge = charge;
  fresh->expires_at = expiry_after(now, lifetime);
  insert(fresh, now);
  return true;
}

std::optional<monotonic_clock::duration> l1_core::ttl(std::string_view key) const {
  follow_fork();
  const std::uint64_t hash = hash_key(key);
  shard& s = shard_for(hash);
  const monotonic_clock::time_point now = clock_->now();
  shared_lock lock(s.mutex);
  if (const l1_entry* entry = s.store.find(hash, key);
      entry != nullptr && now < entry->expires_at) {
    return entry->expires_at - now;
  }
  return std::nullopt;
}

bool l1_core::contains(std::string_view key) const {
  return ttl(key).has_value();
}

bool l1_core::erase(std::string_view key) {
  follow_fork();
  const std::uint64_t hash = hash_key(key);
  shard& s = shard_for(hash);
  retired_entries retired;
  exclusive_lock lock(s.mutex);
  l1_entry* entry = s.store.find(hash, key);
  if (entry == nullptr) return false;
  s.store.erase(entry, retired);
  s.publish_sizes();
  return true;
}

std::size_t l1_core::erase_prefix(std::string_view prefix) {
  follow_fork();
  std::size_t removed = 0;
  for (std::size_t i = 0; i <= shard_mask_; ++i) {
    retired_entries retired;
    exclusive_lock lock(shards_[i].mutex);
    removed += shards_[i].store.erase_prefix(prefix, retired);
    shards_[i].publish_sizes();
  }
  return removed;
}

void l1_core::clear() {
  follow_fork();
  for (std::size_t i = 0; i <= shard_mask_; ++i) {
    retired_entries retired;
    exclusive_lock lock(shards_[i].mutex);
    shards_[i].store.clear(retired);
    shards_[i].publish_sizes();
  }
}

std::size_t l1_core::sweep_expired() {
  follow_fork();
  std::size_t removed = 0;
  for (std::size_t i = 0; i <= shard_mask_; ++i) {
    const monotonic_clock::time_point now = clock_->now();
    retired_entries retired;
    exclusive_lock lock(shards_[i].mutex);
    // Kept entries go once `expires_at + keep <= now`, i.e. `expires_at <= now - keep`.
    const bool before_any_cutoff =
        now.time_since_epoch() < monotonic_clock::duration::min() + keep_expired_for_;
    const monotonic_clock::time_point cutoff =
        before_any_cutoff ? monotonic_clock::time_point::min() : now - keep_expired_for_;
    removed += shards_[i].store.sweep_expired(cutoff, retired);
    shards_[i].publish_sizes();
  }
  return removed;
}

l1_stats l1_core::stats() const {
  follow_fork();
  l1_stats total;
  for (std::size_t i = 0; i <= shard_mask_; ++i) {
    shard& s = shards_[i];
    shared_lock lock(s.mutex);
    total.hits += s.hits.load(std::memory_order_relaxed);
    total.misses += s.misses.load(std::memory_order_relaxed);
    total.rejections += s.rejections.load(std::memory_order_relaxed);
    total.evictions += s.store.evictions();
    total.expirations += s.store.expirations();
    total.bytes += s.store.charge();
    total.entries += s.store.entries();
  }
  return total;
}

std::size_t l1_core::charge() const noexcept {
  std::size_t total = 0;
  for (std::size_t i = 0; i <= shard_mask_; ++i) {
    total += shards_[i].charge.load(std::memory_order_relaxed);
  }
  return total;
}

std::size_t l1_core::entries() const noexcept {
  std::size_t total = 0;
  for (std::size_t i = 0; i <= shard_mask_; ++i) {
    total += shards_[i].entries.load(std::memory_order_relaxed);
  }
  return total;
}

std::size_t l1_core::shard_count() const noexcept {
  return shard_mask_ + 1;
}

std::size_t l1_core::max_entry_charge() const noexcept {
  return max_entry_charge_;
}

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
