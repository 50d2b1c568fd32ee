// Every error a user can cause says what is wrong and how to fix it (cachekit's rule: error
// messages include the fix). One row per mistake; each row makes the mistake through the public
// API and checks the message: it starts with the error's category, names the setting or
// argument at fault, and ends with an instruction, not with the category.
#include <cachekit/cachekit.hpp>

#include <gtest/gtest.h>

#include <cctype>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cachekit {
namespace {

struct mistake {
  std::string what;                 // the mistake, for the failure message
  std::function<failure()> commit;  // makes it; returns the failure it got
  std::string names;                // the message names the setting or argument at fault
};

// Runs `f`, which must throw cachekit::error, and returns what it carried.
failure thrown_by(const std::function<void()>& f) {
  try {
    f();
  } catch (const error& e) {
    // error::what() and failure::message() are one format; the detail is what follows the
    // category.
    const std::string what = e.what();
    const std::string category = e.code().message() + ": ";
    return failure{e.code(), what.rfind(category, 0) == 0 ? what.substr(category.size()) : what};
  }
  return failure{make_error_code(errc::invalid_argument), "<did not throw>"};
}

template <class T>
failure failed(const result<T>& r) {
  if (r) return failure{make_error_code(errc::invalid_argument), "<succeeded>"};
  return r.error();
}

cache_options::env_lookup environment(std::map<std::string, std::string, std::less<>> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(name);
    return it == vars.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
}

// A fix is an instruction: the message says what to use, set, pass, check or remove.
bool gives_a_fix(std::string_view detail) {
  std::string lower(detail);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (std::string_view verb :
       {"use ", "set ", "pass ", "check ", "remove ", "unset ", "leave ", "give ", "raise ",
        "lower ", "choose ", "write ", "generate ", "connect "}) {
    if (lower.find(verb) != std::string::npos) return true;
  }
  return false;
}

std::vector<mistake> mistakes() {
  const std::string good_key(64, 'a');
  return {
      {"a Redis URL with another scheme",
       [] {
         return thrown_by([] { redis_backend b(redis_options{.url = "http://localhost:6379"}); });
       },
       "redis://"},
      {"a TLS parameter on a plain redis:// URL",
       [] {
         return thrown_by([] {
           redis_backend b(redis_options{.url = "redis://localhost:6379?ssl_cert_reqs=none"});
         });
       },
       "rediss"},
      {"a CA file that does not exist",
       [] {
         return thrown_by([] {
           redis_backend b(
               redis_options{.url = "rediss://localhost:6379?ssl_ca_certs=/nonexistent/ca.pem"});
         });
       },
       "/nonexistent/ca.pem"},
      {"a Redis port that is not a number",
       [] {
         return thrown_by([] { redis_backend b(redis_options{.url = "redis://localhost:63x9"}); });
       },
       "port"},
      {"a master key of the wrong length", [] { return failed(keyring::from_hex("abcd")); },
       "master key"},
      {"a master key that is not hex",
       [] { return failed(keyring::from_hex(std::string(64, 'z'))); }, "hex"},
      {"a function name that is not UTF-8",
       [] {
         return thrown_by([] {
           cache c(cache_options::for_intent(intent::test));
           (void)c.memoize("bad\xff", [](int x) { return x; });
         });
       },
       "UTF-8"},
      {"an empty function name",
       [] {
         return thrown_by([] {
           cache c(cache_options::for_intent(intent::test));
           (void)c.memoize("", [](int x) { return x; });
         });
       },
       "function name"},
      {"an unknown intent", [] { return failed(parse_intent("fastest")); }, "fastest"},
      {"a value above max_value_bytes",
       [] {
         cache_options options = cache_options::for_intent(intent::test);
         options.max_value_bytes = 1024;
         cache c(std::move(options));
         return failed(c.set("k", std::string(4096, 'x')));
       },
       "max_value_bytes"},
      {"a zero L1 budget",
       [] {
         return thrown_by([] {
           cache_options options = cache_options::for_intent(intent::test);
           options.l1_max_bytes = 0;
           cache c(std::move(options));
         });
       },
       "l1_max_bytes"},
      {"intent::secure without encryption",
       [] { return thrown_by([] { cache c(cache_options::for_intent(intent::secure)); }); },
       "encryption"},
      {"two L2 selectors in the environment",
       [] {
         return failed(cache_options::from_env(
             intent::standard, environment({{"CACHEKIT_REDIS_URL", "redis://localhost:6379"},
                                            {"CACHEKIT_FILE_CACHE_DIR", "/tmp/cachekit"}})));
       },
       "CACHEKIT_FILE_CACHE_DIR"},
      {"an unknown CACHEKIT_REDIS_KEY_LAYOUT",
       [] {
         return failed(cache_options::from_env(
             intent::standard, environment({{"REDIS_URL", "redis://localhost:6379"},
                                            {"CACHEKIT_REDIS_KEY_LAYOUT", "flat"}})));
       },
       "CACHEKIT_REDIS_KEY_LAYOUT"},
      {"a master key with a plaintext intent",
       [good_key] {
         return failed(cache_options::from_env(intent::standard,
                                               environment({{"CACHEKIT_MASTER_KEY", good_key}})));
       },
       "CACHEKIT_MASTER_KEY"},
      {"interop mode on a tenant-scoped Redis",
       [] {
         return thrown_by([] {
           cache_options options = cache_options::for_intent(intent::test);
           options.l2 = std::make_shared<redis_backend>(redis_options{
               .url = "redis://127.0.0.1:1/0", .key_layout = redis_key_layout::tenant_scoped});
           cache c(std::move(options));
           (void)c.memoize_interop("app", "get_user", [](int x) { return x; });
         });
       },
       "CACHEKIT_REDIS_KEY_LAYOUT=plain"},
      {"an interop namespace with a colon",
       [] {
         return thrown_by([] {
           cache c(cache_options::for_intent(intent::test));
           (void)c.memoize_interop("a:b", "op", [](int x) { return x; });
         });
       },
       "a:b"},
  };
}

TEST(user_errors, each_says_what_is_wrong_and_how_to_fix_it) {
  for (const mistake& m : mistakes()) {
    const failure f = m.commit();
    SCOPED_TRACE(m.what + ": " + f.message());
    EXPECT_NE(f.detail, "<did not throw>");
    EXPECT_NE(f.detail, "<succeeded>");
    EXPECT_EQ(f.code.category(), cachekit_category());
    EXPECT_NE(f.detail.find(m.names), std::string::npos) << "does not name " << m.names;
    EXPECT_TRUE(gives_a_fix(f.detail)) << "gives no fix";
  }
}

TEST(user_errors, what_puts_the_category_first_and_ends_with_the_fix) {
  const error e(errc::invalid_configuration, "shards must be a power of two; use 16");
  EXPECT_STREQ(e.what(), "invalid configuration: shards must be a power of two; use 16");
  const failure same{e.code(), "shards must be a power of two; use 16"};
  EXPECT_EQ(std::string(e.what()), same.message());
  const error copy = e;  // copies share the text
  EXPECT_STREQ(copy.what(), e.what());
}

}  // namespace
}  // namespace cachekit
