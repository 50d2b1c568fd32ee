#include <cachekit/error.hpp>
#include <cachekit/l1_cache.hpp>

#include <algorithm>
#include <chrono>
#include <limits>

namespace cachekit {
inline namespace v0 {
namespace {

constexpr std::size_t min_auto_shard_bytes = std::size_t{1} << 20;
// cachekit-py 0.24 (_MAX_ENTRY_SHARE): one entry takes at most an eighth of the budget, so a
// near-budget value read back from L2 again and again cannot empty the cache on every store.
constexpr std::size_t entry_share_divisor = 8;

const l1_options& checked(const l1_options& options) {
  if (options.keep_expired_for && *options.keep_expired_for <= monotonic_clock::duration::zero()) {
    throw error(errc::invalid_configuration,
                "l1_options.keep_expired_for must be positive when set; leave it nullopt to "
                "remove expired entries at once");
  }
  return options;
}

detail::l1_core_config core_config(const l1_options& options) {
  return {.max_charge = options.max_bytes,
          .max_entries = options.max_entries,
          .default_ttl = options.default_ttl,
          .keep_expired_for = options.keep_expired_for.value_or(monotonic_clock::duration::zero()),
          .shards = options.shards,
          .clock = options.clock,
          .min_auto_shard_charge = min_auto_shard_bytes,
          .entry_share_divisor = entry_share_divisor,
          .options_name = "l1_options",
          .charge_name = "max_bytes"};
}

}  // namespace

l1_cache::l1_cache(const l1_options& options) : core_(core_config(checked(options))) {}

l1_cache::~l1_cache() = default;

std::optional<l1_value> l1_cache::get(std::string_view key) {
  if (detail::l1_entry* entry = core_.acquire(key); entry != nullptr) return l1_value(entry);
  return std::nullopt;
}

bool l1_cache::put(std::string_view key, byte_view value,
                   std::optional<monotonic_clock::duration> ttl) {
  return core_.put_bytes(key, value, ttl);
}

bool l1_cache::end_refresh(std::string_view key, monotonic_clock::time_point written_at,
                           std::optional<monotonic_clock::time_point> no_claim_before) {
  std::uint32_t mark = 0;
  if (no_claim_before && *no_claim_before > written_at) {
    // Milliseconds after the write, rounded up, above the two other marks (0 and 1).
    const auto wait = std::chrono::ceil<std::chrono::milliseconds>(*no_claim_before - written_at);
    constexpr std::int64_t most = std::numeric_limits<std::uint32_t>::max() - 2;
    mark = static_cast<std::uint32_t>(std::min<std::int64_t>(wait.count(), most) + 2);
  }
  return core_.set_refresh_mark(key, written_at, mark);
}

std::optional<monotonic_clock::time_point> l1_cache::replace_if_written_at(
    std::string_view key, byte_view value, std::optional<monotonic_clock::duration> ttl,
    monotonic_clock::time_point written_at) {
  return core_.replace_bytes(key, value, ttl, written_at);
}

std::optional<monotonic_clock::duration> l1_cache::ttl(std::string_view key) const {
  return core_.ttl(key);
}

bool l1_cache::contains(std::string_view key) const {
  return core_.contains(key);
}

bool l1_cache::erase(std::string_view key) {
  return core_.erase(key);
}

std::size_t l1_cache::erase_prefix(std::string_view prefix) {
  return core_.erase_prefix(prefix);
}

void l1_cache::clear() {
  core_.clear();
}

std::size_t l1_cache::sweep_expired() {
  return core_.sweep_expired();
}

l1_stats l1_cache::stats() const {
  return core_.stats();
}

std::size_t l1_cache::size_bytes() const noexcept {
  return core_.charge();
}

std::size_t l1_cache::size() const noexcept {
  return core_.entries();
}

std::size_t l1_cache::max_entry_bytes() const noexcept {
  return core_.max_entry_charge();
}

std::size_t l1_cache::shard_count() const noexcept {
  return core_.shard_count();
}

}  // namespace v0
}  // namespace cachekit
