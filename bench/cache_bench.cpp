// The two-level cache on its hot paths, beside the pieces it is made of, in the same run:
// - a memoized call served by L1, bytes mode (the stored CK frame is opened and decoded on
//   every hit) and object mode (`intent::local`: the decoded struct is held), with and without
//   the per-function counters (`collect_stats`), on 1 and 2 threads (report the 2/1 ratio of
//   items_per_second, beside `cache_piece_key`'s: a loaded machine does not scale at all);
// - a memoized call served by L1 in interop mode (plain canonical msgpack stored, so a hit is
//   the key, the lookup, a copy and the typed decode), beside msgpack-cxx alone unpacking and
//   converting the same stored bytes (`cache_struct_raw_msgpack_convert`, the floor of a struct
//   hit);
// - the same work done by hand with no cache around it (`cache_pieces_in_sequence_*`: key,
//   L1 lookup, open, decode), the fair baseline of the memoized call; and each piece alone:
//   key derivation, `l1_cache::get`, opening the stored frame (`storage_format::open`),
//   decoding the msgpack (`codec<T>::decode`), `object_cache::get`;
// - a memoized call served by L2 on a loopback redis-server (L1 off) against a bare hiredis GET
//   of the same stored bytes on its own connection.
// docs/benchmarks.md ("Cache and memoize") has the figures and the commands.
#include <cachekit/cache.hpp>
#include <cachekit/codec.hpp>
#include <cachekit/default_key.hpp>
#include <cachekit/l1_cache.hpp>
#include <cachekit/memory_backend.hpp>
#include <cachekit/object_cache.hpp>
#include <cachekit/redis_backend.hpp>
#include <cachekit/storage_format.hpp>

#include "bench_inputs.hpp"
#include "support/local_server.hpp"

#include <benchmark/benchmark.h>
#include <hiredis/hiredis.h>
#include <msgpack.hpp>  // unpack: cachekit's headers carry only the packing side

#include <sys/time.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace {

using cachekit::testing::local_server;

using cachekit_bench::arguments;
using cachekit_bench::call_args;
using cachekit_bench::key_count;
using cachekit_bench::lookup;
using cachekit_bench::lookup_runs;
using cachekit_bench::next_index;
using cachekit_bench::product;
using cachekit_bench::regions;

constexpr std::string_view function_name = "bench.catalog.lookup";
constexpr std::string_view interop_ns = "catalog";  // as bench/peers/cpp
constexpr std::string_view interop_op = "lookup";

// Each thread starts elsewhere in the scattered order.
std::size_t start_index(const benchmark::State& state) {
  return static_cast<std::size_t>(state.thread_index()) * 7919;
}

// What `lookup` returns for `a`, without counting a run.
product result_of(const call_args& a) {
  return product{a.id, "item-" + *a.region, 1.5 * static_cast<double>(a.id)};
}

// ---- L1 hits -----------------------------------------------------------------------------

enum class mode { bytes, objects, interop };

// One cache per mode, shared by the threads, every key already cached. `Stats` false turns off
// the per-function counters (`cache_options::collect_stats`), to show what they cost.
template <mode Mode, bool Stats>
struct l1_fixture {
  l1_fixture()
      : cache([] {
          auto o = Mode == mode::objects
                       ? cachekit::cache_options::for_intent(cachekit::intent::local)
                       : cachekit::cache_options{};  // bytes mode, L1 only, integrity on
          o.object_max_entries = 4 * key_count;      // every key fits in every shard
          o.object_function_max_bytes = 16u << 20;   // the byte budget must not evict either
          o.collect_stats = Stats;
          return o;
        }()),
        memo(Mode == mode::interop ? cache.memoize_interop(interop_ns, interop_op, lookup)
                                   : cache.memoize(function_name, lookup)) {
    for (const auto& a : arguments()) (void)memo(a.id, *a.region);
    const int runs = lookup_runs;
    for (const auto& a : arguments()) (void)memo(a.id, *a.region);
    if (lookup_runs != runs) std::abort();  // every read must hit
  }
  cachekit::cache cache;
  decltype(cache.memoize(function_name, lookup)) memo;
};

