// redis_backend against bare hiredis 0.14 on the same redis-server, in the same run, with the
// same connection setup (blocking context, connect timeout, socket timeout, TCP_NODELAY that
// hiredis sets itself). The ratios (ours / hiredis) are the numbers to watch: absolute times on
// these VMs mostly measure the loopback wake-up of the other vCPU. For stable figures pin the
// bench and the redis-server it starts (a child, so it inherits the mask) to one CPU:
//     taskset -c 0 build/bench/cachekit_bench --benchmark_filter=redis_ \
//         --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <cachekit/redis_backend.hpp>

#include "support/local_server.hpp"
#include "support/tls_certificates.hpp"

#include <benchmark/benchmark.h>
#include <hiredis/hiredis.h>

#include <sys/time.h>

#include <array>
#include <memory>
#include <string>
#include <vector>

namespace {

using cachekit::testing::local_server;

constexpr std::size_t batch = 16;

const cachekit::byte_buffer& value_1k() {
  static const cachekit::byte_buffer value(1024, std::byte{'v'});
  return value;
}

const std::vector<std::string>& batch_keys() {
  static const std::vector<std::string> keys = [] {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < batch; ++i) out.push_back("bench:redis:batch:" + std::to_string(i));
    return out;
  }();
  return keys;
}

constexpr std::string_view single_key = "bench:redis:1k";

// One redis-server for the whole run, started and filled with the 1 KiB value under every key
// the benches read on first use, stopped at exit.
local_server& shared_server() {
  static const std::unique_ptr<local_server> server = [] {
    auto started = local_server::start_redis();
    cachekit::redis_backend seeder({.url = started->address(), .pool_size = 1});
    seeder.set(single_key, value_1k(), std::nullopt).value();
    for (const auto& k : batch_keys()) seeder.set(k, value_1k(), std::nullopt).value();
    return started;
  }();
  return *server;
}

std::string bench_url() {
  return shared_server().address();
}

// The connection redis_backend makes, minus the pool: connect with a timeout, then the
// command timeout on the socket.
struct bare_context {
  bare_context() {
    const timeval five_seconds{5, 0};
    context = redisConnectWithTimeout("127.0.0.1", shared_server().port(), five_seconds);
    if (context != nullptr && context->err == 0) redisSetTimeout(context, five_seconds);
  }
  ~bare_context() { redisFree(context); }
  bare_context(const bare_context&) = delete;
  bare_context& operator=(const bare_context&) = delete;
  [[nodiscard]] bool ok() const { return context != nullptr && context->err == 0; }

  redisContext* context = nullptr;
};

redisReply* bare_get(redisContext* c, std::string_view key) {
  std::array<const char*, 2> argv = {"GET", key.data()};
  const std::array<std::size_t, 2> lens = {3, key.size()};
  return static_cast<redisReply*>(redisCommandArgv(c, 2, argv.data(), lens.data()));
}

void redis_get_1k_cachekit(benchmark::State& state) {
  cachekit::redis_backend backend({.url = bench_url(), .pool_size = 1});
  for (auto _ : state) {
    auto hit = backend.get(single_key);
    if (!hit || !*hit || (*hit)->size() != 1024) {
      state.SkipWithError("get missed or failed");
      return;
    }
    benchmark::DoNotOptimize(hit);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * 1024);
}

void redis_get_1k_hiredis(benchmark::State& state) {
  bare_context bare;
  if (!bare.ok()) {
    state.SkipWithError("connect failed");
    return;
  }
  for (auto _ : state) {
    redisReply* reply = bare_get(bare.context, single_key);
    if (reply == nullptr || reply->type != REDIS_REPLY_STRING || reply->len != 1024) {
      state.SkipWithError("GET missed or failed");
      return;
    }
    benchmark::DoNotOptimize(reply->str);
    freeReplyObject(reply);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * 1024);
}

// The same GET over TLS (rediss://, certificate and host name verified) to a TLS-only
// redis-server of its own, for the TLS / plain ratio (redis_get_1k_cachekit is plain).
void redis_get_1k_cachekit_tls(benchmark::State& state) {
  static const auto certs = cachekit::testing::tls_certificates::make();
  static const std::unique_ptr<local_server> server = [] {
    auto started = local_server::start_redis_tls(
        {.cert = certs->server_cert(), .key = certs->server_key(), .ca = certs->ca_cert()});
    return started;
  }();
  cachekit::redis_backend backend(
      {.url = server->address() + "?ssl_ca_certs=" + certs->ca_cert().string(), .pool_size = 1});
  if (!backend.set(single_key, value_1k(), std::nullopt)) {
    state.SkipWithError("set over TLS failed");
    return;
  }
  for (auto _ : state) {
    auto hit = backend.get(single_key);
    if (!hit || !*hit || (*hit)->size() != 1024) {
      state.SkipWithError("get missed or failed");
      return;
    }
    benchmark::DoNotOptimize(hit);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * 1024);
}

void redis_get_many_16_cachekit(benchmark::State& state) {
  cachekit::redis_backend backend({.url = bench_url(), .pool_size = 1});
  std::vector<std::string_view> keys(batch_keys().begin(), batch_keys().end());
  for (auto _ : state) {
    auto hits = backend.get_many(keys);
    if (!hits || hits->size() != batch || !hits->back()) {
      state.SkipWithError("get_many failed");
      return;
    }
    benchmark::DoNotOptimize(hits);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * batch));
}

