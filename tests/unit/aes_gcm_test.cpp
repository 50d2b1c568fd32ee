#include "protocol/crypto/aes_gcm.hpp"

#include <gtest/gtest.h>

#include <cachekit/encryption.hpp>

#include "unit/encryption_vectors.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

namespace cachekit {
namespace {

using detail::aes_gcm_test_access;
using test::bytes_from_hex;

aes_gcm_encryptor vector_encryptor() {
  const byte_buffer master = bytes_from_hex(test::vector_master_key_hex);
  auto keys = derive_tenant_keys(master, test::vector_tenant);
  EXPECT_TRUE(keys);
  return aes_gcm_encryptor::create(keys->encryption.view()).value();
}

aes_gcm_encryptor fixed_key_encryptor(std::byte fill = std::byte{0x42}) {
  return aes_gcm_encryptor::create(byte_buffer(32, fill)).value();
}

std::array<std::byte, 12> nonce_of(byte_view ciphertext) {
  std::array<std::byte, 12> nonce{};
  std::copy_n(ciphertext.begin(), 12, nonce.begin());
  return nonce;
}

std::uint64_t be64(byte_view bytes) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 8; ++i) v = (v << 8) | static_cast<std::uint8_t>(bytes[i]);
  return v;
}
std::uint32_t be32(byte_view bytes) {
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<std::uint8_t>(bytes[i]);
  return v;
}

TEST(aes_gcm, explicit_nonce_reproduces_the_cross_sdk_ciphertext) {
  auto encryptor = vector_encryptor();
  const byte_buffer nonce = bytes_from_hex(test::vector_nonce_hex);
  auto sealed = aes_gcm_test_access::encrypt_with_nonce_for_testing(
      encryptor, std::span<const std::byte, 12>(nonce.data(), 12),
      bytes_from_hex(test::vector_plaintext_hex), bytes_from_hex(test::vector_aad_hex));
  ASSERT_TRUE(sealed) << sealed.error().message();
  EXPECT_EQ(to_hex(*sealed), test::vector_ciphertext_hex);
  EXPECT_EQ(encryptor.nonces_used(), 0u);  // the explicit nonce does not consume the counter
}

TEST(aes_gcm, decrypts_the_cross_sdk_ciphertext) {
  auto opened = vector_encryptor().decrypt(bytes_from_hex(test::vector_ciphertext_hex),
                                           bytes_from_hex(test::vector_aad_hex));
  ASSERT_TRUE(opened) << opened.error().message();
  EXPECT_EQ(to_hex(*opened), test::vector_plaintext_hex);
}

TEST(aes_gcm, matches_every_encryption_vector_in_the_shared_file) {
  auto vectors = test::load_interop_vectors();
  if (!vectors) GTEST_SKIP() << "interop-mode.json not found under " CACHEKIT_SHARED_VECTORS_DIR;
  for (const auto& v : vectors->at("encryption_vectors")) {
    const byte_buffer master = bytes_from_hex(v.at("master_key_hex").get<std::string>());
    auto keys = derive_tenant_keys(master, v.at("tenant_id").get<std::string>());
    ASSERT_TRUE(keys);
    auto encryptor = aes_gcm_encryptor::create(keys->encryption.view()).value();
    const byte_buffer nonce = bytes_from_hex(v.at("nonce_hex").get<std::string>());
    ASSERT_EQ(nonce.size(), 12u);
    const byte_buffer plaintext = bytes_from_hex(v.at("plaintext_hex").get<std::string>());
    const byte_buffer aad = bytes_from_hex(v.at("aad_hex").get<std::string>());
    const std::string expected = v.at("ciphertext_hex").get<std::string>();
    auto sealed = aes_gcm_test_access::encrypt_with_nonce_for_testing(
        encryptor, std::span<const std::byte, 12>(nonce.data(), 12), plaintext, aad);
    ASSERT_TRUE(sealed);
    EXPECT_EQ(to_hex(*sealed), expected) << v.at("name");
    auto opened = encryptor.decrypt(bytes_from_hex(expected), aad);
    ASSERT_TRUE(opened);
    EXPECT_EQ(*opened, plaintext);
  }
}

