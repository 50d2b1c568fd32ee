// memo_binding's side of asynchronous memoized calls (memoized::async): translates the engine's
// asynchronous lookups and flights into what memoized_impl needs.
#include "cache/cache_engine.hpp"

#include <memory>
#include <utility>

namespace cachekit {
inline namespace v0 {
namespace detail {

void memo_binding::load_l2_async(std::string_view key, std::string_view l1_key,
                                 std::function<void(std::optional<byte_buffer>, served_by)> then) {
  // `then` holds the memoized function's state, which holds this binding: `this` outlives it.
  engine->load_l2_async(key, l1_key, format, ttl, ns,
                        [this, then = std::move(then)](result<cache_engine::lookup> found,
                                                       std::chrono::nanoseconds l2_latency) {
                          if (collect_stats && l2_latency.count() >= 0)
                            stats.record_l2_latency(l2_latency);
                          if (!found) {  // counted and reported by the engine; the call runs
                            then(std::nullopt, served_by::l2_failed);
                            return;
                          }
                          then(std::move(found->msgpack), found->layer);
                        });
}

void memo_binding::store_async(std::string_view key, std::string_view l1_key, byte_view msgpack,
                               bool write_l2) {
  namespace_scope scope(ns);
  // Failures are counted and reported by the engine.
  engine->store_async(key, l1_key, format, msgpack, ttl, write_l2, registry, nullptr);
}

void memo_binding::run_async(std::function<void()> job) {
  auto shared = std::make_shared<std::function<void()>>(std::move(job));
  if (engine->run_async([shared] { (*shared)(); })) return;
  (*shared)();  // full, or the cache is gone: the caller's thread runs it
}

bool memo_binding::join_async(std::string_view key, async_outcome then) {
  return engine->join_async_flight(
      this, key,
      [this, then = std::move(then)](std::shared_ptr<const void> value, std::exception_ptr error,
                                     bool leader) {
        if (leader) return;  // the leader completes its own caller, with its own source
        // Served in-process without running the function: an L1 hit, as blocking waiters are.
        const call_source source = value ? call_source::l1 : call_source::function;
        if (value && collect_stats) stats.record_l1_hit();
        then(std::move(value), std::move(error), source);
      });
}

void memo_binding::finish_async(std::string_view key, const std::shared_ptr<const void>& value,
                                const std::exception_ptr& error) noexcept {
  engine->finish_async_flight(this, key, value, error);
}

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
