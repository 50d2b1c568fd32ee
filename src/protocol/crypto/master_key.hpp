// Master-key checks shared by parse_master_key, derive_domain_key and the keyring, so every
// path names the offending key the same way and ends with the same fix.
#pragma once

#include <cachekit/encryption.hpp>
#include <cachekit/result.hpp>
#include <cachekit/secret_bytes.hpp>

#include <cstddef>
#include <string_view>
#include <vector>

namespace cachekit {
inline namespace v0 {
namespace detail {

// Decodes hex into a master key; failures name the key as `name` ("the current master key").
[[nodiscard]] result<secret_bytes> parse_master_key_named(std::string_view hex,
                                                          std::string_view name);

// errc::invalid_master_key: "<name> is <size> bytes; at least 32 ... openssl rand -hex 32".
[[nodiscard]] failure master_key_too_short(std::string_view name, std::size_t size);

// errc::invalid_master_key: "<name> is <size> bytes; raw key bytes must be exactly 32 ...".
[[nodiscard]] failure raw_master_key_not_32_bytes(std::string_view name, std::size_t size);

// errc::invalid_master_key when `key` is all zero bytes: an unset or placeholder key, not one
// drawn at random.
[[nodiscard]] result<void> check_not_placeholder(byte_view key, std::string_view name);

// errc::invalid_master_key when `key` cannot have come from a random source: fewer than 12
// distinct byte values (0x11 * 32, "deadbeef" * 8), a repeated pattern of up to half its length,
// or a counting sequence (00 01 02 ...). A random 32-byte key is refused with probability under
// 2^-83, so this never rejects a key openssl generated. Only entry points where users hand in
// the key that will seal new entries call it: the protocol functions, and keys kept only to
// open old entries, accept what the shared vectors use (0x61 * 32, 0x11 * 32).
[[nodiscard]] result<void> check_looks_random(byte_view key, std::string_view name);

// check_looks_random on the key a keyring seals with (its current master key), for the entry
// points that take a keyring from users: the cache and the CLI.
struct keyring_access {
  [[nodiscard]] static result<void> check_sealing_key(const keyring& ring, std::string_view name);
  // The keyring of keys decoded from hex, which may be longer than 32 bytes (the hex rule: at
  // least 32). Errors: as keyring::create, except the exact-length rule of raw keys.
  [[nodiscard]] static result<keyring> from_decoded_keys(secret_bytes current,
                                                         std::vector<secret_bytes> previous);
};

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
