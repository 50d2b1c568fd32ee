/// @file
/// The packer behind every typed codec: msgpack-cxx's adaptors (arithmetic types, strings,
/// containers, `MSGPACK_DEFINE_MAP` structs, your own adaptors) drive it, and it writes what
/// msgpack-python writes for the same data, so a typed result is stored byte for byte as
/// cachekit-py stores it and as the same data as a `cachekit::value` is stored.
///
/// msgpack-cxx alone does not: it packs a whole-number `double` as an integer (`3.0` -> `03`,
/// `-0.0` -> `00`, `2^63` -> uint64) and a `float` as a float32, and it packs any bytes as a str.
/// This packer is msgpack-cxx's `packer` over cachekit's own output sink, with these members
/// replaced for that sink only (user code packing to other streams is untouched):
/// - `pack_double` / `pack_float`: always float64 (`msgpack_forms.hpp` decides the bytes);
/// - `pack_str_body`: the text must be UTF-8, as every Python `str` is; otherwise the value is
///   refused (store bytes as `std::vector<std::byte>`, which packs as bin);
/// - `pack_ext`: refused: cachekit-py stores no MessagePack extension types (msgpack-cxx packs
///   `std::chrono::time_point` as the timestamp extension; use `cachekit::datetime`).
/// A refusal throws `detail::unstorable_value`, which `codec<T>::encode` turns into a `result`
/// error. Integers, str/bin/array/map headers already take msgpack-python's shortest forms.
///
/// Thread safety: stateless; thread-safe.
#pragma once

#include <cachekit/bytes.hpp>
#include <cachekit/error.hpp>
#include <cachekit/msgpack_forms.hpp>

// msgpack-cxx without its unpacking and parsing machinery, which is most of its compile time;
// include <msgpack.hpp> where you unpack.
#include <msgpack/object.hpp>
#include <msgpack/pack.hpp>
#include <msgpack/sbuffer.hpp>
#include <msgpack/type.hpp>
#include <msgpack/zone.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string_view>

namespace cachekit {
inline namespace v0 {
namespace detail {

/// Collects msgpack-cxx output in a scratch buffer that only grows (no zero-fill or reallocation
/// per write, unlike appending to a vector); `take()` copies the packed bytes out once.
struct byte_buffer_sink {
  byte_buffer* scratch = nullptr;
  std::size_t used = 0;

  void write(const char* data, std::size_t size) {
    if (used + size > scratch->size()) grow(size);
    std::memcpy(scratch->data() + used, data, size);
    used += size;
  }
  [[nodiscard]] byte_buffer take() const {
    return byte_buffer(scratch->begin(), scratch->begin() + static_cast<std::ptrdiff_t>(used));
  }

 private:
  void grow(std::size_t size) {
    scratch->resize(std::max<std::size_t>({scratch->size() * 2, used + size, 256}));
  }
};

/// This thread's packing scratch buffer for the life of one encode (kept between encodes), or a
/// buffer of its own when the thread's is already in use (an adaptor that encodes inside an
/// encode).
class CACHEKIT_EXPORT packing_scratch {
 public:
  packing_scratch();
  ~packing_scratch();
  packing_scratch(const packing_scratch&) = delete;
  packing_scratch& operator=(const packing_scratch&) = delete;
  [[nodiscard]] byte_buffer& buffer() noexcept { return *buffer_; }

 private:
  byte_buffer* buffer_;
  byte_buffer own_;
  bool shared_;
};

/// A value the typed packer refuses (see the file comment); `code` is the `errc` to report.
class unstorable_value : public std::invalid_argument {
 public:
  unstorable_value(errc code, const char* why) : std::invalid_argument(why), code_(code) {}
  [[nodiscard]] errc code() const noexcept { return code_; }

 private:
  errc code_;
};

/// True when `text` is UTF-8 as Python's strict codec accepts it.
[[nodiscard]] CACHEKIT_EXPORT bool is_utf8_text(std::string_view text) noexcept;

}  // namespace detail
}  // namespace v0
}  // namespace cachekit

namespace msgpack {
MSGPACK_API_VERSION_NAMESPACE(v1) {
  using cachekit_typed_packer = packer<cachekit::detail::byte_buffer_sink>;

  template <>
  inline cachekit_typed_packer& cachekit_typed_packer::pack_double(double d) {
    const auto form = cachekit::detail::float64_form(d);
    append_buffer(reinterpret_cast<const char*>(form.data()), form.size());
    return *this;
  }

  template <>
  inline cachekit_typed_packer& cachekit_typed_packer::pack_float(float d) {
    return pack_double(static_cast<double>(d));
  }

  template <>
  inline cachekit_typed_packer& cachekit_typed_packer::pack_str_body(const char* b, uint32_t l) {
    if (!cachekit::detail::is_utf8_text(std::string_view(b, l))) {
      throw cachekit::detail::unstorable_value(
          cachekit::errc::invalid_argument,
          "a string is not valid UTF-8, so Python could not read it as str; store raw bytes as "
          "std::vector<std::byte> (MessagePack bin) instead");
    }
    append_buffer(b, l);
    return *this;
  }

  template <>
  inline cachekit_typed_packer& cachekit_typed_packer::pack_ext(size_t, int8_t) {
    throw cachekit::detail::unstorable_value(
        cachekit::errc::unsupported_type,
        "MessagePack extension types are not stored (cachekit-py writes none); a "
        "std::chrono::time_point packs as one: store a cachekit::datetime instead");
  }

}  // MSGPACK_API_VERSION_NAMESPACE(v1)
}  // namespace msgpack