template <mode Mode, bool Stats = true>
l1_fixture<Mode, Stats>& fixture() {
  static l1_fixture<Mode, Stats> f;
  return f;
}

template <mode Mode, bool Stats>
void memo_l1_hit(benchmark::State& state) {
  auto& f = fixture<Mode, Stats>();
  const auto& args = arguments();
  std::size_t i = start_index(state);
  for (auto _ : state) {
    const call_args& a = args[next_index(i)];
    product p = f.memo(a.id, *a.region);
    benchmark::DoNotOptimize(p.id);
    benchmark::DoNotOptimize(p.name.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

void cache_memo_l1_hit_bytes(benchmark::State& state) {
  memo_l1_hit<mode::bytes, true>(state);
}
void cache_memo_l1_hit_objects(benchmark::State& state) {
  memo_l1_hit<mode::objects, true>(state);
}
void cache_memo_l1_hit_interop(benchmark::State& state) {
  memo_l1_hit<mode::interop, true>(state);
}
void cache_memo_l1_hit_bytes_no_stats(benchmark::State& state) {
  memo_l1_hit<mode::bytes, false>(state);
}
void cache_memo_l1_hit_objects_no_stats(benchmark::State& state) {
  memo_l1_hit<mode::objects, false>(state);
}

// msgpack-cxx alone on the bytes an interop-mode L1 holds: unpack (a fresh zone per call, as its
// API gives) and convert to the struct; no bounds, no result. The floor of a struct L1 hit.
void cache_struct_raw_msgpack_convert(benchmark::State& state) {
  std::vector<cachekit::byte_buffer> stored;
  for (const auto& a : arguments()) {
    stored.push_back(
        cachekit::detail::stored_value_codec<product>::encode(result_of(a), true).value());
  }
  std::size_t i = start_index(state);
  for (auto _ : state) {
    const auto& bytes = stored[next_index(i)];
    const msgpack::object_handle handle =
        msgpack::unpack(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    product p = handle.get().as<product>();
    benchmark::DoNotOptimize(p.id);
    benchmark::DoNotOptimize(p.name.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

// ---- the pieces of a hit -----------------------------------------------------------------

// What the bytes-mode cache holds for every key: the key, the stored frame, its msgpack.
struct piece_fixture {
  piece_fixture() {
    for (const auto& a : arguments()) {
      keys.push_back(key_of(a.id, *a.region).value());
      // What the bytes-mode memoized function stores for this call.
      auto packed = cachekit::detail::stored_value_codec<product>::encode(result_of(a), false);
      auto stored = format.seal(packed.value(), "").value();
      l1.put(keys.back(), stored);
      objects.put(keys.back(), result_of(a));
      msgpack.push_back(format.open(stored, "").value().msgpack);
      frames.push_back(std::move(stored));
    }
  }
  cachekit::default_key_builder key_of{function_name};  // what memoize builds: integrity on
  cachekit::storage_format format{{.mode = cachekit::storage_mode::frame}};
  cachekit::l1_cache l1;
  cachekit::object_cache<product> objects{{.max_entries = 4 * key_count}};
  std::vector<std::string> keys;
  std::vector<cachekit::byte_buffer> frames;
  std::vector<cachekit::byte_buffer> msgpack;
};

piece_fixture& pieces() {
  static piece_fixture p;
  return p;
}

void cache_piece_key(benchmark::State& state) {
  auto& p = pieces();
  const auto& args = arguments();
  std::size_t i = start_index(state);
  for (auto _ : state) {
    const call_args& a = args[next_index(i)];
    auto key = p.key_of(a.id, *a.region);
    benchmark::DoNotOptimize(key->data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

void cache_piece_l1_get(benchmark::State& state) {
  auto& p = pieces();
  std::size_t i = start_index(state);
  for (auto _ : state) {
    auto hit = p.l1.get(p.keys[next_index(i)]);
    benchmark::DoNotOptimize(hit->data());
  }
}

void cache_piece_open(benchmark::State& state) {
  auto& p = pieces();
  std::size_t i = start_index(state);
  for (auto _ : state) {
    auto opened = p.format.open(p.frames[next_index(i)], "");
    benchmark::DoNotOptimize(opened->msgpack.data());
  }
}

void cache_piece_decode(benchmark::State& state) {
  auto& p = pieces();
  std::size_t i = start_index(state);
  for (auto _ : state) {
    auto decoded = cachekit::codec<product>::decode(p.msgpack[next_index(i)]);
    benchmark::DoNotOptimize(decoded->id);
    benchmark::DoNotOptimize(decoded->name.data());
  }
}

void cache_piece_object_get(benchmark::State& state) {
  auto& p = pieces();
  std::size_t i = start_index(state);
  for (auto _ : state) {
    auto held = p.objects.get(p.keys[next_index(i)]);
    product copy = *held;  // what the memoized call returns
    benchmark::DoNotOptimize(copy.name.data());
  }
}

// The pieces in sequence, with no cache around them: what a bytes-mode hit must do at least.
void cache_pieces_in_sequence_bytes(benchmark::State& state) {
  auto& p = pieces();
  const auto& args = arguments();
  std::size_t i = start_index(state);
  for (auto _ : state) {
    const call_args& a = args[next_index(i)];
    auto key = p.key_of(a.id, *a.region);
    auto hit = p.l1.get(*key);
    auto opened = p.format.open(hit->bytes(), "");
    auto decoded = cachekit::codec<product>::decode(opened->msgpack);
    benchmark::DoNotOptimize(decoded->id);
    benchmark::DoNotOptimize(decoded->name.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

// The same for an object-mode hit: the key, the lookup, the copy returned.
void cache_pieces_in_sequence_objects(benchmark::State& state) {
  auto& p = pieces();
  const auto& args = arguments();
  std::size_t i = start_index(state);
  for (auto _ : state) {
    const call_args& a = args[next_index(i)];
    auto key = p.key_of(a.id, *a.region);
    auto held = p.objects.get(*key);
    product copy = *held;
    benchmark::DoNotOptimize(copy.id);
    benchmark::DoNotOptimize(copy.name.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

// ---- L2 hits on Redis ----------------------------------------------------------------------

local_server& redis_server() {
  static const std::unique_ptr<local_server> server = local_server::start_redis();
  return *server;
}

// L1 off so every call is an L2 hit; `layer`: the reliability stack (backpressure, breaker,
// retry) around the backend, as every cache has by default, or the bare backend, so the
// layer's cost on the hit path is the ratio of the two in one run.
cachekit::cache_options l2_only(std::shared_ptr<cachekit::backend> l2, bool layer) {
  cachekit::cache_options options{.l2 = std::move(l2), .l1_enabled = false};
  if (!layer) {
    options.reliability = {
        .backpressure = std::nullopt, .circuit_breaker = std::nullopt, .retry = std::nullopt};
  }
  return options;
}

struct redis_fixture {
  explicit redis_fixture(bool layer = true)
      : cache(l2_only(std::make_shared<cachekit::redis_backend>(
                          cachekit::redis_options{.url = redis_server().address(), .pool_size = 1}),
                      layer)),
        memo(cache.memoize(function_name, lookup)),
        key(memo.key(42, regions[0]).value()) {
    (void)memo(42, regions[0]);  // stores the entry
    const auto info = memo.info();
    (void)memo(42, regions[0]);
    if (memo.info().l2_hits != info.l2_hits + 1) std::abort();  // must be an L2 hit
  }
  cachekit::cache cache;
  decltype(cache.memoize(function_name, lookup)) memo;
  std::string key;
};

redis_fixture& redis() {
  static redis_fixture f;
  return f;
}

redis_fixture& redis_without_layer() {
  static redis_fixture f(false);
  return f;
}

void run_l2_hits(benchmark::State& state, redis_fixture& f) {
  for (auto _ : state) {
    product p = f.memo(42, regions[0]);
    benchmark::DoNotOptimize(p.id);
  }
  if (f.cache.stats().l2_errors != 0) state.SkipWithError("L2 errors during the run");
}

void cache_memo_l2_hit_redis(benchmark::State& state) {
  run_l2_hits(state, redis());
}

void cache_memo_l2_hit_redis_no_layer(benchmark::State& state) {
  run_l2_hits(state, redis_without_layer());
}

// The layer's own cost, without the network's noise: L2 hits on an in-process memory_backend,
// with and without the reliability stack.
struct memory_l2_fixture {
  explicit memory_l2_fixture(bool layer)
      : cache(l2_only(std::make_shared<cachekit::memory_backend>(), layer)),
        memo(cache.memoize(function_name, lookup)) {
    (void)memo(42, regions[0]);
    const auto info = memo.info();
    (void)memo(42, regions[0]);
    if (memo.info().l2_hits != info.l2_hits + 1) std::abort();  // must be an L2 hit
  }
  cachekit::cache cache;
  decltype(cache.memoize(function_name, lookup)) memo;
};

void run_memory_l2_hits(benchmark::State& state, bool layer) {
  static memory_l2_fixture with(true);
  static memory_l2_fixture without(false);
  auto& f = layer ? with : without;
  for (auto _ : state) {
    product p = f.memo(42, regions[0]);
    benchmark::DoNotOptimize(p.id);
  }
}

void cache_memo_l2_hit_memory(benchmark::State& state) {
  run_memory_l2_hits(state, true);
}

void cache_memo_l2_hit_memory_no_layer(benchmark::State& state) {
  run_memory_l2_hits(state, false);
}

// The same stored bytes through bare hiredis, on a connection set up as redis_backend's is.
void cache_l2_baseline_hiredis_get(benchmark::State& state) {
  auto& f = redis();
  const timeval five_seconds{5, 0};
  redisContext* c = redisConnectWithTimeout("127.0.0.1", redis_server().port(), five_seconds);
  if (c == nullptr || c->err != 0) {
    state.SkipWithError("connect failed");
    redisFree(c);
    return;
  }
  redisSetTimeout(c, five_seconds);
  std::array<const char*, 2> argv = {"GET", f.key.data()};
  const std::array<std::size_t, 2> lens = {3, f.key.size()};
  for (auto _ : state) {
    auto* reply = static_cast<redisReply*>(redisCommandArgv(c, 2, argv.data(), lens.data()));
    if (reply == nullptr || reply->type != REDIS_REPLY_STRING) {
      state.SkipWithError("GET missed or failed");
      break;
    }
    benchmark::DoNotOptimize(reply->str);
    freeReplyObject(reply);
  }
  redisFree(c);
}

}  // namespace

BENCHMARK(cache_memo_l1_hit_bytes)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(cache_memo_l1_hit_objects)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(cache_memo_l1_hit_interop)->Threads(1)->UseRealTime();
BENCHMARK(cache_struct_raw_msgpack_convert)->Threads(1)->UseRealTime();
BENCHMARK(cache_memo_l1_hit_bytes_no_stats)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(cache_memo_l1_hit_objects_no_stats)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(cache_pieces_in_sequence_bytes)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(cache_pieces_in_sequence_objects)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(cache_piece_key)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(cache_piece_l1_get);
BENCHMARK(cache_piece_open);
BENCHMARK(cache_piece_decode);
BENCHMARK(cache_piece_object_get);
BENCHMARK(cache_l2_baseline_hiredis_get)->UseRealTime();
BENCHMARK(cache_memo_l2_hit_redis)->UseRealTime();
BENCHMARK(cache_memo_l2_hit_redis_no_layer)->UseRealTime();
BENCHMARK(cache_memo_l2_hit_memory)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(cache_memo_l2_hit_memory_no_layer)->Threads(1)->Threads(2)->UseRealTime();
