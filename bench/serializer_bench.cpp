// What the json serializer (cachekit-py "orjson") costs against the default MessagePack one, per
// value, seal + open through storage_format (the codec boundary a memoized call crosses on a
// store and on every L1/L2 hit), integrity checking on and off. Report ratios:
//   serializer_open/json_on  / serializer_open/standard_on
//   serializer_seal/json_on  / serializer_seal/standard_on
// The value is a small API record (an id, two strings, a list of 8 floats, a nested map), the
// kind of result the JSON serializer is meant for.
#include <cachekit/storage_format.hpp>
#include <cachekit/value_codec.hpp>

#include <benchmark/benchmark.h>

namespace {

using cachekit::serializer_kind;

cachekit::byte_buffer api_record() {
  cachekit::value_array scores;
  for (int i = 0; i < 8; ++i) scores.emplace_back(0.5 + i * 1.25);
  return cachekit::encode_standard_value(
             cachekit::value_map{
                 {"id", 123456},
                 {"name", "Ada Lovelace"},
                 {"email", "ada@example.com"},
                 {"scores", std::move(scores)},
                 {"meta", cachekit::value_map{{"active", true}, {"plan", "pro"}, {"logins", 42}}},
             })
      .value();
}

cachekit::storage_format format_for(int which) {
  const serializer_kind kind = which < 2 ? serializer_kind::standard : serializer_kind::json;
  return cachekit::storage_format(
      {.serializer = kind, .integrity_checking = which % 2 == 0, .key_binding = false});
}

void serializer_seal(benchmark::State& state) {
  const auto fmt = format_for(static_cast<int>(state.range(0)));
  const auto msgpack = api_record();
  for (auto _ : state) benchmark::DoNotOptimize(fmt.seal(msgpack, "k"));
}

void serializer_open(benchmark::State& state) {
  const auto fmt = format_for(static_cast<int>(state.range(0)));
  const auto stored = fmt.seal(api_record(), "k").value();
  for (auto _ : state) benchmark::DoNotOptimize(fmt.open(stored, "k"));
}

void formats(benchmark::internal::Benchmark* b) {
  b->ArgName("standard_on_standard_off_json_on_json_off");
  for (int i = 0; i < 4; ++i) b->Arg(i);
}

BENCHMARK(serializer_seal)->Apply(formats);
BENCHMARK(serializer_open)->Apply(formats);

}  // namespace
