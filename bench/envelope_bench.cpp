// ByteStorage envelope and CK frame cost, against their floor: the raw LZ4 block + XXH3 work on
// the same bytes in the same binary. Report ratios, not absolute numbers:
//   envelope_encode/N        / raw_compress_checksum/N       (LZ4_compress_default + XXH3_64bits)
//   envelope_decode/N        / raw_decompress_checksum/N     (LZ4_decompress_safe + XXH3_64bits)
//   envelope_roundtrip/N     / raw_roundtrip/N
//   frame_encode_standard/N  / envelope_encode/N             (the frame's added cost)
//   frame_decode_standard/N  / envelope_decode/N
// The raw rows write into a preallocated buffer; the envelope rows return a fresh buffer each
// time, as callers get it. `raw_stream_*` rows are the floor of the exact method the envelope
// uses (freshly initialized LZ4 stream, AVX2-dispatched XXH3) to separate method from overhead.
#include <cachekit/envelope.hpp>
#include <cachekit/frame.hpp>

#include <benchmark/benchmark.h>
#include <lz4.h>
#include <xxhash.h>
#define XXH_DISPATCH_DISABLE_REPLACE 1
#include <xxh_x86dispatch.h>

#include "bench_inputs.hpp"

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace {

using cachekit::byte_buffer;

using cachekit_bench::realistic_payload;

void sizes(benchmark::internal::Benchmark* b) {
  for (std::int64_t n : {64, 1024, 16 * 1024, 64 * 1024, 1024 * 1024}) b->Arg(n);
}

void set_bytes(benchmark::State& state) {
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}

// ---- floor ------------------------------------------------------------------------------------

void raw_compress_checksum(benchmark::State& state) {
  const byte_buffer data = realistic_payload(static_cast<std::size_t>(state.range(0)));
  std::vector<char> out(static_cast<std::size_t>(LZ4_compressBound(static_cast<int>(data.size()))));
  for (auto _ : state) {
    const int n = LZ4_compress_default(reinterpret_cast<const char*>(data.data()), out.data(),
                                       static_cast<int>(data.size()), static_cast<int>(out.size()));
    benchmark::DoNotOptimize(n);
    benchmark::DoNotOptimize(XXH3_64bits(data.data(), data.size()));
    benchmark::ClobberMemory();
  }
  set_bytes(state);
}
BENCHMARK(raw_compress_checksum)->Apply(sizes);

void raw_stream_compress_checksum(benchmark::State& state) {
  const byte_buffer data = realistic_payload(static_cast<std::size_t>(state.range(0)));
  std::vector<char> out(static_cast<std::size_t>(LZ4_compressBound(static_cast<int>(data.size()))));
  LZ4_stream_t stream;
  for (auto _ : state) {
    LZ4_initStream(&stream, sizeof stream);
    const int n =
        LZ4_compress_fast_continue(&stream, reinterpret_cast<const char*>(data.data()), out.data(),
                                   static_cast<int>(data.size()), static_cast<int>(out.size()), 1);
    benchmark::DoNotOptimize(n);
    benchmark::DoNotOptimize(XXH3_64bits_dispatch(data.data(), data.size()));
    benchmark::ClobberMemory();
  }
  set_bytes(state);
}
BENCHMARK(raw_stream_compress_checksum)->Apply(sizes);

std::vector<char> lz4_block_of(const byte_buffer& data) {
  std::vector<char> block(
      static_cast<std::size_t>(LZ4_compressBound(static_cast<int>(data.size()))));
  const int n = LZ4_compress_default(reinterpret_cast<const char*>(data.data()), block.data(),
                                     static_cast<int>(data.size()), static_cast<int>(block.size()));
  block.resize(static_cast<std::size_t>(n));
  return block;
}

void raw_decompress_checksum(benchmark::State& state) {
  const byte_buffer data = realistic_payload(static_cast<std::size_t>(state.range(0)));
  const std::vector<char> block = lz4_block_of(data);
  std::vector<char> out(data.size());
  for (auto _ : state) {
    const int n = LZ4_decompress_safe(block.data(), out.data(), static_cast<int>(block.size()),
                                      static_cast<int>(out.size()));
    benchmark::DoNotOptimize(XXH3_64bits(out.data(), static_cast<std::size_t>(n)));
    benchmark::ClobberMemory();
  }
  set_bytes(state);
}
BENCHMARK(raw_decompress_checksum)->Apply(sizes);

void raw_stream_decompress_checksum(benchmark::State& state) {
  const byte_buffer data = realistic_payload(static_cast<std::size_t>(state.range(0)));
  const std::vector<char> block = lz4_block_of(data);
  std::vector<char> out(data.size());
  for (auto _ : state) {
    const int n = LZ4_decompress_safe(block.data(), out.data(), static_cast<int>(block.size()),
                                      static_cast<int>(out.size()));
    benchmark::DoNotOptimize(XXH3_64bits_dispatch(out.data(), static_cast<std::size_t>(n)));
    benchmark::ClobberMemory();
  }
  set_bytes(state);
}
BENCHMARK(raw_stream_decompress_checksum)->Apply(sizes);

void raw_roundtrip(benchmark::State& state) {
  const byte_buffer data = realistic_payload(static_cast<std::size_t>(state.range(0)));
  std::vector<char> block(
      static_cast<std::size_t>(LZ4_compressBound(static_cast<int>(data.size()))));
  std::vector<char> out(data.size());
  for (auto _ : state) {
    const int c =
        LZ4_compress_default(reinterpret_cast<const char*>(data.data()), block.data(),
                             static_cast<int>(data.size()), static_cast<int>(block.size()));
    benchmark::DoNotOptimize(XXH3_64bits(data.data(), data.size()));
    const int n = LZ4_decompress_safe(block.data(), out.data(), c, static_cast<int>(out.size()));
    benchmark::DoNotOptimize(XXH3_64bits(out.data(), static_cast<std::size_t>(n)));
    benchmark::ClobberMemory();
  }
  set_bytes(state);
}
BENCHMARK(raw_roundtrip)->Apply(sizes);

// ---- envelope ---------------------------------------------------------------------------------

void envelope_encode(benchmark::State& state) {
  const byte_buffer data = realistic_payload(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    auto env = cachekit::envelope::encode(data);
    benchmark::DoNotOptimize(env);
  }
  set_bytes(state);
  state.counters["ratio"] = static_cast<double>(cachekit::envelope::encode(data).value().size()) /
                            static_cast<double>(data.size());
}
BENCHMARK(envelope_encode)->Apply(sizes);

void envelope_encode_into_reused_buffer(benchmark::State& state) {
  const byte_buffer data = realistic_payload(static_cast<std::size_t>(state.range(0)));
  byte_buffer out;
  out.reserve(cachekit::envelope::encoded_size_bound(data.size()));
  for (auto _ : state) {
    out.clear();
    auto ok = cachekit::envelope::encode_into(out, data);
    benchmark::DoNotOptimize(ok);
    benchmark::DoNotOptimize(out.data());
  }
  set_bytes(state);
}
BENCHMARK(envelope_encode_into_reused_buffer)->Apply(sizes);

void envelope_decode(benchmark::State& state) {
  const byte_buffer data = realistic_payload(static_cast<std::size_t>(state.range(0)));
  const byte_buffer env = cachekit::envelope::encode(data).value();
  for (auto _ : state) {
    auto back = cachekit::envelope::decode(env);
    benchmark::DoNotOptimize(back);
  }
  set_bytes(state);
}
BENCHMARK(envelope_decode)->Apply(sizes);

void envelope_roundtrip(benchmark::State& state) {
  const byte_buffer data = realistic_payload(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    auto env = cachekit::envelope::encode(data);
    auto back = cachekit::envelope::decode(*env);
    benchmark::DoNotOptimize(back);
  }
  set_bytes(state);
}
BENCHMARK(envelope_roundtrip)->Apply(sizes);

void checksum_xxh3(benchmark::State& state) {
  const byte_buffer data = realistic_payload(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(cachekit::checksum_xxh3(data));
  set_bytes(state);
}
BENCHMARK(checksum_xxh3)->Apply(sizes);

void raw_xxh3_sse2(benchmark::State& state) {
  const byte_buffer data = realistic_payload(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(XXH3_64bits(data.data(), data.size()));
  set_bytes(state);
}
BENCHMARK(raw_xxh3_sse2)->Apply(sizes);

// ---- frame ------------------------------------------------------------------------------------

void frame_encode_standard(benchmark::State& state) {
  const byte_buffer data = realistic_payload(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    auto stored = cachekit::frame::encode_standard(data);
    benchmark::DoNotOptimize(stored);
  }
  set_bytes(state);
}
BENCHMARK(frame_encode_standard)->Apply(sizes);

void frame_decode_standard(benchmark::State& state) {
  const byte_buffer data = realistic_payload(static_cast<std::size_t>(state.range(0)));
  const byte_buffer stored = cachekit::frame::encode_standard(data).value();
  for (auto _ : state) {
    auto back = cachekit::frame::decode_standard(stored);
    benchmark::DoNotOptimize(back);
  }
  set_bytes(state);
}
BENCHMARK(frame_decode_standard)->Apply(sizes);

void frame_encode_standard_no_integrity(benchmark::State& state) {
  const byte_buffer data = realistic_payload(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    auto stored = cachekit::frame::encode_standard(data, {.integrity_checking = false});
    benchmark::DoNotOptimize(stored);
  }
  set_bytes(state);
}
BENCHMARK(frame_encode_standard_no_integrity)->Apply(sizes);

void frame_decode_standard_no_integrity(benchmark::State& state) {
  const byte_buffer data = realistic_payload(static_cast<std::size_t>(state.range(0)));
  const byte_buffer stored =
      cachekit::frame::encode_standard(data, {.integrity_checking = false}).value();
  for (auto _ : state) {
    auto back = cachekit::frame::decode_standard(stored, {.integrity_checking = false});
    benchmark::DoNotOptimize(back);
  }
  set_bytes(state);
}
BENCHMARK(frame_decode_standard_no_integrity)->Apply(sizes);

// Floor of the integrity-off rows: one copy of the payload into a fresh buffer.
void raw_copy(benchmark::State& state) {
  const byte_buffer data = realistic_payload(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    byte_buffer copy(data.begin(), data.end());
    benchmark::DoNotOptimize(copy.data());
  }
  set_bytes(state);
}
BENCHMARK(raw_copy)->Apply(sizes);

// The frame alone, with a 64-byte payload: prefix memcpy, and header parse (memoized per thread).
void frame_prefix_wrap(benchmark::State& state) {
  const auto prefix =
      cachekit::frame::prefix::make({.metadata = cachekit::frame::standard_metadata({})}).value();
  const byte_buffer payload = realistic_payload(64);
  for (auto _ : state) benchmark::DoNotOptimize(prefix.wrap(payload));
}
BENCHMARK(frame_prefix_wrap);

void frame_decode_header(benchmark::State& state) {
  const auto prefix =
      cachekit::frame::prefix::make({.metadata = cachekit::frame::standard_metadata({})}).value();
  const byte_buffer stored = prefix.wrap(realistic_payload(64));
  for (auto _ : state) benchmark::DoNotOptimize(cachekit::frame::decode(stored));
}
BENCHMARK(frame_decode_header);

// The same header parsed from scratch every time (no memo hit: the serializer name varies).
void frame_decode_header_unmemoized(benchmark::State& state) {
  std::vector<byte_buffer> stored;
  for (int i = 0; i < 16; ++i) {
    stored.push_back(
        cachekit::frame::prefix::make({.serializer = "custom" + std::to_string(i),
                                       .metadata = cachekit::frame::standard_metadata({})})
            .value()
            .wrap(realistic_payload(64)));
  }
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(cachekit::frame::decode(stored[i++ % stored.size()]));
  }
}
BENCHMARK(frame_decode_header_unmemoized);

}  // namespace
