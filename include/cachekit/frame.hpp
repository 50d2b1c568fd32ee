/// @file
/// The "CK v3 frame" cachekit-py wraps around every stored value outside interop mode:
///
///     43 4B ("CK") | 03 | header_len: u32 BE | header: UTF-8 JSON | payload (raw bytes)
///
/// The header is `json.dumps({"s": serializer, "m": metadata, "v": "2.0"}, ensure_ascii=False)`
/// with Python's default separators, optionally followed by ASCII spaces (counted in
/// header_len) that align the payload. cachekit-py 0.24.1 pads only one case: plaintext,
/// uncompressed ArrowSerializer values, aligned to 64 bytes at offset 22 of a file-backend cache
/// file (`frame::alignment{.align = 64, .offset = 22}`); every other frame, including all default
/// (msgpack) ones, is unpadded.
///
/// The payload is the serializer output: for the default serializer the ByteStorage envelope of
/// the msgpack (integrity checking on) or the msgpack itself (off), or, when encrypted,
/// `nonce || AES-256-GCM(ciphertext) || tag` of that; `encode_standard`/`decode_standard` do
/// the unencrypted default case. Readers also accept the pre-v3 JSON envelope
/// `{"data": base64, "metadata": {...}, "serializer": name}`.
///
/// A header depends only on the configuration, so writers build a `frame::prefix` once and
/// then pay a copy per value:
///
///     static const auto prefix = cachekit::frame::prefix::make(
///         {.serializer = "default", .metadata = cachekit::frame::standard_metadata({})}).value();
///     cachekit::byte_buffer stored = prefix.wrap(envelope_bytes);
///     auto read = cachekit::frame::decode(stored);   // read->payload() views `stored`
///
/// Key binding (this SDK's addition; cachekit-py 0.24.1 neither writes nor checks it): a
/// plaintext header may end with a top-level `"k": "<16 lowercase hex digits>"`, the xxHash3-64
/// of the key the entry is stored under (`frame::key_hash`), so a reader can tell an entry copied
/// or swapped under another key from its own:
///
///     {"s": "default", "m": {...}, "v": "2.0", "k": "9c1e0f6a5d2b7e43"}
///
/// cachekit-py reads only "s" and "m" of the header, so it reads such frames as before. The
/// digest has a fixed length, so a keyed prefix is made once per configuration too and each write
/// fills in 16 characters (`prefix::append_to(out, key_hash)`). Encrypted frames never carry it:
/// their AAD binds the key already, and a reader ignores "k" in an encrypted header.
/// Thread safety: `prefix` is immutable after `make` and thread-safe; the functions are
/// thread-safe.
#pragma once

