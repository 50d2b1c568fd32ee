// The file backend's on-disk format, file-backend.json (fixture version 1.1.0, cachekit-py's
// FileBackend format v1): for each of the 5 vectors, the file name of the key, the header bytes,
// the parsed fields, and what a real file_backend does when it finds that file at the vector's
// reader time (return the payload, a miss that keeps the file, or a miss that deletes it).
#include <cachekit/file_backend.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "backends/file/entry_names.hpp"
#include "backends/file/file_entry.hpp"
#include "conformance/vector_file.hpp"
#include "integration/file_backend_support.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

namespace cachekit {
namespace {

std::filesystem::path vectors_file() {
  return test::vector_path("file-backend.json");
}

std::optional<nlohmann::json> load() {
  return test::load_vector_file<nlohmann::json>("file-backend.json");
}

TEST(file_backend_vectors, names_headers_and_fields_match) {
  const auto doc = load();
  if (!doc) GTEST_SKIP() << "no shared vectors at " << vectors_file();
  EXPECT_EQ((*doc)["version"], "1.1.0");
  const auto& vectors = (*doc)["vectors"];
  ASSERT_EQ(vectors.size(), 5u);
  for (const auto& v : vectors) {
    SCOPED_TRACE(v["name"].get<std::string>());
    EXPECT_EQ(detail::file_entry_name(v["key_utf8"].get<std::string>()),
              v["filename"].get<std::string>());
    const auto file = file_test::hex_bytes(v["file_hex"].get<std::string>());
    EXPECT_EQ(to_hex(byte_view(file).first(detail::file_header_size)),
              v["header_hex"].get<std::string>());
    const auto entry = detail::parse_file_entry(file);
    ASSERT_TRUE(entry) << entry.error().message();
    const auto expiry = v["expiry_unix_seconds"].get<std::uint64_t>();
    EXPECT_EQ(entry->header.expiry, expiry);
    EXPECT_EQ(entry->header.flags, v["flags"].get<std::uint16_t>());
    EXPECT_EQ(entry->header.reserved, v.value("reserved", std::uint8_t{0}));
    EXPECT_EQ(to_hex(entry->payload), v["payload_hex"].get<std::string>());
    if (!entry->header.has_unknown_transform()) {
      // What this library writes for the same expiry.
      EXPECT_EQ(to_hex(detail::encode_file_header(expiry)), v["header_hex"].get<std::string>());
    }
  }
}

TEST(file_backend_vectors, a_file_backend_reading_each_file_takes_the_reader_action) {
  const auto doc = load();
  if (!doc) GTEST_SKIP() << "no shared vectors at " << vectors_file();
  const auto& vectors = (*doc)["vectors"];
  ASSERT_EQ(vectors.size(), 5u);
  for (const auto& v : vectors) {
    SCOPED_TRACE(v["name"].get<std::string>());
    const file_test::temp_dir dir;
    const auto now = std::chrono::system_clock::time_point{
        std::chrono::seconds{v.value("reader_now_unix_seconds", std::int64_t{0})}};
    file_backend files({.cache_dir = dir.path(), .clock = [now] { return now; }});
    const auto path = dir.path() / v["filename"].get<std::string>();
    file_test::write_bytes(path, file_test::hex_bytes(v["file_hex"].get<std::string>()));

    const auto got = files.get(v["key_utf8"].get<std::string>());
    ASSERT_TRUE(got) << got.error().message();
    const std::string action = v["reader_action"].get<std::string>();
    if (action == "return_payload") {
      ASSERT_TRUE(got->has_value()) << "a miss";
      EXPECT_EQ(to_hex(**got), v["payload_hex"].get<std::string>());
      EXPECT_TRUE(std::filesystem::exists(path));
    } else if (action == "miss_preserve") {
      EXPECT_FALSE(got->has_value());
      EXPECT_EQ(file_test::read_hex(path), v["file_hex"].get<std::string>()) << "file changed";
    } else if (action == "miss_expired") {
      EXPECT_FALSE(got->has_value());
      EXPECT_FALSE(std::filesystem::exists(path)) << "expired entry kept";
    } else {
      ADD_FAILURE() << "a reader action this test does not know: " << action;
    }
  }
}

}  // namespace
}  // namespace cachekit