TEST(aes_gcm, create_rejects_keys_that_are_not_32_bytes) {
  EXPECT_EQ(aes_gcm_encryptor::create(byte_buffer(31)).code(), errc::invalid_argument);
  EXPECT_EQ(aes_gcm_encryptor::create(byte_buffer(33)).code(), errc::invalid_argument);
  EXPECT_EQ(aes_gcm_encryptor::create({}).code(), errc::invalid_argument);
}

TEST(aes_gcm, output_is_nonce_then_ciphertext_then_tag_and_round_trips) {
  auto encryptor = fixed_key_encryptor();
  const byte_buffer plaintext = to_byte_buffer("hello, cache");
  const byte_buffer aad = to_byte_buffer("aad");
  auto sealed = encryptor.encrypt(plaintext, aad);
  ASSERT_TRUE(sealed);
  EXPECT_EQ(sealed->size(), plaintext.size() + aes_gcm_overhead);
  auto opened = encryptor.decrypt(*sealed, aad);
  ASSERT_TRUE(opened);
  EXPECT_EQ(*opened, plaintext);
}

TEST(aes_gcm, nonce_is_instance_id_big_endian_then_counter_from_zero) {
  auto encryptor = fixed_key_encryptor();
  for (std::uint32_t expected = 0; expected < 3; ++expected) {
    auto sealed = encryptor.encrypt(to_byte_buffer("x"), {});
    ASSERT_TRUE(sealed);
    const auto nonce = nonce_of(*sealed);
    EXPECT_EQ(be64(nonce), encryptor.instance_id());
    EXPECT_EQ(be32(byte_view(nonce).subspan(8)), expected);
  }
  EXPECT_EQ(encryptor.nonces_used(), 3u);
}

TEST(aes_gcm, each_encryptor_takes_its_own_random_instance_id) {
  auto first = fixed_key_encryptor();
  auto second = fixed_key_encryptor();
  // 8 random bytes each: equal with probability 2^-64.
  EXPECT_NE(second.instance_id(), first.instance_id());
  // Same key, same counter: the nonces still differ.
  EXPECT_NE(nonce_of(first.encrypt({}, {}).value()), nonce_of(second.encrypt({}, {}).value()));
}

TEST(aes_gcm, moving_keeps_the_instance_id_and_counter) {
  auto encryptor = fixed_key_encryptor();
  const std::uint64_t id = encryptor.instance_id();
  ASSERT_TRUE(encryptor.encrypt({}, {}));
  aes_gcm_encryptor moved = std::move(encryptor);
  EXPECT_EQ(moved.instance_id(), id);
  auto sealed = moved.encrypt({}, {});
  ASSERT_TRUE(sealed);
  EXPECT_EQ(be32(byte_view(*sealed).subspan(8, 4)), 1u);
}

TEST(aes_gcm, after_2_pow_32_minus_1_nonces_it_continues_under_a_fresh_instance_id) {
  auto encryptor = fixed_key_encryptor();
  const std::uint64_t first_id = encryptor.instance_id();
  aes_gcm_test_access::set_next_counter(encryptor, aes_gcm_max_messages - 1);
  auto last = encryptor.encrypt(to_byte_buffer("last"), {});
  ASSERT_TRUE(last);
  EXPECT_EQ(be64(nonce_of(*last)), first_id);
  EXPECT_EQ(be32(byte_view(*last).subspan(8, 4)), 0xFFFFFFFEu);  // the counter never wraps

  auto next = encryptor.encrypt(to_byte_buffer("more"), {});
  ASSERT_TRUE(next);
  EXPECT_NE(encryptor.instance_id(), first_id);
  EXPECT_EQ(be64(nonce_of(*next)), encryptor.instance_id());
  EXPECT_EQ(be32(byte_view(*next).subspan(8, 4)), 0u);
  EXPECT_EQ(encryptor.nonces_used(), 1u);
  // Values sealed under either run open with the same key.
  EXPECT_TRUE(encryptor.decrypt(*last, {}));
  EXPECT_TRUE(encryptor.decrypt(*next, {}));
}

