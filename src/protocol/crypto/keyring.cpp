// Key rotation: the current master key seals, up to three previous ones still open. Per tenant
// the derived encryption keys (and their encryptors, with their nonce sequences and cipher
// contexts) are made once and shared by every handle.
#include "process/fork_generation.hpp"
#include "protocol/crypto/master_key.hpp"

#include <cachekit/encryption.hpp>

#include <atomic>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace cachekit {
inline namespace v0 {
namespace detail {

struct tenant_key {
  std::string fingerprint;  // 32 lowercase hex
  aes_gcm_encryptor encryptor;
};

struct tenant_entry {
  std::string tenant_id;
  std::vector<tenant_key> keys;  // current master key's first, then the previous ones in order
};

namespace {

constexpr std::size_t fingerprint_hex_size = 32;

bool same_fingerprint(std::string_view stored_lowercase, std::string_view candidate) noexcept {
  if (candidate.size() != stored_lowercase.size()) return false;
  for (std::size_t i = 0; i < candidate.size(); ++i) {
    char c = candidate[i];
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
    if (c != stored_lowercase[i]) return false;
  }
  return true;
}

bool is_fingerprint_hex(std::string_view text) noexcept {
  if (text.size() != fingerprint_hex_size) return false;
  for (char c : text) {
    const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (!hex) return false;
  }
  return true;
}

failure too_many_previous_keys(std::size_t count) {
  return fail(errc::invalid_configuration,
              std::to_string(count) +
                  " previous master keys given; a keyring keeps at most 3 and never drops one "
                  "silently: remove the oldest");
}

std::string previous_name(std::size_t index) {
  return "previous master key #" + std::to_string(index + 1);
}

struct string_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};

}  // namespace
}  // namespace detail

namespace detail {

// The derived tenants of one process (one fork generation). A forked child makes its own table:
// its parent's lock may be held for good by a thread that did not survive the fork.
struct tenant_table {
  explicit tenant_table(std::uint64_t gen) : generation(gen) {}

  const std::uint64_t generation;
  std::shared_mutex mutex;
  // Guarded by `mutex`. Entries are never removed, so a handle's shared_ptr stays valid anyway.
  std::unordered_map<std::string, std::shared_ptr<tenant_entry>, string_hash, std::equal_to<>>
      tenants;
};

}  // namespace detail

struct keyring::state {
  state() : table(new detail::tenant_table(detail::watch_forks())) {}
  state(const state&) = delete;
  state& operator=(const state&) = delete;
  ~state() { delete table.load(std::memory_order_acquire); }

  secret_bytes current;
  std::vector<secret_bytes> previous;
  std::atomic<detail::tenant_table*> table;  // owned; replaced after a fork

  // This process's table: one relaxed load and a compare unless the process forked.
  detail::tenant_table& tenants() {
    detail::tenant_table* seen = table.load(std::memory_order_acquire);
    const std::uint64_t generation = detail::fork_generation();
    if (seen->generation == generation) [[likely]] {
      return *seen;
    }
    auto fresh = std::make_unique<detail::tenant_table>(generation);
    // Keep the parent's derivations when its table is consistent: no writer held its lock at
    // the fork. (Their encryptors start fresh nonce runs on their own.) Copied before the table
    // is published, so no other thread sees it half-filled.
    if (seen->mutex.try_lock_shared()) {
      fresh->tenants = seen->tenants;
      seen->mutex.unlock_shared();
    }
    while (seen->generation != generation) {
      // The parent's table is never freed: its lock may be held by a thread that no longer
      // exists.
      if (table.compare_exchange_weak(seen, fresh.get(), std::memory_order_acq_rel,
                                      std::memory_order_acquire)) {
        return *fresh.release();
      }
    }
    return *seen;  // another thread of this child installed its table first
  }

