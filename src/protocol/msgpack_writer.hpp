// Canonical MessagePack writer: every integer, string, binary, array and map header in the
// shortest form msgpack-python emits, floats always as float64 (msgpack_forms.hpp). Appends to a
// byte_buffer.
//
// Not thread-safe; one writer per buffer.
#pragma once

#include <cachekit/bytes.hpp>
#include <cachekit/msgpack_forms.hpp>

#include "protocol/big_endian.hpp"

#include <bit>
#include <cstdint>
#include <string_view>

namespace cachekit {
inline namespace v0 {
namespace detail {

class msgpack_writer {
 public:
  explicit msgpack_writer(byte_buffer& out) noexcept : out_(out) {}

  void write_nil() { put(0xc0); }
  void write_bool(bool v) { put(v ? 0xc3 : 0xc2); }

  // Non-negative values take the unsigned forms, negative ones the signed forms, as in
  // msgpack-python and rmp.
  void write_int(std::int64_t v) {
    if (v >= 0) return write_uint(static_cast<std::uint64_t>(v));
    if (v >= -32) return put(static_cast<std::uint8_t>(v));
    if (v >= INT8_MIN) return put_be(0xd0, static_cast<std::uint8_t>(v));
    if (v >= INT16_MIN) return put_be(0xd1, static_cast<std::uint16_t>(v));
    if (v >= INT32_MIN) return put_be(0xd2, static_cast<std::uint32_t>(v));
    put_be(0xd3, static_cast<std::uint64_t>(v));
  }

  void write_uint(std::uint64_t v) {
    if (v <= 0x7f) return put(static_cast<std::uint8_t>(v));
    if (v <= UINT8_MAX) return put_be(0xcc, static_cast<std::uint8_t>(v));
    if (v <= UINT16_MAX) return put_be(0xcd, static_cast<std::uint16_t>(v));
    if (v <= UINT32_MAX) return put_be(0xce, static_cast<std::uint32_t>(v));
    put_be(0xcf, v);
  }

  void write_float64(double v) { append(float64_form(v)); }

  void write_str_header(std::size_t n) {
    if (n <= 31) return put(static_cast<std::uint8_t>(0xa0 | n));
    if (n <= UINT8_MAX) return put_be(0xd9, static_cast<std::uint8_t>(n));
    if (n <= UINT16_MAX) return put_be(0xda, static_cast<std::uint16_t>(n));
    put_be(0xdb, static_cast<std::uint32_t>(n));
  }
  void write_str(std::string_view s) {
    write_str_header(s.size());
    append(as_byte_view(s));
  }

  void write_bin_header(std::size_t n) {
    if (n <= UINT8_MAX) return put_be(0xc4, static_cast<std::uint8_t>(n));
    if (n <= UINT16_MAX) return put_be(0xc5, static_cast<std::uint16_t>(n));
    put_be(0xc6, static_cast<std::uint32_t>(n));
  }
  void write_bin(byte_view b) {
    write_bin_header(b.size());
    append(b);
  }

  void write_array_header(std::size_t n) {
    if (n <= 15) return put(static_cast<std::uint8_t>(0x90 | n));
    if (n <= UINT16_MAX) return put_be(0xdc, static_cast<std::uint16_t>(n));
    put_be(0xdd, static_cast<std::uint32_t>(n));
  }

  void write_map_header(std::size_t n) {
    if (n <= 15) return put(static_cast<std::uint8_t>(0x80 | n));
    if (n <= UINT16_MAX) return put_be(0xde, static_cast<std::uint16_t>(n));
    put_be(0xdf, static_cast<std::uint32_t>(n));
  }

  // An extension item in its shortest form, as msgpack-python packs an ExtType: fixext for 1, 2,
  // 4, 8 and 16 bytes, ext8/16/32 otherwise.
  void write_ext(std::int8_t type, byte_view data) {
    const std::size_t n = data.size();
    const auto type_byte = static_cast<std::uint8_t>(type);
    switch (n) {
      case 1: put(0xd4); break;
      case 2: put(0xd5); break;
      case 4: put(0xd6); break;
      case 8: put(0xd7); break;
      case 16: put(0xd8); break;
      default:
        if (n <= UINT8_MAX) {
          put_be(0xc7, static_cast<std::uint8_t>(n));
        } else if (n <= UINT16_MAX) {
          put_be(0xc8, static_cast<std::uint16_t>(n));
        } else {
          put_be(0xc9, static_cast<std::uint32_t>(n));
        }
    }
    put(type_byte);
    append(data);
  }

  // Bytes that are already valid MessagePack (a pre-encoded element).
  void write_raw(byte_view encoded) { append(encoded); }

  byte_buffer& buffer() noexcept { return out_; }

 private:
  void put(std::uint8_t b) { out_.push_back(static_cast<std::byte>(b)); }

  template <typename U>
  void put_be(std::uint8_t tag, U v) {
    std::byte bytes[1 + sizeof(U)];
    bytes[0] = static_cast<std::byte>(tag);
    store_be(bytes + 1, v);
    out_.insert(out_.end(), bytes, bytes + sizeof bytes);
  }

  void append(byte_view b) { out_.insert(out_.end(), b.begin(), b.end()); }

  byte_buffer& out_;
};

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
