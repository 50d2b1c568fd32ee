// Batch calls (memoized::many): the parts of cache_engine that read and write many keys in one
// L2 round trip each. Every answer is handled by the code single calls use (accept_l2,
// keep_in_l1, the write-back), so a batch and N single calls leave the same L1, L2, counters
// and observer events, but for the number of round trips. docs/batch.md has the design.
#include "cache/cache_engine.hpp"

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace cachekit {
inline namespace v0 {
namespace detail {

result<std::vector<cache_engine::lookup>> cache_engine::load_l2_many(
    std::span<const std::string_view> keys, std::span<const std::string_view> l1_keys, int index,
    ttl_seconds entry_ttl, std::chrono::nanoseconds* l2_latency) {
  std::vector<lookup> out(keys.size());
  if (l2() == nullptr || keys.empty()) return out;
  auto chosen = format(index);
  if (!chosen) return std::move(chosen).error();
  const storage_format& fmt = **chosen;
  std::vector<std::optional<coherence_epochs::snapshot>> epochs(keys.size());
  if (coherence_ != nullptr) {
    for (std::size_t i = 0; i < keys.size(); ++i) epochs[i] = coherence_->epochs.take(l1_keys[i]);
  }
  const auto started = std::chrono::steady_clock::now();
  // With the TTLs even without an L1: one pipeline either way, and the copies need them.
  auto got = l2()->get_many_with_ttl(keys);
  const std::chrono::nanoseconds took = std::chrono::steady_clock::now() - started;
  if (l2_latency) *l2_latency = took;
  if (!got) {
    report_l2_error(got.error());
    emit_l2_failure(cache_op::get, got.error(), took);
    return std::move(got).error();
  }
  if (write_back_) write_back_->l2_answered();
  if (got->size() != keys.size()) {  // a backend breaking its contract: treat as an outage
    auto why = fail(errc::backend_permanent, std::string(l2()->type()) +
                                                 " backend answered get_many_with_ttl of " +
                                                 std::to_string(keys.size()) + " keys with " +
                                                 std::to_string(got->size()) + " values");
    report_l2_error(why);
    return why;
  }
  for (std::size_t i = 0; i < keys.size(); ++i) {
    std::string aad_storage;
    const std::string_view aad = aad_key(keys[i], index, aad_storage);
    out[i] = accept_l2(keys[i], l1_keys[i], fmt, aad, entry_ttl, (*got)[i], took, epochs[i]);
  }
  return out;
}

result<void> cache_engine::store_many(std::span<const pending_store> items, int index,
                                      ttl_seconds ttl, bool write_l2, std::string_view registry) {
  if (items.empty()) return {};
  std::string aad_storage;
  auto chosen = format(index);
  if (!chosen) {
    for (std::size_t i = 0; i < items.size(); ++i) report_uncacheable(chosen.error());
    return std::move(chosen).error();
  }
  std::optional<failure> first;  // the first failure, returned once all were tried
  // Sealed bytes stay here until the L2 write: the requests view them.
  std::vector<byte_buffer> sealed;
  std::vector<const pending_store*> kept;
  sealed.reserve(items.size());
  kept.reserve(items.size());
  for (const auto& item : items) {
    auto bytes = (*chosen)->seal(item.msgpack, aad_key(item.key, index, aad_storage));
    if (!bytes) {
      report_uncacheable(bytes.error());
      if (!first) first = bytes.error();
      continue;
    }
    if (auto kept_l1 = keep_in_l1(item.key, item.l1_key, *bytes, ttl); !kept_l1) {
      if (!first) first = kept_l1.error();  // too large: reported
      continue;
    }
    sealed.push_back(std::move(*bytes));
    kept.push_back(&item);
  }
  const auto outcome = [&]() -> result<void> {
    if (first) return *first;
    return {};
  };
  if (l2() == nullptr || kept.empty()) return outcome();
  if (!write_l2) {
    for (const auto* item : kept) {
      if (write_back_) write_back_->record(item->key, item->l1_key, ttl.has_value());
    }
    return outcome();
  }
  const bool tracked = !registry.empty() && l2()->keeps_key_registry();
  std::vector<write_request> writes;
  writes.reserve(kept.size());
  for (std::size_t i = 0; i < kept.size(); ++i) {
    writes.push_back({.key = kept[i]->key,
                      .value = sealed[i],
                      .ttl = ttl,
                      .registry = tracked ? registry : std::string_view{}});
  }
  const auto started = std::chrono::steady_clock::now();
  auto written = l2()->set_many(writes);
  const std::chrono::nanoseconds took = std::chrono::steady_clock::now() - started;
  if (!written) {
    l2_write_failed(written.error(), took);  // one failure, one count
    for (const auto* item : kept) l2_write_waits(written.error(), item->key, item->l1_key, ttl);
    return std::move(written).error();
  }
  if (write_back_) write_back_->l2_answered();
  if (events_.active()) {
    for (const auto& bytes : sealed) {
      emit_operation(cache_op::set, cache_layer::l2, op_outcome::stored, bytes.size(), took);
    }
  }
  return outcome();
}

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
