// The fixture of the stale-while-revalidate tests (memoize_swr_test, memoize_stale_l2_test): an
// in-process L2 on a manual clock, a function whose every call returns a new value and can be
// held at a gate or made to throw, and a look at what L2 holds.
#pragma once

#include <gtest/gtest.h>
#include <cachekit/cache.hpp>
#include <cachekit/memory_backend.hpp>

#include "support/call_gate.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

namespace cachekit::testing {

struct swr_fixture : ::testing::Test {
  manual_clock clock;
  // L2 TTLs run on the same clock as L1's, as a real deployment's both run on real time.
  std::shared_ptr<memory_backend> l2 =
      std::make_shared<memory_backend>(memory_backend_options{.clock = &clock});
  std::atomic<int> calls{0};
  std::atomic<bool> throwing{false};
  call_gate held;

  // A cache on the manual clock, with `l2` unless `options` names another L2.
  cache make_cache(cache_options options = {}) {
    if (!options.l2) options.l2 = l2;
    options.clock = &clock;
    return cache(std::move(options));
  }
  // "v<n>-<id>" where n counts the calls: each call's result differs from the last. Each call
  // passes `held` and throws while `throwing`.
  auto versioned() {
    return [this](std::int64_t id) {
      const int n = ++calls;
      held.pass();
      if (throwing.load()) throw std::runtime_error("upstream down");
      return "v" + std::to_string(n) + "-" + std::to_string(id);
    };
  }
  // What `l2` holds for `key`, read by a cache of its own (no L1): the bytes cachekit-py reads.
  std::optional<std::string> in_l2(const std::string& key) {
    cache reader({.l2 = l2, .l1_enabled = false, .clock = &clock});
    auto got = reader.get<std::string>(key);
    EXPECT_TRUE(got.has_value());
    return got ? *got : std::nullopt;
  }
};

}  // namespace cachekit::testing
