// Test-only: reads one of the protocol's vector files from CACHEKIT_SHARED_VECTORS_DIR
// (../shared/protocol/vectors, never copied into the repository) and decodes the hex its rows
// hold. Each conformance test names its file once and skips when the shared files are absent.
#pragma once

#include <cachekit/bytes.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>

namespace cachekit::test {

// `relative` below the shared vectors directory, e.g. "next/wire-format.json".
inline std::filesystem::path vector_path(std::string_view relative) {
  return std::filesystem::path(CACHEKIT_SHARED_VECTORS_DIR) / relative;
}

// The parsed file, or nullopt when it is not there. `Json` is nlohmann::json, or
// nlohmann::ordered_json where a test needs document order (tagged values).
template <class Json = nlohmann::json>
std::optional<Json> load_vector_file(std::string_view relative) {
  std::ifstream in(vector_path(relative));
  if (!in) return std::nullopt;
  return Json::parse(in);
}

// A row's hex field as bytes; a malformed field fails the test.
inline byte_buffer hex_bytes(const std::string& text) {
  byte_buffer out;
  EXPECT_TRUE(from_hex(text, out)) << text;
  return out;
}

}  // namespace cachekit::test
