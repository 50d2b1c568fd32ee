// Typed encode and decode: cachekit's typed packer (float64 doubles, UTF-8-checked strings,
// typed_packer.hpp) beside msgpack-cxx's stock packer over the same kind of sink, which is what
// `codec<T>::encode` ran before (and which stores whole-number doubles as integers), and the
// interop rewrite (standard bytes -> canonical) that interop mode adds on a store.
//
//   typed_encode_product/{stock,cachekit}   the memoized benchmark's 3-field struct
//   typed_encode_series/{stock,cachekit}    64 whole-number doubles + a label (the worst case for
//                                           the change: every double was a 1-byte int before)
//   typed_decode_product                    codec<product>::decode of what encode wrote
//   typed_decode_product_raw_msgpack        the floor: msgpack-cxx alone, msgpack::unpack +
//                                           as<product>() of the same bytes (no bounds, no
//                                           result, a fresh zone per call as its API gives)
//   typed_decode_bounds_check_product       the decode-bounds pre-pass inside that decode
//   typed_encode_product_interop            encode + standard_to_interop
#include <benchmark/benchmark.h>

#include <cachekit/codec.hpp>
#include <cachekit/memoized.hpp>

#include <cstring>
#include <msgpack.hpp>  // unpack: cachekit's headers carry only the packing side
#include <string>
#include <vector>

#include "bench_inputs.hpp"
#include "protocol/msgpack_bounds.hpp"

namespace {

using cachekit::byte_buffer;
using cachekit_bench::product;

// msgpack-cxx's own packer: a sink of another type gets none of cachekit's packer overrides.
struct stock_sink {
  byte_buffer* out;
  void write(const char* data, std::size_t size) {
    const std::size_t at = out->size();
    out->resize(at + size);
    std::memcpy(out->data() + at, data, size);
  }
};

struct series {
  std::string label = "cpu.load.per-minute";
  std::vector<double> points;
  MSGPACK_DEFINE_MAP(label, points);
};

series make_series() {
  series s;
  for (int i = 0; i < 64; ++i) s.points.push_back(static_cast<double>(i * 3));
  return s;
}

// What `codec<T>::encode` was before the typed packer: a fresh buffer, the stock packer, a result.
template <class T>
cachekit::result<byte_buffer> stock_encode(const T& v) {
  byte_buffer out;
  stock_sink sink{&out};
  try {
    msgpack::pack(sink, v);
  } catch (const std::exception&) {
    return cachekit::fail(cachekit::errc::unsupported_type, "stock packer failed");
  }
  return out;
}

template <class T>
void encode_stock(benchmark::State& state, const T& v) {
  std::size_t size = 0;
  for (auto _ : state) {
    auto bytes = stock_encode(v);
    size = bytes->size();
    benchmark::DoNotOptimize(bytes->data());
  }
  state.counters["bytes"] = static_cast<double>(size);
}

template <class T>
void encode_cachekit(benchmark::State& state, const T& v) {
  std::size_t size = 0;
  for (auto _ : state) {
    auto bytes = cachekit::codec<T>::encode(v);
    size = bytes->size();
    benchmark::DoNotOptimize(bytes->data());
  }
  state.counters["bytes"] = static_cast<double>(size);
}

const product sample_product{42, "item-eu-west-1", 63.0};

void typed_encode_product_stock(benchmark::State& state) {
  encode_stock(state, sample_product);
}
void typed_encode_product_cachekit(benchmark::State& state) {
  encode_cachekit(state, sample_product);
}
void typed_encode_series_stock(benchmark::State& state) {
  encode_stock(state, make_series());
}
void typed_encode_series_cachekit(benchmark::State& state) {
  encode_cachekit(state, make_series());
}

void typed_decode_product(benchmark::State& state) {
  const byte_buffer bytes = cachekit::codec<product>::encode(sample_product).value();
  for (auto _ : state) {
    auto decoded = cachekit::codec<product>::decode(bytes);
    benchmark::DoNotOptimize(decoded->price);
  }
}

void typed_decode_product_raw_msgpack(benchmark::State& state) {
  const byte_buffer bytes = cachekit::codec<product>::encode(sample_product).value();
  for (auto _ : state) {
    const msgpack::object_handle handle =
        msgpack::unpack(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    auto decoded = handle.get().as<product>();
    benchmark::DoNotOptimize(decoded.price);
  }
}

// The decode-bounds pre-pass every typed decode now runs before msgpack-cxx (part of
// typed_decode_product).
void typed_decode_bounds_check_product(benchmark::State& state) {
  const byte_buffer bytes = cachekit::codec<product>::encode(sample_product).value();
  for (auto _ : state) {
    auto checked = cachekit::detail::check_msgpack_bounds(bytes, 512);
    benchmark::DoNotOptimize(checked.has_value());
  }
}

void typed_encode_product_interop(benchmark::State& state) {
  for (auto _ : state) {
    auto bytes = cachekit::detail::stored_value_codec<product>::encode(sample_product, true);
    benchmark::DoNotOptimize(bytes->data());
  }
}

}  // namespace

BENCHMARK(typed_encode_product_stock);
BENCHMARK(typed_encode_product_cachekit);
BENCHMARK(typed_encode_series_stock);
BENCHMARK(typed_encode_series_cachekit);
BENCHMARK(typed_decode_product);
BENCHMARK(typed_decode_product_raw_msgpack);
BENCHMARK(typed_decode_bounds_check_product);
BENCHMARK(typed_encode_product_interop);
