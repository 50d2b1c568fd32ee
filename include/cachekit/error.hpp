/// @file
/// Error reporting for cachekit: the `errc` codes, their `std::error_code` category, the
/// groups that tell a caller what to do about a failure, and the `cachekit::error` exception.
///
/// Every decoder and every operation that touches untrusted bytes or the network reports
/// failure as a value (`result<T>`, see result.hpp) carrying one of these codes plus a
/// one-line detail. Configuration mistakes throw `cachekit::error` at construction.
///
/// Thread safety: everything here is immutable and thread-safe.
#pragma once

#include <cachekit/export.hpp>

#include <stdexcept>
#include <string>
#include <system_error>

namespace cachekit {
inline namespace v0 {

/// What went wrong. The enumerators are grouped by what the caller should do; `group_of`
/// and the `std::error_condition` values of `errc_group` give the group.
enum class errc {
  // Corrupt data: the stored bytes are not a valid cache entry. Treat as a miss and evict.
  truncated = 1,         ///< input ended before a complete item
  trailing_bytes,        ///< extra bytes after the single document that was expected
  malformed,             ///< bytes present but not a valid encoding of the expected layout
  type_mismatch,         ///< valid encoding, but not the type the caller asked for
  length_limit,          ///< a declared length exceeds the input or a protocol limit
  checksum_mismatch,     ///< xxHash3-64 of the decompressed data differs from the stored one
  size_mismatch,         ///< decompressed length differs from the declared original size
  decompression_bomb,    ///< declared expansion above what LZ4 can produce (255:1), or nothing to
                         ///< expand
  input_too_large,       ///< a size above the 512 MiB protocol limit
  decompression_failed,  ///< the LZ4 block is not valid
  unsupported_version,   ///< a frame or header version this SDK does not read
  serializer_mismatch,   ///< the entry was written by a serializer this reader cannot decode
  key_mismatch,          ///< a plaintext frame's key binding ("k") names another key: the entry was
                         ///< copied or swapped under this key
  python_only_value,     ///< a cachekit-py `auto` entry holding a Python-only type (NumPy array,
                         ///< pandas DataFrame/Series, Arrow table) that no C++ type can hold: a
                         ///< miss that leaves the entry in place for the Python services

  // Security: the entry is not authentic for this key, tenant or keyring.
  authentication_failed = 100,  ///< AES-GCM tag verification failed (tampered or wrong key)
  invalid_ciphertext,           ///< shorter than nonce + tag: cannot be a ciphertext
  unknown_key_fingerprint,      ///< frame names a key fingerprint not in the keyring
  nonce_exhausted,              ///< unused since encryptors renew their instance id (kept)
  plaintext_downgrade,          ///< encryption is on but the entry claims to be plaintext
  tenant_mismatch,  ///< multi-tenant: the entry is sealed for another tenant (a miss that keeps it)

  // Fix the configuration or the call: retrying will not help.
  invalid_argument = 200,  ///< an argument value the protocol cannot represent
  invalid_key,             ///< a namespace, operation or key that breaks the key grammar
  invalid_master_key,      ///< master key missing, not hex, or shorter than 32 bytes
  invalid_configuration,   ///< contradictory or out-of-range settings
  unsupported_type,        ///< a value type the chosen profile cannot encode
  value_too_large,         ///< the value is above the configured size limit
  not_supported,           ///< the backend does not offer this operation (e.g. TTL on memcached)

  // Retry later: the backend or the process is temporarily unable to serve.
  transient = 300,         ///< connection lost, server loading, read-only replica ...
  timeout,                 ///< the operation did not complete in time
  circuit_open,            ///< the circuit breaker is failing fast
  backpressure,            ///< too many concurrent operations; shed
  backend_permanent,       ///< the backend rejected the operation; retrying will not help
  backend_authentication,  ///< the backend refused the credentials
};

/// The groups of `errc`, as `std::error_condition`s: compare an error_code against them.
///     if (ec == cachekit::errc_group::corrupt_data) { evict(); }
enum class errc_group {
  corrupt_data = 1,  ///< treat as a miss, evict the entry, count it
  security,          ///< authentication or key failure: never return the data
  fix_config,        ///< a programming or configuration error
  retry,             ///< temporary; retrying later may succeed
};

/// What a failure means to the reliability layer: one classification that retries, the circuit
/// breaker, stats and `on_error` all use (`classify`).
///
/// - `transient` (`transient`): retried; trips the breaker.
/// - `timeout` (`timeout`): retried only when opted in; trips the breaker.
/// - `overload` (`circuit_open`, `backpressure`: the layer shed it): not retried; does not trip.
/// - `permanent` (`backend_permanent`, `not_supported`, the configuration and argument codes,
///   corrupt data): not retried; does not trip.
/// - `security` (`backend_authentication` and the security group): not retried; trips.
///
/// A refused password is counted by the breaker (the backend is unusable until someone fixes
/// it, so failing fast is right); a rejected value (too large, bad key) is not (the backend is
/// healthy).
enum class error_class { transient, timeout, overload, permanent, security };

/// The class of `code` (list on `error_class`). Codes of other categories (an errno from a
/// file system call) are `transient` when the condition may pass (EINTR, EAGAIN, ENOSPC,
/// ETIMEDOUT: `timeout`), `permanent` otherwise.
[[nodiscard]] CACHEKIT_EXPORT error_class classify(const std::error_code& code) noexcept;

/// "transient", "timeout", "overload", "permanent", "security".
[[nodiscard]] CACHEKIT_EXPORT const char* to_string(error_class c) noexcept;

/// The category of `errc` codes ("cachekit").
CACHEKIT_EXPORT const std::error_category& cachekit_category() noexcept;
/// The category of `errc_group` conditions ("cachekit.group").
CACHEKIT_EXPORT const std::error_category& cachekit_group_category() noexcept;

/// The group an error code belongs to.
CACHEKIT_EXPORT errc_group group_of(errc code) noexcept;

inline std::error_code make_error_code(errc code) noexcept {
  return {static_cast<int>(code), cachekit_category()};
}
inline std::error_condition make_error_condition(errc_group group) noexcept {
  return {static_cast<int>(group), cachekit_group_category()};
}

/// The exception thrown by cachekit: a `std::system_error` whose `code()` is a cachekit
/// `errc` and whose `what()` says what was wrong and how to fix it, as
/// "<category message>: <detail>" (the same text as `failure::message()`), so the sentence that
/// gives the fix ends the message rather than being followed by the category.
class CACHEKIT_EXPORT error : public std::system_error {
 public:
  error(errc code, const std::string& detail);
  error(std::error_code code, const std::string& detail);

  [[nodiscard]] const char* what() const noexcept override;

 private:
  // A runtime_error holds its text in a reference-counted string: copying the exception
  // cannot throw.
  std::runtime_error message_;
};

}  // namespace v0
}  // namespace cachekit

// Hidden from doxygen, which cannot place specializations of std templates.
/// \cond
template <>
struct std::is_error_code_enum<cachekit::errc> : std::true_type {};
template <>
struct std::is_error_condition_enum<cachekit::errc_group> : std::true_type {};
/// \endcond
