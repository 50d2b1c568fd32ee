// The live CLI commands against real servers: redis-server and memcached started on free
// loopback ports (support/local_server), and the file backend in a temporary directory. Each
// test runs the `cachekit` binary as an operator would and checks its exact output and exit
// status (0 success, 1 bad input or a backend failure, 2 usage).
#include <cachekit/cache.hpp>
#include <cachekit/default_key.hpp>
#include <cachekit/encryption.hpp>
#include <cachekit/redis_backend.hpp>

#include "support/local_server.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace cachekit {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using testing::local_server;
using ::testing::MatchesRegex;

// A fixed random master key (openssl rand -hex 32) and another one.
constexpr const char* master_key =
    "a8f06af41a1f4ccb936082fdbe129b93fd8d9b7db027d9f3ea40c3b5e5480416";
constexpr const char* wrong_key =
    "5b2c9e0d7f6a41e38c0b9d2a6e4f7c1b3a8d5e9f0c2b4a6d8e1f3a5c7b9d0e2f";

struct run_result {
  int status = -1;
  std::string out;
  std::string err;
};

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs the CLI with exactly `env` as its environment (no REDIS_URL or CACHEKIT_* leaks in).
run_result run_cli(const std::vector<std::string>& args,
                   const std::map<std::string, std::string>& env = {},
                   const std::string& input = "") {
  const auto dir = std::filesystem::temp_directory_path();
  const std::string tag = std::to_string(::getpid());
  const auto in_path = dir / ("cachekit-cli-in-" + tag);
  const auto out_path = dir / ("cachekit-cli-out-" + tag);
  const auto err_path = dir / ("cachekit-cli-err-" + tag);
  std::ofstream(in_path, std::ios::binary) << input;
  std::vector<std::string> argv_text{CACHEKIT_CLI_PATH};
  argv_text.insert(argv_text.end(), args.begin(), args.end());
  std::vector<std::string> env_text{"PATH=/usr/bin:/bin"};
  for (const auto& [k, v] : env) env_text.push_back(k + "=" + v);
  std::vector<char*> argv, envp;
  for (auto& a : argv_text) argv.push_back(a.data());
  for (auto& e : env_text) envp.push_back(e.data());
  argv.push_back(nullptr);
  envp.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int in = ::open(in_path.c_str(), O_RDONLY);
    const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  int wstatus = 0;
  ::waitpid(pid, &wstatus, 0);
  run_result r{WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1, slurp(out_path), slurp(err_path)};
  std::filesystem::remove(in_path);
  std::filesystem::remove(out_path);
  std::filesystem::remove(err_path);
  return r;
}

// The "name: value" line of `inspect` output named `name` (its value), or "".
std::string field(const std::string& report, const std::string& name) {
  std::istringstream in(report);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(name + ":", 0) == 0) {
      const auto start = line.find_first_not_of(' ', name.size() + 1);
      return start == std::string::npos ? "" : line.substr(start);
    }
  }
  return "";
}

struct quote {
  std::int64_t sku = 0;
  std::string currency;
  double price = 0;
  MSGPACK_DEFINE_MAP(sku, currency, price);
};

