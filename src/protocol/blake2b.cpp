#include "protocol/blake2b.hpp"

#include <sodium.h>

#include <array>
#include <cstdlib>
#include <cstring>

namespace cachekit {
inline namespace v0 {
namespace detail {
namespace {

// sodium_init selects the fastest BLAKE2b compression function for this CPU (AVX2 here);
// without it libsodium runs the portable one. It is idempotent and thread-safe.
void ensure_sodium_initialized() noexcept {
  static const bool initialized = [] { return sodium_init() >= 0; }();
  if (!initialized) std::abort();  // libsodium could not initialise: no key can be computed
}

}  // namespace

void blake2b(byte_view input, std::span<std::byte> out) noexcept {
  ensure_sodium_initialized();
  // libsodium documents 16..64 output bytes for crypto_generichash but implements (and checks)
  // the full 1..64 range of BLAKE2b; the 2-byte serializer-code digest relies on that and is
  // pinned by a unit test against Python's hashlib.
  crypto_generichash(reinterpret_cast<unsigned char*>(out.data()), out.size(),
                     reinterpret_cast<const unsigned char*>(input.data()), input.size(), nullptr,
                     0);
}

blake2b_256_digest blake2b_256(byte_view input) noexcept {
  blake2b_256_digest digest;
  blake2b(input, digest);
  return digest;
}

namespace {

// The two hex digits of every byte value: one load and one 2-byte store per byte.
constexpr std::array<std::array<char, 2>, 256> hex_pairs = [] {
  constexpr char digits[] = "0123456789abcdef";
  std::array<std::array<char, 2>, 256> table{};
  for (std::size_t i = 0; i < 256; ++i) table[i] = {digits[i >> 4], digits[i & 0xF]};
  return table;
}();

}  // namespace

void append_hex_lower(byte_view bytes, char* out) noexcept {
  for (std::byte b : bytes) {
    std::memcpy(out, hex_pairs[static_cast<std::size_t>(b)].data(), 2);
    out += 2;
  }
}

std::string blake2b_256_hex(byte_view input) {
  const auto digest = blake2b_256(input);
  std::string hex(64, '\0');
  append_hex_lower(digest, hex.data());
  return hex;
}

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
