// The shared default ("auto mode") key vectors, next/cache-keys.json (fixture version 1.3.0): 21
// keys (serializer codes, their aliases and derived `x` codes included), 4 serializer
// identities a key generator must refuse, and 5 keys of serializers configured as objects,
// which cachekit-py names `<custom>:{ClassName}` (custom_serializer_identity).
#include <cachekit/default_key.hpp>

#include <gtest/gtest.h>

#include "conformance/tagged_json_test_support.hpp"
#include "conformance/vector_file.hpp"

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <type_traits>

namespace cachekit {
namespace {

std::filesystem::path vectors_file() {
  return test::vector_path("next/cache-keys.json");
}

// The vector file, or nullopt (the test skips) when the shared vectors are not checked out.
std::optional<test::tagged_json> load() {
  return test::load_vector_file<test::tagged_json>("next/cache-keys.json");
}

value_array args_of(const test::tagged_json& args) {
  auto v = test::value_from_tagged(args);
  EXPECT_TRUE(v.has_value()) << (v ? "" : v.error().message());
  return v ? *v->get_if<value_array>() : value_array{};
}

key_kwargs kwargs_of(const test::tagged_json& kwargs) {
  key_kwargs out;
  for (const auto& [name, arg] : kwargs.items()) {
    auto parsed = test::value_from_tagged(arg);
    EXPECT_TRUE(parsed.has_value()) << name;
    if (parsed) out.emplace_back(name, std::move(*parsed));
  }
  return out;
}

std::string function_name_of(const test::tagged_json& v) {
  return v["function_module"].get<std::string>() + "." + v["function_qualname"].get<std::string>();
}

default_key_options options_of(const test::tagged_json& v, std::string serializer) {
  default_key_options options{.integrity_checking = v["integrity_checking"].get<bool>(),
                              .serializer = std::move(serializer)};
  if (!v["namespace"].is_null()) options.ns = v["namespace"].get<std::string>();
  return options;
}

// Both ways to compute a key (the function and a builder) give the expected key.
void expect_key(const test::tagged_json& v, const default_key_options& options) {
  const std::string expected = v["expected_key"].get<std::string>();
  const auto key =
      default_key(function_name_of(v), args_of(v["args"]), kwargs_of(v["kwargs"]), options);
  ASSERT_TRUE(key.has_value()) << key.error().message();
  EXPECT_EQ(*key, expected);
  const default_key_builder builder(function_name_of(v), options);
  const auto built = builder.key(args_of(v["args"]), kwargs_of(v["kwargs"]));
  ASSERT_TRUE(built.has_value()) << built.error().message();
  EXPECT_EQ(*built, expected);
  // The key's last segment is the flag and the serializer's code.
  const auto code = serializer_code(options.serializer);
  ASSERT_TRUE(code.has_value()) << code.error().message();
  EXPECT_TRUE(expected.ends_with(":" + std::string(options.integrity_checking ? "1" : "0") + *code))
      << *code;
}

TEST(key_vectors, all_21_default_key_vectors_reproduce) {
  const auto doc = load();
  if (!doc) GTEST_SKIP() << "no shared vectors at " << vectors_file();
  EXPECT_EQ((*doc)["version"], "1.3.0");
  const auto& vectors = (*doc)["vectors"];
  ASSERT_EQ(vectors.size(), 21u);
  for (const auto& v : vectors) {
    SCOPED_TRACE(v["name"].get<std::string>());
    expect_key(v, options_of(v, v["serializer_type"].get<std::string>()));
  }
}

// The identity is text (`std::string`) in C++: the rows whose identity is JSON null or an
// integer have no C++ counterpart (cachekit-py raises TypeError for them). Only the empty string
// reaches the key generator, which refuses it.
static_assert(std::is_same_v<decltype(default_key_options::serializer), std::string>);

TEST(key_vectors, all_4_serializer_identity_error_vectors_are_refused) {
  const auto doc = load();
  if (!doc) GTEST_SKIP() << "no shared vectors at " << vectors_file();
  const auto& vectors = (*doc)["error_vectors"];
  ASSERT_EQ(vectors.size(), 4u);
  int refused_at_run_time = 0;
  int not_representable = 0;
  for (const auto& v : vectors) {
    SCOPED_TRACE(v["name"].get<std::string>());
    const auto& identity = v["serializer_type"];
    if (!identity.is_string()) {
      // Not a string: not representable as `default_key_options::serializer` (above).
      EXPECT_TRUE(identity.is_null() || identity.is_number_integer());
      ++not_representable;
      continue;
    }
    const auto options = options_of(v, identity.get<std::string>());
    const auto code = serializer_code(options.serializer);
    ASSERT_FALSE(code.has_value()) << "code " << *code;
    EXPECT_EQ(code.code(), errc::invalid_configuration);
    const auto key =
        default_key(function_name_of(v), args_of(v["args"]), kwargs_of(v["kwargs"]), options);
    ASSERT_FALSE(key.has_value()) << "accepted: " << *key;
    EXPECT_EQ(key.code(), errc::invalid_configuration);
    EXPECT_FALSE(default_key_builder::make(function_name_of(v), options).has_value());
    ++refused_at_run_time;
  }
  EXPECT_EQ(refused_at_run_time, 1);
  EXPECT_EQ(not_representable, 3);
}

TEST(key_vectors, all_5_serializer_object_vectors_key_by_the_custom_identity) {
  const auto doc = load();
  if (!doc) GTEST_SKIP() << "no shared vectors at " << vectors_file();
  const auto& vectors = (*doc)["serializer_object_vectors"];
  ASSERT_EQ(vectors.size(), 5u);
  for (const auto& v : vectors) {
    SCOPED_TRACE(v["name"].get<std::string>());
    // cachekit-py keys any serializer instance, the SDK's own classes included, by its class
    // name behind the reserved `<custom>:` prefix, so a class named "auto" does not take the
    // AutoSerializer's keyspace.
    const std::string identity =
        custom_serializer_identity(v["serializer_class"].get<std::string>());
    EXPECT_EQ(identity, "<custom>:" + v["serializer_class"].get<std::string>());
    expect_key(v, options_of(v, identity));
  }
}

}  // namespace
}  // namespace cachekit