void redis_16_sequential_gets_hiredis(benchmark::State& state) {
  bare_context bare;
  if (!bare.ok()) {
    state.SkipWithError("connect failed");
    return;
  }
  for (auto _ : state) {
    for (const auto& k : batch_keys()) {
      redisReply* reply = bare_get(bare.context, k);
      if (reply == nullptr || reply->type != REDIS_REPLY_STRING) {
        state.SkipWithError("GET missed or failed");
        return;
      }
      benchmark::DoNotOptimize(reply->str);
      freeReplyObject(reply);
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * batch));
}

// The two one-round-trip shapes get_many could take: MGET (what it uses) and 16 pipelined GETs.
void redis_mget_16_hiredis(benchmark::State& state) {
  bare_context bare;
  if (!bare.ok()) {
    state.SkipWithError("connect failed");
    return;
  }
  std::vector<const char*> argv = {"MGET"};
  std::vector<std::size_t> lens = {4};
  for (const auto& k : batch_keys()) {
    argv.push_back(k.data());
    lens.push_back(k.size());
  }
  for (auto _ : state) {
    auto* reply = static_cast<redisReply*>(
        redisCommandArgv(bare.context, static_cast<int>(argv.size()), argv.data(), lens.data()));
    if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY || reply->elements != batch) {
      state.SkipWithError("MGET failed");
      return;
    }
    benchmark::DoNotOptimize(reply->element);
    freeReplyObject(reply);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * batch));
}

void redis_pipelined_16_gets_hiredis(benchmark::State& state) {
  bare_context bare;
  if (!bare.ok()) {
    state.SkipWithError("connect failed");
    return;
  }
  for (auto _ : state) {
    for (const auto& k : batch_keys()) {
      std::array<const char*, 2> argv = {"GET", k.data()};
      const std::array<std::size_t, 2> lens = {3, k.size()};
      redisAppendCommandArgv(bare.context, 2, argv.data(), lens.data());
    }
    for (std::size_t i = 0; i < batch; ++i) {
      void* reply = nullptr;
      if (redisGetReply(bare.context, &reply) != REDIS_OK) {
        state.SkipWithError("pipelined GET failed");
        return;
      }
      benchmark::DoNotOptimize(reply);
      freeReplyObject(reply);
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * batch));
}

void redis_set_1k_cachekit(benchmark::State& state) {
  cachekit::redis_backend backend({.url = bench_url(), .pool_size = 1});
  for (auto _ : state) {
    if (!backend.set("bench:redis:set", value_1k(), std::chrono::seconds(600))) {
      state.SkipWithError("set failed");
      return;
    }
  }
}

// The tenant-scoped layout's write with cachekit-py's key registry (SET + SADD + EXPIRE in one
// round trip) against the same SET alone: what recording a memoized write costs.
void redis_set_1k_tenant_scoped(benchmark::State& state) {
  cachekit::redis_backend backend({.url = bench_url(),
                                   .pool_size = 1,
                                   .key_layout = cachekit::redis_key_layout::tenant_scoped});
  for (auto _ : state) {
    if (!backend.set("bench:redis:set", value_1k(), std::chrono::seconds(600))) {
      state.SkipWithError("set failed");
      return;
    }
  }
}

void redis_set_tracked_1k_tenant_scoped(benchmark::State& state) {
  cachekit::redis_backend backend({.url = bench_url(),
                                   .pool_size = 1,
                                   .key_layout = cachekit::redis_key_layout::tenant_scoped});
  for (auto _ : state) {
    if (!backend.set_tracked("bench:redis:set", value_1k(), std::chrono::seconds(600),
                             "ck:reg:bench:0123456789abcdef")) {
      state.SkipWithError("set_tracked failed");
      return;
    }
  }
}

void redis_set_1k_hiredis(benchmark::State& state) {
  bare_context bare;
  if (!bare.ok()) {
    state.SkipWithError("connect failed");
    return;
  }
  const std::string_view key = "bench:redis:set";
  std::array<const char*, 5> argv = {"SET", key.data(),
                                     reinterpret_cast<const char*>(value_1k().data()), "EX", "600"};
  const std::array<std::size_t, 5> lens = {3, key.size(), value_1k().size(), 2, 3};
  for (auto _ : state) {
    auto* reply =
        static_cast<redisReply*>(redisCommandArgv(bare.context, 5, argv.data(), lens.data()));
    if (reply == nullptr || reply->type != REDIS_REPLY_STATUS) {
      state.SkipWithError("SET failed");
      return;
    }
    freeReplyObject(reply);
  }
}

}  // namespace

BENCHMARK(redis_get_1k_hiredis)->UseRealTime();
BENCHMARK(redis_get_1k_cachekit)->UseRealTime();
BENCHMARK(redis_get_1k_cachekit_tls)->UseRealTime();
BENCHMARK(redis_set_1k_hiredis)->UseRealTime();
BENCHMARK(redis_set_1k_cachekit)->UseRealTime();
BENCHMARK(redis_set_1k_tenant_scoped)->UseRealTime();
BENCHMARK(redis_set_tracked_1k_tenant_scoped)->UseRealTime();
BENCHMARK(redis_16_sequential_gets_hiredis)->UseRealTime();
BENCHMARK(redis_mget_16_hiredis)->UseRealTime();
BENCHMARK(redis_pipelined_16_gets_hiredis)->UseRealTime();
BENCHMARK(redis_get_many_16_cachekit)->UseRealTime();
