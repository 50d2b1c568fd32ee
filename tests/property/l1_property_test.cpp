// Model-based property of the byte L1: with no eviction pressure, any sequence of put, get,
// erase, erase_prefix, sweep and clock steps behaves like a map of (bytes, expiry) in which an
// expired entry lingers until a read, a write of its key, an erase or a sweep removes it.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <cachekit/l1_cache.hpp>
#include <cachekit/monotonic_clock.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

namespace cachekit {
namespace {

using namespace std::chrono_literals;

struct model_entry {
  byte_buffer value;
  monotonic_clock::time_point expires_at;
};

struct model {
  std::map<std::string, model_entry> entries;
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;
  std::uint64_t expirations = 0;

  [[nodiscard]] std::size_t bytes() const {
    std::size_t total = 0;
    for (const auto& [key, e] : entries) total += key.size() + e.value.size() + l1_entry_overhead;
    return total;
  }
};

// One step: what to do, to which of a few keys, with which value, TTL code and clock step.
// TTLs and clock steps share a 50 ms grain, so reads land exactly on expiry instants.
using step = std::tuple<int, int, std::vector<std::uint8_t>, int, int>;

rc::Gen<step> steps() {
  return rc::gen::tuple(
      rc::gen::inRange(0, 7), rc::gen::inRange(0, 6),
      rc::gen::container<std::vector<std::uint8_t>>(rc::gen::arbitrary<std::uint8_t>()),
      rc::gen::inRange(-2, 12),  // -2: default TTL; <= 0: rejected
      rc::gen::inRange(0, 12));
}

byte_buffer bytes_of(const std::vector<std::uint8_t>& raw) {
  byte_buffer out;
  for (auto b : raw) out.push_back(std::byte{b});
  return out;
}

RC_GTEST_PROP(l1_property, behaves_like_a_map_with_lazy_expiry, ()) {
  const auto sequence = *rc::gen::scale(4.0, rc::gen::container<std::vector<step>>(steps()));
  manual_clock clock;
  const std::size_t shards = *rc::gen::element<std::size_t>(1, 2, 4, 8);
  l1_cache cache(
      {.max_bytes = std::size_t{64} << 20, .default_ttl = 30s, .shards = shards, .clock = &clock});
  model m;

  for (const auto& [kind, key_index, raw_value, ttl_code, grains] : sequence) {
    const std::string key = (key_index % 2 == 0 ? "a:" : "b:") + std::to_string(key_index);
    const auto now = clock.now();
    switch (kind) {
      case 0:
      case 1: {  // put
        std::optional<monotonic_clock::duration> ttl;
        if (ttl_code != -2) ttl = std::chrono::milliseconds{ttl_code * 50};
        const byte_buffer value = bytes_of(raw_value);
        const bool stored = cache.put(key, value, ttl);
        const auto lifetime = ttl.value_or(30s);
        RC_ASSERT(stored == (lifetime > 0s));
        if (stored) {
          m.entries[key] = {value, now + lifetime};
        } else {
          m.entries.erase(key);
        }
        break;
      }
      case 2:
      case 3: {  // get
        const auto hit = cache.get(key);
        const auto it = m.entries.find(key);
        if (it != m.entries.end() && now < it->second.expires_at) {
          ++m.hits;
          RC_ASSERT(hit.has_value());
          RC_ASSERT(hit->to_buffer() == it->second.value);
          RC_ASSERT(hit->expires_at() == it->second.expires_at);
        } else {
          ++m.misses;
          RC_ASSERT(!hit.has_value());
          if (it != m.entries.end()) {
            m.entries.erase(it);
            ++m.expirations;
          }
        }
        break;
      }
      case 4: {  // erase
        RC_ASSERT(cache.erase(key) == (m.entries.erase(key) == 1));
        break;
      }
      case 5: {  // ttl, and a namespace clear now and then
        const auto it = m.entries.find(key);
        const bool live = it != m.entries.end() && now < it->second.expires_at;
        RC_ASSERT(cache.ttl(key) ==
                  (live ? std::optional(it->second.expires_at - now) : std::nullopt));
        if (grains == 0) {
          std::size_t expected =
              std::erase_if(m.entries, [](const auto& kv) { return kv.first.starts_with("b:"); });
          RC_ASSERT(cache.erase_prefix("b:") == expected);
        }
        break;
      }
      case 6: {  // time passes; sometimes sweep
        clock.advance(std::chrono::milliseconds{grains * 50});
        if (grains % 3 == 0) {
          const auto later = clock.now();
          const std::size_t expected = std::erase_if(
              m.entries, [later](const auto& kv) { return kv.second.expires_at <= later; });
          m.expirations += expected;
          RC_ASSERT(cache.sweep_expired() == expected);
        }
        break;
      }
    }
    const l1_stats stats = cache.stats();
    RC_ASSERT(stats.entries == m.entries.size());
    RC_ASSERT(stats.bytes == m.bytes());
    RC_ASSERT(stats.hits == m.hits);
    RC_ASSERT(stats.misses == m.misses);
    RC_ASSERT(stats.expirations == m.expirations);
    RC_ASSERT(stats.evictions == 0u);
  }
}

}  // namespace
}  // namespace cachekit
