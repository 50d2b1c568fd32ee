/// @file
/// `secret_bytes`: an owning buffer for key material that is wiped when it is destroyed, and
/// `secure_wipe` for buffers that are not.
///
/// Master keys and derived keys live in `secret_bytes`. The type cannot be copied by accident
/// (copying is the explicit `clone()`); moving transfers the one heap block without leaving a
/// copy behind; the destructor and move-assignment overwrite the old bytes with a wipe the
/// optimiser cannot remove (OpenSSL's `OPENSSL_cleanse`). There is no stream operator: key
/// material is never formatted by cachekit.
///
/// Thread safety: thread-compatible (like any value type); const member functions may be
/// called concurrently.
#pragma once

#include <cachekit/bytes.hpp>
#include <cachekit/export.hpp>

#include <cstddef>
#include <memory>
#include <span>

namespace cachekit {
inline namespace v0 {

/// Overwrites `bytes` with zeros in a way the compiler may not elide.
CACHEKIT_EXPORT void secure_wipe(std::span<std::byte> bytes) noexcept;

/// Key material: a fixed-size heap buffer, zeroed on destruction, move-only.
///
///     cachekit::secret_bytes key = cachekit::parse_master_key(hex).value();
///     cachekit::secret_bytes backup = key.clone();  // copies must be asked for
class CACHEKIT_EXPORT secret_bytes {
 public:
  /// An empty buffer (size 0).
  secret_bytes() noexcept = default;
  /// `size` zero bytes, to be filled through `writable()`.
  explicit secret_bytes(std::size_t size);
  /// A copy of `bytes`. The caller remains responsible for wiping its own copy.
  explicit secret_bytes(byte_view bytes);

  secret_bytes(const secret_bytes&) = delete;
  secret_bytes& operator=(const secret_bytes&) = delete;
  /// Takes the buffer; `other` becomes empty.
  secret_bytes(secret_bytes&& other) noexcept;
  /// Wipes the current bytes, then takes `other`'s buffer.
  secret_bytes& operator=(secret_bytes&& other) noexcept;
  /// Wipes the bytes.
  ~secret_bytes();

  /// An independent copy (also wiped when destroyed).
  [[nodiscard]] secret_bytes clone() const;

  /// A read-only view of the bytes, valid while this object is alive and not moved from.
  [[nodiscard]] byte_view view() const noexcept { return {data_.get(), size_}; }
  /// A writable view, for filling a buffer made with `secret_bytes(size)`.
  [[nodiscard]] std::span<std::byte> writable() noexcept { return {data_.get(), size_}; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }

  /// Byte-wise equality in time that depends only on the sizes, not on the contents.
  [[nodiscard]] bool equals(byte_view other) const noexcept;

 private:
  void wipe() noexcept;

  std::unique_ptr<std::byte[]> data_;
  std::size_t size_ = 0;
};

}  // namespace v0
}  // namespace cachekit
