/// @file
/// Default ("auto mode") cache keys, identical to those of cachekit-py 0.24.1's
/// `CacheKeyGenerator`, so a C++ caller and a Python `@cache` function share entries:
///
///     [ns:{namespace}:]func:{function name}:args:{hash}:{1|0}{serializer code}
///
/// - `function name` is Python's `f"{module}.{qualname}"` (e.g. `myapp.users.get_user`) with
///   every character outside `[A-Za-z0-9_.]` replaced by `_`, runs of dots collapsed to one,
///   cut to 200 characters.
/// - `hash` is the lowercase hex BLAKE2b-256 of the MessagePack array `[args, kwargs]`
///   (`kwargs` a map sorted by name) after cachekit-py's argument normalization: -0.0 becomes
///   0.0; maps are sorted by key (Python's order: strings by code point, numbers by value;
///   keys of mixed types cannot be ordered and are an error); tuples are arrays; an aware
///   datetime is its `isoformat()` string; a UUID its lowercase hyphenated string. Naive
///   datetimes, dates, times and sets are errors (cachekit-py raises and runs the call
///   uncached).
/// - `1|0` is `integrity_checking`; the serializer code is `s` for the default serializer
///   (see `serializer_code`).
/// - Spaces, `\n` and `\r` become `_`; a key longer than 250 characters (code points) becomes
///   its first 50 characters + `:` + the first 32 hex digits of its own BLAKE2b-256.
///
/// Two ways to compute one:
///
///     // Dynamic arguments:
///     auto key = cachekit::default_key("myapp.get_user", {42, "eu"}, {{"active", true}},
///                                      {.ns = "users"});
///     // Typed arguments, written straight into the pre-image (fastest):
///     const cachekit::default_key_builder get_user_key("myapp.get_user", {.ns = "users"});
///     auto key2 = get_user_key(42, std::string_view("eu"), cachekit::kwarg("active", true));
///
/// Supported typed arguments and how to add yours: `key_argument.hpp`.
///
/// Thread safety: the functions are thread-safe; a `default_key_builder` is immutable after
/// construction and may be shared between threads.
#pragma once

