/// @file
/// Typed codecs: how a C++ type becomes the MessagePack bytes cachekit stores, and back.
///
/// A type is cacheable when it has a `cachekit::codec<T>`. Provided:
/// - `cachekit::value` (the dynamic value; StandardSerializer profile, see value_codec.hpp);
/// - every type msgpack-cxx knows how to pack and convert: arithmetic types, `std::string`,
///   `std::vector<std::byte>` (bin), standard containers of such types, `std::optional`,
///   `std::tuple`, `cachekit::datetime` / `date` / `time_of_day` (temporal_msgpack.hpp), and your
///   own structs with an intrusive adaptor:
///
///       struct user {
///         std::int64_t id;
///         std::string name;
///         MSGPACK_DEFINE_MAP(id, name)    // a map {"id": ..., "name": ...}, as a Python dict
///       };
///
///   A type adapted non-intrusively (a `msgpack::adaptor::pack`/`convert` specialization)
///   opts in with `template <> inline constexpr bool cachekit::enable_msgpack_codec<T> = true;`.
/// - anything else: specialize `cachekit::codec<T>` with `encode`/`decode` as below.
///
/// A MSGPACK_DEFINE_MAP struct is decoded by one walk over the stored map that matches keys
/// to field names, with msgpack-cxx's outcome (a non-string key is a type mismatch, unknown
/// keys are ignored, a repeated key's first value wins, absent fields keep their default) but
/// without its per-call std::map of keys. This applies to any `msgpack_pack` that only calls
/// `pack_map` then `pack` on name/field pairs, as the macro's does (a hand-written one of that
/// shape is read this way too; its `msgpack_unpack` is not called).
/// A type with none of these fails to compile with a message that says how to add one.
/// Whatever the type, the bytes are what msgpack-python writes for the same data, and the same
/// bytes `cachekit::value` gets (typed_packer.hpp): a `double` is always a float64.
/// Decoding reads untrusted bytes: declared lengths are bounded by the input size, nesting by
/// 512 levels (the protocol's decode bounds, checked before anything is unpacked:
/// errc::length_limit, truncated, trailing_bytes), and any other mismatch is a `result` error
/// (errc::malformed / type_mismatch), never a crash or an unchecked allocation.
///
/// Thread safety: stateless; thread-safe.
#pragma once

#include <cachekit/bytes.hpp>
#include <cachekit/result.hpp>
#include <cachekit/temporal_msgpack.hpp>
#include <cachekit/typed_packer.hpp>
#include <cachekit/value.hpp>
#include <cachekit/value_codec.hpp>

// msgpack-cxx without its unpacking and parsing machinery, which is most of its compile time;
// include <msgpack.hpp> where you unpack.
#include <msgpack/object.hpp>
#include <msgpack/pack.hpp>
#include <msgpack/sbuffer.hpp>
#include <msgpack/type.hpp>
#include <msgpack/zone.hpp>

#include <array>
#include <cstddef>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

