/// @file
/// Typed cache-key arguments: how a C++ argument becomes part of a key's pre-image.
///
/// Both key generators (`default_key.hpp`, `interop_key.hpp`) hash a MessagePack pre-image of
/// the call's arguments. A `key_writer` writes that pre-image directly from typed C++ values,
/// without building a `value` tree, applying the normalization rules of its `key_profile`.
/// `key_argument<T>` says how to write one `T`; cachekit specializes it for:
///
/// - `bool`, integers (not `char`: say whether you mean text or a number), `float`, `double`:
///   bool, int, float64 (1).
/// - `std::string`, `std::string_view`, `const char*`, `char[N]`: str (must be UTF-8).
/// - contiguous ranges of `std::byte` (`std::vector<std::byte>`, `std::span<const std::byte>`,
///   `std::array<std::byte, N>`) and `value_binary`: bin. (Ranges of `std::uint8_t` are
///   arrays of integers, as a Python list of ints.)
/// - `std::nullptr_t`, `std::nullopt_t`: nil; `std::optional<T>`: nil or the `T`.
/// - other sized ranges (`std::vector<T>`, `std::array<T, N>`, `std::span<const T>` ...),
///   `std::pair`, `std::tuple`: array (Python list/tuple).
/// - `std::map`, `std::unordered_map` with string keys (integer keys: default keys only): map,
///   keys sorted (2).
/// - `std::set`, `std::unordered_set`, `value_set`: interop keys write a sorted, deduplicated
///   array; default keys fail (3).
/// - `cachekit::uuid`: lowercase hyphenated str.
/// - `cachekit::datetime` (aware), `std::chrono::sys_time<D>` (UTC, floored to microseconds):
///   default keys write `isoformat()`, interop keys the epoch seconds (4).
/// - `cachekit::value`, `value_map`: by the value's kind.
///
/// (1) Default keys turn -0.0 into 0.0 and keep NaN/inf; interop keys reject NaN/inf and write
///     integral floats in [-2^63, 2^64) as integers. (2) By UTF-8 bytes (= Python's code-point
///     order) or numerically. (3) cachekit-py rejects sets in default keys, so the call would run
///     uncached there. (4) A naive `datetime` is an error in both.
///
/// Any other type fails to compile with "cachekit: no key normalization for this argument
/// type". Teach cachekit a type of yours by specializing `key_argument` in namespace
/// `cachekit` with a static `write`:
///
///     template <>
///     struct cachekit::key_argument<point> {
///       static void write(cachekit::key_writer& w, const point& p) {
///         w.write_array_header(2);  // as if the Python side passed [x, y]
///         w.write(p.x);
///         w.write(p.y);
///       }
///     };
///
/// To match a key that cachekit-py computes, write what its normalization would produce for
/// the corresponding Python argument.
///
/// Thread safety: `key_writer` is not thread-safe (one per key computation); the traits are
/// stateless.
#pragma once

