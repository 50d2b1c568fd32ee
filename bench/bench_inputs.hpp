// Inputs shared by the benchmark suites and the side-by-side peers (bench/peers/cpp): every side
// must time the same bytes and the same workload, so they are written once.
// - `realistic_payload(N)`: concatenated msgpack user records cut to N bytes (the "realistic"
//   payload of research/limits.md). bench/peers/peer_inputs.py writes them out for the other
//   SDKs through `cachekit_peers_bench --write-payloads`.
// - the memoized workload: `lookup(id, region)` returning a 3-field `product`, 1,024 argument
//   pairs read in a scattered order.
#pragma once

#include <cachekit/bytes.hpp>
#include <cachekit/codec.hpp>

#include "protocol/msgpack_writer.hpp"  // from the source tree (src/ on the include path)

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace cachekit_bench {

inline cachekit::byte_buffer realistic_payload(std::size_t size) {
  static const char* const countries[] = {"DE", "FR", "US", "JP", "BR", "IN"};
  static const char* const tags[] = {"admin", "beta", "staff", "trial", "vip"};
  std::mt19937_64 rng(42);
  cachekit::byte_buffer out;
  cachekit::detail::msgpack_writer w(out);
  for (std::uint64_t id = 1; out.size() < size; ++id) {
    const std::size_t n_tags = 1 + rng() % 3;
    w.write_map_header(9);
    w.write_str("id");
    w.write_uint(100000 + id * 37);
    w.write_str("name");
    w.write_str("user_" + std::to_string(rng() % 5000));
    w.write_str("email");
    w.write_str("user" + std::to_string(id) + "@example.com");
    w.write_str("active");
    w.write_bool(rng() % 4 != 0);
    w.write_str("scores");
    w.write_array_header(3);
    for (int i = 0; i < 3; ++i) w.write_float64(static_cast<double>(rng() % 10000) / 100.0);
    w.write_str("country");
    w.write_str(countries[rng() % 6]);
    w.write_str("created_at");
    w.write_str("2026-0" + std::to_string(1 + rng() % 9) + "-1" + std::to_string(rng() % 10) +
                "T12:00:00+00:00");
    w.write_str("tags");
    w.write_array_header(n_tags);
    for (std::size_t i = 0; i < n_tags; ++i) w.write_str(tags[rng() % 5]);
    w.write_str("v");
    w.write_uint(rng() % 3);
  }
  out.resize(size);
  return out;
}

// The memoized function: two small arguments, a small struct result (a 3-entry dict).
struct product {
  std::int64_t id = 0;
  std::string name;
  double price = 0;
  MSGPACK_DEFINE_MAP(id, name, price);
};

inline std::atomic<int> lookup_runs{0};

inline product lookup(std::int64_t id, const std::string& region) {
  ++lookup_runs;
  return product{id, "item-" + region, 1.5 * static_cast<double>(id)};
}

inline constexpr std::size_t key_count = 1024;  // a power of two: the order index is masked
inline const std::array<std::string, 4> regions = {"eu-west-1", "us-east-1", "ap-south-1",
                                                   "sa-east-1"};

struct call_args {
  std::int64_t id;
  const std::string* region;
};

inline const std::vector<call_args>& arguments() {
  static const std::vector<call_args> args = [] {
    std::vector<call_args> out;
    for (std::size_t i = 0; i < key_count; ++i) {
      out.push_back({static_cast<std::int64_t>(100'000 + i * 7), &regions[i % regions.size()]});
    }
    return out;
  }();
  return args;
}

// Consecutive calls use keys far apart (a stride co-prime with key_count), as unrelated
// requests would.
inline std::size_t next_index(std::size_t& i) {
  i += 389;
  return i & (key_count - 1);
}

}  // namespace cachekit_bench
