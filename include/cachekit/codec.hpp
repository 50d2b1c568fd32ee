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
///         MSGPACK_DEFINE_MAP(id, name);   // a map {"id": ..., "name": ...}, as a Python dict
///       };
///
///   A type adapted non-intrusively (a `msgpack::adaptor::pack`/`convert` specialization)
///   opts in with `template <> inline constexpr bool cachekit::enable_msgpack_codec<T> = true;`.
/// - anything else: specialize `cachekit::codec<T>` with `encode`/`decode` as below.
///
/// A type with none of these fails to compile with a message that says how to add one.
/// Whatever the type, the bytes are what msgpack-python writes for the same data, and the same
/// bytes `cachekit::value` gets (typed_packer.hpp): a `double` is always a float64.
/// Decoding reads untrusted bytes: declared lengths are bounded by the input size, nesting by
/// 512 levels, and any mismatch is a `result` error (errc::malformed / type_mismatch), never a
/// crash or an unchecked allocation.
///
/// Thread safety: stateless; thread-safe.
#pragma once

#include <cachekit/bytes.hpp>
#include <cachekit/result.hpp>
#include <cachekit/temporal_msgpack.hpp>
#include <cachekit/typed_packer.hpp>
#include <cachekit/value.hpp>
#include <cachekit/value_codec.hpp>

#include <msgpack.hpp>

#include <array>
#include <cstddef>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
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

// One MessagePack document unpacked with every msgpack-cxx limit bounded by the input size (a
// few hostile bytes cannot ask for gigabytes), into a per-thread zone that is cleared, not freed,
// afterwards; strings and binaries point into `bytes`, which must outlive this object. Throws
// msgpack exceptions (callers translate), including for trailing bytes.
class CACHEKIT_EXPORT unpacked_document {
 public:
  explicit unpacked_document(byte_view bytes);
  ~unpacked_document();
  unpacked_document(const unpacked_document&) = delete;
  unpacked_document& operator=(const unpacked_document&) = delete;

  [[nodiscard]] const msgpack::object& get() const noexcept { return object_; }

 private:
  msgpack::zone* zone_;
  std::unique_ptr<msgpack::zone> own_;  // when this thread's zone is already in use
  msgpack::object object_;
};

CACHEKIT_EXPORT failure msgpack_failure(const char* what, const char* type_name);

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

  /// Reads exactly one document into a `T`. Errors: errc::malformed for invalid or trailing
  /// bytes, errc::type_mismatch when the document does not fit `T`.
  static result<T> decode(byte_view bytes) {
    try {
      const detail::unpacked_document document(bytes);
      return document.get().as<T>();
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
