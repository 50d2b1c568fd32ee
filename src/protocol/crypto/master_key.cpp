// Master keys as users supply them: hex text (CACHEKIT_MASTER_KEY), decoded straight into wiped
// storage so no plain copy of the key is left in an ordinary buffer.
#include "protocol/crypto/master_key.hpp"

#include <cachekit/encryption.hpp>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <array>
#include <cstdint>
#include <string>

namespace cachekit {
inline namespace v0 {
namespace detail {
namespace {

constexpr std::string_view how_to_fix = "; generate one with: openssl rand -hex 32";

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

failure invalid_master_key(std::string_view name, std::string_view problem) {
  std::string detail(name);
  detail += ' ';
  detail += problem;
  detail += how_to_fix;
  return fail(errc::invalid_master_key, std::move(detail));
}

}  // namespace

failure master_key_too_short(std::string_view name, std::size_t size) {
  return invalid_master_key(name, "is " + std::to_string(size) + " bytes; at least " +
                                      std::to_string(min_master_key_size) + " bytes (" +
                                      std::to_string(2 * min_master_key_size) +
                                      " hex characters) are required");
}

failure raw_master_key_not_32_bytes(std::string_view name, std::size_t size) {
  return invalid_master_key(
      name, "is " + std::to_string(size) + " bytes; raw key bytes must be exactly " +
                std::to_string(min_master_key_size) +
                " (pass a hex string to keyring::from_hex instead, or decode it first)");
}

result<void> check_not_placeholder(byte_view key, std::string_view name) {
  for (const std::byte b : key) {
    if (b != std::byte{0}) return {};
  }
  return invalid_master_key(name, "is all zero bytes, a placeholder rather than a key");
}

namespace {

// Below this many distinct byte values a 32-byte key is a pattern: 32 random bytes show about
// 30, and 11 or fewer with probability 2^-83.7.
constexpr std::size_t min_distinct_bytes = 12;

std::size_t distinct_bytes(byte_view key) noexcept {
  bool seen[256] = {};
  std::size_t count = 0;
  for (const std::byte b : key) {
    auto& slot = seen[std::to_integer<unsigned>(b)];
    count += slot ? 0 : 1;
    slot = true;
  }
  return count;
}

// True when key[i] == key[i + period] throughout for some period <= size / 2.
bool repeats_a_pattern(byte_view key) noexcept {
  for (std::size_t period = 1; period <= key.size() / 2; ++period) {
    bool periodic = true;
    for (std::size_t i = 0; periodic && i + period < key.size(); ++i) {
      periodic = key[i] == key[i + period];
    }
    if (periodic) return true;
  }
  return false;
}

// 00 01 02 ..., ff fe fd ...: every byte the previous one plus the same step (mod 256).
bool counts(byte_view key) noexcept {
  if (key.size() < 3) return false;
  const auto step = static_cast<std::uint8_t>(std::to_integer<unsigned>(key[1]) -
                                              std::to_integer<unsigned>(key[0]));
  for (std::size_t i = 2; i < key.size(); ++i) {
    const auto next = static_cast<std::uint8_t>(std::to_integer<unsigned>(key[i]) -
                                                std::to_integer<unsigned>(key[i - 1]));
    if (next != step) return false;
  }
  return true;
}

}  // namespace

result<void> check_looks_random(byte_view key, std::string_view name) {
  if (distinct_bytes(key) < min_distinct_bytes || repeats_a_pattern(key) || counts(key)) {
    return invalid_master_key(name,
                              "is not random (one byte or a short pattern repeated, or a "
                              "counting sequence): anyone can guess it; use a random key");
  }
  return {};
}

result<secret_bytes> parse_master_key_named(std::string_view hex, std::string_view name) {
  if (hex.empty()) return invalid_master_key(name, "is empty");
  if (hex.size() % 2 != 0) {
    return invalid_master_key(
        name, "has an odd number of hex characters (" + std::to_string(hex.size()) + ")");
  }
  // Position only: even one character of a key is not for logs.
  for (std::size_t i = 0; i < hex.size(); ++i) {
    if (hex_value(hex[i]) < 0) {
      return invalid_master_key(name, "is not hex: character " + std::to_string(i + 1) + " of " +
                                          std::to_string(hex.size()) + " is not 0-9, a-f or A-F");
    }
  }
  if (hex.size() / 2 < min_master_key_size) return master_key_too_short(name, hex.size() / 2);
  secret_bytes key(hex.size() / 2);
  auto out = key.writable();
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<std::byte>((hex_value(hex[2 * i]) << 4) | hex_value(hex[2 * i + 1]));
  }
  return key;
}

}  // namespace detail

result<secret_bytes> parse_master_key(std::string_view hex) {
  return detail::parse_master_key_named(hex, "the master key");
}

}  // namespace v0
}  // namespace cachekit

namespace cachekit {
inline namespace v0 {

std::string keyring::generate_master_key_hex() {
  std::array<std::byte, min_master_key_size> key{};
  if (RAND_bytes(reinterpret_cast<unsigned char*>(key.data()), static_cast<int>(key.size())) != 1) {
    throw error(errc::invalid_master_key,
                "the random source failed to produce a master key; generate one with: openssl "
                "rand -hex 32");
  }
  std::string hex = to_hex(key);
  OPENSSL_cleanse(key.data(), key.size());
  return hex;
}

}  // namespace v0
}  // namespace cachekit