#include <cachekit/bytes.hpp>
#include <cachekit/export.hpp>
#include <cachekit/result.hpp>
#include <cachekit/temporal.hpp>
#include <cachekit/value.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <optional>
#include <ranges>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace cachekit {
inline namespace v0 {

/// Which key's normalization rules a `key_writer` applies.
enum class key_profile {
  default_key,  ///< cachekit-py's CacheKeyGenerator (`default_key.hpp`)
  interop,      ///< the interop/v1 canonical argument encoding (`interop_key.hpp`)
};

/// Deepest container nesting a `value` argument may have in a key; deeper values are
/// errc::invalid_argument (cachekit-py fails at about 490 levels, by its recursion limit).
inline constexpr std::size_t max_key_nesting = 512;

class key_writer;

/// How to write a `T` into a key pre-image: specialize with
/// `static void write(key_writer&, const T&)`. The primary template is deliberately undefined.
template <class T>
struct key_argument;

/// A type cachekit (or a specialization of yours) can write into a key.
template <class T>
concept key_normalizable = requires(key_writer& w, const T& v) {
  key_argument<T>::write(w, v);
};

/// Writes the MessagePack pre-image of a key, normalizing as its profile requires. Failures
/// (a non-UTF-8 string, a naive datetime, a set in a default key ...) are recorded, not
/// thrown: the first one is kept, later writes are harmless, and the key function returns it.
class CACHEKIT_EXPORT key_writer {
 public:
  /// Appends to `out`.
  key_writer(byte_buffer& out, key_profile profile) noexcept : out_(&out), profile_(profile) {}

  [[nodiscard]] key_profile profile() const noexcept { return profile_; }

  void write_nil();
  void write_bool(bool v);
  void write_int(std::int64_t v);
  void write_uint(std::uint64_t v);
  /// A float, normalized by the profile (see the file comment).
  void write_float(double v);
  /// A str; errc::invalid_argument when `utf8` is not well-formed UTF-8.
  void write_string(std::string_view utf8);
  void write_binary(byte_view bytes);
  /// An array of `size` elements: write them next.
  void write_array_header(std::size_t size);
  /// A map of `size` entries: write key, value, key, value ... next, keys in canonical order
  /// (strings by UTF-8 bytes; no duplicates). Interop keys accept only string map keys.
  void write_map_header(std::size_t size);
  /// Lowercase hyphenated str.
  void write_uuid(const uuid& u);
  /// Aware: default profile writes `isoformat()`, interop the epoch seconds (an int when
  /// whole). Naive: errc::invalid_argument.
  void write_datetime(const datetime& t);
  /// A dynamic value, by its kind (see value.hpp for the per-profile table).
  void write_value(const value& v);
  /// A map value (`value_map`): entries sorted as the profile requires.
  void write_map(const value_map& m);

  /// Writes `arg` through `key_argument<T>`.
  template <class T>
  void write(const T& arg) {
    static_assert(key_normalizable<T>,
                  "cachekit: no key normalization for this argument type; pass a supported type "
                  "or specialize cachekit::key_argument<T>");
    if constexpr (key_normalizable<T>) key_argument<T>::write(*this, arg);
  }

  /// A set: interop writes its elements' encodings sorted and deduplicated, as an array;
  /// default keys record errc::unsupported_type, as cachekit-py rejects sets.
  template <class Range>
  void write_set(const Range& elements) {
    if (!begin_set()) return;
    std::vector<byte_buffer> encoded;
    encoded.reserve(static_cast<std::size_t>(std::ranges::distance(elements)));
    for (const auto& e : elements) {
      key_writer element(encoded.emplace_back(), profile_);
      element.depth_ = depth_ + 1;
      element.write(static_cast<const std::ranges::range_value_t<Range>&>(e));
      if (element.failed()) {
        fail(element.error());
        return;
      }
    }
    write_encoded_set(encoded);
  }

  /// Records a failure (keeps the first one). For `key_argument` specializations that reject a
  /// value: `w.fail(errc::invalid_argument, "point has NaN coordinates")`.
  void fail(errc code, std::string detail);
  void fail(failure f);

  [[nodiscard]] bool failed() const noexcept { return failed_; }
  /// The first failure; only when `failed()`.
  [[nodiscard]] const failure& error() const noexcept { return failure_; }

  /// Bytes written so far.
  [[nodiscard]] byte_view bytes() const noexcept { return *out_; }

 private:
  friend class default_key_builder;

  bool begin_set();
  void write_encoded_set(std::vector<byte_buffer>& encoded);
  void write_value_nested(const value& v);
  void write_map_default(const value_map& m);
  void write_map_interop(const value_map& m);
  // Reorders the keyword-argument values written at [begin, end of buffer) into a map sorted by
  // name; `ends[i]` is where the value of `names[i]` ends.
  void write_sorted_kwargs(std::size_t begin, std::span<const std::string_view> names,
                           std::span<const std::size_t> ends);

  byte_buffer* out_;
  key_profile profile_;
  std::size_t depth_ = 0;
  bool failed_ = false;
  failure failure_{};
};

/// A keyword argument of a default key (Python `f(x, flag=True)`): `kwarg("flag", true)`.
/// Keyword arguments form the key's kwargs map, sorted by name, whatever their position in
/// the call. It refers to `value`: use it inside the key call's argument list.
template <class T>
struct keyword_argument {
  std::string_view name;
  const T& value;
};

/// Makes a keyword argument: `builder(42, cachekit::kwarg("include_profile", true))`.
template <class T>
[[nodiscard]] keyword_argument<T> kwarg(std::string_view name, const T& value) noexcept {
  return {name, value};
}

namespace detail {

template <class T>
struct is_keyword_argument : std::false_type {};
template <class T>
struct is_keyword_argument<keyword_argument<T>> : std::true_type {};

template <class T>
struct is_char_type
    : std::bool_constant<std::is_same_v<T, char> || std::is_same_v<T, wchar_t> ||
                         std::is_same_v<T, char8_t> || std::is_same_v<T, char16_t> ||
                         std::is_same_v<T, char32_t>> {};

template <class T>
concept key_integer =
    std::integral<T> && !std::is_same_v<T, bool> && !is_char_type<std::remove_cv_t<T>>::value;

template <class T>
struct is_std_string : std::false_type {};
template <class Traits, class Alloc>
struct is_std_string<std::basic_string<char, Traits, Alloc>> : std::true_type {};
template <class Traits>
struct is_std_string<std::basic_string_view<char, Traits>> : std::true_type {};

template <class T>
concept key_string =
    is_std_string<T>::value || std::is_same_v<T, const char*> || std::is_same_v<T, char*>;

template <class T>
concept key_bytes = std::ranges::contiguous_range<const T> && std::ranges::sized_range<const T> &&
    std::is_same_v<std::remove_cv_t<std::ranges::range_value_t<const T>>, std::byte>;

template <class T>
concept has_key_type = requires {
  typename T::key_type;
};
template <class T>
concept has_mapped_type = requires {
  typename T::mapped_type;
};

template <class T>
concept key_sequence =
    std::ranges::forward_range<const T> && std::ranges::sized_range<const T> && !key_string<T> &&
    !key_bytes<T> && !has_key_type<T> && !std::is_array_v<T> && !std::is_same_v<T, value> &&
    key_normalizable<std::remove_cv_t<std::ranges::range_value_t<const T>>>;

template <class T>
concept key_map_key = key_string<T> || key_integer<T>;

template <class M>
concept key_map = std::ranges::forward_range<const M> && std::ranges::sized_range<const M> &&
    has_key_type<M> && has_mapped_type<M> && key_map_key<typename M::key_type> &&
    key_normalizable<typename M::mapped_type>;

template <class S>
concept key_set = std::ranges::forward_range<const S> && std::ranges::sized_range<const S> &&
                  has_key_type<S> && !has_mapped_type<S> &&
                  key_normalizable<typename S::key_type>;

template <class T>
std::string_view as_key_string(const T& s) noexcept {
  if constexpr (std::is_pointer_v<T>) {
    return std::string_view(s);
  } else {
    return std::string_view(s.data(), s.size());
  }
}

template <class K>
void write_map_key(key_writer& w, const K& k) {
  if constexpr (key_string<K>) {
    w.write_string(as_key_string(k));
  } else if (w.profile() == key_profile::interop) {
    w.fail(errc::unsupported_type,
           "interop map keys must be strings (interop/v1 data model); convert the integer "
           "keys to strings");
  } else if constexpr (std::is_signed_v<K>) {
    w.write_int(static_cast<std::int64_t>(k));
  } else {
    w.write_uint(static_cast<std::uint64_t>(k));
  }
}

template <class K>
bool map_key_less(const K& a, const K& b) noexcept {
  if constexpr (key_string<K>) {
    return as_key_string(a) < as_key_string(b);  // char_traits<char> compares as unsigned bytes
  } else {
    return a < b;
  }
}

// Whether iterating M already yields the canonical key order (std::map with std::less).
template <class M>
constexpr bool map_iterates_canonically() {
  if constexpr (requires { typename M::key_compare; }) {
    using K = typename M::key_type;
    using C = typename M::key_compare;
    return !std::is_pointer_v<K> &&
           (std::is_same_v<C, std::less<K>> || std::is_same_v<C, std::less<>>);
  } else {
    return false;
  }
}

template <class M>
void write_key_map(key_writer& w, const M& m) {
  w.write_map_header(m.size());
  if constexpr (map_iterates_canonically<M>()) {
    for (const auto& [k, v] : m) {
      write_map_key(w, k);
      w.write(v);
    }
  } else {
    std::vector<const typename M::value_type*> entries;
    entries.reserve(m.size());
    for (const auto& entry : m) entries.push_back(&entry);
    std::sort(entries.begin(), entries.end(),
              [](const auto* a, const auto* b) { return map_key_less(a->first, b->first); });
    for (std::size_t i = 0; i < entries.size(); ++i) {
      if (i > 0 && !map_key_less(entries[i - 1]->first, entries[i]->first)) {
        w.fail(errc::invalid_argument, "map has two keys with the same text");
        return;
      }
      write_map_key(w, entries[i]->first);
      w.write(entries[i]->second);
    }
  }
}

/// Scratch buffer for one key computation: a per-thread buffer reused across calls (no
/// allocation on the hot path), or an owned one when the thread's buffer is already in use.
class CACHEKIT_EXPORT key_scratch {
 public:
  key_scratch() noexcept;
  ~key_scratch();
  key_scratch(const key_scratch&) = delete;
  key_scratch& operator=(const key_scratch&) = delete;

  byte_buffer& buffer() noexcept { return *buffer_; }

 private:
  byte_buffer* buffer_;
  byte_buffer own_;
  bool borrowed_ = false;
};

// `prefix` followed by what `w` wrote, in one string: the exact in-process keys of memoized
// functions (a key space prefix, then the call's pre-image). The writer's failure if it failed.
inline result<std::string> prefixed_bytes(std::string_view prefix, const key_writer& w) {
  if (w.failed()) return w.error();
  const byte_view bytes = w.bytes();
  std::string out;
  out.reserve(prefix.size() + bytes.size());
  out.append(prefix).append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  return out;
}

// Whether a key function can take `T` as an argument (keyword arguments are checked apart).
template <class T>
inline constexpr bool is_key_call_argument = key_normalizable<T> || is_keyword_argument<T>::value;

// Fails to compile, naming `T`, when it cannot be an argument; the value says whether it can.
template <class T>
constexpr bool require_key_argument() {
  static_assert(is_key_call_argument<T>,
                "cachekit: no key normalization for this argument type; pass a supported type "
                "or specialize cachekit::key_argument<T>");
  return is_key_call_argument<T>;
}

}  // namespace detail

// ---- built-in specializations ----------------------------------------------------------

template <>
struct key_argument<bool> {
  static void write(key_writer& w, bool v) { w.write_bool(v); }
};

template <detail::key_integer T>
struct key_argument<T> {
  static void write(key_writer& w, T v) {
    if constexpr (std::is_signed_v<T>) {
      w.write_int(static_cast<std::int64_t>(v));
    } else {
      w.write_uint(static_cast<std::uint64_t>(v));
    }
  }
};

template <>
struct key_argument<double> {
  static void write(key_writer& w, double v) { w.write_float(v); }
};
template <>
struct key_argument<float> {
  static void write(key_writer& w, float v) { w.write_float(static_cast<double>(v)); }
};

template <detail::key_string T>
struct key_argument<T> {
  static void write(key_writer& w, const T& s) { w.write_string(detail::as_key_string(s)); }
};

/// A character array (a string literal): the text up to the first NUL.
template <std::size_t N>
struct key_argument<char[N]> {
  static void write(key_writer& w, const char (&s)[N]) {
    const void* nul = std::memchr(s, '\0', N);
    const std::size_t length =
        nul == nullptr ? N : static_cast<std::size_t>(static_cast<const char*>(nul) - s);
    w.write_string(std::string_view(s, length));
  }
};

template <detail::key_bytes T>
struct key_argument<T> {
  static void write(key_writer& w, const T& bytes) {
    w.write_binary(byte_view(std::ranges::data(bytes), std::ranges::size(bytes)));
  }
};

template <>
struct key_argument<value_binary> {
  static void write(key_writer& w, const value_binary& b) { w.write_binary(b.bytes); }
};

template <>
struct key_argument<std::nullptr_t> {
  static void write(key_writer& w, std::nullptr_t) { w.write_nil(); }
};
template <>
struct key_argument<std::nullopt_t> {
  static void write(key_writer& w, std::nullopt_t) { w.write_nil(); }
};

template <key_normalizable T>
struct key_argument<std::optional<T>> {
  static void write(key_writer& w, const std::optional<T>& v) {
    if (v.has_value()) {
      w.write(*v);
    } else {
      w.write_nil();
    }
  }
};

template <detail::key_sequence T>
struct key_argument<T> {
  static void write(key_writer& w, const T& range) {
    w.write_array_header(static_cast<std::size_t>(std::ranges::size(range)));
    for (const auto& e : range) {
      w.write(static_cast<const std::ranges::range_value_t<const T>&>(e));
    }
  }
};

template <key_normalizable A, key_normalizable B>
struct key_argument<std::pair<A, B>> {
  static void write(key_writer& w, const std::pair<A, B>& p) {
    w.write_array_header(2);
    w.write(p.first);
    w.write(p.second);
  }
};

template <key_normalizable... Ts>
struct key_argument<std::tuple<Ts...>> {
  static void write(key_writer& w, const std::tuple<Ts...>& t) {
    w.write_array_header(sizeof...(Ts));
    std::apply([&w](const auto&... e) { (w.write(e), ...); }, t);
  }
};

template <detail::key_map M>
struct key_argument<M> {
  static void write(key_writer& w, const M& m) { detail::write_key_map(w, m); }
};

template <detail::key_set S>
struct key_argument<S> {
  static void write(key_writer& w, const S& s) { w.write_set(s); }
};

template <>
struct key_argument<uuid> {
  static void write(key_writer& w, const uuid& u) { w.write_uuid(u); }
};

template <>
struct key_argument<datetime> {
  static void write(key_writer& w, const datetime& t) { w.write_datetime(t); }
};

/// A `std::chrono::system_clock` time point: an aware UTC datetime (offset +00:00), floored to
/// the microsecond as Python's datetime cannot hold finer.
template <class Duration>
struct key_argument<std::chrono::time_point<std::chrono::system_clock, Duration>> {
  static void write(key_writer& w,
                    const std::chrono::time_point<std::chrono::system_clock, Duration>& t) {
    w.write_datetime(datetime::from_utc(std::chrono::floor<std::chrono::microseconds>(t)));
  }
};

template <>
struct key_argument<value> {
  static void write(key_writer& w, const value& v) { w.write_value(v); }
};
template <>
struct key_argument<value_map> {
  static void write(key_writer& w, const value_map& m) { w.write_map(m); }
};
template <>
struct key_argument<value_set> {
  static void write(key_writer& w, const value_set& s) { w.write_set(s.items); }
};

}  // namespace v0
}  // namespace cachekit
