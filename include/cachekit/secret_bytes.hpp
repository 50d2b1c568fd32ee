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
/// The bytes live on pages set aside for key material: advised `MADV_DONTDUMP`, so a core dump
/// of the process does not contain them, and locked in RAM with `mlock` where
/// `RLIMIT_MEMLOCK` allows (best effort: beyond the limit the pages are used unlocked and may
/// be swapped). Keys of up to 64 bytes share pages, 64 to a page. Copies that other code makes
/// are not covered: OpenSSL's cipher contexts hold the expanded AES key schedule in its own heap,
/// and the hex text a key was parsed from is wiped but was ordinary heap.
///
/// Thread safety: thread-compatible (like any value type); const member functions may be
/// called concurrently.
#pragma once

#include <cachekit/bytes.hpp>
#include <cachekit/export.hpp>

#include <cstddef>
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
  [[nodiscard]] byte_view view() const noexcept { return {data_, size_}; }
  /// A writable view, for filling a buffer made with `secret_bytes(size)`.
  [[nodiscard]] std::span<std::byte> writable() noexcept { return {data_, size_}; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }

  /// Byte-wise equality in time that depends only on the sizes, not on the contents.
  [[nodiscard]] bool equals(byte_view other) const noexcept;

 private:
  void release() noexcept;  // wipes the bytes and returns their memory; leaves *this empty

  std::byte* data_ = nullptr;  // from detail::secret_allocate: pages excluded from core dumps
  std::size_t size_ = 0;
};

}  // namespace v0
}  // namespace cachekit
