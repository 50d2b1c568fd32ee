/// @file
/// Client-side encryption, byte-compatible with cachekit-py, cachekit-rs and cachekit-core:
/// master-key parsing, HKDF-SHA256 per-tenant key derivation and key fingerprints, the v0x03
/// additional authenticated data (AAD), the AES-256-GCM encryptor and the rotation keyring.
///
/// A stored ciphertext is `nonce(12) || ciphertext || tag(16)`. The nonce is
/// `instance_id (u64 BE) || counter (u32 BE)`: `instance_id` is 8 random bytes from the OS
/// (getrandom), taken afresh whenever an encryptor starts a nonce run — when it is made, when its
/// counter has used all 2^32-1 values, and on its first use in a forked child — and `counter`
/// counts the run's messages from 0. So a parent and its children never walk the same nonce
/// sequence, and an encryptor never runs out. Readers never interpret the nonce.
///
/// Nonce budget per key: every nonce run starts at counter 0, so two runs under one derived key
/// (one master key and one tenant) that draw the same random instance id reuse nonces, which
/// breaks AES-GCM for those messages (authentication keys leak). With `n` runs under one key the
/// chance of that is about n^2 / 2^65: 2^-33 for 2^16 runs, 2^-25 for 2^20 (a million), 2^-17
/// for 2^24, and about 1/2 near 2^32. A run starts each time a process (or forked child) first
/// seals for a tenant, each time a CLI invocation seals, after every 2^32-1 messages, and when a
/// multi-tenant cache re-derives a tenant it dropped from its table (past 1024 tenants, least
/// recently used first). Recommendation: rotate the master key (keyring previous keys) before
/// any tenant's key sees about a million runs (e.g. 1,000 worker processes restarting daily
/// reach that in under three years); keep long-lived processes, not per-request processes or
/// CLI runs, doing the sealing.
///
///     auto ring = cachekit::keyring::from_hex(master_key_hex).value();  // throws on a bad key
///     auto tenant = ring.for_tenant("6f1c...uuid").value();
///     auto aad = cachekit::encode_aad({.tenant_id = tenant.tenant_id(), .cache_key = key});
///     cachekit::result<cachekit::byte_buffer> sealed = tenant.encrypt(plaintext, aad);
///     cachekit::result<cachekit::byte_buffer> opened = tenant.decrypt_sequential(*sealed, aad);
///
/// Failures are values (`result<T>`) with these codes: `errc::invalid_master_key` (a key that
/// is not hex or shorter than 32 bytes), `errc::invalid_argument` (an empty or oversized tenant
/// or domain), `errc::invalid_configuration` (a keyring that breaks the rotation rules, or an
/// OpenSSL that cannot provide AES-256-GCM or HMAC-SHA256),
/// `errc::invalid_ciphertext` (shorter than nonce + tag), `errc::authentication_failed` (wrong
/// key, wrong tenant, wrong AAD, or tampered bytes), `errc::unknown_key_fingerprint`.
/// Messages never contain key material.
///
/// Thread safety: `aes_gcm_encryptor`, `keyring` and `tenant_keyring` are thread-safe (encrypt
/// and decrypt may be called concurrently on one object); the free functions are thread-safe.
///
/// Fork safety: all three may be used in a child after fork(), also when another thread of the
/// parent was inside them at the fork: the child starts its own nonce runs, cipher contexts and
/// tenant table (its parent's locks may be held for good) without touching the parent's.
#pragma once

