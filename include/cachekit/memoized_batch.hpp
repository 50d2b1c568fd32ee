/// @file
/// The bodies of `memoized::many`'s steps (declared in memoized.hpp, which includes this file
/// at its end; do not include it directly): keys and L1 per call, one L2 read for the misses,
/// single-flight per missing key, the runs (on up to `many_options::parallelism` threads), one
/// L2 write, answers in input order. docs/batch.md has the design.
///
/// Thread safety: as `memoized`.
#pragma once

#include <cachekit/memoized.hpp>

#include <cstddef>
#include <exception>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

namespace cachekit {
inline namespace v0 {
namespace detail {

// The function called with a copy of `call`'s arguments.
template <class F, class R, class... P>
auto memoized_impl<F, R(P...)>::invoke_with(const arguments& call) const -> result_type {
  arguments copy = call;
  return std::apply([this](auto&... a) { return std::invoke(state_->fn, static_cast<P>(a)...); },
                    copy);
}

// Object mode: one single call; its source from whether the object cache held it first.
template <class F, class R, class... P>
auto memoized_impl<F, R(P...)>::object_call(const arguments& call) const
    -> call_result<result_type> {
  try {
    arguments copy = call;
    const bool held = std::apply(
        [this](const auto&... a) {
          auto key = state_->object_keys(a...);
          return key && state_->objects->cache.visit(*key, [](const result_type&) {});
        },
        copy);
    auto value =
        std::apply([this](auto&... a) { return call_objects(static_cast<P&>(a)...); }, copy);
    return call_result<result_type>(std::move(value),
                                    held ? call_source::l1 : call_source::function);
  } catch (...) {
    return call_result<result_type>(std::current_exception());
  }
}

// A failed call's answer: the kept expired L1 copy when fail-safe stale allows, else the
// exception (a fail_closed refusal is never masked).
template <class F, class R, class... P>
auto memoized_impl<F, R(P...)>::failed_call(memo_binding& b, const std::string& l1_key,
                                            std::exception_ptr thrown) const
    -> call_result<result_type> {
  if (b.serve_stale && !l1_key.empty()) {
    bool security = false;
    try {
      std::rethrow_exception(thrown);
    } catch (const error& e) {
      security = e.code() == errc_group::security;
    } catch (...) {
    }
    if (!security) {
      if (auto kept = stale_copy(b, l1_key)) {
        return call_result<result_type>(std::move(*kept), call_source::stale);
      }
    }
  }
  return call_result<result_type>(std::move(thrown));
}

// The batch in bytes mode (the steps are memoized::many's, docs/batch.md).
template <class F, class R, class... P>
void memoized_impl<F, R(P...)>::many_bytes(
    std::span<const arguments> calls, const many_options& options,
    std::vector<std::optional<call_result<result_type>>>& out) const {
  memo_binding& b = *state_->binding;
  const std::size_t n = calls.size();
  const bool by_preimage = static_cast<bool>(state_->l1_keys);
  const auto keys_of = [this](const key_function& f, const arguments& call) {
    return std::apply([&f](const auto&... a) { return f(a...); }, call);
  };
  std::vector<std::string> l1_keys(n);
  std::vector<std::string> keys(n);
  std::vector<batch_step> steps(n, batch_step::lookup_l2);
  std::vector<served_by> layers(n, served_by::nothing);

  // 1. Keys and L1, call by call, as call_bytes.
  for (std::size_t i = 0; i < n; ++i) {
    l1_lookup l1 = std::apply([&](const auto&... a) { return look_in_l1(b, a...); }, calls[i]);
    if (!l1.l1_key) {
      steps[i] = batch_step::run_uncached;
      continue;
    }
    l1_keys[i] = std::move(*l1.l1_key);
    layers[i] = l1.layer;
    if (l1.hit) {
      out[i].emplace(std::move(*l1.hit), call_source::l1);
      steps[i] = batch_step::done;
      continue;
    }
    std::optional<failure>& l1_fault = l1.fault;
    auto protocol = by_preimage ? keys_of(state_->keys, calls[i]) : result<std::string>(l1_keys[i]);
    if (!protocol) {
      b.uncacheable(protocol.error());
      steps[i] = batch_step::run_uncached;
      continue;
    }
    keys[i] = std::move(*protocol);
    if (l1_fault) {
      b.reject(keys[i], l1_keys[i], *l1_fault, cache_layer::l1);
      steps[i] = batch_step::fill;
    } else if (layers[i] == served_by::left_in_place) {
      steps[i] = batch_step::run_unstored;
    }
  }

  // 2. ONE L2 read for every L1 miss (each distinct key asked once).
  std::vector<std::string_view> ask_keys;
  std::vector<std::string_view> ask_l1_keys;
  std::vector<std::size_t> ask_of(n, 0);
  {
    std::unordered_map<std::string_view, std::size_t> asked;
    for (std::size_t i = 0; i < n; ++i) {
      if (steps[i] != batch_step::lookup_l2) continue;
      auto [at, fresh] = asked.try_emplace(keys[i], ask_keys.size());
      if (fresh) {
        ask_keys.push_back(keys[i]);
        ask_l1_keys.push_back(l1_keys[i]);
      }
      ask_of[i] = at->second;
    }
  }
  bool l2_failed = false;
  if (!ask_keys.empty()) {
    std::vector<std::optional<byte_buffer>> found;
    std::vector<served_by> found_layers;
    b.load_l2_many(ask_keys, ask_l1_keys, found, found_layers);
    std::vector<bool> rejected(ask_keys.size(), false);
    for (std::size_t i = 0; i < n; ++i) {
      if (steps[i] != batch_step::lookup_l2) continue;
      const std::size_t j = ask_of[i];
      layers[i] = found_layers[j];
      if (layers[i] == served_by::l2_failed) l2_failed = true;
      if (layers[i] == served_by::left_in_place) {
        steps[i] = batch_step::run_unstored;
        continue;
      }
      steps[i] = batch_step::fill;
      if (!found[j] || rejected[j]) continue;
      auto decoded = stored_value_codec<result_type>::decode(*found[j], b.interop);
      if (decoded) {
        if (b.collect_stats) b.stats.record_l2_hit();
        if (layers[i] == served_by::l2_stale) {
          refresh_stale(b, keys[i], l1_keys[i], caller_tenant(), calls[i]);
        }
        out[i].emplace(std::move(*decoded), call_source::l2);
        steps[i] = batch_step::done;
        continue;
      }
      b.reject(keys[i], l1_keys[i], decoded.error());
      rejected[j] = true;
    }
  }

  // 3. Misses: one flight per distinct key; this batch runs the keys it leads, and waits for
  // the others only after finishing its own (so two batches never wait on each other).
  struct flight_group {
    std::size_t first = 0;
    std::vector<std::size_t> members;
    std::optional<flight_table::ticket> ticket;
  };
  std::vector<flight_group> groups;
  {
    std::unordered_map<std::string_view, std::size_t> group_of;
    for (std::size_t i = 0; i < n; ++i) {
      if (steps[i] != batch_step::fill) continue;
      auto [at, fresh] = group_of.try_emplace(keys[i], groups.size());
      if (fresh) {
        groups.emplace_back();
        groups.back().first = i;
        groups.back().ticket.emplace(b.flights.join(keys[i]));
      }
      groups[at->second].members.push_back(i);
    }
  }
  // The runs: every call that runs alone, and one per led flight.
  std::vector<std::size_t> run_calls;     // call index of each run
  std::vector<std::ptrdiff_t> run_group;  // its flight group, or -1
  for (std::size_t i = 0; i < n; ++i) {
    if (steps[i] == batch_step::run_uncached || steps[i] == batch_step::run_unstored) {
      run_calls.push_back(i);
      run_group.push_back(-1);
    }
  }
  for (std::size_t g = 0; g < groups.size(); ++g) {
    if (!groups[g].ticket->leader()) continue;
    run_calls.push_back(groups[g].first);
    run_group.push_back(static_cast<std::ptrdiff_t>(g));
  }
  std::vector<batch_run> runs(run_calls.size());
  const std::optional<std::string> tenant = caller_tenant();
  const std::thread::id caller = std::this_thread::get_id();
  run_batch_jobs(runs.size(), options.parallelism, [&](std::size_t r) {
    std::optional<tenant_scope> scope;
    batch_run& run = runs[r];
    try {
      if (tenant && std::this_thread::get_id() != caller) scope.emplace(*tenant);
      const std::size_t i = run_calls[r];
      if (steps[i] != batch_step::run_uncached) b.count_miss();
      run.value = std::make_shared<const result_type>(invoke_with(calls[i]));
      if (run_group[r] >= 0) {
        if (auto encoded = stored_value_codec<result_type>::encode(*run.value, b.interop)) {
          run.encoded = std::move(*encoded);
        } else {
          b.uncacheable(encoded.error());
        }
      }
    } catch (...) {
      run.value.reset();
      run.error = std::current_exception();
    }
  });

  // 4. ONE L2 write of every result to store (L1 only when the read failed, as call_bytes).
  std::vector<memo_binding::batch_store> stores;
  for (std::size_t r = 0; r < runs.size(); ++r) {
    if (run_group[r] < 0 || !runs[r].encoded) continue;
    const std::size_t i = run_calls[r];
    stores.push_back({.key = keys[i], .l1_key = l1_keys[i], .msgpack = *runs[r].encoded});
  }
  if (!stores.empty()) b.store_many(stores, !l2_failed);

  // 5. Answers: the runs', the led flights' (finished for their waiters too), then the
  // flights other callers led.
  for (std::size_t r = 0; r < runs.size(); ++r) {
    const std::size_t i = run_calls[r];
    const auto answer = [&](std::size_t at, call_source source) {
      if (runs[r].value) {
        out[at].emplace(*runs[r].value, source);
      } else {
        out[at].emplace(failed_call(b, l1_keys[at], runs[r].error));
      }
    };
    if (run_group[r] < 0) {
      answer(i, call_source::function);
      continue;
    }
    flight_group& g = groups[static_cast<std::size_t>(run_group[r])];
    b.flights.finish(*g.ticket, runs[r].value, runs[r].error);
    for (const std::size_t at : g.members) {
      // The batch's duplicates share the run, as a waiting caller would: an L1 hit.
      if (at != i && runs[r].value && b.collect_stats) b.stats.record_l1_hit();
      answer(at, at == i ? call_source::function : call_source::l1);
    }
  }
  for (auto& g : groups) {
    if (g.ticket->leader()) continue;
    std::shared_ptr<const result_type> shared;
    std::exception_ptr error;
    try {
      shared = std::static_pointer_cast<const result_type>(b.flights.wait(*g.ticket));
    } catch (...) {
      error = std::current_exception();
    }
    for (const std::size_t at : g.members) {
      if (shared) {
        if (b.collect_stats) b.stats.record_l1_hit();
        out[at].emplace(*shared, call_source::l1);
      } else {
        out[at].emplace(failed_call(b, l1_keys[at], error));
      }
    }
  }
}

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
