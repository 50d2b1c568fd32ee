// The encryption known answers shared by the crypto unit tests: the constants are embedded so
// the core tests never skip, and the interop vector file is read when it is present to check
// that the embedded copy still matches the vectors the real SDKs produced.
#pragma once

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cachekit/bytes.hpp>

#include <fstream>
#include <optional>
#include <string>
#include <string_view>

namespace cachekit::test {

// interop-mode.json, "encryption_vectors"[0] ("interop_encryption_roundtrip").
inline constexpr std::string_view vector_master_key_hex =
    "6161616161616161616161616161616161616161616161616161616161616161";
inline constexpr std::string_view vector_tenant = "cross-sdk-test";
inline constexpr std::string_view vector_fingerprint = "96179a9bc881aa7ca83f04b78a66afd3";
inline constexpr std::string_view vector_cache_key =
    "users:get_user:61598716255080080f6456eb065c2e51badfaa4320b0efe97469c29cffee8875";
inline constexpr std::string_view vector_aad_hex =
    "030000000e63726f73732d73646b2d746573740000004f75736572733a6765745f757365723a3631353938373136"
    "3235353038303038306636343536656230363563326535316261646661613433323062306566653937343639633239"
    "636666656538383735000000076d73677061636b0000000546616c7365";
inline constexpr std::string_view vector_plaintext_hex = "82a36167651ea46e616d65a5616c696365";
inline constexpr std::string_view vector_nonce_hex = "000102030405060708090a0b";
inline constexpr std::string_view vector_ciphertext_hex =
    "000102030405060708090a0b033caf732820ce189e1506f842aebf8cdb6a242eb08c55b6f5a91eb9007b3bd657";

inline byte_buffer bytes_from_hex(std::string_view hex) {
  byte_buffer out;
  EXPECT_TRUE(from_hex(hex, out)) << "bad hex in test data: " << hex;
  return out;
}

// next/interop-mode.json from CACHEKIT_SHARED_VECTORS_DIR, or nullopt when the file is absent.
inline std::optional<nlohmann::json> load_interop_vectors() {
  std::ifstream in(std::string(CACHEKIT_SHARED_VECTORS_DIR) + "/next/interop-mode.json");
  if (!in) return std::nullopt;
  return nlohmann::json::parse(in);
}

}  // namespace cachekit::test
