// AES-256-GCM with counter nonces: instance_id (u64 BE) || message counter (u32 BE, from 0, never
// wrapping). An instance id is 8 random bytes from the OS, taken afresh whenever the encryptor
// starts a new nonce run: when it is made, when its counter runs out, and in a forked child.
#include "protocol/crypto/aes_gcm.hpp"

#include "process/fork_generation.hpp"
#include "protocol/crypto/cipher_context_pool.hpp"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <string>
#include <utility>

namespace cachekit {
inline namespace v0 {
namespace detail {

// One run of nonces: an instance id, its counter, and the cipher contexts that seal with it.
// A run belongs to one fork generation: a child never touches its parent's run (its counter
// would repeat the parent's nonces, and its context pool's lock may be held by a thread that
// did not survive the fork).
struct nonce_run {
  nonce_run(const EVP_CIPHER* cipher, byte_view key, std::uint64_t gen)
      : generation(gen), instance_id(fresh_random_u64()), contexts(cipher, key) {}

  const std::uint64_t generation;
  const std::uint64_t instance_id;
  std::atomic<std::uint64_t> next_counter{0};
  cipher_context_pool contexts;
  // The run this one replaced in the same process: other threads may still be sealing with it,
  // so it lives as long as the encryptor.
  std::unique_ptr<nonce_run> previous;
};

struct aes_gcm_state {
  aes_gcm_state(secret_bytes k, const EVP_CIPHER* c) : key(std::move(k)), cipher(c) {}
  aes_gcm_state(const aes_gcm_state&) = delete;
  aes_gcm_state& operator=(const aes_gcm_state&) = delete;
  ~aes_gcm_state() { delete run.load(std::memory_order_acquire); }

  secret_bytes key;  // outlives every run's contexts, which are keyed from it
  const EVP_CIPHER* cipher;
  std::atomic<nonce_run*> run{nullptr};  // owned; never null after create()
};

namespace {

using nonce_bytes = std::array<std::byte, aes_gcm_nonce_size>;

// EVP lengths are `int`: feed larger inputs in pieces (GCM accepts any split).
constexpr std::size_t max_update = std::size_t{1} << 30;

const EVP_CIPHER* aes_256_gcm() noexcept {
  // Fetched once; an implicit fetch per context adds ~370 ns (research/limits.md).
  static const EVP_CIPHER* const cipher = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  return cipher;
}

// Replaces `seen` (stale: made before a fork, or out of nonces) with a fresh run, unless another
// thread already did. Lock-free: a lock here could be held by a thread that a fork left behind.
nonce_run* replace_run(aes_gcm_state& state, nonce_run* seen, std::uint64_t generation) {
  auto fresh = std::make_unique<nonce_run>(state.cipher, state.key.view(), generation);
  // A run from before a fork is left alone, never freed: its pool may be mid-update by a
  // thread that exists only in the parent.
  const bool same_process = seen->generation == generation;
  if (same_process) fresh->previous.reset(seen);
  if (state.run.compare_exchange_strong(seen, fresh.get(), std::memory_order_acq_rel,
                                        std::memory_order_acquire)) {
    return fresh.release();
  }
  if (same_process) (void)fresh->previous.release();  // still owned by the run that won
  return seen;                                        // the winner's run
}

// The run to use now: one relaxed load and a compare when nothing has forked.
nonce_run& current_run(aes_gcm_state& state) {
  nonce_run* run = state.run.load(std::memory_order_acquire);
  const std::uint64_t generation = fork_generation();
  while (run->generation != generation) [[unlikely]] {
      run = replace_run(state, run, generation);
    }
  return *run;
}

nonce_bytes make_nonce(std::uint64_t instance_id, std::uint32_t counter) noexcept {
  nonce_bytes nonce{};
  for (int i = 0; i < 8; ++i) nonce[i] = static_cast<std::byte>(instance_id >> (56 - 8 * i));
  for (int i = 0; i < 4; ++i) nonce[8 + i] = static_cast<std::byte>(counter >> (24 - 8 * i));
  return nonce;
}

const unsigned char* uchars(const std::byte* p) noexcept {
  return reinterpret_cast<const unsigned char*>(p);
}
unsigned char* uchars(std::byte* p) noexcept {
  return reinterpret_cast<unsigned char*>(p);
}

// Runs `in` through the cipher into `out` (same size; out may be null for AAD).
bool update(EVP_CIPHER_CTX* ctx, std::byte* out, byte_view in) noexcept {
  while (!in.empty()) {
    const std::size_t n = std::min(in.size(), max_update);
    int written = 0;
    if (EVP_CipherUpdate(ctx, out ? uchars(out) : nullptr, &written, uchars(in.data()),
                         static_cast<int>(n)) != 1 ||
        static_cast<std::size_t>(written) != n) {
      return false;
    }
    if (out) out += n;
    in = in.subspan(n);
  }
  return true;
}

// Reads (after sealing) or sets (before the final step of opening) the GCM tag through the
// provider's parameters directly: EVP_CIPHER_CTX_ctrl translates each call into the same
// parameters first, by name.
bool tag_param(EVP_CIPHER_CTX* ctx, std::byte* tag, bool set) noexcept {
  std::array<OSSL_PARAM, 2> params = {
      OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag, aes_gcm_tag_size),
      OSSL_PARAM_construct_end()};
  return (set ? EVP_CIPHER_CTX_set_params(ctx, params.data())
              : EVP_CIPHER_CTX_get_params(ctx, params.data())) == 1;
}

failure openssl_failure(const char* what) {
  ERR_clear_error();
  return fail(errc::invalid_configuration,
              std::string("OpenSSL AES-256-GCM failed to ") + what +
                  "; check that the OpenSSL default provider is available");
}

// out = nonce || ciphertext || tag; out.size() == plaintext.size() + aes_gcm_overhead.
result<void> seal(nonce_run& run, const nonce_bytes& nonce, std::span<std::byte> out,
                  byte_view plaintext, byte_view aad) {
  auto ctx = run.contexts.borrow();
  if (!ctx) return openssl_failure("create a cipher context");
  std::copy(nonce.begin(), nonce.end(), out.begin());
  std::byte* body = out.data() + aes_gcm_nonce_size;
  std::byte* tag = body + plaintext.size();
  std::array<unsigned char, 16> final_block{};  // GCM's final step writes nothing
  int tail = 0;
  if (EVP_CipherInit_ex2(ctx.get(), nullptr, nullptr, uchars(nonce.data()), 1, nullptr) != 1 ||
      !update(ctx.get(), nullptr, aad) || !update(ctx.get(), body, plaintext) ||
      EVP_CipherFinal_ex(ctx.get(), final_block.data(), &tail) != 1 || tail != 0 ||
      !tag_param(ctx.get(), tag, false)) {
    secure_wipe(out);
    return openssl_failure("encrypt");
  }
  return {};
}

// out = plaintext; out.size() == ciphertext.size() - aes_gcm_overhead (checked by callers).
result<void> open(nonce_run& run, std::span<std::byte> out, byte_view ciphertext, byte_view aad) {
  auto ctx = run.contexts.borrow();
  if (!ctx) return openssl_failure("create a cipher context");
  const byte_view nonce = ciphertext.first(aes_gcm_nonce_size);
  const byte_view body =
      ciphertext.subspan(aes_gcm_nonce_size, ciphertext.size() - aes_gcm_overhead);
  std::array<std::byte, aes_gcm_tag_size> tag{};
  const byte_view stored_tag = ciphertext.last(aes_gcm_tag_size);
  std::copy(stored_tag.begin(), stored_tag.end(), tag.begin());

  if (EVP_CipherInit_ex2(ctx.get(), nullptr, nullptr, uchars(nonce.data()), 0, nullptr) != 1 ||
      !update(ctx.get(), nullptr, aad) || !update(ctx.get(), out.data(), body) ||
      !tag_param(ctx.get(), tag.data(), true)) {
    secure_wipe(out);
    return openssl_failure("decrypt");
  }
  std::array<unsigned char, 16> final_block{};  // GCM's final step writes nothing
  int tail = 0;
  if (EVP_CipherFinal_ex(ctx.get(), final_block.data(), &tail) != 1 || tail != 0) {
    // Unauthenticated plaintext must not reach the caller.
    secure_wipe(out);
    ERR_clear_error();
    return fail(errc::authentication_failed,
                "AES-GCM tag does not verify: wrong key or tenant, different AAD, or the bytes "
                "were changed");
  }
  return {};
}

failure too_short(std::size_t size) {
  return fail(errc::invalid_ciphertext, "ciphertext is " + std::to_string(size) +
                                            " bytes; a nonce (12) and tag (16) alone need 28");
}

}  // namespace

void aes_gcm_test_access::set_next_counter(aes_gcm_encryptor& encryptor,
                                           std::uint64_t next) noexcept {
  current_run(*encryptor.state_).next_counter.store(next, std::memory_order_relaxed);
}

result<byte_buffer> aes_gcm_test_access::encrypt_with_nonce_for_testing(
    aes_gcm_encryptor& encryptor, std::span<const std::byte, aes_gcm_nonce_size> nonce,
    byte_view plaintext, byte_view aad) {
  nonce_bytes n{};
  std::copy(nonce.begin(), nonce.end(), n.begin());
  byte_buffer out(plaintext.size() + aes_gcm_overhead);
  auto sealed = seal(current_run(*encryptor.state_), n, out, plaintext, aad);
  if (!sealed) return std::move(sealed).error();
  return out;
}

}  // namespace detail

result<aes_gcm_encryptor> aes_gcm_encryptor::create(byte_view key) {
  if (key.size() != aes_gcm_key_size) {
    return fail(errc::invalid_argument,
                "AES-256-GCM needs a 32-byte key, got " + std::to_string(key.size()) + " bytes");
  }
  const EVP_CIPHER* cipher = detail::aes_256_gcm();
  if (cipher == nullptr) return detail::openssl_failure("load the cipher");
  auto state = std::make_unique<detail::aes_gcm_state>(secret_bytes(key), cipher);
  auto run = std::make_unique<detail::nonce_run>(cipher, state->key.view(), detail::watch_forks());
  // Key one context now, so a broken OpenSSL setup fails here rather than on first use.
  if (!run->contexts.borrow()) return detail::openssl_failure("create a cipher context");
  state->run.store(run.release(), std::memory_order_release);
  return aes_gcm_encryptor(std::move(state));
}

aes_gcm_encryptor::aes_gcm_encryptor(std::unique_ptr<detail::aes_gcm_state> state) noexcept
    : state_(std::move(state)) {}
aes_gcm_encryptor::aes_gcm_encryptor(aes_gcm_encryptor&&) noexcept = default;
aes_gcm_encryptor& aes_gcm_encryptor::operator=(aes_gcm_encryptor&&) noexcept = default;
aes_gcm_encryptor::~aes_gcm_encryptor() = default;

result<byte_buffer> aes_gcm_encryptor::encrypt(byte_view plaintext, byte_view aad) {
  byte_buffer out(plaintext.size() + aes_gcm_overhead);
  auto sealed = encrypt_to(out, plaintext, aad);
  if (!sealed) return std::move(sealed).error();
  return out;
}

result<void> aes_gcm_encryptor::encrypt_to(std::span<std::byte> out, byte_view plaintext,
                                           byte_view aad) {
  if (out.size() != plaintext.size() + aes_gcm_overhead) {
    return fail(errc::invalid_argument, "encrypt_to needs an output of plaintext size + 28 = " +
                                            std::to_string(plaintext.size() + aes_gcm_overhead) +
                                            " bytes, got " + std::to_string(out.size()));
  }
  const std::uint64_t generation = detail::fork_generation();
  detail::nonce_run* run = state_->run.load(std::memory_order_acquire);
  for (;;) {
    if (run->generation != generation) [[unlikely]] {
      run = detail::replace_run(*state_, run, generation);
      continue;
    }
    const std::uint64_t counter = run->next_counter.fetch_add(1, std::memory_order_relaxed);
    if (counter < aes_gcm_max_messages) [[likely]] {
      return detail::seal(*run,
                          detail::make_nonce(run->instance_id, static_cast<std::uint32_t>(counter)),
                          out, plaintext, aad);
    }
    // Out of nonces: continue under a fresh random instance id instead of refusing.
    run = detail::replace_run(*state_, run, generation);
  }
}

result<byte_buffer> aes_gcm_encryptor::decrypt(byte_view ciphertext, byte_view aad) const {
  if (ciphertext.size() < aes_gcm_overhead) return detail::too_short(ciphertext.size());
  byte_buffer out(ciphertext.size() - aes_gcm_overhead);
  auto opened = detail::open(detail::current_run(*state_), out, ciphertext, aad);
  if (!opened) return std::move(opened).error();
  return out;
}

result<void> aes_gcm_encryptor::decrypt_to(std::span<std::byte> out, byte_view ciphertext,
                                           byte_view aad) const {
  if (ciphertext.size() < aes_gcm_overhead) return detail::too_short(ciphertext.size());
  if (out.size() != ciphertext.size() - aes_gcm_overhead) {
    return fail(errc::invalid_argument, "decrypt_to needs an output of ciphertext size - 28 = " +
                                            std::to_string(ciphertext.size() - aes_gcm_overhead) +
                                            " bytes, got " + std::to_string(out.size()));
  }
  return detail::open(detail::current_run(*state_), out, ciphertext, aad);
}

std::uint64_t aes_gcm_encryptor::instance_id() const noexcept {
  return detail::current_run(*state_).instance_id;
}

std::uint64_t aes_gcm_encryptor::nonces_used() const noexcept {
  return std::min(detail::current_run(*state_).next_counter.load(std::memory_order_relaxed),
                  aes_gcm_max_messages);
}

}  // namespace v0
}  // namespace cachekit