  result<std::shared_ptr<detail::tenant_entry>> derive(std::string_view tenant_id) const {
    auto entry = std::make_shared<detail::tenant_entry>();
    entry->tenant_id = std::string(tenant_id);
    entry->keys.reserve(1 + previous.size());
    auto add = [&](const secret_bytes& master) -> result<void> {
      auto key = derive_domain_key(master.view(), "encryption", as_byte_view(tenant_id));
      if (!key) return std::move(key).error();
      auto encryptor = aes_gcm_encryptor::create(key->view());
      if (!encryptor) return std::move(encryptor).error();
      entry->keys.push_back({key_fingerprint(key->view()), std::move(*encryptor)});
      return {};
    };
    if (auto added = add(current); !added) return added.error();
    for (const auto& master : previous) {
      if (auto added = add(master); !added) return added.error();
    }
    return entry;
  }
};

result<keyring> keyring::create(secret_bytes current, std::vector<secret_bytes> previous) {
  // Raw key bytes are exactly 32 (spec/intent-presets.md, Master Key Input rule 4, and
  // cachekit-py's EncryptionWrapper): 64 ASCII hex characters passed as bytes, or a 24- or
  // 33-byte key, are a caller's mistake that a length floor would turn into another key.
  if (current.size() != min_master_key_size) {
    return detail::raw_master_key_not_32_bytes("the current master key", current.size());
  }
  for (std::size_t i = 0; i < previous.size(); ++i) {
    if (previous[i].size() != min_master_key_size) {
      return detail::raw_master_key_not_32_bytes(detail::previous_name(i), previous[i].size());
    }
  }
  return detail::keyring_access::from_decoded_keys(std::move(current), std::move(previous));
}

result<keyring> detail::keyring_access::from_decoded_keys(secret_bytes current,
                                                          std::vector<secret_bytes> previous) {
  if (current.size() < min_master_key_size) {
    return detail::master_key_too_short("the current master key", current.size());
  }
  if (auto ok = detail::check_not_placeholder(current.view(), "the current master key"); !ok) {
    return std::move(ok).error();
  }
  if (previous.size() > max_previous_master_keys) {
    return detail::too_many_previous_keys(previous.size());
  }
  for (std::size_t i = 0; i < previous.size(); ++i) {
    if (previous[i].size() < min_master_key_size) {
      return detail::master_key_too_short(detail::previous_name(i), previous[i].size());
    }
    if (auto ok = detail::check_not_placeholder(previous[i].view(), detail::previous_name(i));
        !ok) {
      return std::move(ok).error();
    }
    if (current.equals(previous[i].view())) {
      return fail(errc::invalid_configuration,
                  "the current master key is also " + detail::previous_name(i) +
                      "; rotation only moves forward: remove it from the previous keys");
    }
  }
  auto s = std::make_shared<keyring::state>();
  s->current = std::move(current);
  s->previous = std::move(previous);
  return keyring(std::move(s));
}

result<keyring> keyring::from_hex(std::string_view current_hex,
                                  std::span<const std::string_view> previous_hex) {
  auto current = detail::parse_master_key_named(current_hex, "the current master key");
  if (!current) return std::move(current).error();
  if (previous_hex.size() > max_previous_master_keys) {
    return detail::too_many_previous_keys(previous_hex.size());
  }
  std::vector<secret_bytes> previous;
  previous.reserve(previous_hex.size());
  for (std::size_t i = 0; i < previous_hex.size(); ++i) {
    auto key = detail::parse_master_key_named(previous_hex[i], detail::previous_name(i));
    if (!key) return std::move(key).error();
    previous.push_back(std::move(*key));
  }
  // The hex rule: at least 32 bytes (rule 3), as cachekit-py's CACHEKIT_MASTER_KEY.
  return detail::keyring_access::from_decoded_keys(std::move(*current), std::move(previous));
}

result<void> detail::keyring_access::check_sealing_key(const keyring& ring, std::string_view name) {
  return check_looks_random(ring.state_->current.view(), name);
}

keyring::keyring(std::shared_ptr<state> s) noexcept : state_(std::move(s)) {}
keyring::keyring(const keyring&) noexcept = default;
keyring& keyring::operator=(const keyring&) noexcept = default;
keyring::keyring(keyring&&) noexcept = default;
keyring& keyring::operator=(keyring&&) noexcept = default;
keyring::~keyring() = default;

