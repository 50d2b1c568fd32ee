/// @file
/// Interop (interop/v1) cache keys, shared by cachekit-py (`@cache(interop="op",
/// namespace="ns")`), cachekit-rs and cachekit-ts:
///
///     {namespace}:{operation}:{blake2b-256 hex of the canonical argument array}
///
/// - Segments (namespace, operation) must match `^[a-z0-9][a-z0-9._-]{0,63}$` in full, must not
///   contain `..`, and the namespace must not be `ns` or `nsapi` (the CachekitIO server reads
///   those as key prefixes). Keys are at most 194 characters and never shortened.
/// - The arguments are the function's flat parameter list in declaration order, defaults
///   applied (a Python `*args` is one nested array, `**kwargs` one map).
/// - Canonical MessagePack ("args profile"): shortest int/str/bin/array/map forms; integers in
///   [-2^63, 2^64-1]; floats: NaN/±inf rejected, integral floats in [-2^63, 2^64) written as
///   integers (`2.0` ≡ `2`, `-0.0` ≡ `0`), others float64; strings well-formed UTF-8; map keys
///   strings only, sorted by UTF-8 bytes at every level; sets: elements encoded, sorted by their
///   encoded bytes, deduplicated, written as an array; an aware datetime is its epoch seconds
///   (integer microseconds, floored, divided by 1e6 once, then the float rule); a UUID its
///   lowercase hyphenated string. Naive datetimes, dates and times are errors.
///
///     auto key = cachekit::interop_key("users", "get_user", {42});
///     // "users:get_user:61598716255080080f6456eb065c2e51badfaa4320b0efe97469c29cffee8875"
///     auto same = cachekit::interop_key_for("users", "get_user", 42);
///
/// Thread safety: stateless functions; thread-safe.
#pragma once

#include <cachekit/bytes.hpp>
#include <cachekit/export.hpp>
#include <cachekit/key_argument.hpp>
#include <cachekit/result.hpp>
#include <cachekit/value.hpp>

#include <string>
#include <string_view>
#include <utility>

namespace cachekit {
inline namespace v0 {

/// Checks an interop namespace. Errors: errc::invalid_key naming the namespace and the rule
/// it breaks (segment pattern, `..`, reserved `ns`/`nsapi`).
[[nodiscard]] CACHEKIT_EXPORT result<void> validate_interop_namespace(std::string_view ns);

/// Checks an interop operation name. Errors: errc::invalid_key naming it and the rule.
[[nodiscard]] CACHEKIT_EXPORT result<void> validate_interop_operation(std::string_view operation);

/// The canonical MessagePack encoding of the flat argument array (root array header
/// included: `[]` → `90`, `[42]` → `91 2a`), whose BLAKE2b-256 is the key's hash.
/// Errors: errc::invalid_argument for NaN/inf, a naive datetime, non-UTF-8 text, duplicate map
/// keys or nesting deeper than `max_key_nesting`; errc::unsupported_type for dates, times and
/// non-string map keys.
[[nodiscard]] CACHEKIT_EXPORT result<byte_buffer> interop_canonical_args(
    const value_array& flat_args);

/// The interop key `{ns}:{operation}:{hash}`. Errors: as `validate_interop_namespace`,
/// `validate_interop_operation` (checked first) and `interop_canonical_args`.
[[nodiscard]] CACHEKIT_EXPORT result<std::string> interop_key(std::string_view ns,
                                                              std::string_view operation,
                                                              const value_array& flat_args);

/// The interop key for typed arguments (supported types: `key_argument.hpp`), written straight
/// into the canonical encoding. Errors: as `interop_key`.
template <class... Args>
[[nodiscard]] result<std::string> interop_key_for(std::string_view ns, std::string_view operation,
                                                  const Args&... args);

namespace detail {

// `{ns}:{operation}:{hex}` from a finished canonical encoding (segments already checked).
CACHEKIT_EXPORT result<std::string> finish_interop_key(std::string_view ns,
                                                       std::string_view operation,
                                                       const key_writer& w);

template <class... Args>
result<std::string> interop_key_typed(std::string_view ns, std::string_view operation,
                                      const Args&... args) {
  if (auto ok = validate_interop_namespace(ns); !ok) return ok.error();
  if (auto ok = validate_interop_operation(operation); !ok) return ok.error();
  key_scratch scratch;
  key_writer w(scratch.buffer(), key_profile::interop);
  w.write_array_header(sizeof...(Args));
  (w.write(args), ...);
  return finish_interop_key(ns, operation, w);
}

// `prefix` followed by the canonical argument encoding (what `interop_key_for` hashes): an exact
// in-process key, distinct from every interop key when `prefix` is `{ns}:{operation}:` (the
// encoding starts with an array header, never a hex digit). Errors: as `interop_key_for`.
template <class... Args>
result<std::string> interop_prefixed_preimage(std::string_view prefix, const Args&... args) {
  constexpr bool supported =
      (require_key_argument<Args>() && ...) && !(is_keyword_argument<Args>::value || ...);
  if constexpr (!supported) {
    return fail(errc::unsupported_type, "unsupported argument type");
  } else {
    key_scratch scratch;
    key_writer w(scratch.buffer(), key_profile::interop);
    w.write_array_header(sizeof...(Args));
    (w.write(args), ...);
    return prefixed_bytes(prefix, w);
  }
}

}  // namespace detail

template <class... Args>
result<std::string> interop_key_for(std::string_view ns, std::string_view operation,
                                    const Args&... args) {
  static_assert(!(detail::is_keyword_argument<Args>::value || ...),
                "cachekit: interop keys take the flat argument array in declaration order; "
                "pass keyword arguments positionally (a Python **kwargs is one map argument)");
  // One diagnostic per unsupported type, naming it, and no cascade of follow-up errors.
  constexpr bool supported = (detail::require_key_argument<Args>() && ...) &&
                             !(detail::is_keyword_argument<Args>::value || ...);
  if constexpr (!supported) {
    return fail(errc::unsupported_type, "unsupported argument type");
  } else {
    return detail::interop_key_typed(ns, operation, args...);
  }
}

}  // namespace v0
}  // namespace cachekit
