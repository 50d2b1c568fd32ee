/// @file
/// `cachekit::value`: a dynamically typed value, the common currency of keys, stored values
/// and the command-line tool. It holds what MessagePack holds (nil, bool, integers, float64,
/// str, bin, array, map) plus the Python types that cachekit-py gives a meaning to (set,
/// datetime, date, time, UUID). Each encoding profile decides how the Python types are written:
///
/// | kind      | stored value (StandardSerializer)  | default key         | interop key          |
/// |-----------|------------------------------------|---------------------|----------------------|
/// | datetime  | `{"__datetime__": true, "value": iso}` | `iso` string (aware only) | epoch seconds
/// (int if whole) | | date/time | sentinel maps `__date__`/`__time__`| rejected            |
/// rejected             | | uuid      | rejected                           | hyphenated string   |
/// hyphenated string    | | set       | rejected                           | rejected            |
/// sorted, deduplicated |
///
/// A MessagePack extension item read from another writer's document is a `value_ext`: the
/// standard value profile writes it back; keys and interop values refuse it.
///
/// Maps keep insertion order; profiles that need canonical order sort when encoding.
///
/// Thread safety: value type; thread-compatible.
#pragma once

#include <cachekit/bytes.hpp>
#include <cachekit/temporal.hpp>

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace cachekit {
inline namespace v0 {

class value;
/// An array (Python list/tuple).
using value_array = std::vector<value>;
/// A map as ordered key/value pairs (keys may be any value, as in MessagePack).
using value_map = std::vector<std::pair<value, value>>;
/// A set (Python set/frozenset): only the interop-key profile can encode it.
struct value_set {
  std::vector<value> items;
  friend bool operator==(const value_set&, const value_set&) = default;
};
/// MessagePack binary data (Python bytes).
struct value_binary {
  byte_buffer bytes;
  friend bool operator==(const value_binary&, const value_binary&) = default;
};
/// A MessagePack extension item (msgpack-python's `ExtType(code, data)`), as readers find it in
/// documents other writers made: the standard profile writes it back, keys and the interop
/// encoder refuse it (cachekit-py's do too).
struct value_ext {
  std::int8_t type = 0;
  byte_buffer data;
  friend bool operator==(const value_ext&, const value_ext&) = default;
};

/// The kind of a `value`.
enum class value_kind {
  nil,
  boolean,
  integer,           ///< fits in int64
  unsigned_integer,  ///< above INT64_MAX (up to UINT64_MAX)
  floating,          ///< float64
  string,            ///< UTF-8 text
  binary,
  array,
  map,
  set,
  datetime,
  date,
  time,
  uuid,
  ext,  ///< a MessagePack extension item (`value_ext`)
};

class value {
 public:
  using storage = std::variant<std::monostate, bool, std::int64_t, std::uint64_t, double,
                               std::string, value_binary, value_array, value_map, value_set,
                               datetime, date, time_of_day, uuid, value_ext>;

  /// nil.
  value() noexcept = default;
  value(std::nullptr_t) noexcept {}  // NOLINT: implicit, like JSON libraries
  value(bool b) noexcept : v_(b) {}  // NOLINT
  /// Any integer; non-negative values above INT64_MAX become `unsigned_integer`.
  template <typename I>
  // NOLINTNEXTLINE(bugprone-exception-escape): storing an integer in the variant cannot throw.
  requires(std::is_integral_v<I> && !std::is_same_v<I, bool> && !std::is_same_v<I, char>) value(I i)
  noexcept {  // NOLINT
    if constexpr (std::is_unsigned_v<I>) {
      if (static_cast<std::uint64_t>(i) > static_cast<std::uint64_t>(INT64_MAX)) {
        v_ = static_cast<std::uint64_t>(i);
        return;
      }
    }
    v_ = static_cast<std::int64_t>(i);
  }
  value(double d) noexcept : v_(d) {}                   // NOLINT
  value(std::string s) noexcept : v_(std::move(s)) {}   // NOLINT
  value(std::string_view s) : v_(std::string(s)) {}     // NOLINT
  value(const char* s) : v_(std::string(s)) {}          // NOLINT
  value(value_binary b) noexcept : v_(std::move(b)) {}  // NOLINT
  value(value_array a) noexcept : v_(std::move(a)) {}   // NOLINT
  value(value_map m) noexcept : v_(std::move(m)) {}     // NOLINT
  value(value_set s) noexcept : v_(std::move(s)) {}     // NOLINT
  value(datetime t) noexcept : v_(t) {}                 // NOLINT
  value(date d) noexcept : v_(d) {}                     // NOLINT
  value(time_of_day t) noexcept : v_(t) {}              // NOLINT
  value(uuid u) noexcept : v_(u) {}                     // NOLINT
  value(value_ext e) noexcept : v_(std::move(e)) {}     // NOLINT

  /// Binary data from bytes.
  static value binary(byte_view bytes) {
    return value_binary{byte_buffer(bytes.begin(), bytes.end())};
  }

  [[nodiscard]] value_kind kind() const noexcept { return static_cast<value_kind>(v_.index()); }
  [[nodiscard]] bool is_nil() const noexcept { return kind() == value_kind::nil; }

  /// Typed access: `v.get_if<std::string>()` is null when `v` holds another kind.
  template <typename T>
  [[nodiscard]] const T* get_if() const noexcept {
    return std::get_if<T>(&v_);
  }
  template <typename T>
  [[nodiscard]] T* get_if() noexcept {
    return std::get_if<T>(&v_);
  }

  [[nodiscard]] const storage& variant() const noexcept { return v_; }
  [[nodiscard]] storage& variant() noexcept { return v_; }

  /// Looks up a string key in a map value; null when not a map or the key is absent.
  [[nodiscard]] const value* find(std::string_view key) const noexcept {
    const auto* m = get_if<value_map>();
    if (m == nullptr) return nullptr;
    for (const auto& [k, v] : *m) {
      if (const auto* s = k.get_if<std::string>(); s != nullptr && *s == key) return &v;
    }
    return nullptr;
  }

  /// Structural equality (maps compare in order; integers compare by value across kinds
  /// because construction normalizes them).
  friend bool operator==(const value&, const value&) = default;

 private:
  storage v_;
};

}  // namespace v0
}  // namespace cachekit