#include <cachekit/bytes.hpp>
#include <cachekit/export.hpp>
#include <cachekit/result.hpp>
#include <cachekit/secret_bytes.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace cachekit {
inline namespace v0 {

/// AES-256 key length.
inline constexpr std::size_t aes_gcm_key_size = 32;
/// Nonce length at the front of every ciphertext.
inline constexpr std::size_t aes_gcm_nonce_size = 12;
/// Authentication tag length at the end of every ciphertext.
inline constexpr std::size_t aes_gcm_tag_size = 16;
/// Bytes a ciphertext adds to its plaintext (nonce + tag); also the shortest valid ciphertext.
inline constexpr std::size_t aes_gcm_overhead = aes_gcm_nonce_size + aes_gcm_tag_size;
/// Messages one encryptor seals under one instance id: counters 0 .. 2^32-2. The counter never
/// wraps: the next message takes a fresh instance id.
inline constexpr std::uint64_t aes_gcm_max_messages = 0xFFFF'FFFFull;
/// The shortest master key the SDKs accept (cachekit-py and cachekit-rs both require 32 bytes).
inline constexpr std::size_t min_master_key_size = 32;
/// The most previous master keys a keyring keeps for decryption.
inline constexpr std::size_t max_previous_master_keys = 3;

// ---------------------------------------------------------------------------------------------
// Master keys and key derivation
// ---------------------------------------------------------------------------------------------

/// Decodes a master key from hex (either case, no separators) and checks it is at least
/// `min_master_key_size` bytes.
///
/// Returns the key, or `errc::invalid_master_key` when `hex` is empty, has an odd length, holds
/// a non-hex character (the message gives its position, never the character), or decodes to
/// fewer than 32 bytes. Each message ends with how to make a valid key
/// ("generate one with: openssl rand -hex 32").
[[nodiscard]] CACHEKIT_EXPORT result<secret_bytes> parse_master_key(std::string_view hex);

/// Derives the 32-byte key of one `domain` for one tenant:
/// `HKDF-SHA256(ikm = master_key, salt = "cachekit_v1_" || u8(len domain) || domain ||
/// u16be(len tenant_salt) || tenant_salt, info = domain, L = 32)`.
///
/// Returns the key; `errc::invalid_master_key` when `master_key` is shorter than 32 bytes;
/// `errc::invalid_argument` when `domain` is empty or longer than 255 bytes, or `tenant_salt` is
/// empty or longer than 1024 bytes. Costs about 1 us: derive once and keep the result
/// (`keyring` does).
[[nodiscard]] CACHEKIT_EXPORT result<secret_bytes> derive_domain_key(byte_view master_key,
                                                                     std::string_view domain,
                                                                     byte_view tenant_salt);

/// The three per-tenant keys of the cachekit family. Only `encryption` is used on the wire;
/// the other two exist for parity with cachekit-core.
struct tenant_keys {
  secret_bytes encryption;      ///< domain "encryption": the AES-256-GCM key
  secret_bytes authentication;  ///< domain "authentication"
  secret_bytes cache_keys;      ///< domain "cache_keys"
};

/// Derives the domains "encryption", "authentication" and "cache_keys" with
/// `tenant_salt = tenant_id` (UTF-8 bytes). Errors as `derive_domain_key`.
///
///     auto keys = cachekit::derive_tenant_keys(master.view(), "cross-sdk-test").value();
///     cachekit::key_fingerprint(keys.encryption.view());  // "96179a9b..." for master 0x61 * 32
[[nodiscard]] CACHEKIT_EXPORT result<tenant_keys> derive_tenant_keys(byte_view master_key,
                                                                     std::string_view tenant_id);

/// The public identity of a key: `SHA-256("key_fingerprint_v1" || key)[0..16]` as 32 lowercase
/// hex characters. This is what cachekit-py writes into a CK frame's `key_fingerprint`; it does
/// not reveal the key.
[[nodiscard]] CACHEKIT_EXPORT std::string key_fingerprint(byte_view key);

// ---------------------------------------------------------------------------------------------
// Additional authenticated data
// ---------------------------------------------------------------------------------------------

/// The values bound to a ciphertext by AAD version 0x03. Which values each SDK mode uses is
/// fixed by the protocol: cachekit-py's default (frame) mode binds five components
/// (`compressed` true when integrity checking is on, `original_type = "msgpack"`); interop
/// mode and cachekit-rs bind four (`compressed = false`, no `original_type`).
struct aad_fields {
  std::string_view tenant_id;                     ///< the tenant whose key seals the value
  std::string_view cache_key;                     ///< the key as the SDK generated it
  std::string_view format = "msgpack";            ///< serializer format name
  bool compressed = false;                        ///< written as Python's "True" / "False"
  std::optional<std::string_view> original_type;  ///< set and non-empty: a fifth component
};

/// Encodes AAD v0x03: `0x03 || u32be(len) tenant_id || u32be(len) cache_key || u32be(len)
/// format || u32be(len) "True"|"False" [|| u32be(len) original_type]`. As in cachekit-py, an
/// empty `original_type` counts as absent (four components).
///
///     auto aad = cachekit::encode_aad({.tenant_id = "cross-sdk-test", .cache_key = key});
///     // interop: 03 0000000e 63726f73... 00000005 46616c7365
///
/// Throws `cachekit::error` (`errc::invalid_argument`) only if a component is 4 GiB or longer.
[[nodiscard]] CACHEKIT_EXPORT byte_buffer encode_aad(const aad_fields& fields);

// ---------------------------------------------------------------------------------------------
// AES-256-GCM
// ---------------------------------------------------------------------------------------------

namespace detail {
struct aes_gcm_state;
struct aes_gcm_test_access;
struct keyring_access;
struct tenant_entry;
}  // namespace detail

/// AES-256-GCM with one key and its own nonce sequence. Movable, not copyable. Each encryptor
/// takes a random `instance_id`, so two encryptors over the same key never share a nonce (short
/// of a 2^-64 coincidence). After `aes_gcm_max_messages` encryptions under one instance id, and
/// in a forked child, it continues under a fresh random one. A moved-from encryptor may only be
/// destroyed or assigned.
class CACHEKIT_EXPORT aes_gcm_encryptor {
 public:
  /// Makes an encryptor for a 32-byte `key` (copied into wiped storage).
  /// Returns `errc::invalid_argument` when the key is not 32 bytes.
  [[nodiscard]] static result<aes_gcm_encryptor> create(byte_view key);

  aes_gcm_encryptor(aes_gcm_encryptor&&) noexcept;
  aes_gcm_encryptor& operator=(aes_gcm_encryptor&&) noexcept;
  ~aes_gcm_encryptor();

  /// Seals `plaintext`, binding `aad`. Returns `nonce(12) || ciphertext || tag(16)`
  /// (`plaintext.size() + 28` bytes); an OpenSSL failure is `errc::invalid_configuration`.
  [[nodiscard]] result<byte_buffer> encrypt(byte_view plaintext, byte_view aad);

  /// As `encrypt`, writing into `out`, which must be exactly `plaintext.size() + 28` bytes
  /// (`errc::invalid_argument` otherwise). For callers that place the ciphertext inside a
  /// larger buffer (a frame after its header) or reuse one buffer.
  [[nodiscard]] result<void> encrypt_to(std::span<std::byte> out, byte_view plaintext,
                                        byte_view aad);

  /// Opens `nonce || ciphertext || tag`. Returns the plaintext; `errc::invalid_ciphertext` when
  /// the input is shorter than 28 bytes; `errc::authentication_failed` when the tag does not
  /// verify (wrong key, wrong AAD, or any byte changed).
  [[nodiscard]] result<byte_buffer> decrypt(byte_view ciphertext, byte_view aad) const;

  /// As `decrypt`, writing into `out`, which must be exactly `ciphertext.size() - 28` bytes
  /// (`errc::invalid_argument` otherwise). When the tag does not verify, `out` is zeroed: no
  /// unauthenticated plaintext is left behind.
  [[nodiscard]] result<void> decrypt_to(std::span<std::byte> out, byte_view ciphertext,
                                        byte_view aad) const;

  /// The first 8 bytes of the nonces this encryptor makes now (it changes after 2^32-1
  /// messages and in a forked child).
  [[nodiscard]] std::uint64_t instance_id() const noexcept;
  /// How many nonces this encryptor has used under its current `instance_id` (0 to
  /// `aes_gcm_max_messages`).
  [[nodiscard]] std::uint64_t nonces_used() const noexcept;

 private:
  friend struct detail::aes_gcm_test_access;
  explicit aes_gcm_encryptor(std::unique_ptr<detail::aes_gcm_state> state) noexcept;

  std::unique_ptr<detail::aes_gcm_state> state_;
};

// ---------------------------------------------------------------------------------------------
// Keyring (key rotation)
// ---------------------------------------------------------------------------------------------

/// One tenant's view of a keyring: the derived encryption key of the current master key and of
/// each previous one, with their fingerprints. A cheap handle (copying shares the keys); it stays
/// valid after the keyring is gone.
class CACHEKIT_EXPORT tenant_keyring {
 public:
  /// The tenant these keys were derived for.
  [[nodiscard]] std::string_view tenant_id() const noexcept;
  /// Fingerprint of the current key: what a CK frame written now carries in `key_fingerprint`.
  [[nodiscard]] std::string_view current_fingerprint() const noexcept;
  /// Fingerprints of all keys, current first, then the previous keys in keyring order.
  [[nodiscard]] std::vector<std::string_view> fingerprints() const;

  /// Seals with the current key. Returns `nonce || ciphertext || tag`.
  [[nodiscard]] result<byte_buffer> encrypt(byte_view plaintext, byte_view aad);

  /// As `encrypt`, writing into `out`, which must be exactly `plaintext.size() + 28` bytes
  /// (`errc::invalid_argument` otherwise): seals straight into a frame after its header.
  ///
  ///     frame.resize(header_size + plaintext.size() + cachekit::aes_gcm_overhead);
  ///     auto sealed = tenant.encrypt_to(std::span(frame).subspan(header_size), plaintext, aad);
  [[nodiscard]] result<void> encrypt_to(std::span<std::byte> out, byte_view plaintext,
                                        byte_view aad);

  /// Opens with the key whose fingerprint is `fingerprint_hex` (32 hex characters, either case),
  /// as cachekit-py does for CK frames. Returns the plaintext; `errc::unknown_key_fingerprint`
  /// when no key of this keyring has that fingerprint; otherwise as `aes_gcm_encryptor::decrypt`
  /// with that one key (no other key is tried).
  [[nodiscard]] result<byte_buffer> decrypt_by_fingerprint(std::string_view fingerprint_hex,
                                                           byte_view ciphertext,
                                                           byte_view aad) const;

  /// Opens by trying the current key, then each previous key in order, as interop mode and
  /// cachekit-rs do (there is no key identity on the wire). Only `errc::authentication_failed`
  /// moves on to the next key; `errc::invalid_ciphertext` is returned at once. Returns the
  /// plaintext, or `errc::authentication_failed` when no key opens it.
  [[nodiscard]] result<byte_buffer> decrypt_sequential(byte_view ciphertext, byte_view aad) const;

 private:
  friend class keyring;
  explicit tenant_keyring(std::shared_ptr<detail::tenant_entry> entry) noexcept;

  std::shared_ptr<detail::tenant_entry> entry_;
};

/// The current master key plus up to three previous ones. New values are always sealed with the
/// current key; values sealed with a previous key stay readable until it is dropped. Keys for a
/// tenant are derived on first use and cached for the keyring's lifetime (one derivation per
/// tenant, also under concurrent first use). Copies share one set of keys and one cache of
/// derived tenant keys (the key material is never duplicated in memory); a moved-from keyring
/// may only be assigned to or destroyed.
///
///     std::string_view previous[] = {old_hex};
///     auto ring = cachekit::keyring::from_hex(current_hex, previous).value();
///     auto tenant = ring.for_tenant(tenant_id).value();
///     auto value = tenant.decrypt_by_fingerprint(frame.key_fingerprint, payload, aad);
class CACHEKIT_EXPORT keyring {
 public:
  /// Builds a keyring from raw key bytes, which must be exactly 32 per key (cachekit-py's raw
  /// `master_key`; the protocol's Master Key Input rule 4): 64 hex characters passed as bytes
  /// would otherwise derive another key than the one they spell. Keys given as hex may be longer
  /// (`from_hex`).
  /// Returns `errc::invalid_master_key` when a key is not 32 bytes;
  /// `errc::invalid_configuration` when there are more than 3 previous keys (they are never
  /// truncated) or the current key also appears among the previous ones (compared as bytes).
  [[nodiscard]] static result<keyring> create(secret_bytes current,
                                              std::vector<secret_bytes> previous = {});

  /// As `create`, decoding each key with `parse_master_key` (so each must be at least 32 bytes,
  /// the hex rule, rather than exactly 32); a message names which key failed
  /// ("current master key", "previous master key #2"), never its value.
  ///
  /// Like the other protocol functions, a keyring accepts any key that is not all zero bytes, so
  /// the shared test vectors (0x61 * 32) load. The entry points that seal with it do not: a
  /// `cache` with `encryption`, `cache_options::from_env` and the CLI refuse a current key that
  /// is one byte or a short pattern repeated, or a counting sequence
  /// (`errc::invalid_master_key`, "generate one with: openssl rand -hex 32"). Previous keys only
  /// open entries already written and are not checked beyond being non-zero.
  [[nodiscard]] static result<keyring> from_hex(
      std::string_view current_hex, std::span<const std::string_view> previous_hex = {});

  /// A new random master key as 64 hex digits (32 bytes from OpenSSL's `RAND_bytes`, seeded
  /// by the OS), for tests, examples and first-time setup. A service should load its key from a
  /// secret store, so that every process (and every Python service) shares it:
  ///
  ///     auto ring = cachekit::keyring::from_hex(cachekit::keyring::generate_master_key_hex());
  ///
  /// Thread-safe. Throws `cachekit::error` (errc::invalid_master_key) when the random source
  /// fails, which does not happen on a working system.
  [[nodiscard]] static std::string generate_master_key_hex();

  keyring(const keyring&) noexcept;
  keyring& operator=(const keyring&) noexcept;
  keyring(keyring&&) noexcept;
  keyring& operator=(keyring&&) noexcept;
  ~keyring();

  /// The keys of one tenant, derived on the first call for that tenant and cached.
  /// Returns `errc::invalid_argument` when `tenant_id` is empty or longer than 1024 bytes.
  [[nodiscard]] result<tenant_keyring> for_tenant(std::string_view tenant_id) const;

  /// As `for_tenant`, but derived afresh and not cached: for tenant ids read from untrusted
  /// input (a stored frame's header), which must not grow the keyring without bound. Costs one
  /// HKDF derivation per key (a few microseconds). Errors: as `for_tenant`.
  [[nodiscard]] result<tenant_keyring> derive_uncached(std::string_view tenant_id) const;

  /// How many previous master keys the keyring holds (0 to 3).
  [[nodiscard]] std::size_t previous_key_count() const noexcept;

 private:
  struct state;
  friend struct detail::keyring_access;
  explicit keyring(std::shared_ptr<state> s) noexcept;

  std::shared_ptr<state> state_;
};

}  // namespace v0
}  // namespace cachekit