result<tenant_keyring> keyring::for_tenant(std::string_view tenant_id) const {
  detail::tenant_table& table = state_->tenants();
  {
    std::shared_lock lock(table.mutex);
    if (auto it = table.tenants.find(tenant_id); it != table.tenants.end()) {
      return tenant_keyring(it->second);
    }
  }
  // Derive under the exclusive lock: concurrent first uses of a tenant derive once. A derivation
  // takes a few microseconds and happens once per tenant.
  std::unique_lock lock(table.mutex);
  if (auto it = table.tenants.find(tenant_id); it != table.tenants.end()) {
    return tenant_keyring(it->second);
  }
  auto entry = state_->derive(tenant_id);
  if (!entry) return std::move(entry).error();
  table.tenants.emplace(std::string(tenant_id), *entry);
  return tenant_keyring(std::move(*entry));
}

result<tenant_keyring> keyring::derive_uncached(std::string_view tenant_id) const {
  {
    detail::tenant_table& table = state_->tenants();
    std::shared_lock lock(table.mutex);
    if (auto it = table.tenants.find(tenant_id); it != table.tenants.end()) {
      return tenant_keyring(it->second);
    }
  }
  auto entry = state_->derive(tenant_id);
  if (!entry) return std::move(entry).error();
  return tenant_keyring(std::move(*entry));
}

std::size_t keyring::previous_key_count() const noexcept {
  return state_->previous.size();
}

tenant_keyring::tenant_keyring(std::shared_ptr<detail::tenant_entry> entry) noexcept
    : entry_(std::move(entry)) {}

std::string_view tenant_keyring::tenant_id() const noexcept {
  return entry_->tenant_id;
}

std::string_view tenant_keyring::current_fingerprint() const noexcept {
  return entry_->keys.front().fingerprint;
}

std::vector<std::string_view> tenant_keyring::fingerprints() const {
  std::vector<std::string_view> out;
  out.reserve(entry_->keys.size());
  for (const auto& key : entry_->keys) out.emplace_back(key.fingerprint);
  return out;
}

result<byte_buffer> tenant_keyring::encrypt(byte_view plaintext, byte_view aad) {
  return entry_->keys.front().encryptor.encrypt(plaintext, aad);
}

result<void> tenant_keyring::encrypt_to(std::span<std::byte> out, byte_view plaintext,
                                        byte_view aad) {
  return entry_->keys.front().encryptor.encrypt_to(out, plaintext, aad);
}

result<byte_buffer> tenant_keyring::decrypt_by_fingerprint(std::string_view fingerprint_hex,
                                                           byte_view ciphertext,
                                                           byte_view aad) const {
  for (const auto& key : entry_->keys) {
    if (detail::same_fingerprint(key.fingerprint, fingerprint_hex)) {
      return key.encryptor.decrypt(ciphertext, aad);
    }
  }
  // The fingerprint comes from the stored entry: quote it only when it is well-formed.
  if (!detail::is_fingerprint_hex(fingerprint_hex)) {
    return fail(errc::unknown_key_fingerprint,
                "the entry's key fingerprint is not 32 hex characters (" +
                    std::to_string(fingerprint_hex.size()) + " characters)");
  }
  return fail(errc::unknown_key_fingerprint,
              "no key in this keyring (current + " + std::to_string(entry_->keys.size() - 1) +
                  " previous) has fingerprint " + std::string(fingerprint_hex) +
                  "; add the master key that wrote the entry to the previous master keys");
}

result<byte_buffer> tenant_keyring::decrypt_sequential(byte_view ciphertext, byte_view aad) const {
  for (const auto& key : entry_->keys) {
    auto opened = key.encryptor.decrypt(ciphertext, aad);
    if (opened || opened.code() != errc::authentication_failed) return opened;
  }
  return fail(errc::authentication_failed,
              "no key in this keyring (current + " + std::to_string(entry_->keys.size() - 1) +
                  " previous) authenticates the entry: wrong tenant, different AAD, a master key "
                  "that is not in the keyring, or the bytes were changed");
}

}  // namespace v0
}  // namespace cachekit
