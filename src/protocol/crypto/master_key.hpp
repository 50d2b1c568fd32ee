// Master-key checks shared by parse_master_key, derive_domain_key and the keyring, so every
// path names the offending key the same way and ends with the same fix.
#pragma once

#include <cachekit/result.hpp>
#include <cachekit/secret_bytes.hpp>

#include <cstddef>
#include <string_view>

namespace cachekit {
inline namespace v0 {
namespace detail {

// Decodes hex into a master key; failures name the key as `name` ("the current master key").
[[nodiscard]] result<secret_bytes> parse_master_key_named(std::string_view hex,
                                                          std::string_view name);

// errc::invalid_master_key: "<name> is <size> bytes; at least 32 ... openssl rand -hex 32".
[[nodiscard]] failure master_key_too_short(std::string_view name, std::size_t size);

// errc::invalid_master_key when `key` is all zero bytes: an unset or placeholder key, not one
// drawn at random.
[[nodiscard]] result<void> check_not_placeholder(byte_view key, std::string_view name);

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