#include <cachekit/bytes.hpp>
#include <cachekit/export.hpp>
#include <cachekit/key_argument.hpp>
#include <cachekit/result.hpp>
#include <cachekit/value.hpp>

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cachekit {
inline namespace v0 {

/// Settings of a default key, as cachekit-py's `generate_key` parameters.
struct default_key_options {
  /// Adds `ns:{ns}:` in front. Unset or empty: no prefix (Python tests `if namespace:`).
  std::optional<std::string> ns = std::nullopt;
  /// The `1`/`0` flag of the suffix: whether entries carry the integrity envelope.
  bool integrity_checking = true;
  /// The serializer's name; its code ends the key (`serializer_code`). cachekit-py passes the
  /// decorator's serializer since 0.20.0 (before, every key ended in `s`).
  std::string serializer = "default";
};

/// Keyword arguments (Python `**kwargs`) by name; any order, names must be distinct.
using key_kwargs = std::vector<std::pair<std::string, value>>;

/// The one- or five-character serializer code of a default key, as cachekit-py's
/// `CacheKeyGenerator.serializer_code`: `default`/`std`/`standard` → `s`, `auto`/`pythonic`
/// → `a`, `orjson` → `o`, `arrow` → `w`, `local` → `l`; any other name → `x` + 4 hex digits of
/// its 2-byte BLAKE2b digest (cachekit-py names a custom serializer instance
/// `<custom>:{ClassName}`). Errors: errc::invalid_configuration for an empty name.
[[nodiscard]] CACHEKIT_EXPORT result<std::string> serializer_code(std::string_view serializer);

/// The serializer identity under which cachekit-py 0.24.1 keys a function whose serializer is
/// given as an object (an instance of a class named `class_name`, built-in classes included):
/// `<custom>:{class_name}`. Pass it as `default_key_options::serializer` to share such a
/// function's entries; the `<` cannot start a Python class name, so it never equals a
/// serializer name such as `auto`. Thread-safe; does not fail.
///     custom_serializer_identity("ArrowSerializer")  // "<custom>:ArrowSerializer" → code x2263
[[nodiscard]] inline std::string custom_serializer_identity(std::string_view class_name) {
  std::string identity = "<custom>:";
  identity.append(class_name);
  return identity;
}

/// The `func:` segment for `module_qualname` (`"myapp.users.get_user"`): sanitized as the file
/// comment says. Errors: errc::invalid_argument when it is not UTF-8.
[[nodiscard]] CACHEKIT_EXPORT result<std::string> default_key_function_name(
    std::string_view module_qualname);

/// The MessagePack pre-image `[normalized args, sorted normalized kwargs]` whose BLAKE2b-256
/// is the key's `args` hash (for tests and `cachekit --explain`).
/// Errors: as `default_key`.
[[nodiscard]] CACHEKIT_EXPORT result<byte_buffer> default_key_preimage(
    const value_array& args, const key_kwargs& kwargs = {});

/// The default key of calling `function_name` (`module.qualname`) with `args` and `kwargs`.
/// Errors (cachekit-py would run such a call uncached):
/// - errc::unsupported_type: a set, date or time; a map key that is an array, map, datetime or
///   UUID; map keys of types Python cannot order against each other (e.g. str and int).
/// - errc::invalid_argument: a naive datetime (or one outside Python's years 1..9999); a string,
///   function name or namespace that is not UTF-8; two equal map keys or kwarg names; nesting
///   deeper than `max_key_nesting`.
/// - errc::invalid_configuration: an empty `options.serializer`.
[[nodiscard]] CACHEKIT_EXPORT result<std::string> default_key(
    std::string_view function_name, const value_array& args, const key_kwargs& kwargs = {},
    const default_key_options& options = {});

/// The default keys of one function: the fixed parts (namespace, sanitized function name,
/// suffix) are prepared once, so a key costs one pre-image and one hash.
///
///     const cachekit::default_key_builder key_of("shop.prices.quote", {.ns = "prices"});
///     cachekit::result<std::string> k = key_of(sku_id, std::string_view(currency), 1.5);
class CACHEKIT_EXPORT default_key_builder {
 public:
  /// Throws cachekit::error: errc::invalid_argument when `function_name` or `options.ns` is not
  /// UTF-8; errc::invalid_configuration for an empty `options.serializer`.
  explicit default_key_builder(std::string_view function_name,
                               const default_key_options& options = {});

  /// As the constructor, reporting the errors as a `result` instead of throwing.
  [[nodiscard]] static result<default_key_builder> make(std::string_view function_name,
                                                        const default_key_options& options = {});

  /// The key for typed arguments (`kwarg(name, v)` marks keyword arguments). Unsupported
  /// argument types do not compile. Errors: as `default_key`.
  template <class... Args>
  [[nodiscard]] result<std::string> operator()(const Args&... args) const;

  /// The call's pre-image itself (what `default_key_preimage` gives) as a string: an exact key
  /// for caches that never leave the process (no hash, so no collisions and no hashing cost).
  /// Errors: as `default_key`.
  template <class... Args>
  [[nodiscard]] result<std::string> preimage_of(const Args&... args) const;

  /// `prefix` followed by the call's pre-image, in one string. With `local_key_prefix()` as the
  /// prefix this is an exact in-process key (memoized functions key their L1 copies so: no hash
  /// on a hit). Errors: as `default_key`.
  template <class... Args>
  [[nodiscard]] result<std::string> prefixed_preimage_of(std::string_view prefix,
                                                         const Args&... args) const;

  /// The prefix of exact in-process keys (`prefixed_preimage_of`): it starts with
  /// `key_space_prefix()` (a clear by that prefix reaches them), differs between functions,
  /// namespaces, `integrity_checking` flags and serializers as the keys do, and no key of
  /// `operator()` starts with it followed by a pre-image: `[ns:{ns}:]func:{name}:args::{1|0}{code}`
  /// (a `:` where keys have their hash), or for shortened keys the kept prefix, 32 hex digits of
  /// the hash of that whole text and `:`.
  [[nodiscard]] std::string local_key_prefix() const;

  /// The key for dynamic arguments. Errors: as `default_key`.
  [[nodiscard]] result<std::string> key(const value_array& args,
                                        const key_kwargs& kwargs = {}) const;

  /// The key whose pre-image (see `default_key_preimage`) is `preimage`.
  [[nodiscard]] std::string key_from_preimage(byte_view preimage) const;

  /// The prefix every key this builder makes starts with: `[ns:{ns}:]func:{name}:args:`, or for
  /// names so long that keys are shortened, the kept first 50 characters and `:`. Functions
  /// whose shortened keys share those characters share this prefix too (a clear by prefix then
  /// drops both functions' entries: extra misses, never a stale hit).
  [[nodiscard]] std::string key_space_prefix() const {
    if (!shortened_) return head_;
    // A shortened key is the kept prefix, ':' and 32 hex digits, whatever the arguments.
    std::string sample = key_from_preimage({});
    sample.resize(sample.size() - 32);
    return sample;
  }

 private:
  default_key_builder() = default;
  [[nodiscard]] result<std::string> finish(const key_writer& w) const;
  template <class... Args>
  [[nodiscard]] result<std::string> write_typed(const Args&... args) const;
  template <class... Args>
  static void write_call(key_writer& w, const Args&... args);

  std::string head_;        // "[ns:{ns}:]func:{name}:args:" with spaces/CR/LF already replaced
  std::string tail_;        // ":{ic}{code}"
  bool shortened_ = false;  // the whole key is above 250 code points (fixed by the lengths)
};

/// The default key for typed arguments, without keeping a builder (each call re-sanitizes the
/// name; prefer `default_key_builder` on hot paths).
///
///     auto key = cachekit::default_key_for("myapp.get_user", {.ns = "users"}, 42);
template <class... Args>
[[nodiscard]] result<std::string> default_key_for(std::string_view function_name,
                                                  const default_key_options& options,
                                                  const Args&... args);

// ---- implementation --------------------------------------------------------------------

namespace detail {

template <class T>
void write_if_positional(key_writer& w, const T& arg) {
  if constexpr (!is_keyword_argument<T>::value) w.write(arg);
}

template <class T, std::size_t N>
void write_if_keyword(key_writer& w, const T& arg, std::array<std::string_view, N>& names,
                      std::array<std::size_t, N>& ends, std::size_t& next) {
  if constexpr (is_keyword_argument<T>::value) {
    w.write(arg.value);
    names[next] = arg.name;
    ends[next] = w.bytes().size();
    ++next;
  }
}

template <class T>
constexpr bool require_keyword_value() {
  if constexpr (is_keyword_argument<T>::value) {
    return require_key_argument<std::remove_cvref_t<decltype(std::declval<T>().value)>>();
  } else {
    return require_key_argument<T>();
  }
}

}  // namespace detail

template <class... Args>
result<std::string> default_key_builder::operator()(const Args&... args) const {
  // One diagnostic per unsupported type, naming it, and no cascade of follow-up errors.
  constexpr bool supported = (detail::require_keyword_value<Args>() && ...);
  if constexpr (!supported) {
    return fail(errc::unsupported_type, "unsupported argument type");
  } else {
    return write_typed(args...);
  }
}

template <class... Args>
void default_key_builder::write_call(key_writer& w, const Args&... args) {
  constexpr std::size_t keyword_count =
      (std::size_t{0} + ... + std::size_t{detail::is_keyword_argument<Args>::value});
  constexpr std::size_t positional_count = sizeof...(Args) - keyword_count;

  w.write_array_header(2);
  w.write_array_header(positional_count);
  (detail::write_if_positional(w, args), ...);
  if constexpr (keyword_count == 0) {
    w.write_map_header(0);
  } else {
    std::array<std::string_view, keyword_count> names{};
    std::array<std::size_t, keyword_count> ends{};
    std::size_t next = 0;
    const std::size_t begin = w.bytes().size();
    (detail::write_if_keyword(w, args, names, ends, next), ...);
    w.write_sorted_kwargs(begin, names, ends);
  }
}

template <class... Args>
result<std::string> default_key_builder::write_typed(const Args&... args) const {
  detail::key_scratch scratch;
  key_writer w(scratch.buffer(), key_profile::default_key);
  write_call(w, args...);
  return finish(w);
}

template <class... Args>
result<std::string> default_key_builder::preimage_of(const Args&... args) const {
  return prefixed_preimage_of({}, args...);
}

template <class... Args>
result<std::string> default_key_builder::prefixed_preimage_of(std::string_view prefix,
                                                              const Args&... args) const {
  constexpr bool supported = (detail::require_keyword_value<Args>() && ...);
  if constexpr (!supported) {
    return fail(errc::unsupported_type, "unsupported argument type");
  } else {
    detail::key_scratch scratch;
    key_writer w(scratch.buffer(), key_profile::default_key);
    write_call(w, args...);
    return detail::prefixed_bytes(prefix, w);
  }
}

template <class... Args>
result<std::string> default_key_for(std::string_view function_name,
                                    const default_key_options& options, const Args&... args) {
  auto builder = default_key_builder::make(function_name, options);
  if (!builder) return std::move(builder).error();
  return (*builder)(args...);
}

}  // namespace v0
}  // namespace cachekit
