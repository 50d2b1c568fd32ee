// Strict MessagePack reader over untrusted bytes: a cursor that reads one item at a time and
// never trusts a declared length further than the bytes actually present. Errors are values
// (errc::truncated, malformed, type_mismatch, length_limit); nothing here allocates.
//
// Not thread-safe; one reader per input.
#pragma once

#include <cachekit/bytes.hpp>
#include <cachekit/result.hpp>

#include "protocol/big_endian.hpp"

#include <bit>
#include <cstdint>
#include <string>
#include <string_view>

namespace cachekit {
inline namespace v0 {
namespace detail {

// The kind of the next item, from its first byte.
enum class msgpack_type {
  nil,
  boolean,
  integer,
  floating,
  string,
  binary,
  array,
  map,
  ext,
  invalid
};

inline msgpack_type type_of_tag(std::uint8_t tag) noexcept {
  if (tag <= 0x7f || tag >= 0xe0) return msgpack_type::integer;
  if (tag <= 0x8f) return msgpack_type::map;
  if (tag <= 0x9f) return msgpack_type::array;
  if (tag <= 0xbf) return msgpack_type::string;
  switch (tag) {
    case 0xc0: return msgpack_type::nil;
    case 0xc2:
    case 0xc3: return msgpack_type::boolean;
    case 0xc4:
    case 0xc5:
    case 0xc6: return msgpack_type::binary;
    case 0xc7:
    case 0xc8:
    case 0xc9:
    case 0xd4:
    case 0xd5:
    case 0xd6:
    case 0xd7:
    case 0xd8: return msgpack_type::ext;
    case 0xca:
    case 0xcb: return msgpack_type::floating;
    case 0xcc:
    case 0xcd:
    case 0xce:
    case 0xcf:
    case 0xd0:
    case 0xd1:
    case 0xd2:
    case 0xd3: return msgpack_type::integer;
    case 0xd9:
    case 0xda:
    case 0xdb: return msgpack_type::string;
    case 0xdc:
    case 0xdd: return msgpack_type::array;
    case 0xde:
    case 0xdf: return msgpack_type::map;
    default: return msgpack_type::invalid;  // 0xc1 is never used
  }
}

// A decoded integer: msgpack distinguishes unsigned values above INT64_MAX.
struct msgpack_int {
  bool is_unsigned_large = false;  // value above INT64_MAX, held in `u`
  std::int64_t i = 0;
  std::uint64_t u = 0;
};

class msgpack_reader {
 public:
  explicit msgpack_reader(byte_view input) noexcept : input_(input) {}

  [[nodiscard]] std::size_t position() const noexcept { return pos_; }
  [[nodiscard]] std::size_t remaining() const noexcept { return input_.size() - pos_; }
  [[nodiscard]] bool at_end() const noexcept { return pos_ == input_.size(); }
  [[nodiscard]] byte_view consumed_since(std::size_t start) const noexcept {
    return input_.subspan(start, pos_ - start);
  }

  // The type of the next item, or invalid at the end of input.
  [[nodiscard]] msgpack_type peek_type() const noexcept {
    return at_end() ? msgpack_type::invalid : type_of_tag(tag_at(pos_));
  }

  result<bool> read_nil() {
    if (auto t = expect(msgpack_type::nil, "nil"); !t) return t.error();
    ++pos_;
    return true;
  }

  result<bool> read_bool() {
    if (auto t = expect(msgpack_type::boolean, "bool"); !t) return t.error();
    return tag_at(pos_++) == 0xc3;
  }

  result<msgpack_int> read_int() {
    if (auto t = expect(msgpack_type::integer, "integer"); !t) return t.error();
    const std::uint8_t tag = tag_at(pos_);
    msgpack_int out;
    if (tag <= 0x7f) {
      ++pos_;
      out.i = tag;
      return out;
    }
    if (tag >= 0xe0) {
      ++pos_;
      // NOLINTNEXTLINE(bugprone-signed-char-misuse): a negative fixint is sign-extended.
      out.i = static_cast<std::int8_t>(tag);
      return out;
    }
    ++pos_;
    switch (tag) {
      case 0xcc: return take_unsigned<std::uint8_t>();
      case 0xcd: return take_unsigned<std::uint16_t>();
      case 0xce: return take_unsigned<std::uint32_t>();
      case 0xcf: return take_unsigned<std::uint64_t>();
      case 0xd0: return take_signed<std::uint8_t, std::int8_t>();
      case 0xd1: return take_signed<std::uint16_t, std::int16_t>();
      case 0xd2: return take_signed<std::uint32_t, std::int32_t>();
      default: return take_signed<std::uint64_t, std::int64_t>();
    }
  }

  result<double> read_float() {
    if (auto t = expect(msgpack_type::floating, "float"); !t) return t.error();
    const std::uint8_t tag = tag_at(pos_++);
    if (tag == 0xca) {
      if (remaining() < 4) return truncated("float32");
      const auto bits = load_be<std::uint32_t>(input_.data() + pos_);
      pos_ += 4;
      return static_cast<double>(std::bit_cast<float>(bits));
    }
    if (remaining() < 8) return truncated("float64");
    const auto bits = load_be<std::uint64_t>(input_.data() + pos_);
    pos_ += 8;
    return std::bit_cast<double>(bits);
  }

  // A string's bytes (not checked for UTF-8 here; callers that need it check).
  result<std::string_view> read_str() {
    if (auto t = expect(msgpack_type::string, "string"); !t) return t.error();
    const std::uint8_t tag = tag_at(pos_++);
    std::size_t n = 0;
    if (tag <= 0xbf) {
      n = tag & 0x1f;
    } else if (auto len = read_length(tag == 0xd9 ? 1 : tag == 0xda ? 2 : 4); len) {
      n = *len;
    } else {
      return len.error();
    }
    auto body = take(n, "string");
    if (!body) return body.error();
    return as_string_view(*body);
  }

  result<byte_view> read_bin() {
    if (auto t = expect(msgpack_type::binary, "binary"); !t) return t.error();
    const std::uint8_t tag = tag_at(pos_++);
    auto len = read_length(tag == 0xc4 ? 1 : tag == 0xc5 ? 2 : 4);
    if (!len) return len.error();
    return take(*len, "binary");
  }

  // An array header. Each element takes at least one byte, so a count above the bytes left
  // is rejected before anyone reserves memory for it.
  result<std::size_t> read_array_header() {
    if (auto t = expect(msgpack_type::array, "array"); !t) return t.error();
    const std::uint8_t tag = tag_at(pos_++);
    std::size_t n = 0;
    if (tag <= 0x9f) {
      n = tag & 0x0f;
    } else if (auto len = read_length(tag == 0xdc ? 2 : 4); len) {
      n = *len;
    } else {
      return len.error();
    }
    if (n > remaining()) return too_long("array", n);
    return n;
  }

  // A map header (count of key/value pairs; each pair takes at least two bytes).
  result<std::size_t> read_map_header() {
    if (auto t = expect(msgpack_type::map, "map"); !t) return t.error();
    const std::uint8_t tag = tag_at(pos_++);
    std::size_t n = 0;
    if (tag <= 0x8f) {
      n = tag & 0x0f;
    } else if (auto len = read_length(tag == 0xde ? 2 : 4); len) {
      n = *len;
    } else {
      return len.error();
    }
    if (n > remaining() / 2) return too_long("map", n);
    return n;
  }

  // An extension item: its type byte and payload.
  result<std::pair<std::int8_t, byte_view>> read_ext() {
    if (auto t = expect(msgpack_type::ext, "extension"); !t) return t.error();
    const std::uint8_t tag = tag_at(pos_++);
    std::size_t n = 0;
    switch (tag) {
      case 0xd4: n = 1; break;
      case 0xd5: n = 2; break;
      case 0xd6: n = 4; break;
      case 0xd7: n = 8; break;
      case 0xd8: n = 16; break;
      default: {
        auto len = read_length(tag == 0xc7 ? 1 : tag == 0xc8 ? 2 : 4);
        if (!len) return len.error();
        n = *len;
      }
    }
    if (remaining() < 1) return truncated("extension type");
    const auto type = static_cast<std::int8_t>(tag_at(pos_++));
    auto body = take(n, "extension");
    if (!body) return body.error();
    return std::pair{type, *body};
  }

  // Skips one complete item (with its children), iteratively so hostile nesting cannot
  // exhaust the stack.
  result<void> skip() {
    std::size_t pending = 1;
    while (pending > 0) {
      --pending;
      switch (peek_type()) {
        case msgpack_type::nil:
        case msgpack_type::boolean: ++pos_; break;
        case msgpack_type::integer:
          if (auto r = read_int(); !r) return r.error();
          break;
        case msgpack_type::floating:
          if (auto r = read_float(); !r) return r.error();
          break;
        case msgpack_type::string:
          if (auto r = read_str(); !r) return r.error();
          break;
        case msgpack_type::binary:
          if (auto r = read_bin(); !r) return r.error();
          break;
        case msgpack_type::ext:
          if (auto r = read_ext(); !r) return r.error();
          break;
        case msgpack_type::array: {
          auto n = read_array_header();
          if (!n) return n.error();
          pending += *n;
          break;
        }
        case msgpack_type::map: {
          auto n = read_map_header();
          if (!n) return n.error();
          pending += 2 * *n;
          break;
        }
        case msgpack_type::invalid:
          if (at_end()) return truncated("item");
          return fail(errc::malformed,
                      "byte 0xc1 at offset " + std::to_string(pos_) + " is not a MessagePack type");
      }
    }
    return {};
  }

 private:
  [[nodiscard]] std::uint8_t tag_at(std::size_t i) const noexcept {
    return static_cast<std::uint8_t>(input_[i]);
  }

  result<void> expect(msgpack_type want, const char* what) const {
    if (at_end()) return truncated(what);
    const msgpack_type got = type_of_tag(tag_at(pos_));
    if (got == want) return {};
    if (got == msgpack_type::invalid) {
      return fail(errc::malformed,
                  "byte 0xc1 at offset " + std::to_string(pos_) + " is not a MessagePack type");
    }
    return fail(errc::type_mismatch,
                std::string("expected ") + what + " at offset " + std::to_string(pos_));
  }

  result<std::size_t> read_length(std::size_t width) {
    if (remaining() < width) return truncated("length");
    std::size_t n = 0;
    switch (width) {
      case 1: n = tag_at(pos_); break;
      case 2: n = load_be<std::uint16_t>(input_.data() + pos_); break;
      default: n = load_be<std::uint32_t>(input_.data() + pos_); break;
    }
    pos_ += width;
    return n;
  }

  result<byte_view> take(std::size_t n, const char* what) {
    if (n > remaining()) return too_long(what, n);
    auto out = input_.subspan(pos_, n);
    pos_ += n;
    return out;
  }

  template <typename U>
  result<msgpack_int> take_unsigned() {
    if (remaining() < sizeof(U)) return truncated("integer");
    // NOLINTNEXTLINE(modernize-use-auto): widened to 64 bits whatever U is.
    const std::uint64_t v = load_be<U>(input_.data() + pos_);
    pos_ += sizeof(U);
    msgpack_int out;
    if (v > static_cast<std::uint64_t>(INT64_MAX)) {
      out.is_unsigned_large = true;
      out.u = v;
    } else {
      out.i = static_cast<std::int64_t>(v);
    }
    return out;
  }

  template <typename U, typename S>
  result<msgpack_int> take_signed() {
    if (remaining() < sizeof(U)) return truncated("integer");
    msgpack_int out;
    // NOLINTNEXTLINE(bugprone-signed-char-misuse): int 8 is sign-extended like every intN.
    out.i = static_cast<S>(load_be<U>(input_.data() + pos_));
    pos_ += sizeof(U);
    return out;
  }

  [[nodiscard]] failure truncated(const char* what) const {
    return fail(errc::truncated,
                std::string("input ends inside a ") + what + " at offset " + std::to_string(pos_));
  }
  [[nodiscard]] failure too_long(const char* what, std::size_t n) const {
    return fail(errc::length_limit, std::string(what) + " declares " + std::to_string(n) +
                                        " items/bytes but only " + std::to_string(remaining()) +
                                        " bytes remain");
  }

  byte_view input_;
  std::size_t pos_ = 0;
};

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
