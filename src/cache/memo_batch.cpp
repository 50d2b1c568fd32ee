// The non-template half of memoized::many (include/cachekit/memoized.hpp): the batch's one L2
// read and one L2 write through the engine, and the threads that run its misses.
// docs/batch.md has the design.
#include "cache/cache_engine.hpp"

#include <cachekit/memoized.hpp>

#include <algorithm>
#include <atomic>
#include <exception>
#include <thread>
#include <utility>
#include <vector>

namespace cachekit {
inline namespace v0 {
namespace detail {

void memo_binding::load_l2_many(std::span<const std::string_view> keys,
                                std::span<const std::string_view> l1_keys,
                                std::vector<std::optional<byte_buffer>>& found,
                                std::vector<served_by>& layers) {
  found.assign(keys.size(), std::nullopt);
  layers.assign(keys.size(), served_by::nothing);
  if (keys.empty()) return;
  std::chrono::nanoseconds l2_latency{-1};
  namespace_scope scope(ns);
  auto looked = engine->load_l2_many(keys, l1_keys, format, ttl, &l2_latency);
  if (collect_stats && l2_latency.count() >= 0) stats.record_l2_latency(l2_latency);
  if (!looked) {  // counted and reported by the engine; every call of the batch runs
    layers.assign(keys.size(), served_by::l2_failed);
    return;
  }
  for (std::size_t i = 0; i < keys.size(); ++i) {
    layers[i] = (*looked)[i].layer;
    found[i] = std::move((*looked)[i].msgpack);
  }
}

void memo_binding::store_many(std::span<const batch_store> items, bool write_l2) {
  namespace_scope scope(ns);
  std::vector<cache_engine::pending_store> pending;
  pending.reserve(items.size());
  for (const auto& item : items) {
    pending.push_back({.key = item.key, .l1_key = item.l1_key, .msgpack = item.msgpack});
  }
  (void)engine->store_many(pending, format, ttl, write_l2, registry);  // counted there
}

void run_batch_jobs(std::size_t count, std::size_t parallelism,
                    const std::function<void(std::size_t)>& job) {
  const std::size_t threads = std::min(std::max<std::size_t>(parallelism, 1), count);
  if (threads <= 1) {
    for (std::size_t i = 0; i < count; ++i) job(i);
    return;
  }
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    for (std::size_t i = next.fetch_add(1); i < count; i = next.fetch_add(1)) job(i);
  };
  std::vector<std::thread> helpers;
  helpers.reserve(threads - 1);
  try {
    for (std::size_t t = 1; t < threads; ++t) helpers.emplace_back(work);
  } catch (const std::system_error&) {  // no more threads: those started and this one do it
  }
  work();
  for (auto& helper : helpers) helper.join();
}

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
