/// @file
/// `storage_format`: the codec pipeline between a value's MessagePack bytes and the bytes a
/// backend stores, for one configuration (DESIGN §2–3):
///
/// | mode    | integrity | encryption | stored bytes                                       |
/// |---------|-----------|------------|----------------------------------------------------|
/// | frame   | on        | off        | CK frame(compressed, "k") + ByteStorage envelope(msgpack) |
/// | frame   | off       | off        | CK frame(not compressed, "k") + msgpack            |
/// | frame   | on / off  | on         | CK frame + AES-GCM(envelope / msgpack), 5-part AAD |
/// | interop | —         | off        | canonical msgpack                                  |
/// | interop | —         | on         | AES-GCM(canonical msgpack), 4-part AAD             |
///
/// With `key_binding` off this is byte for byte what cachekit-py 0.24.1 writes with the same
/// serializer (`storage_options::serializer`: default, orjson or auto); on (the default), plaintext
/// frames also carry the key binding "k" in the header (frame.hpp), which cachekit-py 0.24.1 reads
/// past. Either way either side reads the other's entries. Reading is strict: any layer that does
/// not check out is a `result` error in the corrupt-data or security group (treat as a miss and
/// evict), never data. With encryption on, a plaintext entry is `errc::plaintext_downgrade`.
///
///     cachekit::storage_format fmt({.mode = cachekit::storage_mode::frame});
///     auto stored = fmt.seal(msgpack_bytes, key).value();
///     auto payload = fmt.open(stored, key);          // the msgpack bytes again
///
/// Thread safety: thread-safe; `seal` and `open` may run concurrently on one object.
#pragma once

#include <cachekit/bytes.hpp>
#include <cachekit/encryption.hpp>
#include <cachekit/envelope.hpp>
#include <cachekit/export.hpp>
#include <cachekit/result.hpp>
#include <cachekit/serializer.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cachekit {
inline namespace v0 {

/// How entries are laid out; see the table above.
enum class storage_mode {
  frame,    ///< cachekit-py `@cache` default mode
  interop,  ///< the cross-SDK interop mode (cachekit-py, cachekit-rs, cachekit-ts)
};

/// The configuration of a `storage_format`.
struct storage_options {
  storage_mode mode = storage_mode::frame;
  /// Frame mode: which cachekit-py serializer's entries these are (serializer.hpp): its name in
  /// the header, its payload layout (`json`: OrjsonSerializer's checksum + JSON, transcoded from
  /// and to the MessagePack `seal` takes and `open` returns; `auto_detect`: AutoSerializer's
  /// markers rewritten on read, Python-only payloads errc::python_only_value). Other than
  /// `standard`, construction throws cachekit::error (errc::invalid_configuration) with
  /// `encryption` set or in interop mode.
  serializer_kind serializer = serializer_kind::standard;
  /// Frame mode: wrap the msgpack in the ByteStorage envelope (LZ4 + xxHash3-64). Must match the
  /// writer's setting (it is also the `1`/`0` of default-mode keys).
  bool integrity_checking = true;
  /// Frame mode, plaintext: bind each entry to the key it is stored under. `seal` writes "k" =
  /// `frame::key_hash(key)` into the header; `open` refuses an entry whose "k" names another key
  /// (errc::key_mismatch, corrupt-data group) and reads entries without "k" (cachekit-py's) as
  /// before. Off: neither written nor checked, as in cachekit-py. Encrypted frames never carry
  /// it (the AAD binds the key); interop entries have no header to carry it.
  bool key_binding = true;
  /// Set to seal values with AES-256-GCM under this tenant's keys; reads then refuse plaintext.
  std::optional<tenant_keyring> encryption;
  /// The keyring `encryption` came from, to open frames sealed for another tenant with that
  /// tenant's keys, as cachekit-py's single-tenant readers do (they follow the header's
  /// `tenant_id`). Such keys are derived per read and not cached. nullptr: only `encryption`'s
  /// tenant is read (another tenant's entry is `errc::authentication_failed`). Must outlive the
  /// storage_format.
  const keyring* header_tenants = nullptr;
  /// Largest MessagePack payload a read decompresses: an envelope declaring more is refused
  /// (errc::input_too_large) before anything is allocated for it.
  std::size_t max_payload_bytes = envelope::max_uncompressed_size;
};

/// The msgpack bytes recovered from a stored entry, with a note per layer peeled.
struct opened_entry {
  byte_buffer msgpack;
  /// Outermost first, e.g. "CK v3 frame: serializer default, compressed true, 125-byte header".
  std::vector<std::string> layers;
};

class CACHEKIT_EXPORT storage_format {
 public:
  explicit storage_format(storage_options options);
  storage_format(storage_format&&) noexcept;
  storage_format& operator=(storage_format&&) noexcept;
  ~storage_format();

  /// The stored bytes of a value whose MessagePack is `msgpack`. `aad_key` is the key the entry
  /// is stored under *as the backend sees it* (including a client-side prefix such as
  /// `t:default:`); it goes into the AAD when encrypting and into the key binding of plaintext
  /// frames (`key_binding`).
  /// Errors: errc::input_too_large above 512 MiB; with the `json` serializer, what JSON cannot
  /// carry (errc::unsupported_type: bytes, NaN/infinity, non-string map keys ...); with
  /// `auto_detect`, values AutoSerializer would read back as other types (serializer.hpp).
  [[nodiscard]] result<byte_buffer> seal(byte_view msgpack, std::string_view aad_key) const;

  /// The MessagePack bytes of a stored entry. With `explain`, `layers` says what was checked.
  /// A plaintext frame's key binding ("k") is checked against `aad_key`; an empty `aad_key`
  /// skips that check (for copies already checked when they were read, such as the cache's L1).
  /// Errors: corrupt-data group (truncated, malformed, checksum_mismatch, decompression_bomb,
  /// python_only_value (`auto_detect`: a NumPy/pandas/Arrow entry),
  /// unsupported_version, serializer_mismatch, key_mismatch ...), security group
  /// (authentication_failed, unknown_key_fingerprint, plaintext_downgrade).
  [[nodiscard]] result<opened_entry> open(byte_view stored, std::string_view aad_key,
                                          bool explain = false) const;

  [[nodiscard]] const storage_options& options() const noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace v0
}  // namespace cachekit
