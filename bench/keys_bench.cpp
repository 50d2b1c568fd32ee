// Cache-key cost, against its floor: one unkeyed BLAKE2b-256 (libsodium) of the same pre-image.
// Report ratios (key / raw_blake2b_of_preimage), not absolute numbers.
#include <cachekit/default_key.hpp>
#include <cachekit/interop_key.hpp>

#include <benchmark/benchmark.h>
#include <sodium.h>

#include <string>

namespace {

// The call measured everywhere: f(42, "eu-west-1", 19.99) — three small arguments.
const std::string region = "eu-west-1";
constexpr int id = 42;
constexpr double price = 19.99;

const cachekit::default_key_options options{.ns = "pricing"};

void raw_blake2b_of_preimage(benchmark::State& state) {
  if (sodium_init() < 0) state.SkipWithError("sodium_init failed");
  const auto preimage = cachekit::default_key_preimage({id, region, price}).value();
  unsigned char digest[32];
  for (auto _ : state) {
    crypto_generichash(digest, sizeof digest,
                       reinterpret_cast<const unsigned char*>(preimage.data()), preimage.size(),
                       nullptr, 0);
    benchmark::DoNotOptimize(digest);
  }
  state.counters["preimage_bytes"] = static_cast<double>(preimage.size());
}
BENCHMARK(raw_blake2b_of_preimage);

void default_key_typed_builder(benchmark::State& state) {
  const cachekit::default_key_builder key_of("shop.pricing.quote", options);
  for (auto _ : state) {
    auto key = key_of(id, region, price);
    benchmark::DoNotOptimize(key);
  }
}
BENCHMARK(default_key_typed_builder);

void default_key_typed_with_kwarg(benchmark::State& state) {
  const cachekit::default_key_builder key_of("shop.pricing.quote", options);
  for (auto _ : state) {
    auto key = key_of(id, region, cachekit::kwarg("price", price));
    benchmark::DoNotOptimize(key);
  }
}
BENCHMARK(default_key_typed_with_kwarg);

void default_key_for_typed(benchmark::State& state) {
  for (auto _ : state) {
    auto key = cachekit::default_key_for("shop.pricing.quote", options, id, region, price);
    benchmark::DoNotOptimize(key);
  }
}
BENCHMARK(default_key_for_typed);

void default_key_dynamic_prebuilt_values(benchmark::State& state) {
  const cachekit::default_key_builder key_of("shop.pricing.quote", options);
  const cachekit::value_array args{id, region, price};
  for (auto _ : state) {
    auto key = key_of.key(args);
    benchmark::DoNotOptimize(key);
  }
}
BENCHMARK(default_key_dynamic_prebuilt_values);

void default_key_dynamic_building_values(benchmark::State& state) {
  for (auto _ : state) {
    auto key = cachekit::default_key("shop.pricing.quote", {id, region, price}, {}, options);
    benchmark::DoNotOptimize(key);
  }
}
BENCHMARK(default_key_dynamic_building_values);

void interop_key_typed(benchmark::State& state) {
  for (auto _ : state) {
    auto key = cachekit::interop_key_for("pricing", "quote", id, region, price);
    benchmark::DoNotOptimize(key);
  }
}
BENCHMARK(interop_key_typed);

void interop_key_dynamic(benchmark::State& state) {
  const cachekit::value_array args{id, region, price};
  for (auto _ : state) {
    auto key = cachekit::interop_key("pricing", "quote", args);
    benchmark::DoNotOptimize(key);
  }
}
BENCHMARK(interop_key_dynamic);

}  // namespace
