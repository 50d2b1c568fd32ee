// The C++ cases bench/peers/run_peers.py needs and cachekit_bench lacks, built against an installed
// cachekit (find_package), beside the cases it reuses from cachekit_bench:
// - a memoized call in interop mode (`memoize_interop`, interop/v1 keys, plain MessagePack
//   values): cachekit-rs's `#[cachekit]` works only that way, and cachekit-py's
//   `@cache(interop=...)` too. Served by L1 (1,024 keys in bench/cache_bench.cpp's scattered
//   order and with its function) and by Redis with L1 off (one key, as cache_memo_l2_hit_redis);
// - `--write-payloads DIR`: writes the envelope payloads of bench/envelope_bench.cpp
//   (`realistic(N)`, copied below) so that every side compresses the same bytes.
// The Redis case needs CACHEKIT_PEERS_REDIS_URL (the driver starts the server); without it the
// case is skipped with an error.
#include <cachekit/cache.hpp>
#include <cachekit/envelope.hpp>
#include <cachekit/redis_backend.hpp>

#include <benchmark/benchmark.h>

#include "protocol/msgpack_writer.hpp"  // from the source tree, as bench/envelope_bench.cpp

#include <array>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

// ---- bench/cache_bench.cpp's memoized function and arguments -----------------------------------

struct product {
  std::int64_t id = 0;
  std::string name;
  double price = 0;
  MSGPACK_DEFINE_MAP(id, name, price);
};

std::atomic<int> lookup_runs{0};

product lookup(std::int64_t id, const std::string& region) {
  ++lookup_runs;
  return product{id, "item-" + region, 1.5 * static_cast<double>(id)};
}

constexpr std::string_view interop_ns = "catalog";  // bench/peers/peer_inputs.py MEMO_INTEROP_*
constexpr std::string_view interop_op = "lookup";
constexpr std::size_t key_count = 1024;
const std::array<std::string, 4> regions = {"eu-west-1", "us-east-1", "ap-south-1", "sa-east-1"};

struct call_args {
  std::int64_t id;
  const std::string* region;
};

const std::vector<call_args>& arguments() {
  static const std::vector<call_args> args = [] {
    std::vector<call_args> out;
    for (std::size_t i = 0; i < key_count; ++i) {
      out.push_back({static_cast<std::int64_t>(100'000 + i * 7), &regions[i % regions.size()]});
    }
    return out;
  }();
  return args;
}

std::size_t next_index(std::size_t& i) {
  i += 389;
  return i & (key_count - 1);
}

using memo_type = decltype(std::declval<cachekit::cache&>().memoize_interop("", "", lookup));

// ---- L1 hit, interop mode ----------------------------------------------------------------------

struct l1_fixture {
  l1_fixture()
      : cache([] {
          cachekit::cache_options o;  // L1 only, as cache_memo_l1_hit_bytes
          o.object_max_entries = 4 * key_count;
          return o;
        }()),
        memo(cache.memoize_interop(interop_ns, interop_op, lookup)) {
    for (const auto& a : arguments()) (void)memo(a.id, *a.region);
    const int runs = lookup_runs;
    for (const auto& a : arguments()) (void)memo(a.id, *a.region);
    if (lookup_runs != runs) std::abort();  // every read must hit
  }
  cachekit::cache cache;
  memo_type memo;
};

void peers_memo_interop_l1_hit(benchmark::State& state) {
  static l1_fixture f;
  const auto& args = arguments();
  std::size_t i = 0;
  for (auto _ : state) {
    const call_args& a = args[next_index(i)];
    product p = f.memo(a.id, *a.region);
    benchmark::DoNotOptimize(p.id);
    benchmark::DoNotOptimize(p.name.data());
  }
}
BENCHMARK(peers_memo_interop_l1_hit);

// ---- L2 hit on Redis, interop mode ------------------------------------------------------------

struct redis_fixture {
  explicit redis_fixture(const char* url)
      : cache(cachekit::cache_options{.l2 = std::make_shared<cachekit::redis_backend>(
                                          cachekit::redis_options{.url = url, .pool_size = 1}),
                                      .l1_enabled = false}),
        memo(cache.memoize_interop(interop_ns, interop_op, lookup)) {
    (void)memo(42, regions[0]);  // stores the entry
    const auto info = memo.info();
    (void)memo(42, regions[0]);
    if (memo.info().l2_hits != info.l2_hits + 1) std::abort();  // must be an L2 hit
  }
  cachekit::cache cache;
  memo_type memo;
};

void peers_memo_interop_l2_hit_redis(benchmark::State& state) {
  const char* url = std::getenv("CACHEKIT_PEERS_REDIS_URL");
  if (url == nullptr) {
    state.SkipWithError("set CACHEKIT_PEERS_REDIS_URL to a redis:// URL (run_peers.py does)");
    return;
  }
  static redis_fixture f(url);
  for (auto _ : state) {
    product p = f.memo(42, regions[0]);
    benchmark::DoNotOptimize(p.id);
  }
  if (f.cache.stats().l2_errors != 0) state.SkipWithError("L2 errors during the run");
}
BENCHMARK(peers_memo_interop_l2_hit_redis)->UseRealTime();

// ---- bench/envelope_bench.cpp's payload --------------------------------------------------------

// A copy of envelope_bench.cpp's realistic(size), line for line (the order GCC evaluates the two
// rng() calls of `created_at` in is part of the bytes). run_peers.py checks the copy: the envelope
// of these bytes must be as large as envelope_encode/N of cachekit_bench reports.
cachekit::byte_buffer realistic(std::size_t size) {
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

int write_payloads(const std::string& dir) {
  for (std::size_t size : {std::size_t{1024}, std::size_t{64 * 1024}}) {
    const cachekit::byte_buffer data = realistic(size);
    const std::string path = dir + "/realistic_" + std::to_string(size) + ".bin";
    std::ofstream f(path, std::ios::binary);
    f.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
    if (!f) {
      std::fprintf(stderr, "cannot write %s\n", path.c_str());
      return 1;
    }
    const auto env = cachekit::envelope::encode(data);
    // One line per payload: size and its envelope's size, for the driver's check of the copy.
    std::printf("%zu %zu\n", size, env.value().size());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::strcmp(argv[1], "--write-payloads") == 0) return write_payloads(argv[2]);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
