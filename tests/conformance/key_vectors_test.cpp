// The shared protocol vectors for keys: cache-keys.json (default keys, 10 vectors) and the key
// and error vectors of interop-mode.json (33 + 9).
#include <cachekit/default_key.hpp>
#include <cachekit/interop_key.hpp>

#include <gtest/gtest.h>

#include "conformance/tagged_json_test_support.hpp"

#include <filesystem>
#include <fstream>
#include <string>

namespace cachekit {
namespace {

std::filesystem::path vectors_dir() {
  return CACHEKIT_SHARED_VECTORS_DIR;
}

// The vector file, or nullopt (the test skips) when the shared vectors are not checked out.
std::optional<test::tagged_json> load(const char* name) {
  std::ifstream in(vectors_dir() / name);
  if (!in) return std::nullopt;
  return test::tagged_json::parse(in);
}

value_array args_of(const test::tagged_json& args) {
  auto v = test::value_from_tagged(args);
  EXPECT_TRUE(v.has_value()) << (v ? "" : v.error().message());
  return v ? *v->get_if<value_array>() : value_array{};
}

TEST(key_vectors, all_ten_default_key_vectors_reproduce) {
  const auto doc = load("cache-keys.json");
  if (!doc) GTEST_SKIP() << "no shared vectors at " << vectors_dir();
  const auto& vectors = (*doc)["vectors"];
  ASSERT_EQ(vectors.size(), 10u);
  for (const auto& v : vectors) {
    SCOPED_TRACE(v["name"].get<std::string>());
    default_key_options options{.integrity_checking = v["integrity_checking"].get<bool>(),
                                .serializer = v["serializer_type"].get<std::string>()};
    if (!v["namespace"].is_null()) options.ns = v["namespace"].get<std::string>();
    key_kwargs kwargs;
    for (const auto& [name, arg] : v["kwargs"].items()) {
      auto parsed = test::value_from_tagged(arg);
      ASSERT_TRUE(parsed.has_value());
      kwargs.emplace_back(name, std::move(*parsed));
    }
    const std::string function_name =
        v["function_module"].get<std::string>() + "." + v["function_qualname"].get<std::string>();

    const auto key = default_key(function_name, args_of(v["args"]), kwargs, options);
    ASSERT_TRUE(key.has_value()) << key.error().message();
    EXPECT_EQ(*key, v["expected_key"].get<std::string>());

    const default_key_builder builder(function_name, options);
    EXPECT_EQ(builder.key(args_of(v["args"]), kwargs).value(),
              v["expected_key"].get<std::string>());
  }
}

TEST(key_vectors, all_33_interop_key_vectors_reproduce) {
  const auto doc = load("interop-mode.json");
  if (!doc) GTEST_SKIP() << "no shared vectors at " << vectors_dir();
  const auto& vectors = (*doc)["key_vectors"];
  ASSERT_EQ(vectors.size(), 33u);
  for (const auto& v : vectors) {
    SCOPED_TRACE(v["name"].get<std::string>());
    const value_array args = args_of(v["args"]);

    const auto canonical = interop_canonical_args(args);
    ASSERT_TRUE(canonical.has_value()) << canonical.error().message();
    EXPECT_EQ(to_hex(*canonical), v["canonical_args_hex"].get<std::string>());

    const auto key =
        interop_key(v["namespace"].get<std::string>(), v["operation"].get<std::string>(), args);
    ASSERT_TRUE(key.has_value()) << key.error().message();
    EXPECT_EQ(*key, v["expected_key"].get<std::string>());
    EXPECT_TRUE(key->ends_with(":" + v["args_hash"].get<std::string>()));
  }
}

TEST(key_vectors, all_9_interop_error_vectors_are_rejected) {
  const auto doc = load("interop-mode.json");
  if (!doc) GTEST_SKIP() << "no shared vectors at " << vectors_dir();
  const auto& vectors = (*doc)["error_vectors"];
  ASSERT_EQ(vectors.size(), 9u);
  for (const auto& v : vectors) {
    const auto name = v["name"].get<std::string>();
    SCOPED_TRACE(name);
    const std::string ns = v.contains("namespace") ? v["namespace"].get<std::string>() : "t";
    const std::string op = v.contains("operation") ? v["operation"].get<std::string>() : "op";
    auto args = test::value_from_tagged(v["args"]);
    if (!args) {
      // Integers beyond [-2^63, 2^64-1] cannot even become a `value`: rejected before hashing.
      EXPECT_TRUE(name == "reject_int_overflow" || name == "reject_int_underflow") << name;
      EXPECT_EQ(args.code(), errc::invalid_argument);
      continue;
    }
    const auto key = interop_key(ns, op, *args->get_if<value_array>());
    ASSERT_FALSE(key.has_value()) << "accepted: " << *key;
    if (v.contains("namespace")) {
      EXPECT_EQ(key.code(), errc::invalid_key) << key.error().message();
    } else {
      EXPECT_EQ(key.code(), errc::invalid_argument) << key.error().message();
    }
  }
}

}  // namespace
}  // namespace cachekit
