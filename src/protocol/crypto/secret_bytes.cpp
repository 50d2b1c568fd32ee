#include <cachekit/secret_bytes.hpp>

#include "core/secret_arena.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <utility>

namespace cachekit {
inline namespace v0 {

void secure_wipe(std::span<std::byte> bytes) noexcept {
  if (!bytes.empty()) OPENSSL_cleanse(bytes.data(), bytes.size());
}

secret_bytes::secret_bytes(std::size_t size)
    : data_(size == 0 ? nullptr : detail::secret_allocate(size)), size_(size) {}

secret_bytes::secret_bytes(byte_view bytes) : secret_bytes(bytes.size()) {
  if (!bytes.empty()) std::copy(bytes.begin(), bytes.end(), data_);
}

secret_bytes::secret_bytes(secret_bytes&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

secret_bytes& secret_bytes::operator=(secret_bytes&& other) noexcept {
  if (this != &other) {
    release();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

secret_bytes::~secret_bytes() {
  release();
}

secret_bytes secret_bytes::clone() const {
  return secret_bytes(view());
}

bool secret_bytes::equals(byte_view other) const noexcept {
  if (other.size() != size_) return false;
  if (size_ == 0) return true;
  return CRYPTO_memcmp(data_, other.data(), size_) == 0;
}

void secret_bytes::release() noexcept {
  secure_wipe(writable());
  detail::secret_deallocate(std::exchange(data_, nullptr), std::exchange(size_, 0));
}

}  // namespace v0
}  // namespace cachekit
