// Stale-while-revalidate and fail-safe stale: the parts of cache_engine that serve memoized
// functions' background refreshes and expired L1 copies (cache_options::swr,
// serve_stale_for). Kept apart from cache_engine.cpp; docs/architecture.md (Reliability) has
// the design.
#include "cache/cache_engine.hpp"
#include "cache/swr_config.hpp"
#include "process/fork_generation.hpp"
#include "protocol/msgpack_bounds.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <new>
#include <string>
#include <utility>

namespace cachekit {
inline namespace v0 {
namespace detail {
namespace {

// A uniform draw in [0, 1) for the refresh threshold's jitter: xorshift64*, one state per
// thread, seeded from the OS (a forked child re-seeding nothing only shares jitter draws).
double unit_random() noexcept {
  thread_local std::uint64_t state = fresh_random_u64() | 1;
  state ^= state >> 12;
  state ^= state << 25;
  state ^= state >> 27;
  return static_cast<double>((state * 0x2545F4914F6CDD1DULL) >> 11) * 0x1.0p-53;
}

// cachekit-py draws random.uniform(0.9, 1.1) on every read.
constexpr double jitter_low = 0.9;
constexpr double jitter_span = 0.2;

}  // namespace

void check_swr_options(const cache_options& options) {
  const swr_options& swr = options.swr;
  if (!(swr.threshold_ratio > 0.0 && swr.threshold_ratio <= 1.0)) {  // also rejects NaN
    throw error(errc::invalid_configuration,
                "cache_options.swr.threshold_ratio must be in (0, 1] (cachekit-py default: 0.5)");
  }
  if (swr.retry_interval < std::chrono::milliseconds{0}) {
    throw error(errc::invalid_configuration,
                "cache_options.swr.retry_interval must not be negative (cachekit-py default: 10 "
                "s; 0 retries on the next read past the threshold)");
  }
  if (swr.enabled && (swr.max_pending == 0 || swr.workers == 0)) {
    throw error(errc::invalid_configuration,
                "cache_options.swr.max_pending and swr.workers must be positive (defaults: 32 "
                "and 1); set swr.enabled = false to turn refreshes off");
  }
  if (options.serve_stale_for && *options.serve_stale_for <= std::chrono::seconds{0}) {
    throw error(errc::invalid_configuration,
                "cache_options.serve_stale_for must be positive when set (e.g. 5min); leave it "
                "nullopt to never serve expired values");
  }
}

std::optional<monotonic_clock::duration> kept_expired_for(const cache_options& options) noexcept {
  if (!options.serve_stale_for) return std::nullopt;
  return std::chrono::duration_cast<monotonic_clock::duration>(*options.serve_stale_for);
}

std::unique_ptr<refresh_executor> make_refresh_executor(const cache_options& options, bool has_l1,
                                                        bool has_l2) {
  if (!options.swr.enabled || (!has_l1 && !has_l2)) return nullptr;
  return std::make_unique<refresh_executor>(options.swr.max_pending, options.swr.workers);
}

void cache_engine::claim_refresh_if_due(const l1_visited& entry,
                                        std::optional<monotonic_clock::time_point>& claimed) const {
  const double ratio = options_.swr.threshold_ratio;
  const monotonic_clock::time_point now = options_.clock->now();
  const auto age = static_cast<double>((now - entry.written_at()).count());
  const auto lifetime = static_cast<double>((entry.expires_at() - entry.written_at()).count());
  if (age <= lifetime * ratio * jitter_low) return;  // the common case: no draw
  if (age <= lifetime * ratio * (jitter_low + jitter_span * unit_random())) return;
  if (entry.claim_refresh(now)) claimed = entry.written_at();
}

std::shared_ptr<const void> cache_engine::claim_stale_refresh(std::string_view key) noexcept {
  if (refreshes_ == nullptr) return nullptr;
  return stale_refreshes_.try_claim(key);
}

bool cache_engine::submit_refresh(std::function<void()> job) {
  if (refreshes_ == nullptr) return false;
  return refreshes_->submit(std::move(job));
}

void cache_engine::end_refresh(std::string_view l1_key, monotonic_clock::time_point from,
                               bool failed) {
  if (!l1_) return;
  std::optional<monotonic_clock::time_point> no_claim_before;
  if (failed && options_.swr.retry_interval > std::chrono::milliseconds{0}) {
    no_claim_before = options_.clock->now() + options_.swr.retry_interval;
  }
  (void)l1_->end_refresh(l1_key, from, no_claim_before);  // gone: the newer write is unclaimed
}

result<bool> cache_engine::land_refresh(std::string_view key, std::string_view l1_key, int index,
                                        byte_view msgpack, ttl_seconds ttl,
                                        monotonic_clock::time_point from,
                                        std::string_view registry) {
  if (!l1_) return false;
  std::string aad_storage;
  const std::string_view aad = aad_key(key, index, aad_storage);
  auto chosen = format(index);
  if (!chosen) {
    report_uncacheable(chosen.error());
    return std::move(chosen).error();
  }
  auto sealed = (*chosen)->seal(msgpack, aad);
  if (!sealed) {
    report_uncacheable(sealed.error());
    return std::move(sealed).error();
  }
  if (sealed->size() > options_.max_value_bytes) {
    oversize_values_.fetch_add(1, std::memory_order_relaxed);
    auto why = fail(errc::value_too_large, "refreshed entry of " + std::to_string(sealed->size()) +
                                               " bytes is above max_value_bytes (" +
                                               std::to_string(options_.max_value_bytes) +
                                               "); it was not stored");
    notify(why);
    return why;
  }
  // L1 first, and only over the copy this refresh started from: an invalidation (no copy) or a
  // newer write (another copy) made meanwhile wins, and the result is dropped.
  const auto mine = l1_->replace_if_written_at(l1_key, *sealed, l1_lifetime(ttl), from);
  if (!mine) return false;
  if (l2() == nullptr) return true;
  if (auto written = write_l2(key, *sealed, ttl, registry); !written) {
    report_l2_error(written.error());  // L1 holds the new value; L2 keeps its own entry
    // As store(): a write L2 may take later waits for the write-back after the outage.
    if (write_back_ && classify(written.code()) != error_class::permanent &&
        classify(written.code()) != error_class::security) {
      write_back_->record(key, l1_key, ttl.has_value());
    }
    return true;
  }
  if (write_back_) write_back_->l2_answered();
  // Writers and invalidations of this process change L1 before L2, so one that came between our
  // L1 landing and our L2 write shows here: our L2 write must not stand over it. With no
  // compare-and-set in L2, erasing is the safe undo (the next read recomputes).
  bool still_mine = false;
  l1_->visit_kept(l1_key,
                  [&](const l1_visited& entry) { still_mine = entry.written_at() == *mine; });
  if (still_mine) return true;
  if (auto erased = l2()->erase(key); !erased) report_l2_error(erased.error());
  return false;
}

bool cache_engine::adopt_fresh_l2(std::string_view key, std::string_view l1_key, int index,
                                  ttl_seconds ttl, monotonic_clock::time_point from) {
  if (!l1_ || l2() == nullptr || !ttl) return false;
  auto got = l2()->get_with_ttl(key);
  if (!got) {
    report_l2_error(got.error());
    return false;
  }
  if (!*got || !(*got)->remaining || !*(*got)->remaining) return false;  // none, or age unknown
  const std::chrono::seconds left = **(*got)->remaining;
  const double fresh_above =
      static_cast<double>(ttl->count()) * (1.0 - options_.swr.threshold_ratio);
  if (static_cast<double>(left.count()) <= fresh_above) return false;
  // The same write as the L1 copy (this process wrote it, or copied it) is no fresher: only an
  // entry that outlives the copy by more than a second was written since.
  std::optional<monotonic_clock::time_point> copy_expires;
  l1_->visit_kept(l1_key, [&](const l1_visited& entry) {
    if (entry.written_at() == from) copy_expires = entry.expires_at();
  });
  if (!copy_expires) return false;  // replaced or gone: the refresh will not land anyway
  const monotonic_clock::time_point now = options_.clock->now();
  if (*copy_expires > now && left <= *copy_expires - now + std::chrono::seconds{1}) return false;
  // Checked as load_l2 checks what it copies to L1; a bad entry is left for the function's
  // result to overwrite.
  auto chosen = format(index);
  if (!chosen) return false;
  std::string aad_storage;
  const std::string_view aad = aad_key(key, index, aad_storage);
  const byte_buffer& stored = (*got)->value;
  if (stored.size() > options_.max_value_bytes) return false;
  try {
    auto opened = (*chosen)->open(stored, aad);
    constexpr std::size_t max_depth = 1024;  // as load_l2 (msgpack-python's limit)
    if (!opened || !check_msgpack_bounds(opened->msgpack, max_depth, options_.max_value_items)) {
      return false;
    }
  } catch (...) {
    return false;
  }
  const auto lifetime = std::min<monotonic_clock::duration>(*ttl, left);
  // A newer write or an invalidation of this process since the refresh began still wins.
  (void)l1_->replace_if_written_at(l1_key, stored, lifetime, from);
  return true;
}

std::optional<byte_buffer> cache_engine::load_l1_kept(std::string_view l1_key, int index) {
  if (!l1_) return std::nullopt;
  auto chosen = format(index);
  if (!chosen) return std::nullopt;
  const storage_format& fmt = **chosen;
  std::string aad_storage;
  const std::string_view aad =
      encrypted_ ? aad_key(l1_key, index, aad_storage) : std::string_view{};
  std::optional<byte_buffer> msgpack;
  l1_->visit_kept(l1_key, [&](const l1_visited& entry) {
    if (entry.bytes().size() > options_.max_value_bytes) return;
    try {
      if (auto opened = fmt.open(entry.bytes(), aad)) msgpack = std::move(opened->msgpack);
    } catch (...) {  // as a corrupt entry: nothing to serve
    }
  });
  return msgpack;
}

void cache_engine::stop_background() {
  stop_async();  // cache_engine_async.cpp
  if (refreshes_) refreshes_->stop();
  if (write_back_) write_back_->stop();
  if (coherence_ != nullptr) {
    coherence_->stopped.store(true);
    auto& slot = coherence_->listener.get();
    std::call_once(slot.started, [] {});  // a listener not started yet never starts
    if (slot.running) slot.running->stop();
  }
}

bool cache_engine::wait_refreshes_idle(std::chrono::milliseconds timeout) {
  return refreshes_ == nullptr || refreshes_->wait_idle(timeout);
}

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
