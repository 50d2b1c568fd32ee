#include <cachekit/envelope.hpp>

#include "protocol/big_endian.hpp"
#include "protocol/msgpack_bounds.hpp"
#include "protocol/msgpack_reader.hpp"
#include "protocol/msgpack_writer.hpp"
#include "protocol/utf8_check.hpp"

#include <lz4.h>
#include <xxhash.h>
#if defined(__x86_64__) || defined(_M_X64)
// Debian's libxxhash exports the runtime-dispatching entry points (AVX2 where present, about
// 2.5x the SSE2 XXH3_64bits above 1 KiB). Only the explicit *_dispatch name is used here.
#define XXH_DISPATCH_DISABLE_REPLACE 1
#include <xxh_x86dispatch.h>
#define CACHEKIT_XXH3_64 XXH3_64bits_dispatch
#else
#define CACHEKIT_XXH3_64 XXH3_64bits
#endif

#include <array>
#include <cstring>
#include <memory>
#include <string>
#include <utility>

namespace cachekit {
inline namespace v0 {

std::uint64_t checksum_xxh3(byte_view bytes) noexcept {
  return CACHEKIT_XXH3_64(bytes.data(), bytes.size());
}

namespace envelope {
namespace {

using detail::msgpack_reader;
using detail::msgpack_type;
using detail::msgpack_writer;

// LZ4 never finds a match in inputs shorter than MFLIMIT + 1 = 13 bytes: the block is one
// literal run. Writing it by hand gives the same bytes without touching the 16 KiB state.
constexpr std::size_t lz4_literal_only_below = 13;

// An envelope nests 2 deep (the field list, then compressed_data or checksum); the protocol's
// smallest allowed depth bound is plenty.
constexpr std::size_t envelope_max_depth = 32;

std::string hex64(std::uint64_t v) {
  std::array<std::byte, 8> be{};
  detail::store_be(be.data(), v);
  return to_hex(be);
}

std::string limit_text(std::size_t limit) {
  return std::to_string(limit) + " (" + std::to_string(limit >> 20) + " MiB)";
}

constexpr std::size_t bin_header_size(std::size_t n) noexcept {
  return n <= 0xff ? 2 : n <= 0xffff ? 3 : 5;
}
constexpr std::size_t uint_size(std::uint64_t v) noexcept {
  return v <= 0x7f ? 1 : v <= 0xff ? 2 : v <= 0xffff ? 3 : v <= 0xffffffff ? 5 : 9;
}
constexpr std::size_t str_header_size(std::size_t n) noexcept {
  return n <= 31 ? 1 : n <= 0xff ? 2 : n <= 0xffff ? 3 : 5;
}

// Writers over raw memory already sized by the caller (the hot path writes straight into the
// output buffer; msgpack_writer appends, which would need the bytes to be contiguous at the end).
std::byte* put(std::byte* p, std::uint8_t b) noexcept {
  *p = static_cast<std::byte>(b);
  return p + 1;
}
std::byte* put_bin_header(std::byte* p, std::size_t n) noexcept {
  if (n <= 0xff) {
    p = put(p, 0xc4);
    return put(p, static_cast<std::uint8_t>(n));
  }
  if (n <= 0xffff) {
    p = put(p, 0xc5);
    detail::store_be(p, static_cast<std::uint16_t>(n));
    return p + 2;
  }
  p = put(p, 0xc6);
  detail::store_be(p, static_cast<std::uint32_t>(n));
  return p + 4;
}
std::byte* put_uint(std::byte* p, std::uint64_t v) noexcept {
  if (v <= 0x7f) return put(p, static_cast<std::uint8_t>(v));
  if (v <= 0xff) {
    p = put(p, 0xcc);
    return put(p, static_cast<std::uint8_t>(v));
  }
  if (v <= 0xffff) {
    p = put(p, 0xcd);
    detail::store_be(p, static_cast<std::uint16_t>(v));
    return p + 2;
  }
  if (v <= 0xffffffff) {
    p = put(p, 0xce);
    detail::store_be(p, static_cast<std::uint32_t>(v));
    return p + 4;
  }
  p = put(p, 0xcf);
  detail::store_be(p, v);
  return p + 8;
}

// checksum, original_size and format: everything after compressed_data.
std::size_t tail_size(std::uint64_t checksum, std::size_t original_size,
                      std::string_view format) noexcept {
  std::size_t n = 1;  // fixarray(8)
  for (int shift = 56; shift >= 0; shift -= 8) {
    n += ((checksum >> shift) & 0xff) <= 0x7f ? 1 : 2;
  }
  return n + uint_size(original_size) + str_header_size(format.size()) + format.size();
}
std::byte* put_tail(std::byte* p, std::uint64_t checksum, std::size_t original_size,
                    std::string_view format) noexcept {
  p = put(p, 0x98);
  for (int shift = 56; shift >= 0; shift -= 8) {
    p = put_uint(p, (checksum >> shift) & 0xff);
  }
  p = put_uint(p, original_size);
  const std::size_t n = format.size();
  if (n <= 31) {
    p = put(p, static_cast<std::uint8_t>(0xa0 | n));
  } else if (n <= 0xff) {
    p = put(p, 0xd9);
    p = put(p, static_cast<std::uint8_t>(n));
  } else if (n <= 0xffff) {
    p = put(p, 0xda);
    detail::store_be(p, static_cast<std::uint16_t>(n));
    p += 2;
  } else {
    p = put(p, 0xdb);
    detail::store_be(p, static_cast<std::uint32_t>(n));
    p += 4;
  }
  if (n != 0) std::memcpy(p, format.data(), n);
  return p + n;
}

// Room the LZ4 block of `n` input bytes may need.
std::size_t block_bound(std::size_t n) noexcept {
  if (n < lz4_literal_only_below) return n + 1;
  return n + n / 255 + 16;  // LZ4_COMPRESSBOUND, in size_t
}

// One LZ4 stream per thread, allocated on first use (threads that never compress pay nothing,
// and the 16 KiB stay out of the static TLS block of a shared library).
LZ4_stream_t* thread_lz4_stream() {
  thread_local std::unique_ptr<LZ4_stream_t> stream;
  if (!stream) stream = std::make_unique<LZ4_stream_t>();
  return stream.get();
}

// Compresses `data` into `dst` (capacity block_bound(data.size())). Returns the block size, or 0
// on failure (which the bound rules out).
//
// The block is what a freshly initialized LZ4 stream produces, as python-lz4 does it:
// - Not LZ4_compress_default/_fast_extState: for inputs under 64 KiB they hash into a 16-bit
//   table, which finds different matches than lz4_flex (cachekit-core) and python-lz4; the
//   `json_like` vector comes out different. The stream path always uses the 32-bit table and
//   reproduces 10 of the 12 shared vectors.
// - Not LZ4_resetStream_fast on a reused stream, though it skips the 16 KiB table clear
//   (≈150 ns, most of the cost below ~256 B): an uncleared table makes the output depend on what
//   the thread compressed before (a zeroed bucket points at offset 0, a stale one is skipped), so
//   the same value would be stored as different bytes. The clear costs the same as in
//   LZ4_compress_default, and under 2 % at 16 KiB.
std::size_t compress_block(byte_view data, std::byte* dst, std::size_t capacity) {
  const std::size_t n = data.size();
  if (n < lz4_literal_only_below) {
    dst[0] = static_cast<std::byte>(n << 4);
    if (n != 0) std::memcpy(dst + 1, data.data(), n);
    return n + 1;
  }
  LZ4_stream_t* stream = LZ4_initStream(thread_lz4_stream(), sizeof(LZ4_stream_t));
  const int written = LZ4_compress_fast_continue(stream, reinterpret_cast<const char*>(data.data()),
                                                 reinterpret_cast<char*>(dst), static_cast<int>(n),
                                                 static_cast<int>(capacity), 1);
  return written > 0 ? static_cast<std::size_t>(written) : 0;
}

result<void> check_encode_input(byte_view data, std::string_view format) {
  if (data.size() > max_uncompressed_size) {
    return fail(errc::input_too_large, "envelope input is " + std::to_string(data.size()) +
                                           " bytes; the limit is " +
                                           limit_text(max_uncompressed_size));
  }
  if (const auto bad = detail::utf8_invalid_offset(format); bad != format.size()) {
    return fail(errc::invalid_argument, "envelope format string is not UTF-8 (invalid byte at " +
                                            std::to_string(bad) +
                                            "); readers would reject the envelope");
  }
  return {};
}

result<void> encode_legacy(byte_buffer& out, byte_view data, std::string_view format,
                           std::uint64_t checksum) {
  byte_buffer block(block_bound(data.size()));
  const std::size_t block_size = compress_block(data, block.data(), block.size());
  if (block_size == 0) return fail(errc::invalid_argument, "LZ4 compression failed");
  const std::size_t start = out.size();
  out.reserve(start + 5 + 2 * block_size + tail_size(checksum, data.size(), format));
  msgpack_writer w(out);
  w.write_array_header(4);
  w.write_array_header(block_size);
  for (std::size_t i = 0; i < block_size; ++i) {
    w.write_uint(static_cast<std::uint8_t>(block[i]));
  }
  const std::size_t tail_at = out.size();
  out.resize(tail_at + tail_size(checksum, data.size(), format));
  put_tail(out.data() + tail_at, checksum, data.size(), format);
  return {};
}

}  // namespace

std::size_t encoded_size_bound(std::size_t data_size, std::string_view format) {
  // fixarray + widest bin header + block + widest checksum (8 x cc xx) + u32 size + format.
  return 1 + 5 + block_bound(data_size) + 17 + 5 + str_header_size(format.size()) + format.size();
}

result<void> encode_into(byte_buffer& out, byte_view data, std::string_view format,
                         const encode_options& options) {
  if (auto ok = check_encode_input(data, format); !ok) return ok;
  const std::uint64_t checksum = checksum_xxh3(data);
  if (options.encoding == payload_encoding::legacy_int_array) {
    return encode_legacy(out, data, format, checksum);
  }

  // Compress straight into `out` behind room for the widest bin header the bound allows; the
  // block moves down only when it came out small enough for a narrower header, and then it is
  // under 64 KiB.
  const std::size_t start = out.size();
  const std::size_t bound = block_bound(data.size());
  const std::size_t guessed_header = bin_header_size(bound);
  const std::size_t tail = tail_size(checksum, data.size(), format);
  out.resize(start + 1 + guessed_header + bound + tail);
  std::byte* const base = out.data() + start;
  std::byte* const block = base + 1 + guessed_header;
  const std::size_t block_size = compress_block(data, block, bound);
  if (block_size == 0) {
    out.resize(start);
    return fail(errc::invalid_argument, "LZ4 compression failed");
  }
  const std::size_t header = bin_header_size(block_size);
  if (header != guessed_header) std::memmove(base + 1 + header, block, block_size);
  std::byte* p = put(base, 0x94);
  p = put_bin_header(p, block_size);
  p = put_tail(p + block_size, checksum, data.size(), format);
  out.resize(static_cast<std::size_t>(p - out.data()));
  return {};
}

result<byte_buffer> encode(byte_view data, std::string_view format, const encode_options& options) {
  byte_buffer out;
  if (auto ok = encode_into(out, data, format, options); !ok) return ok.error();
  return out;
}

namespace {

const char* type_name(msgpack_type t) noexcept {
  switch (t) {
    case msgpack_type::nil: return "nil";
    case msgpack_type::boolean: return "bool";
    case msgpack_type::integer: return "integer";
    case msgpack_type::floating: return "float";
    case msgpack_type::string: return "str";
    case msgpack_type::binary: return "bin";
    case msgpack_type::array: return "array";
    case msgpack_type::map: return "map";
    case msgpack_type::ext: return "ext";
    case msgpack_type::invalid: return "an invalid byte";
  }
  return "?";
}

// A structural failure from the msgpack reader, said from the envelope's point of view: a
// length that runs past the input means the envelope was cut short.
failure structure_error(const failure& f, const char* field) {
  const bool cut = f.code == errc::truncated || f.code == errc::length_limit;
  return fail(cut ? errc::truncated : errc::malformed,
              std::string("envelope field ") + field + ": " + f.detail);
}

failure wrong_type(const msgpack_reader& r, const char* field, const char* expected) {
  if (r.at_end()) {
    return fail(errc::truncated, std::string("envelope ends before field ") + field);
  }
  return fail(errc::malformed, std::string("envelope field ") + field + " must be " + expected +
                                   ", got " + type_name(r.peek_type()) + " at offset " +
                                   std::to_string(r.position()));
}

// Reads one integer that must be a byte (0..255).
result<std::uint8_t> read_byte(msgpack_reader& r, const char* field, std::size_t index) {
  if (r.peek_type() != msgpack_type::integer) return wrong_type(r, field, "an array of ints");
  auto v = r.read_int();
  if (!v) return structure_error(v.error(), field);
  if (v->is_unsigned_large || v->i < 0 || v->i > 255) {
    return fail(errc::malformed,
                std::string("envelope field ") + field + "[" + std::to_string(index) +
                    "] = " + (v->is_unsigned_large ? std::to_string(v->u) : std::to_string(v->i)) +
                    " is not a byte (0..255)");
  }
  return static_cast<std::uint8_t>(v->i);
}

struct envelope_fields {
  byte_view compressed;
  std::uint64_t checksum = 0;
  std::uint64_t original_size = 0;
  std::string_view format;
};

// The layout every cachekit writer emits — fixarray(4), bin payload, fixarray(8) of fixint or
// `cc xx` checksum bytes, a uint up to 32 bits, a fixstr/str8 format, nothing after — read
// without the general reader (whose per-item results cost ~10x the LZ4 work of a 64-byte value).
// Returns false for anything else; the general reader then accepts the other valid forms
// (legacy array, wider integers) or says what is wrong. Both yield the same fields.
bool read_common_layout(byte_view input, envelope_fields& f) noexcept {
  const std::byte* const p = input.data();
  const std::size_t n = input.size();
  auto at = [p](std::size_t i) { return static_cast<std::uint8_t>(p[i]); };
  if (n < 2 || at(0) != 0x94) return false;
  std::size_t i = 1;
  std::size_t len = 0;
  switch (at(i++)) {
    case 0xc4:
      if (n - i < 1) return false;
      len = at(i);
      i += 1;
      break;
    case 0xc5:
      if (n - i < 2) return false;
      len = detail::load_be<std::uint16_t>(p + i);
      i += 2;
      break;
    case 0xc6:
      if (n - i < 4) return false;
      len = detail::load_be<std::uint32_t>(p + i);
      i += 4;
      break;
    default: return false;
  }
  if (n - i < len) return false;
  f.compressed = input.subspan(i, len);
  i += len;

  if (i >= n || at(i) != 0x98) return false;
  ++i;
  std::uint64_t checksum = 0;
  for (int k = 0; k < 8; ++k) {
    if (i >= n) return false;
    std::uint8_t b = at(i++);
    if (b == 0xcc) {
      if (i >= n) return false;
      b = at(i++);
    } else if (b > 0x7f) {
      return false;
    }
    checksum = (checksum << 8) | b;
  }
  f.checksum = checksum;

  if (i >= n) return false;
  const std::uint8_t size_tag = at(i++);
  std::size_t width = 0;
  if (size_tag <= 0x7f) {
    f.original_size = size_tag;
  } else {
    width = size_tag == 0xcc ? 1 : size_tag == 0xcd ? 2 : size_tag == 0xce ? 4 : 0;
    if (width == 0 || n - i < width) return false;
    f.original_size = width == 1   ? at(i)
                      : width == 2 ? detail::load_be<std::uint16_t>(p + i)
                                   : detail::load_be<std::uint32_t>(p + i);
    i += width;
  }

  if (i >= n) return false;
  const std::uint8_t str_tag = at(i++);
  std::size_t format_len = 0;
  if ((str_tag & 0xe0) == 0xa0) {
    format_len = str_tag & 0x1f;
  } else if (str_tag == 0xd9 && i < n) {
    format_len = at(i++);
  } else {
    return false;
  }
  if (n - i != format_len) return false;
  f.format = as_string_view(input.subspan(i, format_len));
  return detail::is_valid_utf8(f.format);
}

result<envelope_fields> read_fields(byte_view input, byte_buffer& legacy_storage) {
  if (envelope_fields fast; read_common_layout(input, fast)) return fast;
  // The protocol's decode bounds (decode-bounds.json, wire-format.json's
  // reject_envelope_slots_overclaim), checked before the legacy array is materialised: the
  // declared lengths summed over the document must fit the input. The common layout above
  // cannot overclaim (its fields fill the input exactly), so only this path pays for the scan.
  // A cut-short envelope whose lengths run past its end is such an overclaim too. The scan's
  // other findings (truncated, trailing bytes, 0xc1) are left to the reader below, which names
  // the envelope field; the scan has then shown every declared length to be backed.
  if (auto bounds = detail::check_msgpack_bounds(input, envelope_max_depth);
      !bounds && bounds.error().code == make_error_code(errc::length_limit)) {
    return fail(errc::length_limit, "envelope: " + bounds.error().detail);
  }
  msgpack_reader r(input);
  envelope_fields f;

  if (r.peek_type() != msgpack_type::array) {
    return wrong_type(r, "list", "a MessagePack array of 4 fields");
  }
  auto count = r.read_array_header();
  if (!count) return structure_error(count.error(), "list");
  if (*count != 4) {
    return fail(errc::malformed,
                "envelope must be an array of 4 fields, got " + std::to_string(*count));
  }

  // compressed_data: bin, or the legacy array of byte values.
  if (r.peek_type() == msgpack_type::binary) {
    auto bin = r.read_bin();
    if (!bin) return structure_error(bin.error(), "compressed_data");
    f.compressed = *bin;
  } else if (r.peek_type() == msgpack_type::array) {
    auto n = r.read_array_header();
    if (!n) return structure_error(n.error(), "compressed_data");
    legacy_storage.resize(*n);
    for (std::size_t i = 0; i < *n; ++i) {
      auto b = read_byte(r, "compressed_data", i);
      if (!b) return b.error();
      legacy_storage[i] = static_cast<std::byte>(*b);
    }
    f.compressed = legacy_storage;
  } else {
    return wrong_type(r, "compressed_data", "bin or an array of ints");
  }

  // checksum: exactly 8 byte values, big-endian.
  if (r.peek_type() != msgpack_type::array) {
    return wrong_type(r, "checksum", "an array of 8 ints");
  }
  auto n = r.read_array_header();
  if (!n) return structure_error(n.error(), "checksum");
  if (*n != 8) {
    return fail(errc::malformed,
                "envelope field checksum must be an array of 8 ints, got " + std::to_string(*n));
  }
  for (std::size_t i = 0; i < 8; ++i) {
    auto b = read_byte(r, "checksum", i);
    if (!b) return b.error();
    f.checksum = (f.checksum << 8) | *b;
  }

  // original_size: u32.
  if (r.peek_type() != msgpack_type::integer) return wrong_type(r, "original_size", "a uint32");
  auto size = r.read_int();
  if (!size) return structure_error(size.error(), "original_size");
  if (size->is_unsigned_large || size->i < 0 || size->i > 0xffffffff) {
    return fail(errc::malformed,
                "envelope field original_size must be a uint32, got " +
                    (size->is_unsigned_large ? std::to_string(size->u) : std::to_string(size->i)));
  }
  f.original_size = static_cast<std::uint64_t>(size->i);

  // format: UTF-8 str.
  if (r.peek_type() != msgpack_type::string) return wrong_type(r, "format", "a str");
  auto format = r.read_str();
  if (!format) return structure_error(format.error(), "format");
  if (const auto bad = detail::utf8_invalid_offset(*format); bad != format->size()) {
    return fail(errc::malformed,
                "envelope field format is not UTF-8 (invalid byte at " + std::to_string(bad) + ")");
  }
  f.format = *format;

  if (!r.at_end()) {
    return fail(errc::trailing_bytes, std::to_string(r.remaining()) +
                                          " bytes follow the envelope (it ends at offset " +
                                          std::to_string(r.position()) + ")");
  }
  return f;
}

}  // namespace

result<decoded> decode(byte_view input, const decode_limits& limits) {
  if (input.size() > max_envelope_size) {
    return fail(errc::input_too_large, "envelope is " + std::to_string(input.size()) +
                                           " bytes; the limit is " + limit_text(max_envelope_size));
  }
  byte_buffer legacy_storage;
  auto fields = read_fields(input, legacy_storage);
  if (!fields) return std::move(fields).error();
  const envelope_fields& f = *fields;
  const std::size_t compressed_size = f.compressed.size();

  if (compressed_size > max_compressed_size) {
    return fail(errc::input_too_large, "compressed_data is " + std::to_string(compressed_size) +
                                           " bytes; the limit is " +
                                           limit_text(max_compressed_size));
  }
  if (f.original_size > max_uncompressed_size) {
    return fail(errc::input_too_large, "original_size " + std::to_string(f.original_size) +
                                           " is above the limit of " +
                                           limit_text(max_uncompressed_size));
  }
  if (f.original_size > limits.max_original_size) {
    return fail(errc::input_too_large, "original_size " + std::to_string(f.original_size) +
                                           " is above this reader's limit of " +
                                           std::to_string(limits.max_original_size) +
                                           " bytes (cache_options::max_value_bytes)");
  }
  if (compressed_size == 0) {
    return fail(errc::decompression_bomb, "compressed_data is empty but original_size is " +
                                              std::to_string(f.original_size) +
                                              " (an LZ4 block is at least 1 byte)");
  }
  // compressed_size <= 512 MiB, so the product fits in 64 bits; kept explicit for the reader.
  std::uint64_t allowed = 0;
  if (__builtin_mul_overflow(static_cast<std::uint64_t>(compressed_size), max_lz4_expansion,
                             &allowed) ||
      f.original_size > allowed) {
    return fail(errc::decompression_bomb,
                "original_size " + std::to_string(f.original_size) + " is more than " +
                    std::to_string(max_lz4_expansion) + "x the " + std::to_string(compressed_size) +
                    " compressed bytes, more than a valid LZ4 block can produce");
  }

  decoded out;
  out.data.resize(static_cast<std::size_t>(f.original_size));
  std::byte empty_output{};
  char* const dst = out.data.empty() ? reinterpret_cast<char*>(&empty_output)
                                     : reinterpret_cast<char*>(out.data.data());
  const int produced =
      LZ4_decompress_safe(reinterpret_cast<const char*>(f.compressed.data()), dst,
                          static_cast<int>(compressed_size), static_cast<int>(f.original_size));
  if (produced < 0) {
    return fail(errc::decompression_failed,
                "compressed_data is not a valid LZ4 block of at most " +
                    std::to_string(f.original_size) + " bytes (LZ4 stopped at input offset " +
                    std::to_string(-static_cast<long long>(produced) - 1) + " of " +
                    std::to_string(compressed_size) + ")");
  }
  out.data.resize(static_cast<std::size_t>(produced));

  const std::uint64_t computed = checksum_xxh3(out.data);
  if (computed != f.checksum) {
    return fail(errc::checksum_mismatch, "checksum mismatch: stored " + hex64(f.checksum) +
                                             ", computed " + hex64(computed) + " over " +
                                             std::to_string(produced) + " decompressed bytes");
  }
  if (static_cast<std::uint64_t>(produced) != f.original_size) {
    return fail(errc::size_mismatch, "decompressed " + std::to_string(produced) +
                                         " bytes but original_size says " +
                                         std::to_string(f.original_size));
  }
  out.format.assign(f.format);
  return out;
}

}  // namespace envelope
}  // namespace v0
}  // namespace cachekit
