// Encryption layer against its floor: each cachekit row has a raw OpenSSL twin doing the bare
// job in the same binary (reused EVP context, key schedule once, caller-owned output buffer),
// so the ratio of a pair is the cost of the layer:
//   BM_encrypt/N     vs BM_raw_openssl_encrypt/N    (ours returns a new byte_buffer)
//   BM_encrypt_to/N  vs BM_raw_openssl_encrypt/N    (ours writes into a reused buffer)
//   BM_decrypt/N, BM_decrypt_to/N vs BM_raw_openssl_decrypt/N
//   BM_seal_open/N   vs BM_raw_openssl_seal_open/N and BM_raw_sodium_seal_open/N: a whole
//                    round trip (ours returning new buffers) against the better of the two
//                    primitives Debian offers, each pre-keyed (OpenSSL EVP with one reused
//                    context; libsodium's crypto_aead_aes256gcm with its precomputed state)
//   BM_derive_domain_key vs BM_raw_openssl_evp_kdf_hkdf; BM_keyring_for_tenant_cached is
//   what every operation pays instead of a derivation.
// All AES rows bind the same 119-byte interop AAD.
#include <benchmark/benchmark.h>

#include <cachekit/encryption.hpp>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <sodium.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>

namespace {

using namespace cachekit;

const byte_buffer& bench_key() {
  static const byte_buffer key(32, std::byte{0x42});
  return key;
}

const byte_buffer& bench_aad() {
  static const byte_buffer aad = encode_aad(
      {.tenant_id = "cross-sdk-test",
       .cache_key =
           "users:get_user:61598716255080080f6456eb065c2e51badfaa4320b0efe97469c29cffee8875"});
  return aad;
}

byte_buffer payload(std::size_t size) {
  byte_buffer out(size);
  for (std::size_t i = 0; i < size; ++i) out[i] = std::byte(i * 131 + 7);
  return out;
}

void sizes(benchmark::internal::Benchmark* b) {
  for (std::int64_t n : {64, 1024, 16 * 1024, 64 * 1024, 1024 * 1024}) b->Arg(n);
}

const unsigned char* uc(const std::byte* p) {
  return reinterpret_cast<const unsigned char*>(p);
}
unsigned char* uc(std::byte* p) {
  return reinterpret_cast<unsigned char*>(p);
}

void require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "benchmark setup failed: %s\n", what);
    std::abort();
  }
}

// ---- raw OpenSSL: the floor -------------------------------------------------------------

class raw_gcm {
 public:
  raw_gcm() : ctx_(EVP_CIPHER_CTX_new()) {
    cipher_ = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
    require(cipher_ && ctx_, "EVP_CIPHER_CTX");
    require(EVP_CipherInit_ex2(ctx_, cipher_, uc(bench_key().data()), nullptr, 1, nullptr) == 1,
            "key");
  }
  ~raw_gcm() {
    EVP_CIPHER_CTX_free(ctx_);
    EVP_CIPHER_free(cipher_);
  }
  raw_gcm(const raw_gcm&) = delete;
  raw_gcm& operator=(const raw_gcm&) = delete;

  // out = nonce(12) || ct || tag(16), exactly like ours.
  bool encrypt(std::uint64_t counter, byte_view plaintext, byte_view aad, std::byte* out) {
    for (int i = 0; i < 12; ++i) out[i] = std::byte(i < 4 ? 0 : counter >> (8 * (11 - i)));
    int len = 0;
    std::array<unsigned char, 16> final_block{};
    return EVP_CipherInit_ex2(ctx_, nullptr, nullptr, uc(out), 1, nullptr) == 1 &&
           EVP_CipherUpdate(ctx_, nullptr, &len, uc(aad.data()), static_cast<int>(aad.size())) ==
               1 &&
           EVP_CipherUpdate(ctx_, uc(out + 12), &len, uc(plaintext.data()),
                            static_cast<int>(plaintext.size())) == 1 &&
           EVP_CipherFinal_ex(ctx_, final_block.data(), &len) == 1 &&
           EVP_CIPHER_CTX_ctrl(ctx_, EVP_CTRL_AEAD_GET_TAG, 16, out + 12 + plaintext.size()) == 1;
  }

