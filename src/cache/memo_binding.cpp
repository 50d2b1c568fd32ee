#include "cache/cache_engine.hpp"

#include "process/per_process.hpp"

#include <mutex>
#include <string>
#include <unordered_set>

namespace cachekit {
inline namespace v0 {
namespace detail {
namespace {

// `clear()` drops the keys this process wrote, as cachekit-py's `cache_clear()`. Past this many
// distinct keys per function the oldest are no longer tracked (bounded memory beats a complete
// clear; the entries still expire by TTL).
constexpr std::size_t max_tracked_keys = std::size_t{1} << 20;

struct written_key_set {
  std::mutex mutex;
  std::unordered_set<std::string> keys;  // guarded by mutex
};

}  // namespace

// Per process: a forked child clears only what it wrote, and never waits on a lock that a
// thread of its parent held at the fork.
struct memo_binding::written_keys : per_process<written_key_set> {};

memo_binding::memo_binding(std::shared_ptr<cache_engine> e, int fmt, bool is_interop,
                           ttl_seconds entry_ttl, bool stats_on)
    : engine(std::move(e)),
      format(fmt),
      interop(is_interop),
      ttl(entry_ttl),
      collect_stats(stats_on),
      written_(std::make_unique<written_keys>()) {}

memo_binding::~memo_binding() = default;

std::optional<byte_buffer> memo_binding::load(std::string_view key, served_by& layer) {
  std::chrono::nanoseconds l2_latency{-1};
  auto found = engine->load(key, format, ttl, &l2_latency);
  if (collect_stats && l2_latency.count() >= 0) stats.record_l2_latency(l2_latency);
  if (!found) return std::nullopt;  // counted and reported by the engine; the call runs
  layer = found->layer;
  return std::move(found->msgpack);
}

void memo_binding::store(std::string_view key, byte_view msgpack) {
  if (!engine->store(key, format, msgpack, ttl)) return;  // counted and reported
  written_key_set& written = written_->get();
  std::lock_guard lock(written.mutex);
  if (written.keys.size() < max_tracked_keys) written.keys.emplace(key);
}

void memo_binding::reject(std::string_view key, const failure& why) {
  engine->reject(key, why);
}

void memo_binding::uncacheable(const failure& why) {
  engine->report_uncacheable(why);
}

void memo_binding::invalidate(std::string_view key) {
  (void)engine->erase(key);  // an L2 failure is counted and reported by the engine
  written_key_set& written = written_->get();
  std::lock_guard lock(written.mutex);
  written.keys.erase(std::string(key));
}

void memo_binding::clear() {
  std::unordered_set<std::string> keys;
  {
    written_key_set& written = written_->get();
    std::lock_guard lock(written.mutex);
    keys.swap(written.keys);
  }
  for (const auto& key : keys) (void)engine->erase(key);
  stats.reset();
}

cache_info memo_binding::info() const {
  return stats.snapshot();
}

void object_binding::uncacheable(const failure& why) {
  engine->report_uncacheable(why);
}

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