namespace cachekit {
inline namespace v0 {

/// Opt-in for types adapted to msgpack-cxx without MSGPACK_DEFINE (non-intrusive adaptors).
template <typename T>
inline constexpr bool enable_msgpack_codec = false;

namespace detail {

template <typename T>
concept has_msgpack_define = requires(const T& t, msgpack::packer<msgpack::sbuffer>& p) {
  t.msgpack_pack(p);
};

template <typename T>
struct is_msgpack_adapted : std::bool_constant<std::is_arithmetic_v<T> || has_msgpack_define<T> ||
                                               enable_msgpack_codec<T>> {};
template <>
struct is_msgpack_adapted<std::string> : std::true_type {};
template <>
struct is_msgpack_adapted<std::byte> : std::true_type {};  // vector<std::byte> packs as bin
template <>
struct is_msgpack_adapted<datetime> : std::true_type {};  // temporal_msgpack.hpp
template <>
struct is_msgpack_adapted<date> : std::true_type {};
template <>
struct is_msgpack_adapted<time_of_day> : std::true_type {};
template <typename U, typename A>
struct is_msgpack_adapted<std::vector<U, A>> : is_msgpack_adapted<U> {};
template <typename U, std::size_t N>
struct is_msgpack_adapted<std::array<U, N>> : is_msgpack_adapted<U> {};
template <typename U>
struct is_msgpack_adapted<std::optional<U>> : is_msgpack_adapted<U> {};
template <typename K, typename V, typename C, typename A>
struct is_msgpack_adapted<std::map<K, V, C, A>>
    : std::bool_constant<is_msgpack_adapted<K>::value && is_msgpack_adapted<V>::value> {};
template <typename K, typename V, typename H, typename E, typename A>
struct is_msgpack_adapted<std::unordered_map<K, V, H, E, A>>
    : std::bool_constant<is_msgpack_adapted<K>::value && is_msgpack_adapted<V>::value> {};
template <typename A, typename B>
struct is_msgpack_adapted<std::pair<A, B>>
    : std::bool_constant<is_msgpack_adapted<A>::value && is_msgpack_adapted<B>::value> {};
template <typename... Ts>
struct is_msgpack_adapted<std::tuple<Ts...>>
    : std::bool_constant<(is_msgpack_adapted<Ts>::value && ...)> {};

// The protocol's decode bounds (check_msgpack_bounds) refused a document before msgpack-cxx saw
// it; `why()` is the pre-scan's own error (errc::length_limit for too deep or overclaiming,
// errc::truncated, errc::trailing_bytes, errc::malformed), which decoders report as it is.
class CACHEKIT_EXPORT msgpack_bounds_error : public std::runtime_error {
 public:
  explicit msgpack_bounds_error(failure why)
      : std::runtime_error(why.detail), why_(std::move(why)) {}
  [[nodiscard]] const failure& why() const noexcept { return why_; }

 private:
  failure why_;
};

// One MessagePack document unpacked with every msgpack-cxx limit bounded by the input size (a
// few hostile bytes cannot ask for gigabytes), into a per-thread zone that is cleared, not freed,
// afterwards; strings and binaries point into `bytes`, which must outlive this object. Throws
// msgpack_bounds_error when the protocol's bounds refuse the document, msgpack exceptions
// otherwise (callers translate), including for trailing bytes.
class CACHEKIT_EXPORT unpacked_document {
 public:
  explicit unpacked_document(byte_view bytes);
  ~unpacked_document();
  unpacked_document(const unpacked_document&) = delete;
  unpacked_document& operator=(const unpacked_document&) = delete;

  [[nodiscard]] const msgpack::object& get() const noexcept { return object_; }

 private:
  msgpack::zone* zone_ = nullptr;
  std::unique_ptr<msgpack::zone> own_;  // when this thread's zone is already in use
  msgpack::object object_;
};

CACHEKIT_EXPORT failure msgpack_failure(const char* what, const char* type_name);

template <typename T>
void convert_value(const msgpack::object& o, T& out);

// The (name, field) pairs of a MSGPACK_DEFINE_MAP struct, listed by the struct's own
// `msgpack_pack` run against this probe instead of a real packer: define_map calls `pack_map(n)`
// and then `pack` on name, field, name, field... Anything else a hand-written `msgpack_pack`
// calls (pack_str, pack_int ...) goes to msgpack-cxx's packer underneath, whose sink marks the
// probe unusable, so only that exact shape is decoded by name (`convert_value`).
struct probe_sink {
  bool written = false;
  void write(const char*, std::size_t) noexcept { written = true; }
};

class map_fields : public msgpack::packer<probe_sink> {
 public:
  static constexpr std::size_t max_fields = 32;
  struct field {
    std::string_view name;
    void* target;
    void (*convert)(const msgpack::object&, void*);
  };

  map_fields() : msgpack::packer<probe_sink>(sink_) {}

  map_fields& pack_map(std::uint32_t n) {
    if (seen_map_ || n > max_fields) usable_ = false;
    seen_map_ = true;
    expected_ = n;
    return *this;
  }
  template <typename X>
  map_fields& pack(const X& x) {
    if (!seen_map_ || !usable_) {
      usable_ = false;
    } else if (name_next_) {
      if constexpr (std::is_convertible_v<const X&, std::string_view>) {
        if (count_ == expected_) {
          usable_ = false;
        } else {
          fields_[count_].name = std::string_view(x);
        }
      } else {
        usable_ = false;
      }
    } else {
      // The struct is not const (the decode owns it); msgpack_pack only sees it through const.
      fields_[count_].target = const_cast<X*>(&x);
      fields_[count_].convert = [](const msgpack::object& o, void* target) {
        convert_value(o, *static_cast<X*>(target));
      };
      ++count_;
    }
    name_next_ = !name_next_;
    return *this;
  }

  // Whether the struct wrote exactly one map of named fields.
  [[nodiscard]] bool usable() const noexcept {
    return usable_ && seen_map_ && !sink_.written && name_next_ && count_ == expected_;
  }
  [[nodiscard]] std::span<const field> fields() const noexcept { return {fields_.data(), count_}; }

 private:
  probe_sink sink_;
  std::array<field, max_fields> fields_{};
  std::size_t count_ = 0;
  std::uint32_t expected_ = 0;
  bool seen_map_ = false;
  bool usable_ = true;
  bool name_next_ = true;
};

// Converts `o` into `out` as msgpack-cxx's `convert` does, except that a MSGPACK_DEFINE_MAP
// struct (at any depth) is filled in one walk over the map, matching keys to field names.
// msgpack-cxx's define_map first copies every key into a std::map<std::string, object*> (an
// allocation per key); the outcome is the same: a non-string key is a type error, keys naming
// no field are ignored, a field whose key repeats takes the first value, absent fields keep
// their value.
template <typename T>
void convert_value(const msgpack::object& o, T& out) {
  // A `msgpack_pack` written for one packer type only cannot take the probe: msgpack-cxx.
  if constexpr (requires(const T& t, map_fields& probe) { t.msgpack_pack(probe); } &&
                !msgpack::has_as<T>::value) {
    map_fields probe;
    std::as_const(out).msgpack_pack(probe);
    if (probe.usable()) {
      if (o.type != msgpack::type::MAP) throw msgpack::type_error();
      const auto fields = probe.fields();
      std::uint32_t filled = 0;  // one bit per field: set once its first value is converted
      static_assert(map_fields::max_fields <= 32);
      for (std::uint32_t i = 0; i < o.via.map.size; ++i) {
        const msgpack::object_kv& kv = o.via.map.ptr[i];
        if (kv.key.type != msgpack::type::STR) throw msgpack::type_error();
        const std::string_view key(kv.key.via.str.ptr, kv.key.via.str.size);
        for (std::size_t f = 0; f < fields.size(); ++f) {
          if ((filled >> f & 1u) == 0 && fields[f].name == key) {
            fields[f].convert(kv.val, fields[f].target);
            filled |= 1u << f;
          }
        }
      }
      return;
    }
  }
  // What msgpack-cxx's define_map does with a field (msgpack::type::convert_helper).
  if constexpr (msgpack::has_as<T>::value) {
    out = o.as<T>();
  } else {
    o.convert(out);
  }
}

}  // namespace detail

/// The codec of `T`. The primary template is used for msgpack-cxx-adapted types; specialize
/// it for anything else:
///
///     template <> struct cachekit::codec<my_type> {
///       static cachekit::result<cachekit::byte_buffer> encode(const my_type&);
///       static cachekit::result<my_type> decode(cachekit::byte_view msgpack_bytes);
///     };
template <typename T>
struct codec {
  static_assert(detail::is_msgpack_adapted<T>::value,
                "cachekit: this type has no codec. Add MSGPACK_DEFINE_MAP(fields...) to the "
                "struct, or adapt it to msgpack-cxx and set "
                "cachekit::enable_msgpack_codec<T> = true, or specialize cachekit::codec<T> "
                "with encode/decode.");

  /// MessagePack bytes of `v`, as msgpack-python packs the same data (typed_packer.hpp):
  /// structs with MSGPACK_DEFINE_MAP become string-keyed maps in declaration order (Python
  /// dicts), floating-point numbers float64, byte vectors bin. Errors: errc::invalid_argument
  /// for a string that is not UTF-8, errc::unsupported_type for what packs as an extension.
  static result<byte_buffer> encode(const T& v) {
    detail::packing_scratch scratch;
    detail::byte_buffer_sink sink{&scratch.buffer()};
    try {
      msgpack::pack(sink, v);
    } catch (const detail::unstorable_value& e) {
      return fail(e.code(), std::string(e.what()) + " (in " + typeid(T).name() + ")");
    } catch (const std::exception&) {
      return detail::msgpack_failure("encode", typeid(T).name());
    }
    return sink.take();
  }

  /// Reads exactly one document into a `T`. Errors: the protocol's decode bounds first
  /// (errc::length_limit for a document nested too deep or declaring more than its bytes can
  /// hold, errc::truncated, errc::trailing_bytes), errc::malformed for other invalid bytes,
  /// errc::type_mismatch when the document does not fit `T`.
  static result<T> decode(byte_view bytes) {
    try {
      const detail::unpacked_document document(bytes);
      if constexpr (msgpack::has_as<T>::value) {
        return document.get().as<T>();
      } else {
        T out{};
        detail::convert_value(document.get(), out);
        return out;
      }
    } catch (const detail::msgpack_bounds_error& e) {
      return e.why();
    } catch (const msgpack::type_error&) {
      return detail::msgpack_failure("type", typeid(T).name());
    } catch (const std::exception&) {
      return detail::msgpack_failure("decode", typeid(T).name());
    }
  }
};

/// The dynamic value uses cachekit's own StandardSerializer-compatible encoder.
template <>
struct codec<value> {
  static result<byte_buffer> encode(const value& v) { return encode_standard_value(v); }
  static result<value> decode(byte_view bytes) { return decode_standard_value(bytes); }
};

}  // namespace v0
}  // namespace cachekit