  bool decrypt(byte_view sealed, byte_view aad, std::byte* out) {
    int len = 0;
    std::array<unsigned char, 16> tag{};
    std::copy_n(uc(sealed.data()) + sealed.size() - 16, 16, tag.begin());
    std::array<unsigned char, 16> final_block{};
    return EVP_CipherInit_ex2(ctx_, nullptr, nullptr, uc(sealed.data()), 0, nullptr) == 1 &&
           EVP_CipherUpdate(ctx_, nullptr, &len, uc(aad.data()), static_cast<int>(aad.size())) ==
               1 &&
           EVP_CipherUpdate(ctx_, uc(out), &len, uc(sealed.data() + 12),
                            static_cast<int>(sealed.size() - 28)) == 1 &&
           EVP_CIPHER_CTX_ctrl(ctx_, EVP_CTRL_AEAD_SET_TAG, 16, tag.data()) == 1 &&
           EVP_CipherFinal_ex(ctx_, final_block.data(), &len) == 1;
  }

 private:
  EVP_CIPHER* cipher_ = nullptr;
  EVP_CIPHER_CTX* ctx_;
};

void BM_raw_openssl_encrypt(benchmark::State& state) {
  raw_gcm gcm;  // one per benchmark thread: the floor for threaded rows too
  const byte_buffer plaintext = payload(static_cast<std::size_t>(state.range(0)));
  byte_buffer out(plaintext.size() + 28);
  std::uint64_t counter = 0;
  for (auto _ : state) {
    require(gcm.encrypt(counter++, plaintext, bench_aad(), out.data()), "encrypt");
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_raw_openssl_encrypt)->Apply(sizes);

void BM_raw_openssl_decrypt(benchmark::State& state) {
  raw_gcm gcm;
  const byte_buffer plaintext = payload(static_cast<std::size_t>(state.range(0)));
  byte_buffer sealed(plaintext.size() + 28);
  require(gcm.encrypt(1, plaintext, bench_aad(), sealed.data()), "seal");
  byte_buffer out(plaintext.size());
  for (auto _ : state) {
    require(gcm.decrypt(sealed, bench_aad(), out.data()), "decrypt");
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_raw_openssl_decrypt)->Apply(sizes);

void BM_raw_openssl_seal_open(benchmark::State& state) {
  raw_gcm gcm;
  const byte_buffer plaintext = payload(static_cast<std::size_t>(state.range(0)));
  byte_buffer sealed(plaintext.size() + 28);
  byte_buffer opened(plaintext.size());
  std::uint64_t counter = 0;
  for (auto _ : state) {
    require(gcm.encrypt(counter++, plaintext, bench_aad(), sealed.data()), "encrypt");
    require(gcm.decrypt(sealed, bench_aad(), opened.data()), "decrypt");
    benchmark::DoNotOptimize(opened.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_raw_openssl_seal_open)->Apply(sizes);

// libsodium 1.0.18's AES-256-GCM (AES-NI + PCLMUL) with the key schedule precomputed once.
void BM_raw_sodium_seal_open(benchmark::State& state) {
  require(sodium_init() >= 0, "sodium_init");
  if (crypto_aead_aes256gcm_is_available() == 0) {
    state.SkipWithError("libsodium AES-256-GCM needs AES-NI and PCLMUL");
    return;
  }
  crypto_aead_aes256gcm_state keyed;
  crypto_aead_aes256gcm_beforenm(&keyed, uc(bench_key().data()));
  const byte_buffer plaintext = payload(static_cast<std::size_t>(state.range(0)));
  const byte_buffer& aad = bench_aad();
  byte_buffer sealed(plaintext.size() + 28);
  byte_buffer opened(plaintext.size());
  std::uint64_t counter = 0;
  for (auto _ : state) {
    ++counter;
    for (int i = 0; i < 12; ++i) sealed[i] = std::byte(i < 4 ? 0 : counter >> (8 * (11 - i)));
    unsigned long long sealed_len = 0;
    crypto_aead_aes256gcm_encrypt_afternm(uc(sealed.data() + 12), &sealed_len, uc(plaintext.data()),
                                          plaintext.size(), uc(aad.data()), aad.size(), nullptr,
                                          uc(sealed.data()), &keyed);
    unsigned long long opened_len = 0;
    require(crypto_aead_aes256gcm_decrypt_afternm(
                uc(opened.data()), &opened_len, nullptr, uc(sealed.data() + 12), sealed.size() - 12,
                uc(aad.data()), aad.size(), uc(sealed.data()), &keyed) == 0,
            "sodium decrypt");
    benchmark::DoNotOptimize(opened.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_raw_sodium_seal_open)->Apply(sizes);

// ---- cachekit ---------------------------------------------------------------------------

aes_gcm_encryptor& shared_encryptor() {
  static aes_gcm_encryptor encryptor = aes_gcm_encryptor::create(bench_key()).value();
  return encryptor;
}

void BM_encrypt(benchmark::State& state) {
  auto& encryptor = shared_encryptor();
  const byte_buffer plaintext = payload(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    auto sealed = encryptor.encrypt(plaintext, bench_aad());
    require(sealed.has_value(), "encrypt");
    benchmark::DoNotOptimize(sealed->data());
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_encrypt)->Apply(sizes);

void BM_encrypt_to(benchmark::State& state) {
  auto& encryptor = shared_encryptor();
  const byte_buffer plaintext = payload(static_cast<std::size_t>(state.range(0)));
  byte_buffer out(plaintext.size() + aes_gcm_overhead);
  for (auto _ : state) {
    require(encryptor.encrypt_to(out, plaintext, bench_aad()).has_value(), "encrypt_to");
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_encrypt_to)->Apply(sizes);

void BM_decrypt(benchmark::State& state) {
  auto& encryptor = shared_encryptor();
  const byte_buffer plaintext = payload(static_cast<std::size_t>(state.range(0)));
  const byte_buffer sealed = encryptor.encrypt(plaintext, bench_aad()).value();
  for (auto _ : state) {
    auto opened = encryptor.decrypt(sealed, bench_aad());
    require(opened.has_value(), "decrypt");
    benchmark::DoNotOptimize(opened->data());
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_decrypt)->Apply(sizes);

void BM_decrypt_to(benchmark::State& state) {
  auto& encryptor = shared_encryptor();
  const byte_buffer plaintext = payload(static_cast<std::size_t>(state.range(0)));
  const byte_buffer sealed = encryptor.encrypt(plaintext, bench_aad()).value();
  byte_buffer out(plaintext.size());
  for (auto _ : state) {
    require(encryptor.decrypt_to(out, sealed, bench_aad()).has_value(), "decrypt_to");
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_decrypt_to)->Apply(sizes);

// A round trip as the cache does it: seal into a new buffer, open into a new buffer.
void BM_seal_open(benchmark::State& state) {
  auto& encryptor = shared_encryptor();
  const byte_buffer plaintext = payload(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    auto sealed = encryptor.encrypt(plaintext, bench_aad());
    require(sealed.has_value(), "encrypt");
    auto opened = encryptor.decrypt(*sealed, bench_aad());
    require(opened.has_value(), "decrypt");
    benchmark::DoNotOptimize(opened->data());
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_seal_open)->Apply(sizes);

// The same into caller-owned buffers (encrypt_to / decrypt_to): the layer without allocations.
void BM_seal_open_to(benchmark::State& state) {
  auto& encryptor = shared_encryptor();
  const byte_buffer plaintext = payload(static_cast<std::size_t>(state.range(0)));
  byte_buffer sealed(plaintext.size() + aes_gcm_overhead);
  byte_buffer opened(plaintext.size());
  for (auto _ : state) {
    require(encryptor.encrypt_to(sealed, plaintext, bench_aad()).has_value(), "encrypt_to");
    require(encryptor.decrypt_to(opened, sealed, bench_aad()).has_value(), "decrypt_to");
    benchmark::DoNotOptimize(opened.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_seal_open_to)->Apply(sizes);

// ---- threads: one shared encryptor vs one raw context per thread vs one locked context ----

void BM_encrypt_threads(benchmark::State& state) {
  BM_encrypt_to(state);
}
BENCHMARK(BM_encrypt_threads)->Arg(1024)->Threads(1)->Threads(2)->UseRealTime();

void BM_raw_openssl_encrypt_threads(benchmark::State& state) {
  BM_raw_openssl_encrypt(state);
}
BENCHMARK(BM_raw_openssl_encrypt_threads)->Arg(1024)->Threads(1)->Threads(2)->UseRealTime();

// The design not taken: every thread encrypts through one context under a mutex.
void BM_mutex_one_context_encrypt_threads(benchmark::State& state) {
  static raw_gcm gcm;
  static std::mutex mutex;
  static std::uint64_t counter = 0;
  const byte_buffer plaintext = payload(static_cast<std::size_t>(state.range(0)));
  byte_buffer out(plaintext.size() + 28);
  for (auto _ : state) {
    std::lock_guard lock(mutex);
    require(gcm.encrypt(counter++, plaintext, bench_aad(), out.data()), "encrypt");
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_mutex_one_context_encrypt_threads)->Arg(1024)->Threads(1)->Threads(2)->UseRealTime();

// ---- key derivation ---------------------------------------------------------------------

const byte_buffer& bench_master() {
  static const byte_buffer master(32, std::byte{0x61});
  return master;
}

void BM_derive_domain_key(benchmark::State& state) {
  for (auto _ : state) {
    auto key = derive_domain_key(bench_master(), "encryption", as_byte_view("cross-sdk-test"));
    require(key.has_value(), "derive");
    benchmark::DoNotOptimize(key->view().data());
  }
}
BENCHMARK(BM_derive_domain_key);

void BM_derive_tenant_keys(benchmark::State& state) {
  for (auto _ : state) {
    auto keys = derive_tenant_keys(bench_master(), "cross-sdk-test");
    require(keys.has_value(), "derive");
    benchmark::DoNotOptimize(keys->encryption.view().data());
  }
}
BENCHMARK(BM_derive_tenant_keys);

// One derivation through OpenSSL's EVP_KDF "HKDF" (context reused), same inputs as
// BM_derive_domain_key: what hand-written HKDF over HMAC saves.
void BM_raw_openssl_evp_kdf_hkdf(benchmark::State& state) {
  EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
  EVP_KDF_CTX* ctx = EVP_KDF_CTX_new(kdf);
  require(ctx != nullptr, "EVP_KDF");
  std::string salt = "cachekit_v1_";
  salt += static_cast<char>(10);
  salt += "encryption";
  salt += '\0';
  salt += static_cast<char>(14);
  salt += "cross-sdk-test";
  std::array<unsigned char, 32> out{};
  for (auto _ : state) {
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char*>("SHA256"), 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
                                          const_cast<std::byte*>(bench_master().data()), 32),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, salt.data(), salt.size()),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, const_cast<char*>("encryption"), 10),
        OSSL_PARAM_construct_end()};
    require(EVP_KDF_derive(ctx, out.data(), out.size(), params) == 1, "derive");
    benchmark::DoNotOptimize(out.data());
  }
  EVP_KDF_CTX_free(ctx);
  EVP_KDF_free(kdf);
}
BENCHMARK(BM_raw_openssl_evp_kdf_hkdf);

void BM_keyring_for_tenant_cached(benchmark::State& state) {
  static const keyring ring = keyring::from_hex(std::string(64, 'a')).value();
  require(ring.for_tenant("cross-sdk-test").has_value(), "derive");
  for (auto _ : state) {
    auto tenant = ring.for_tenant("cross-sdk-test");
    benchmark::DoNotOptimize(tenant.has_value());
  }
}
BENCHMARK(BM_keyring_for_tenant_cached);

}  // namespace
