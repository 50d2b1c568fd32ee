#include <cachekit/secret_bytes.hpp>

#include <openssl/crypto.h>

#include <algorithm>
#include <utility>

namespace cachekit {
inline namespace v0 {

void secure_wipe(std::span<std::byte> bytes) noexcept {
  if (!bytes.empty()) OPENSSL_cleanse(bytes.data(), bytes.size());
}

secret_bytes::secret_bytes(std::size_t size)
    : data_(size == 0 ? nullptr : new std::byte[size]()), size_(size) {}

secret_bytes::secret_bytes(byte_view bytes) : secret_bytes(bytes.size()) {
  if (!bytes.empty()) std::copy(bytes.begin(), bytes.end(), data_.get());
}

secret_bytes::secret_bytes(secret_bytes&& other) noexcept
    : data_(std::move(other.data_)), size_(std::exchange(other.size_, 0)) {}

secret_bytes& secret_bytes::operator=(secret_bytes&& other) noexcept {
  if (this != &other) {
    wipe();
    data_ = std::move(other.data_);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

secret_bytes::~secret_bytes() {
  wipe();
}

secret_bytes secret_bytes::clone() const {
  return secret_bytes(view());
}

bool secret_bytes::equals(byte_view other) const noexcept {
  if (other.size() != size_) return false;
  if (size_ == 0) return true;
  return CRYPTO_memcmp(data_.get(), other.data(), size_) == 0;
}

void secret_bytes::wipe() noexcept {
  secure_wipe(writable());
}

}  // namespace v0
}  // namespace cachekit
