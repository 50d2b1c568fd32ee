/// @file
/// The ByteStorage envelope of cachekit-core: LZ4 block compression plus an xxHash3-64
/// checksum of the uncompressed bytes, packed as a positional MessagePack array
///
///     fixarray(4) [ compressed_data: bin, checksum: fixarray(8) of uint, original_size: uint,
///                   format: str ]
///
/// byte for byte as cachekit-py 0.24.1 (`ByteStorage.store`) writes it, except that the LZ4
/// encoder is liblz4 (driven as python-lz4 drives it) rather than cachekit-core's lz4_flex:
/// both produce valid blocks that every reader accepts, but for many compressible inputs (e.g.
/// 1 KiB of one repeated byte) the compressed bytes differ (inputs under 13 bytes and
/// incompressible data come out identical). Output is deterministic: the same input always
/// gives the same bytes.
///
/// Decoding treats its input as hostile and checks, in cachekit-core's order: envelope size,
/// structure, compressed size, original size (all ≤ 512 MiB), a declared expansion above
/// 1000:1, LZ4 validity, the checksum, and finally the decompressed length. It is stricter than
/// cachekit-core's serde reader, which also takes a trailing byte, the map form, a `bin`
/// checksum and `str` compressed data: no writer produces those.
///
///     auto stored = cachekit::envelope::encode(msgpack_bytes).value();
///     cachekit::result<cachekit::envelope::decoded> back = cachekit::envelope::decode(stored);
///     if (!back) evict(back.error().message());   // corrupt-data group
///
/// Thread safety: thread-safe. Each thread keeps one LZ4 compression state (16 KiB).
#pragma once

#include <cachekit/bytes.hpp>
#include <cachekit/export.hpp>
#include <cachekit/result.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace cachekit {
inline namespace v0 {

/// xxHash3-64 with seed 0 of `bytes`: the checksum of the envelope (and of the orjson and arrow
/// payloads of cachekit-py). Uses the AVX2 code path where the CPU has it.
///     checksum_xxh3({}) == 0x2d06800538d394c2
[[nodiscard]] CACHEKIT_EXPORT std::uint64_t checksum_xxh3(byte_view bytes) noexcept;

namespace envelope {

/// Largest original (uncompressed) payload: 512 MiB.
inline constexpr std::size_t max_uncompressed_size = std::size_t{512} << 20;
/// Largest LZ4 block inside an envelope: 512 MiB.
inline constexpr std::size_t max_compressed_size = std::size_t{512} << 20;
/// Largest serialized envelope a reader accepts: 512 MiB.
inline constexpr std::size_t max_envelope_size = std::size_t{512} << 20;
/// Largest declared expansion, original_size / compressed size, that the protocol allows.
inline constexpr std::uint64_t max_compression_ratio = 1000;
/// Largest expansion a valid LZ4 block can produce: each input byte yields fewer than 255 output
/// bytes (a match's length extension bytes add at most 255 each). Readers refuse more before
/// allocating, so a small lying envelope cannot ask for 1000x its size.
inline constexpr std::uint64_t max_lz4_expansion = 255;

/// What a reader accepts beyond the protocol's own limits.
struct decode_limits {
  /// Largest original_size to allocate for (the cache passes its `max_value_bytes`).
  std::size_t max_original_size = max_uncompressed_size;
};

/// How `compressed_data` is written.
enum class payload_encoding {
  bin,               ///< msgpack bin (c4/c5/c6): what cachekit-core ≥ 0.4.0 writes
  legacy_int_array,  ///< an array of one uint per byte: what cachekit-core < 0.4.0 wrote
};

/// Options of `encode`.
struct encode_options {
  payload_encoding encoding = payload_encoding::bin;
};

/// The content of an envelope.
struct decoded {
  byte_buffer data;    ///< the original bytes
  std::string format;  ///< the envelope's format field, e.g. "msgpack"
};

/// The envelope of `data` with format field `format` (cachekit-py writes "msgpack").
/// Errors: errc::input_too_large when `data` is above 512 MiB; errc::invalid_argument when
/// `format` is not UTF-8 (no reader could decode it).
[[nodiscard]] CACHEKIT_EXPORT result<byte_buffer> encode(byte_view data,
                                                         std::string_view format = "msgpack",
                                                         const encode_options& options = {});

/// The most bytes `encode` can produce for `data_size` input bytes and this format (for
/// reserving a buffer that holds a prefix and the envelope).
[[nodiscard]] CACHEKIT_EXPORT std::size_t encoded_size_bound(std::size_t data_size,
                                                             std::string_view format = "msgpack");

/// Appends the envelope of `data` to `out`, for callers that put it behind a prefix (the CK
/// frame) or reuse one buffer; the LZ4 block is written straight into `out`. On failure `out`
/// is left as it was. Errors as `encode`.
///     byte_buffer out(prefix.begin(), prefix.end());
///     envelope::encode_into(out, msgpack).value();
[[nodiscard]] CACHEKIT_EXPORT result<void> encode_into(byte_buffer& out, byte_view data,
                                                       std::string_view format = "msgpack",
                                                       const encode_options& options = {});

/// The bytes and format of an envelope. Reads `compressed_data` as bin or as the legacy array
/// of uints, `checksum` only as an array of exactly 8 uints, and nothing after the array.
/// Errors (all in the corrupt-data group), in the order they are checked:
/// errc::input_too_large (envelope above 512 MiB); errc::length_limit (the protocol's decode
/// bounds: declared lengths summed over the envelope exceed what its bytes can hold, checked
/// before anything is materialised; also how most cut-short envelopes end), errc::truncated,
/// errc::malformed, errc::trailing_bytes (structure); errc::input_too_large (compressed data or
/// original_size above 512 MiB or `limits.max_original_size`); errc::decompression_bomb (empty
/// compressed data, or original_size above 255× its size, more than LZ4 can produce);
/// errc::decompression_failed (invalid LZ4 block, or more output than original_size);
/// errc::checksum_mismatch; errc::size_mismatch (fewer bytes than original_size).
[[nodiscard]] CACHEKIT_EXPORT result<decoded> decode(byte_view input,
                                                     const decode_limits& limits = {});

}  // namespace envelope
}  // namespace v0
}  // namespace cachekit