#include <cachekit/bytes.hpp>
#include <cachekit/export.hpp>
#include <cachekit/result.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cachekit {
inline namespace v0 {
namespace frame {

/// The frame version this SDK reads and writes.
inline constexpr std::uint8_t version = 3;
/// "CK", the version byte and the u32 header length.
inline constexpr std::size_t prefix_size = 7;
/// Longest header (JSON plus padding) a reader accepts. cachekit's writers produce a few hundred
/// bytes (plus at most 63 of padding); a longer one is errc::length_limit, never parsed.
inline constexpr std::size_t max_header_len = std::size_t{16} * 1024;
/// The `encryption_algorithm` cachekit writes for encrypted values.
inline constexpr std::string_view aes_256_gcm = "AES-256-GCM";

/// The "m" object of the header (cachekit-py `SerializationMetadata.to_dict()`), in its key
/// order. The four encryption keys are written only when `encrypted` is true.
struct metadata {
  std::string format = "msgpack";  ///< "msgpack", "orjson" or "arrow"
  std::string encoding = "utf-8";  ///< always "utf-8" from cachekit-py
  bool compressed = false;         ///< the payload is an LZ4 envelope (or zstd Arrow)
  std::optional<std::string>
      original_type;                     ///< "msgpack" for the default serializer; null if unset
  bool encrypted = false;                ///< the payload is nonce || ciphertext || tag
  std::optional<std::string> tenant_id;  ///< encrypted only: tenant the key was derived for
  std::optional<std::string> encryption_algorithm;  ///< encrypted only: `aes_256_gcm`
  std::optional<std::string> key_fingerprint;       ///< encrypted only: 32 lowercase hex chars

  friend bool operator==(const metadata&, const metadata&) = default;
};

/// What the header says.
struct header {
  /// Serializer name, canonical: "default" (the msgpack StandardSerializer), "auto", "orjson",
  /// "arrow" or a custom serializer's class name. `make` and `decode` map "std"/"standard" to
  /// "default" and "pythonic" to "auto".
  std::string serializer = "default";
  frame::metadata metadata;
  /// The key binding "k": `key_hash(storage key)` of the key the entry was written for. Plaintext
  /// frames only; unset for entries written by cachekit-py (and for every encrypted frame).
  std::optional<std::uint64_t> key_hash;

  friend bool operator==(const header&, const header&) = default;
};

/// The key binding of a frame stored under `storage_key` (the key as the backend stores it,
/// including a backend's key prefix): xxHash3-64 of its bytes, written as 16 lowercase hex digits.
/// A binding, not a secret: anyone who can write the backend can compute it (only encryption's
/// AAD stops a deliberate forgery).
[[nodiscard]] CACHEKIT_EXPORT std::uint64_t key_hash(std::string_view storage_key) noexcept;

/// Options of the default-serializer helpers.
struct standard_options {
  /// cachekit-py `enable_integrity_checking`: wrap the msgpack in the ByteStorage envelope
  /// (LZ4 + xxHash3-64). Must match the writer's setting.
  bool integrity_checking = true;
};

/// The metadata cachekit-py's default serializer writes: format and original_type "msgpack",
/// `compressed` equal to whether integrity checking (the LZ4 envelope) is on.
[[nodiscard]] CACHEKIT_EXPORT frame::metadata standard_metadata(const standard_options& options);

/// Maps the serializer aliases cachekit-py accepts to the names it records ("std" and
/// "standard" → "default", "pythonic" → "auto"); other names are returned unchanged.
[[nodiscard]] CACHEKIT_EXPORT std::string_view canonical_serializer_name(std::string_view name);

/// Payload alignment (cachekit-py `wrap_prefix(align=, offset=)`): the header is padded with
/// spaces until `offset + prefix length` is a multiple of `align`. `align = 1` never pads.
struct alignment {
  std::size_t align = 1;
  /// Bytes outside the prefix that come before the aligned position: for cachekit-py's Arrow
  /// values 22 = the 14-byte file-backend header + the 8-byte checksum after the prefix.
  std::size_t offset = 0;
};

/// The bytes of a frame before its payload, for one configuration.
class CACHEKIT_EXPORT prefix {
 public:
  /// Validates `h` and renders the prefix once. With `h.key_hash` set, the header ends with
  /// "k" (after "v", before any padding) and `append_to(out, key_hash)` writes it for another key
  /// at the cost of 16 characters; padding is computed for that fixed length.
  /// Errors: errc::invalid_argument for an empty serializer name, a `format` other than
  /// "msgpack"/"orjson"/"arrow" (cachekit-py 0.24.1 cannot read it), a string that is not UTF-8,
  /// an encrypted header without tenant_id, encryption_algorithm or key_fingerprint, an encrypted
  /// header with a key_hash (its AAD binds the key), or `align == 0`.
  [[nodiscard]] static result<prefix> make(const frame::header& h, const alignment& a = {});

  /// "CK" 03, header_len, header JSON (with any padding).
  [[nodiscard]] byte_view bytes() const noexcept { return bytes_; }
  /// The header JSON including padding spaces.
  [[nodiscard]] std::string_view header_json() const noexcept {
    return as_string_view(byte_view(bytes_).subspan(prefix_size));
  }
  /// The header it was made from (serializer name canonical).
  [[nodiscard]] const frame::header& header() const noexcept { return header_; }

  /// prefix + payload, in one allocation.
  [[nodiscard]] byte_buffer wrap(byte_view payload) const;
  /// Appends the prefix to `out` (then append the payload, e.g. with envelope::encode_into).
  void append_to(byte_buffer& out) const;
  /// Appends the prefix with its "k" set to `key_hash` (see `binds_key`): the prefix bytes are
  /// copied and the 16 hex digits written over, no JSON is rendered. A prefix made without a
  /// key_hash has no "k"; it is then appended unchanged.
  void append_to(byte_buffer& out, std::uint64_t key_hash) const;
  /// Whether the header carries "k" (it was made with `header.key_hash` set).
  [[nodiscard]] bool binds_key() const noexcept { return key_hash_at_ != 0; }
  /// Offset in `bytes()` of the 16 hex digits of "k" (0 when `binds_key()` is false).
  [[nodiscard]] std::size_t key_hash_offset() const noexcept { return key_hash_at_; }

 private:
  prefix() = default;
  byte_buffer bytes_;
  frame::header header_;
  std::size_t key_hash_at_ = 0;
};

/// Digits of a "k" value.
inline constexpr std::size_t key_hash_digits = 16;
/// Writes `key_hash` as 16 lowercase hex digits at `out` (the form "k" holds).
CACHEKIT_EXPORT void write_key_hash(std::uint64_t key_hash, char* out) noexcept;
/// The value of 16 lowercase hex digits, or nullopt for anything else (uppercase included).
[[nodiscard]] CACHEKIT_EXPORT std::optional<std::uint64_t> parse_key_hash(
    std::string_view digits) noexcept;

/// Which container a stored value used.
enum class container {
  v3,           ///< the CK v3 binary frame
  legacy_json,  ///< the pre-v3 `{"data": base64, "metadata": ..., "serializer": ...}` JSON
};

/// A decoded frame. `payload()` views the input for a v3 frame (keep the input alive) and
/// owned bytes for a legacy JSON envelope.
class CACHEKIT_EXPORT decoded {
 public:
  decoded(frame::header h, std::string recorded_serializer, byte_view payload,
          std::size_t header_len);
  decoded(frame::header h, std::string recorded_serializer, byte_buffer payload);

  /// The header, serializer name canonical ("std" reads as "default").
  [[nodiscard]] const frame::header& header() const noexcept { return header_; }
  /// The serializer name exactly as the entry records it. cachekit-py 0.24.1 compares this
  /// (not the canonical name) with its own, so an entry tagged "std" is a mismatch there.
  [[nodiscard]] const std::string& recorded_serializer() const noexcept {
    return recorded_serializer_;
  }
  [[nodiscard]] container kind() const noexcept { return kind_; }
  /// header_len of a v3 frame (JSON plus padding); 0 for legacy JSON.
  [[nodiscard]] std::size_t header_len() const noexcept { return header_len_; }
  [[nodiscard]] byte_view payload() const noexcept {
    return kind_ == container::v3 ? view_ : byte_view(owned_);
  }

 private:
  frame::header header_;
  std::string recorded_serializer_;
  container kind_;
  std::size_t header_len_ = 0;
  byte_view view_;
  byte_buffer owned_;
};

/// Reads a stored value's frame: a CK v3 frame when the bytes start with "CK", otherwise the
/// legacy JSON envelope. The header must be a JSON object with a non-empty string "s" and an
/// object "m" holding a known "format"; the other metadata keys are optional and, when
/// present, must have the JSON types cachekit-py writes (str, bool, or null where optional).
/// A plaintext header's "k", when present, must be 16 lowercase hex digits (`header().key_hash`);
/// in an encrypted header it is ignored. Unknown keys and trailing spaces are ignored. Checking
/// "k" against the key is the caller's job (`storage_format::open` does it).
/// Errors (corrupt-data group): errc::truncated (a "CK" value shorter than 7 bytes, or
/// header_len beyond the input), errc::unsupported_version (version byte other than 3),
/// errc::malformed (bad JSON, missing or mistyped fields, bad base64 in legacy JSON).
[[nodiscard]] CACHEKIT_EXPORT result<decoded> decode(byte_view stored);

/// The stored bytes cachekit-py's default serializer writes for a value whose msgpack is
/// `msgpack`, unencrypted: frame(compressed=true) + envelope(msgpack) with integrity checking,
/// frame(compressed=false) + msgpack without.
/// Errors: errc::input_too_large above 512 MiB (integrity checking on).
[[nodiscard]] CACHEKIT_EXPORT result<byte_buffer> encode_standard(
    byte_view msgpack, const standard_options& options = {});

/// The msgpack bytes of an unencrypted default-serializer value, checked as cachekit-py's
/// reader checks it. With integrity checking the payload must be a valid envelope (any frame
/// `compressed` flag); without, an entry whose header says compressed, or whose payload is a
/// valid envelope declaring at most 256 KiB, is refused (it was written with integrity on).
/// Errors: those of `decode` and `envelope::decode`; errc::serializer_mismatch when the frame
/// records another serializer name than "default" (aliases included, as in cachekit-py 0.24.1),
/// is encrypted (use the encryption layer), or the integrity setting differs from the writer's.
[[nodiscard]] CACHEKIT_EXPORT result<byte_buffer> decode_standard(
    byte_view stored, const standard_options& options = {});

}  // namespace frame
}  // namespace v0
}  // namespace cachekit
