#include "cache/cache_engine.hpp"

#include <cassert>
#include <utility>

namespace cachekit {
inline namespace v0 {
namespace detail {

// No per-key state: `clear()` finds the function's entries by the prefix all its keys share,
// so the binding's size stays the same however many distinct calls it serves (a set of
// written keys cost ~190 B a call and outlived L1's evictions). Nothing here is per process
// either: L1 follows forks itself and L2 is shared by design.
memo_binding::memo_binding(std::shared_ptr<cache_engine> e, int fmt, bool is_interop,
                           ttl_seconds entry_ttl, bool stats_on, std::string function_key_space)
    : engine(std::move(e)),
      format(fmt),
      interop(is_interop),
      ttl(entry_ttl),
      collect_stats(stats_on),
      key_space(std::move(function_key_space)) {
  swr = engine->swr_enabled();
  observed = engine->events().active();
  serve_stale = engine->options().serve_stale_for.has_value() && engine->l1() != nullptr;
  assert(!key_space.empty() && "an empty key space would make clear() erase every entry");
}

std::optional<byte_buffer> memo_binding::load_l1(
    std::string_view l1_key, served_by& layer,
    std::optional<monotonic_clock::time_point>* refresh_from) {
  engine->ensure_listener();  // a forked child starts its own at its first call
  auto found = engine->load_l1(l1_key, format, refresh_from, ns);
  if (!found) return std::nullopt;  // counted and reported by the engine; the call runs
  layer = found->layer;
  return std::move(found->msgpack);
}

std::optional<byte_buffer> memo_binding::load_l2(std::string_view key, std::string_view l1_key,
                                                 served_by& layer) {
  std::chrono::nanoseconds l2_latency{-1};
  namespace_scope scope(ns);
  auto found = engine->load_l2(key, l1_key, format, ttl, &l2_latency);
  if (collect_stats && l2_latency.count() >= 0) stats.record_l2_latency(l2_latency);
  if (!found) {  // counted and reported by the engine; the call runs
    layer = served_by::l2_failed;
    return std::nullopt;
  }
  layer = found->layer;
  return std::move(found->msgpack);
}

bool memo_binding::store(std::string_view key, std::string_view l1_key, byte_view msgpack,
                         bool write_l2) {
  namespace_scope scope(ns);
  // Failures are counted and reported by the engine.
  return engine->store(key, l1_key, format, msgpack, ttl, write_l2, registry).has_value();
}

memo_binding::fill_result memo_binding::await_fill(std::string_view key, std::string_view l1_key,
                                                   served_by& layer) {
  fill_result result;
  auto outcome = engine->fills().await(key, [&] {
    result.filled = load_l2(key, l1_key, layer);
    return result.filled.has_value();
  });
  result.lock = std::move(outcome.lock);
  return result;
}

void memo_binding::release_fill(const lock_token& lock) noexcept {
  engine->fills().release(lock);
}

void memo_binding::reject(std::string_view key, std::string_view l1_key, const failure& why,
                          cache_layer layer) {
  namespace_scope scope(ns);
  engine->reject(key, why, l1_key, layer);
}

void memo_binding::observe_miss() const noexcept {
  engine->events().operation(operation_event{.operation = cache_op::get,
                                             .layer = cache_layer::function,
                                             .outcome = op_outcome::miss,
                                             .ns = ns,
                                             .latency = std::chrono::nanoseconds{-1},
                                             .bytes = 0,
                                             .error = nullptr,
                                             .error_kind = std::nullopt});
}

void memo_binding::uncacheable(const failure& why) {
  namespace_scope scope(ns);
  engine->report_uncacheable(why);
}

std::string memo_binding::stored_key(std::string_view key) const {
  std::string stored;
  if (const backend* l2 = engine->l2(); l2 != nullptr) stored = l2->key_prefix();
  stored += key;
  return stored;
}

void memo_binding::invalidate(std::string_view key, std::string_view l1_key) {
  namespace_scope scope(ns);
  if (l1_key != key && engine->l1() != nullptr) engine->l1()->erase(l1_key);
  // An L2 failure is counted and reported by the engine; a peer told to drop its copy would
  // then re-read the entry that stayed, so only a delete that went through is announced.
  if (auto erased = engine->erase(key); erased) engine->publish_invalidation(registry, key);
}

memo_binding::refresh_lease memo_binding::try_refresh_lease(std::string_view key) {
  using outcome = fill_coordinator::lease_outcome;
  auto lease = engine->fills().try_lease(key);
  return {.proceed = lease.outcome == outcome::held || lease.outcome == outcome::unsupported,
          .lock = std::move(lease.lock)};
}

std::shared_ptr<const void> memo_binding::claim_stale_refresh(std::string_view key) noexcept {
  return engine->claim_stale_refresh(key);
}

bool memo_binding::submit_refresh(std::function<void()> job) {
  return engine->submit_refresh(std::move(job));
}

void memo_binding::end_refresh(std::string_view l1_key, monotonic_clock::time_point from,
                               bool failed) {
  engine->end_refresh(l1_key, from, failed);
}

result<bool> memo_binding::land_refresh(std::string_view key, std::string_view l1_key,
                                        byte_view msgpack, monotonic_clock::time_point from) {
  return engine->land_refresh(key, l1_key, format, msgpack, ttl, from, registry);
}

bool memo_binding::adopt_fresh_l2(std::string_view key, std::string_view l1_key,
                                  monotonic_clock::time_point from) {
  return engine->adopt_fresh_l2(key, l1_key, format, ttl, from);
}

std::optional<byte_buffer> memo_binding::load_l1_kept(std::string_view l1_key) {
  return engine->load_l1_kept(l1_key, format);
}

void memo_binding::record_stale_served() noexcept {
  engine->count_stale_served();
  if (collect_stats) stats.record_stale_served();
}

bool memo_binding::invalidate_all(bool walk_prefix) {
  if (key_space.empty()) return false;  // never erase the whole cache (the constructor asserts)
  namespace_scope scope(ns);
  return engine->invalidate_function(registry, key_space, walk_prefix).has_value();
}

void memo_binding::clear() {
  stats.reset();
  (void)invalidate_all(true);
}

cache_info memo_binding::info() const {
  return stats.snapshot();
}

object_binding::object_binding(std::shared_ptr<cache_engine> e, bool stats_on, std::size_t budget)
    : engine(std::move(e)), collect_stats(stats_on) {
  engine->reserve_object_bytes(budget);  // throws when the cache's total is used up
  reserved_bytes = budget;
  observed = engine->events().active();
}

void object_binding::observe(op_outcome outcome) const noexcept {
  engine->events().operation(
      operation_event{.operation = cache_op::get,
                      .layer = outcome == op_outcome::hit ? cache_layer::l1 : cache_layer::function,
                      .outcome = outcome,
                      .ns = {},
                      .latency = std::chrono::nanoseconds{-1},
                      .bytes = 0,
                      .error = nullptr,
                      .error_kind = std::nullopt});
}

object_binding::~object_binding() {
  engine->release_object_bytes(reserved_bytes);
}

void object_binding::uncacheable(const failure& why) {
  engine->report_uncacheable(why);
}

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