TEST(aes_gcm, threads_that_exhaust_a_run_together_move_to_one_fresh_run) {
  auto encryptor = fixed_key_encryptor();
  const std::uint64_t first_id = encryptor.instance_id();
  aes_gcm_test_access::set_next_counter(encryptor, aes_gcm_max_messages);
  constexpr int threads = 4;
  constexpr int per_thread = 50;
  std::vector<std::vector<std::array<std::byte, 12>>> seen(threads);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i)
        seen[t].push_back(nonce_of(encryptor.encrypt({}, {}).value()));
    });
  }
  for (auto& w : workers) w.join();
  std::vector<std::array<std::byte, 12>> all;
  for (auto& v : seen) all.insert(all.end(), v.begin(), v.end());
  std::sort(all.begin(), all.end());
  EXPECT_EQ(std::adjacent_find(all.begin(), all.end()), all.end());
  for (const auto& nonce : all) EXPECT_NE(be64(nonce), first_id);
  EXPECT_EQ(encryptor.nonces_used(), std::uint64_t{threads * per_thread});
}

TEST(aes_gcm, changing_any_byte_fails_authentication) {
  auto encryptor = fixed_key_encryptor();
  byte_buffer plaintext(64);
  for (std::size_t i = 0; i < plaintext.size(); ++i) plaintext[i] = std::byte(i);
  const byte_buffer aad = to_byte_buffer("tenant|key");
  const byte_buffer sealed = encryptor.encrypt(plaintext, aad).value();
  for (std::size_t i = 0; i < sealed.size(); ++i) {
    for (std::uint8_t flip : {0x01, 0x80}) {
      byte_buffer tampered = sealed;
      tampered[i] ^= std::byte{flip};
      auto opened = encryptor.decrypt(tampered, aad);
      ASSERT_FALSE(opened) << "byte " << i;
      EXPECT_EQ(opened.code(), errc::authentication_failed) << "byte " << i;
    }
  }
}

TEST(aes_gcm, different_aad_or_key_fails_authentication) {
  auto encryptor = fixed_key_encryptor(std::byte{1});
  const byte_buffer sealed = encryptor.encrypt(to_byte_buffer("v"), to_byte_buffer("a")).value();
  EXPECT_EQ(encryptor.decrypt(sealed, to_byte_buffer("b")).code(), errc::authentication_failed);
  EXPECT_EQ(encryptor.decrypt(sealed, {}).code(), errc::authentication_failed);
  EXPECT_EQ(fixed_key_encryptor(std::byte{2}).decrypt(sealed, to_byte_buffer("a")).code(),
            errc::authentication_failed);
}

TEST(aes_gcm, wrong_tenant_key_fails_authentication) {
  const byte_buffer master = bytes_from_hex(test::vector_master_key_hex);
  auto a = aes_gcm_encryptor::create(derive_tenant_keys(master, "a").value().encryption.view());
  auto b = aes_gcm_encryptor::create(derive_tenant_keys(master, "b").value().encryption.view());
  ASSERT_TRUE(a && b);
  const byte_buffer sealed = a->encrypt(to_byte_buffer("v"), {}).value();
  EXPECT_EQ(b->decrypt(sealed, {}).code(), errc::authentication_failed);
}

TEST(aes_gcm, inputs_shorter_than_28_bytes_are_invalid_ciphertext) {
  auto encryptor = fixed_key_encryptor();
  for (std::size_t n = 0; n < aes_gcm_overhead; ++n) {
    auto opened = encryptor.decrypt(byte_buffer(n), {});
    ASSERT_FALSE(opened);
    EXPECT_EQ(opened.code(), errc::invalid_ciphertext) << n;
  }
  // Exactly 28 bytes is a well-formed (empty) message: it fails on the tag, not the length.
  EXPECT_EQ(encryptor.decrypt(byte_buffer(28), {}).code(), errc::authentication_failed);
}

TEST(aes_gcm, empty_plaintext_round_trips_as_28_bytes) {
  auto encryptor = fixed_key_encryptor();
  auto sealed = encryptor.encrypt({}, to_byte_buffer("aad"));
  ASSERT_TRUE(sealed);
  EXPECT_EQ(sealed->size(), 28u);
  auto opened = encryptor.decrypt(*sealed, to_byte_buffer("aad"));
  ASSERT_TRUE(opened);
  EXPECT_TRUE(opened->empty());
}

