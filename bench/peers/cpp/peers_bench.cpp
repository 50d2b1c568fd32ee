// The C++ cases bench/peers/run_peers.py needs and cachekit_bench lacks, built against an installed
// cachekit (find_package), beside the cases it reuses from cachekit_bench:
// - a memoized call in interop mode (`memoize_interop`, interop/v1 keys, plain MessagePack
//   values): cachekit-rs's `#[cachekit]` works only that way, and cachekit-py's
//   `@cache(interop=...)` too. Served by L1 (1,024 keys in bench/cache_bench.cpp's scattered
//   order and with its function) and by Redis with L1 off (one key, as cache_memo_l2_hit_redis);
// - `--write-payloads DIR`: writes the envelope payloads of bench/envelope_bench.cpp
//   (`realistic_payload(N)`, bench/bench_inputs.hpp) so every side compresses the same bytes.
// The Redis case needs CACHEKIT_PEERS_REDIS_URL (the driver starts the server); without it the
// case is skipped with an error.
#include <cachekit/cache.hpp>
#include <cachekit/envelope.hpp>
#include <cachekit/redis_backend.hpp>

#include <benchmark/benchmark.h>

#include "../../bench_inputs.hpp"  // the inputs every suite shares

#include <array>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

// ---- bench/cache_bench.cpp's memoized function and arguments (bench/bench_inputs.hpp) --------

using cachekit_bench::arguments;
using cachekit_bench::call_args;
using cachekit_bench::key_count;
using cachekit_bench::lookup;
using cachekit_bench::lookup_runs;
using cachekit_bench::next_index;
using cachekit_bench::product;
using cachekit_bench::regions;

constexpr std::string_view interop_ns = "catalog";  // bench/peers/peer_inputs.py MEMO_INTEROP_*
constexpr std::string_view interop_op = "lookup";

using memo_type = decltype(std::declval<cachekit::cache&>().memoize_interop("", "", lookup));

// ---- L1 hit, interop mode ----------------------------------------------------------------------

struct l1_fixture {
  l1_fixture()
      : cache([] {
          cachekit::cache_options o;  // L1 only, as cache_memo_l1_hit_bytes
          o.object_max_entries = 4 * key_count;
          o.object_function_max_bytes = 16u << 20;  // the byte budget must not evict either
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

int write_payloads(const std::string& dir) {
  for (std::size_t size : {std::size_t{1024}, std::size_t{16 * 1024}, std::size_t{64 * 1024}}) {
    const cachekit::byte_buffer data = cachekit_bench::realistic_payload(size);
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
