// cache_key_path_segment against the protocol's path-encoding.json (fixture version 1.2.0): 31
// keys, each either encoded to its reference segment (or an allowed alternate) that decodes
// once back to the key, or one of the 6 reserved keys refused before a URL is built.
#include <cachekit/path_segment.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "conformance/vector_file.hpp"

namespace cachekit {
namespace {

std::filesystem::path vectors_file() {
  return test::vector_path("path-encoding.json");
}

std::optional<nlohmann::json> load() {
  return test::load_vector_file<nlohmann::json>("path-encoding.json");
}

// The server's single percent-decode (decodeURIComponent without its UTF-8 check), for the
// round trip; nullopt for a malformed escape.
std::optional<std::string> percent_decode_once(std::string_view segment) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  std::string out;
  for (std::size_t i = 0; i < segment.size(); ++i) {
    if (segment[i] != '%') {
      out.push_back(segment[i]);
      continue;
    }
    if (i + 2 >= segment.size()) return std::nullopt;
    const int hi = nibble(segment[i + 1]);
    const int lo = nibble(segment[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

TEST(path_segment_vectors, every_row_encodes_as_the_reference_or_is_refused) {
  const auto doc = load();
  if (!doc) GTEST_SKIP() << "no shared vectors at " << vectors_file();
  EXPECT_EQ((*doc)["version"], "1.2.0");
  const auto& vectors = (*doc)["vectors"];
  ASSERT_EQ(vectors.size(), 31u);
  int encoded_rows = 0;
  int refused_rows = 0;
  for (const auto& v : vectors) {
    const std::string key = v["key"].get<std::string>();
    SCOPED_TRACE("key \"" + key + "\"");
    const auto segment = cache_key_path_segment(key);
    if (v.value("reject", false)) {
      ASSERT_FALSE(segment) << "encoded as " << *segment;
      EXPECT_EQ(segment.code(), errc::invalid_key);
      EXPECT_TRUE(v["encoded"].is_null());
      ++refused_rows;
      continue;
    }
    ASSERT_TRUE(segment) << segment.error().message();
    std::vector<std::string> allowed{v["encoded"].get<std::string>()};
    for (const auto& alt : v.value("encoded_alternates", nlohmann::json::array())) {
      allowed.push_back(alt.get<std::string>());
    }
    EXPECT_NE(std::find(allowed.begin(), allowed.end(), *segment), allowed.end()) << *segment;
    // One segment: no byte a URL parser would read as a boundary, query or fragment.
    EXPECT_EQ(segment->find_first_of("/?#\\ \t\r\n"), std::string::npos) << *segment;
    EXPECT_EQ(percent_decode_once(*segment), v["decoded"].get<std::string>());
    ++encoded_rows;
  }
  EXPECT_EQ(encoded_rows, 25);
  EXPECT_EQ(refused_rows, 6);
}

TEST(path_segment, encodes_with_uppercase_hex_and_keeps_unreserved_bytes) {
  EXPECT_EQ(cache_key_path_segment("Az09-._~").value(), "Az09-._~");
  EXPECT_EQ(cache_key_path_segment("\xff").code(), errc::invalid_key);  // not UTF-8
  EXPECT_EQ(cache_key_path_segment("a\xc3").code(), errc::invalid_key);
  EXPECT_EQ(cache_key_path_segment("...").value(), "...");  // only `.` and `..` are dot segments
  EXPECT_EQ(cache_key_path_segment("Health").value(), "Health");
}

}  // namespace
}  // namespace cachekit