TEST(aes_gcm, encrypt_to_and_decrypt_to_use_caller_buffers) {
  auto encryptor = fixed_key_encryptor();
  const byte_buffer plaintext = to_byte_buffer("into a frame");
  byte_buffer frame(4 + plaintext.size() + 28);  // a 4-byte header, then the ciphertext
  ASSERT_TRUE(encryptor.encrypt_to(std::span(frame).subspan(4), plaintext, {}));
  byte_buffer opened(plaintext.size());
  ASSERT_TRUE(encryptor.decrypt_to(opened, byte_view(frame).subspan(4), {}));
  EXPECT_EQ(opened, plaintext);

  EXPECT_EQ(encryptor.encrypt_to(std::span(frame), plaintext, {}).code(), errc::invalid_argument);
  byte_buffer wrong(plaintext.size() + 1);
  EXPECT_EQ(encryptor.decrypt_to(wrong, byte_view(frame).subspan(4), {}).code(),
            errc::invalid_argument);
  EXPECT_EQ(encryptor.decrypt_to(opened, byte_view(frame).first(27), {}).code(),
            errc::invalid_ciphertext);
}

TEST(aes_gcm, failed_decrypt_to_leaves_no_plaintext_behind) {
  auto encryptor = fixed_key_encryptor();
  const byte_buffer plaintext(100, std::byte{0x5A});
  byte_buffer sealed = encryptor.encrypt(plaintext, {}).value();
  sealed.back() ^= std::byte{1};  // the tag
  byte_buffer out(plaintext.size(), std::byte{0xEE});
  EXPECT_EQ(encryptor.decrypt_to(out, sealed, {}).code(), errc::authentication_failed);
  EXPECT_EQ(out, byte_buffer(plaintext.size()));
}

TEST(aes_gcm, large_payload_round_trips) {
  auto encryptor = fixed_key_encryptor();
  byte_buffer plaintext(3 * 1024 * 1024 + 7);
  for (std::size_t i = 0; i < plaintext.size(); ++i) plaintext[i] = std::byte(i * 31);
  auto sealed = encryptor.encrypt(plaintext, to_byte_buffer("big"));
  ASSERT_TRUE(sealed);
  auto opened = encryptor.decrypt(*sealed, to_byte_buffer("big"));
  ASSERT_TRUE(opened);
  EXPECT_EQ(*opened, plaintext);
}

TEST(aes_gcm, four_threads_times_10k_encrypts_give_unique_nonces) {
  constexpr int threads = 4;
  constexpr int per_thread = 10'000;
  auto encryptor = fixed_key_encryptor();
  std::vector<std::vector<std::array<std::byte, 12>>> nonces(threads);
  std::vector<int> failures(threads, 0);
  {
    std::vector<std::jthread> workers;
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] {
        const byte_buffer plaintext(32, std::byte(t));
        nonces[t].reserve(per_thread);
        for (int i = 0; i < per_thread; ++i) {
          auto sealed = encryptor.encrypt(plaintext, {});
          if (!sealed || !encryptor.decrypt(*sealed, {})) {
            ++failures[t];
            continue;
          }
          nonces[t].push_back(nonce_of(*sealed));
        }
      });
    }
  }
  std::vector<std::array<std::byte, 12>> all;
  for (int t = 0; t < threads; ++t) {
    EXPECT_EQ(failures[t], 0);
    all.insert(all.end(), nonces[t].begin(), nonces[t].end());
  }
  ASSERT_EQ(all.size(), std::size_t{threads * per_thread});
  std::sort(all.begin(), all.end());
  EXPECT_EQ(std::adjacent_find(all.begin(), all.end()), all.end()) << "a nonce repeated";
  // Exactly counters 0 .. 39999 under the one instance id.
  for (std::size_t i = 0; i < all.size(); ++i) {
    ASSERT_EQ(be64(all[i]), encryptor.instance_id());
    ASSERT_EQ(be32(byte_view(all[i]).subspan(8)), i);
  }
  EXPECT_EQ(encryptor.nonces_used(), std::uint64_t{threads * per_thread});
}

}  // namespace
}  // namespace cachekit