class cli_live : public ::testing::Test {
 public:
  static void SetUpTestSuite() {
    redis_ = local_server::start_redis().release();
    memcached_ = local_server::start_memcached().release();
  }
  static void TearDownTestSuite() {
    delete redis_;
    delete memcached_;
  }

 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("cachekit-cli-live-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static std::string redis_url() { return redis_->address(); }
  static std::string memcached_url() { return "memcached://" + memcached_->address(); }
  std::string file_url() const { return "file://" + dir_.string(); }

  static local_server* redis_;
  static local_server* memcached_;
  std::filesystem::path dir_;
};

local_server* cli_live::redis_ = nullptr;
local_server* cli_live::memcached_ = nullptr;

TEST_F(cli_live, set_then_get_round_trips_on_redis_memcached_and_file) {
  for (const auto& url : {redis_url(), memcached_url(), file_url()}) {
    SCOPED_TRACE(url);
    auto set = run_cli(
        {"set", "--url", url, "k:round", R"({"a": [1, 2.5, {"$bytes": "00ff"}]})", "--ttl", "60"});
    ASSERT_EQ(set.status, 0) << set.err;
    EXPECT_THAT(set.out, HasSubstr("ttl 60 s"));
    auto get = run_cli({"get", "--url", url, "k:round"});
    EXPECT_EQ(get.status, 0) << get.err;
    EXPECT_EQ(get.out, "{\"a\":[1,{\"$float\":\"2.5\"},{\"$bytes\":\"00ff\"}]}\n");
  }
}

TEST_F(cli_live, get_takes_the_backend_from_redis_url_in_the_environment) {
  ASSERT_EQ(run_cli({"set", "--url", redis_url(), "k:env", "[1]"}).status, 0);
  auto get = run_cli({"get", "k:env"}, {{"REDIS_URL", redis_url()}});
  EXPECT_EQ(get.status, 0) << get.err;
  EXPECT_EQ(get.out, "[1]\n");
}

TEST_F(cli_live, memcached_and_file_backends_come_from_their_cachekit_variables_too) {
  const std::map<std::string, std::string> mc{
      {"CACHEKIT_MEMCACHED_SERVERS", "[\"" + memcached_->address() + "\"]"},
      {"CACHEKIT_MEMCACHED_KEY_PREFIX", "app:"}};
  ASSERT_EQ(run_cli({"set", "k:mc", "\"m\""}, mc).status, 0);
  EXPECT_EQ(run_cli({"get", "--url", memcached_url(), "--key-prefix", "app:", "k:mc"}).out,
            "\"m\"\n");
  auto stats = run_cli({"stats"}, mc);
  EXPECT_EQ(stats.status, 0) << stats.err;
  EXPECT_THAT(stats.out, HasSubstr(memcached_->address() + ": memcached 1."));

  const std::map<std::string, std::string> file{{"CACHEKIT_FILE_CACHE_DIR", dir_.string()}};
  ASSERT_EQ(run_cli({"set", "k:file", "2"}, file).status, 0);
  EXPECT_EQ(run_cli({"get", "--url", file_url(), "k:file"}).out, "2\n");
}

TEST_F(cli_live, plain_keys_and_another_redis_tenant_change_the_storage_key) {
  auto plain = run_cli({"set", "--url", redis_url(), "--plain-keys", "k:layout", "1"});
  EXPECT_THAT(plain.out, HasSubstr("under \"k:layout\""));
  auto tenant =
      run_cli({"set", "--url", redis_url(), "--redis-tenant", "acme/eu", "k:layout", "2"});
  EXPECT_THAT(tenant.out, HasSubstr("under \"t:acme%2Feu:k:layout\""));
  EXPECT_EQ(run_cli({"get", "--url", redis_url(), "--redis-tenant", "acme/eu", "k:layout"}).out,
            "2\n");
  // A key pasted with its prefix (from redis-cli KEYS) names the same entry.
  EXPECT_EQ(
      run_cli({"get", "--url", redis_url(), "--redis-tenant", "acme/eu", "t:acme%2Feu:k:layout"})
          .out,
      "2\n");
  EXPECT_EQ(run_cli({"get", "--url", redis_url(), "--plain-keys", "k:layout"}).out, "1\n");
}

TEST_F(cli_live, get_without_any_backend_says_how_to_name_one) {
  auto get = run_cli({"get", "k"});
  EXPECT_EQ(get.status, 1);
  EXPECT_THAT(get.err, HasSubstr("no backend to talk to: give --url redis://"));
}

TEST_F(cli_live, get_of_a_missing_key_names_the_storage_key_it_looked_at) {
  auto get = run_cli({"get", "--url", redis_url(), "k:absent"});
  EXPECT_EQ(get.status, 1);
  EXPECT_THAT(get.err, HasSubstr("no entry under storage key \"t:default:k:absent\""));
}

TEST_F(cli_live, inspect_shows_the_frame_envelope_ttl_and_value) {
  ASSERT_EQ(
      run_cli({"set", "--url", redis_url(), "k:inspect", R"({"name": "alice"})", "--ttl", "100"})
          .status,
      0);
  auto r = run_cli({"inspect", "--url", redis_url(), "k:inspect"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(field(r.out, "storage key"), "t:default:k:inspect");
  EXPECT_THAT(field(r.out, "ttl"), MatchesRegex("(100|99|98) s"));
  EXPECT_EQ(field(r.out, "mode"), "frame (cachekit-py @cache)");
  EXPECT_THAT(field(r.out, "container"), MatchesRegex("CK v3 frame, [0-9]+-byte JSON header"));
  EXPECT_EQ(field(r.out, "serializer"), "default");
  EXPECT_EQ(field(r.out, "format"), "msgpack");
  EXPECT_THAT(field(r.out, "compressed"), HasSubstr("yes"));
  EXPECT_EQ(field(r.out, "encrypted"), "no");
  EXPECT_THAT(field(r.out, "key binding"), HasSubstr("(matches the storage key)"));
  EXPECT_THAT(field(r.out, "checksum"), MatchesRegex("xxHash3-64 [0-9a-f]{16} \\(verified\\)"));
  // {"name": "alice"}: fixmap(1), fixstr(4) "name", fixstr(5) "alice".
  EXPECT_EQ(field(r.out, "uncompressed"), "12 bytes");
  EXPECT_EQ(field(r.out, "value"), R"({"name":"alice"})");
}

TEST_F(cli_live, inspect_of_an_entry_copied_under_another_key_shows_the_binding_mismatch) {
  ASSERT_EQ(run_cli({"set", "--url", redis_url(), "k:original", "[1]"}).status, 0);
  ASSERT_EQ(std::system(("redis-cli -p " + std::to_string(redis_->port()) +
                         " COPY t:default:k:original t:default:k:copy >/dev/null")
                            .c_str()),
            0);
  auto r = run_cli({"inspect", "--url", redis_url(), "k:copy"});
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(field(r.out, "key binding"), HasSubstr("(does NOT match the storage key)"));
  EXPECT_EQ(field(r.out, "value"), "");
  EXPECT_THAT(r.err, HasSubstr("entry was written for another key"));
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1);
}

TEST_F(cli_live, inspect_decodes_an_entry_the_cache_wrote_for_a_memoized_function) {
  auto options = cache_options::for_intent(intent::production);
  options.l2 = std::make_shared<redis_backend>(
      redis_options{.url = redis_url(), .key_layout = redis_key_layout::tenant_scoped});
  cache c(std::move(options));
  auto fetch = c.memoize("pricing.quote",
                         [](std::int64_t sku, const std::string& currency) {
                           return quote{sku, currency, 8.75};
                         },
                         {.ttl = 300s});
  ASSERT_EQ(fetch(7, "EUR").price, 8.75);
  const std::string key = default_key("pricing.quote", {7, "EUR"}).value();

  auto r = run_cli({"inspect", "--url", redis_url(), key});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(field(r.out, "key"), key);
  EXPECT_EQ(field(r.out, "storage key"), "t:default:" + key);
  EXPECT_THAT(field(r.out, "ttl"), MatchesRegex("(300|299|298) s"));
  EXPECT_EQ(field(r.out, "value"), R"({"sku":7,"currency":"EUR","price":{"$float":"8.75"}})");
  // The key as `cachekit key --storage redis` prints it is the one redis-cli finds.
  auto storage = run_cli(
      {"key", "--function", "pricing.quote", "--args", R"([7, "EUR"])", "--storage", "redis"});
  EXPECT_EQ(storage.out, "t:default:" + key + "\n");
}

TEST_F(cli_live, encrypted_entry_opens_with_the_right_master_key_and_is_refused_with_a_wrong_one) {
  auto options = cache_options::for_intent(intent::secure);
  options.l2 = std::make_shared<redis_backend>(
      redis_options{.url = redis_url(), .key_layout = redis_key_layout::tenant_scoped});
  options.encryption = encryption_options{.keys = keyring::from_hex(master_key).value()};
  cache c(std::move(options));
  auto secret =
      c.memoize("vault.secret", [](std::int64_t id) { return "s3cret-" + std::to_string(id); },
                {.ttl = 300s});
  ASSERT_EQ(secret(1), "s3cret-1");
  const std::string key = default_key("vault.secret", {1}).value();

  auto right =
      run_cli({"inspect", "--url", redis_url(), key}, {{"CACHEKIT_MASTER_KEY", master_key}});
  ASSERT_EQ(right.status, 0) << right.err;
  EXPECT_EQ(field(right.out, "encrypted"), "yes");
  EXPECT_EQ(field(right.out, "algorithm"), "AES-256-GCM");
  EXPECT_EQ(field(right.out, "tenant"), "default");
  EXPECT_EQ(field(right.out, "key fingerprint"),
            keyring::from_hex(master_key)->for_tenant("default")->current_fingerprint());
  EXPECT_EQ(field(right.out, "value"), "\"s3cret-1\"");

  auto wrong = run_cli({"get", "--url", redis_url(), key}, {{"CACHEKIT_MASTER_KEY", wrong_key}});
  EXPECT_EQ(wrong.status, 1);
  EXPECT_EQ(wrong.out, "");
  EXPECT_THAT(wrong.err, HasSubstr("key fingerprint not in the keyring"));
  EXPECT_THAT(wrong.err, HasSubstr("--previous-key-hex"));

  auto none = run_cli({"get", "--url", redis_url(), key});
  EXPECT_EQ(none.status, 1);
  EXPECT_THAT(none.err, HasSubstr("entry is encrypted"));
  EXPECT_THAT(none.err, HasSubstr("CACHEKIT_MASTER_KEY"));

  auto other_tenant = run_cli({"get", "--url", redis_url(), key, "--tenant", "acme"},
                              {{"CACHEKIT_MASTER_KEY", master_key}});
  EXPECT_EQ(other_tenant.status, 1);
  EXPECT_THAT(other_tenant.err, HasSubstr("pass --tenant default"));
}

TEST_F(cli_live, set_encrypt_seals_and_get_opens_it) {
  auto set = run_cli({"set", "--url", redis_url(), "k:sealed", "[1, 2]", "--encrypt"},
                     {{"CACHEKIT_MASTER_KEY", master_key}});
  ASSERT_EQ(set.status, 0) << set.err;
  auto get =
      run_cli({"get", "--url", redis_url(), "k:sealed"}, {{"CACHEKIT_MASTER_KEY", master_key}});
  EXPECT_EQ(get.out, "[1,2]\n");
  auto no_key = run_cli({"set", "--url", redis_url(), "k:sealed", "1", "--encrypt"});
  EXPECT_EQ(no_key.status, 1);
  EXPECT_THAT(no_key.err, HasSubstr("openssl rand -hex 32"));
}

TEST_F(cli_live, del_removes_the_entry_and_ttl_reports_the_time_left) {
  for (const auto& url : {redis_url(), file_url()}) {
    SCOPED_TRACE(url);
    ASSERT_EQ(run_cli({"set", "--url", url, "k:del", "1", "--ttl", "50"}).status, 0);
    auto ttl = run_cli({"ttl", "--url", url, "k:del"});
    EXPECT_EQ(ttl.status, 0) << ttl.err;
    EXPECT_THAT(ttl.out, MatchesRegex("(50|49|48) s\n"));
    auto del = run_cli({"del", "--url", url, "k:del"});
    EXPECT_EQ(del.status, 0);
    EXPECT_THAT(del.out, HasSubstr("deleted"));
    EXPECT_EQ(run_cli({"get", "--url", url, "k:del"}).status, 1);
    EXPECT_THAT(run_cli({"del", "--url", url, "k:del"}).out, HasSubstr("no entry under"));
    EXPECT_EQ(run_cli({"ttl", "--url", url, "k:del"}).status, 1);
  }
  ASSERT_EQ(run_cli({"set", "--url", redis_url(), "k:forever", "1"}).status, 0);
  EXPECT_EQ(run_cli({"ttl", "--url", redis_url(), "k:forever"}).out, "no expiry\n");
  auto mc = run_cli({"ttl", "--url", memcached_url(), "k:any"});
  EXPECT_EQ(mc.status, 1);
  EXPECT_THAT(mc.err, HasSubstr("memcached cannot report a TTL"));
}

TEST_F(cli_live, keys_reads_the_cachekit_py_registry_and_scans_the_function_prefix) {
  // cachekit-py 0.24.1's registry set of `cli_demo.get_user` in namespace "users" (its BLAKE3
  // name taken from a run of cachekit-py), holding two keys; a third entry, written as the C++
  // cache writes (no registry), is found by its prefix.
  const std::string reg = "t:default:ck:reg:users:e8b3d4c62bfb144a";
  const std::string k1 = default_key("cli_demo.get_user", {1}, {}, {.ns = "users"}).value();
  const std::string k2 = default_key("cli_demo.get_user", {2}, {}, {.ns = "users"}).value();
  const std::string k3 = default_key("cli_demo.get_user", {3}, {}, {.ns = "users"}).value();
  const std::string stale = default_key("cli_demo.get_user", {4}, {}, {.ns = "users"}).value();
  for (const auto& k : {k1, k2, k3}) {
    ASSERT_EQ(run_cli({"set", "--url", redis_url(), k, "1"}).status, 0);
  }
  auto redis = redis_backend(redis_options{.url = redis_url()});
  // SADD through the plain layout: the set name already holds the tenant prefix.
  ASSERT_EQ(std::system(("redis-cli -p " + std::to_string(redis_->port()) + " SADD " + reg + " " +
                         k1 + " " + k2 + " " + stale + " >/dev/null")
                            .c_str()),
            0);
  auto keys = run_cli(
      {"keys", "--url", redis_url(), "--function", "cli_demo.get_user", "--namespace", "users"});
  ASSERT_EQ(keys.status, 0) << keys.err;
  std::vector<std::string> want{k1, k2, k3};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(keys.out, want[0] + "\n" + want[1] + "\n" + want[2] + "\n");
  EXPECT_THAT(keys.err,
              HasSubstr("key registry " + reg + " (cachekit-py): 3 members, 2 with a live entry"));
  EXPECT_THAT(keys.err, HasSubstr("1 not in the registry"));

  auto inv = run_cli({"invalidate", "--url", redis_url(), "--function", "cli_demo.get_user",
                      "--namespace", "users"});
  ASSERT_EQ(inv.status, 0) << inv.err;
  EXPECT_EQ(inv.out,
            "invalidated 3 entries (prefix \"t:default:ns:users:func:cli_demo.get_user:args:\" "
            "and the cachekit-py key registry)\n");
  EXPECT_FALSE(redis.exists(reg).value());
  for (const auto& k : {k1, k2, k3}) EXPECT_FALSE(redis.exists("t:default:" + k).value());
  EXPECT_EQ(run_cli({"keys", "--url", redis_url(), "--function", "cli_demo.get_user", "--namespace",
                     "users"})
                .out,
            "");
}

TEST_F(cli_live, invalidate_by_prefix_leaves_other_keys_and_memcached_says_it_cannot) {
  for (const auto* k : {"app:a:1", "app:a:2", "app:b:1"}) {
    ASSERT_EQ(run_cli({"set", "--url", redis_url(), k, "1"}).status, 0);
  }
  auto inv = run_cli({"invalidate", "--url", redis_url(), "--prefix", "app:a:"});
  EXPECT_EQ(inv.status, 0) << inv.err;
  EXPECT_THAT(inv.out, HasSubstr("invalidated 2 entries"));
  EXPECT_EQ(run_cli({"get", "--url", redis_url(), "app:b:1"}).out, "1\n");
  auto mc = run_cli({"invalidate", "--url", memcached_url(), "--prefix", "app:"});
  EXPECT_EQ(mc.status, 1);
  EXPECT_THAT(mc.err, HasSubstr("memcached cannot find keys by prefix"));
  auto usage = run_cli({"keys", "--url", redis_url()});
  EXPECT_EQ(usage.status, 2);
  EXPECT_THAT(usage.err, HasSubstr("needs --function NAME or --prefix P"));
}

TEST_F(cli_live, health_and_stats_of_running_servers) {
  for (const auto& url : {redis_url(), memcached_url(), file_url()}) {
    SCOPED_TRACE(url);
    auto h = run_cli({"health", "--url", url});
    EXPECT_EQ(h.status, 0) << h.err;
    EXPECT_THAT(h.out.substr(0, h.out.find('\n')), MatchesRegex("healthy: .*, latency [0-9.]+ ms"));
    auto s = run_cli({"stats", "--url", url});
    EXPECT_EQ(s.status, 0) << s.err;
  }
  EXPECT_THAT(field(run_cli({"health", "--url", redis_url()}).out, "version"),
              MatchesRegex("[0-9]+\\.[0-9]+\\.[0-9]+"));
  auto redis = run_cli({"stats", "--url", redis_url()});
  EXPECT_THAT(field(redis.out, "redis version"), MatchesRegex("[0-9]+\\.[0-9]+\\.[0-9]+"));
  EXPECT_THAT(field(redis.out, "used memory"), MatchesRegex("[0-9.]+[KMG]?"));
  EXPECT_THAT(field(redis.out, "keys"), HasSubstr("in this database"));
  auto mc = run_cli({"stats", "--url", memcached_url()});
  EXPECT_THAT(mc.out, HasSubstr(memcached_->address() + ": memcached 1."));
  EXPECT_THAT(field(run_cli({"stats", "--url", file_url()}).out, "cache_dir"), dir_.string());
}

TEST_F(cli_live, health_of_a_stopped_server_fails_with_a_clear_message) {
  auto stopped = local_server::start_redis();
  const std::string url = stopped->address();
  stopped->stop();
  auto h = run_cli({"health", "--url", url, "--timeout-ms", "300"});
  EXPECT_EQ(h.status, 1);
  EXPECT_EQ(h.out, "");
  EXPECT_THAT(h.err, HasSubstr("cachekit: not healthy: redis 127.0.0.1:"));
  EXPECT_THAT(h.err, HasSubstr("Connection refused"));
  EXPECT_EQ(std::count(h.err.begin(), h.err.end(), '\n'), 1);

  auto mc = local_server::start_memcached();
  const std::string mc_url = "memcached://" + mc->address();
  mc->stop();
  auto m = run_cli({"stats", "--url", mc_url, "--timeout-ms", "300"});
  EXPECT_EQ(m.status, 1);
  EXPECT_THAT(m.err, HasSubstr("not healthy: memcached"));

  auto get = run_cli({"get", "--url", url, "k", "--timeout-ms", "300"});
  EXPECT_EQ(get.status, 1);
  EXPECT_THAT(get.err, HasSubstr("transient"));
}

TEST_F(cli_live, bench_prints_latency_percentiles_and_throughput) {
  for (const auto& url : {redis_url(), memcached_url()}) {
    SCOPED_TRACE(url);
    auto b = run_cli({"bench", "--url", url, "--ops", "400", "--seconds", "5", "--value-size",
                      "256", "--keys", "50", "--connections", "3"});
    ASSERT_EQ(b.status, 0) << b.err;
    EXPECT_THAT(b.out, HasSubstr(", 400 ops in "));
    EXPECT_THAT(b.out,
                MatchesRegex("(.|\n)*all: 400 ops, 0 errors, p50 [0-9.]+ ms, p90 [0-9.]+ ms, "
                             "p99 [0-9.]+ ms, max [0-9.]+ ms\n(.|\n)*"));
    EXPECT_THAT(b.out, MatchesRegex("(.|\n)*throughput: [0-9]+ ops/s \\(3 connections(.|\n)*50 "
                                    "bench keys deleted\n"));
  }
}

}  // namespace
}  // namespace cachekit
