// `inspect` and `get`: what a stored entry is made of, layer by layer, and its value. Works on
// bytes already read from a backend (live_commands.cpp reads them), so it is testable alone.
// Thread-safe: pure functions.
#pragma once

#include "commands.hpp"

#include <cachekit/backend.hpp>
#include <cachekit/bytes.hpp>
#include <cachekit/result.hpp>
#include <cachekit/value.hpp>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace cachekit::cli {

/// Where an entry came from, and the keys to open it with.
struct entry_context {
  std::string key;          ///< the cache key (what the SDKs compute)
  std::string storage_key;  ///< the key as the backend stores it (prefix + key): AAD and "k"
  /// The entry's TTL: outer nullopt when the backend cannot tell (memcached).
  std::optional<ttl_seconds> ttl;
  /// "redis", "memcached", "file": says who cannot tell a TTL.
  std::string backend_type;
  /// Master key (hex), previous keys and the encryption tenant; used only for encrypted
  /// entries (a plaintext entry is read without them).
  std::optional<std::string> master_key_hex;
  std::vector<std::string> previous_key_hex;
  std::string tenant = "default";
};

/// What `inspect` found: labelled lines in order, and the value or why it could not be read.
struct inspection {
  std::vector<std::pair<std::string, std::string>> fields;
  std::optional<value> data;
  std::optional<failure> error;  ///< set when the value could not be opened or decoded
};

/// Reads the frame header, the envelope and the value of `stored`. Never fails as a whole:
/// what could not be read is in `error`, with how to fix it where the fix is known (a master
/// key, a tenant).
[[nodiscard]] inspection inspect_entry(byte_view stored, const entry_context& context);

/// The value of `stored` (what `get` prints). Errors: those of `decode_command`, with the same
/// hints as `inspect_entry`.
[[nodiscard]] result<value> open_entry(byte_view stored, const entry_context& context);

/// "59 s", "no expiry", "unknown (memcached cannot report a TTL)".
[[nodiscard]] std::string describe_ttl(const std::optional<ttl_seconds>& ttl,
                                       std::string_view backend_type);

}  // namespace cachekit::cli
