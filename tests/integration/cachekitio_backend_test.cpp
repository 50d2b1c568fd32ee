// cachekitio_backend against support/cachekitio_server, a real HTTPS server of the cachekit.io
// API in this process (TLS with the test CA, reached as api.cachekit.test through --resolve):
// every operation and the headers it sends, the path-encoding vectors on the path the server
// received, freshness and the L1 bound, each failure mode and its classification, the retries
// (counted), the API key kept out of every URL, error, health detail and log line, a forked
// child, and `cache` + `memoize` end to end.
#include <cachekit/cache.hpp>
#include <cachekit/cachekitio_backend.hpp>
#include <cachekit/error.hpp>
#include <cachekit/logging.hpp>

#include "conformance/vector_file.hpp"
#include "support/cachekitio_server.hpp"
#include "support/call_gate.hpp"
#include "support/forked_child.hpp"
#include "support/tls_certificates.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <stdlib.h>  // unsetenv

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace cachekit {
namespace {

using namespace std::chrono_literals;
using testing::cachekitio_server;
using testing::tls_certificates;
using fault = cachekitio_server::fault;
using fault_kind = cachekitio_server::fault_kind;

byte_view bytes_of(std::string_view text) {
  return as_byte_view(text);
}
std::string text_of(const byte_buffer& b) {
  return std::string(as_string_view(b));
}

class cachekitio_backend_test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { certificates_ = tls_certificates::make().release(); }
  static void TearDownTestSuite() {
    delete certificates_;
    certificates_ = nullptr;
  }

  void SetUp() override { server_ = cachekitio_server::start(*certificates_); }

  cachekitio_options options(std::string key = cachekitio_server::live_key) const {
    cachekitio_options o;
    o.api_key = std::move(key);
    o.api_url = server_->url();
    o.allow_custom_host = true;
    o.ca_file = certificates_->ca_cert().string();
    o.resolve = {server_->resolve_entry()};
    o.timeout = 3s;
    return o;
  }

  std::shared_ptr<cachekitio_backend> make(const cachekitio_options& o) const {
    auto made = cachekitio_backend::create(o);
    if (!made) ADD_FAILURE() << made.error().detail;
    return made ? *made : nullptr;
  }
  std::shared_ptr<cachekitio_backend> make() const { return make(options()); }

  static tls_certificates* certificates_;
  std::unique_ptr<cachekitio_server> server_;
};

tls_certificates* cachekitio_backend_test::certificates_ = nullptr;

TEST_F(cachekitio_backend_test, set_get_exists_erase_and_the_headers_they_send) {
  auto b = make();
  ASSERT_TRUE(b->set("ns:app:k1", bytes_of("hello"), 60s));
  auto got = b->get("ns:app:k1");
  ASSERT_TRUE(got) << got.error().detail;
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ(text_of(**got), "hello");
  EXPECT_TRUE(b->exists("ns:app:k1").value());
  EXPECT_TRUE(b->erase("ns:app:k1").value());
  EXPECT_FALSE(b->get("ns:app:k1").value().has_value());
  EXPECT_FALSE(b->exists("ns:app:k1").value());
  EXPECT_EQ(b->type(), "cachekitio");
  EXPECT_EQ(b->key_prefix(), "");

  const auto requests = server_->requests();
  ASSERT_EQ(requests.size(), 6U);
  EXPECT_EQ(requests[0].method, "PUT");
  EXPECT_EQ(requests[0].target, "/v1/cache/ns%3Aapp%3Ak1");
  EXPECT_EQ(requests[0].header("x-cachekit-ttl"), "60");
  EXPECT_EQ(requests[0].header("content-type"), "application/octet-stream");
  EXPECT_EQ(requests[0].body, "hello");
  EXPECT_EQ(requests[1].method, "GET");
  EXPECT_EQ(requests[2].method, "HEAD");
  EXPECT_EQ(requests[3].method, "DELETE");
  const std::string session = requests[0].header("x-cachekit-session-id").value_or("");
  EXPECT_EQ(session.size(), 36U);
  for (const auto& r : requests) {
    EXPECT_EQ(r.header("authorization"), std::string("Bearer ") + cachekitio_server::live_key);
    EXPECT_EQ(r.header("x-cachekit-l1-status"), "disabled");
    EXPECT_EQ(r.header("x-cachekit-session-id"), session);
    EXPECT_TRUE(r.header("x-cachekit-session-start").has_value());
    EXPECT_EQ(r.header("user-agent").value_or("").rfind("cachekit-cpp/", 0), 0U);
    EXPECT_FALSE(r.header("expect").has_value());
  }
  // One connection, reused by every request.
  EXPECT_EQ(server_->connections_accepted(), 1U);
}

TEST_F(cachekitio_backend_test, no_ttl_stores_without_expiry_and_reads_as_null) {
  auto b = make();
  ASSERT_TRUE(b->set("k:forever", bytes_of("v"), std::nullopt));
  EXPECT_FALSE(server_->requests()[0].header("x-cachekit-ttl").has_value());
  auto t = b->ttl("k:forever");
  ASSERT_TRUE(t) << t.error().detail;
  EXPECT_TRUE(t->exists);
  EXPECT_FALSE(t->ttl.has_value());
  EXPECT_EQ(server_->requests().back().target, "/v1/cache/k%3Aforever/ttl");

  ASSERT_TRUE(b->set("k:bounded", bytes_of("v"), 120s));
  auto bounded = b->ttl("k:bounded").value();
  EXPECT_TRUE(bounded.exists);
  ASSERT_TRUE(bounded.ttl.has_value());
  EXPECT_GE(bounded.ttl->count(), 119);
  EXPECT_LE(bounded.ttl->count(), 120);

  auto absent = b->ttl("k:absent").value();
  EXPECT_FALSE(absent.exists);
}

TEST_F(cachekitio_backend_test, a_ttl_of_zero_removes_and_an_oversized_ttl_is_refused) {
  auto b = make();
  ASSERT_TRUE(b->set("k:z", bytes_of("v"), 60s));
  ASSERT_TRUE(b->set("k:z", bytes_of("w"), 0s));
  EXPECT_FALSE(server_->stored("k:z").has_value());
  EXPECT_EQ(server_->requests().back().method, "DELETE");
  server_->clear_requests();
  auto too_long = b->set("k:z", bytes_of("v"), std::chrono::seconds{2'592'001});
  ASSERT_FALSE(too_long);
  EXPECT_EQ(too_long.error().code, make_error_code(errc::backend_permanent));
  EXPECT_TRUE(server_->requests().empty());  // refused before any request
}

TEST_F(cachekitio_backend_test, touch_patches_the_ttl) {
  auto b = make();
  ASSERT_TRUE(b->set("k:t", bytes_of("v"), 60s));
  auto touched = b->touch("k:t", 600s);
  ASSERT_TRUE(touched) << touched.error().detail;
  EXPECT_TRUE(*touched);
  const auto requests = server_->requests();
  const auto patch = std::find_if(requests.begin(), requests.end(),
                                  [](const auto& r) { return r.method == "PATCH"; });
  ASSERT_NE(patch, requests.end());
  EXPECT_EQ(patch->target, "/v1/cache/k%3At/ttl");
  EXPECT_EQ(nlohmann::json::parse(patch->body)["ttl"], 600);
  EXPECT_GE(b->ttl("k:t").value().ttl->count(), 599);

  EXPECT_FALSE(b->touch("k:absent", 600s).value());
  EXPECT_EQ(b->touch("k:t", std::nullopt).error().code, make_error_code(errc::not_supported));
  EXPECT_TRUE(b->touch("k:t", 0s).value());
  EXPECT_FALSE(server_->stored("k:t").has_value());

  // A PATCH on a stale entry is 409: recompute and PUT, never re-PATCH.
  server_->put("k:stale", "v", 10, 100);
  server_->advance(20s);
  auto stale = b->touch("k:stale", 60s);
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().code, make_error_code(errc::backend_permanent));
  EXPECT_NE(stale.error().detail.find("409"), std::string::npos);
}

TEST_F(cachekitio_backend_test,
       get_with_ttl_bounds_the_l1_copy_by_fresh_for_and_never_by_a_stale_read) {
  auto b = make();
  server_->put("k:fresh", "f", 100);
  auto fresh = b->get_with_ttl("k:fresh").value();
  ASSERT_TRUE(fresh && fresh->remaining && *fresh->remaining);
  EXPECT_GE((*fresh->remaining)->count(), 99);
  EXPECT_LE((*fresh->remaining)->count(), 100);

  server_->advance(95s);
  auto late = b->get_with_ttl("k:fresh").value();
  ASSERT_TRUE(late && late->remaining && *late->remaining);
  EXPECT_LE((*late->remaining)->count(), 5);

  server_->put("k:forever", "n");
  auto forever = b->get_with_ttl("k:forever").value();
  ASSERT_TRUE(forever && forever->remaining);
  EXPECT_FALSE(forever->remaining->has_value());  // no server bound: the L1 keeps its own TTL

  server_->put("k:swr", "s", 10, 100);
  server_->advance(20s);
  auto stale = b->get_with_ttl("k:swr").value();
  ASSERT_TRUE(stale.has_value());
  EXPECT_EQ(text_of(stale->value), "s");  // served
  ASSERT_TRUE(stale->remaining && *stale->remaining);
  EXPECT_EQ((*stale->remaining)->count(), 0);  // but never copied to L1

  server_->advance(200s);
  EXPECT_FALSE(b->get_with_ttl("k:swr").value().has_value());  // past evict_at: a miss
}

TEST_F(cachekitio_backend_test, locks_use_the_lock_endpoints_and_the_lock_id_header) {
  auto b = make();
  auto first = b->try_lock("k:l", 5000ms);
  ASSERT_TRUE(first) << first.error().detail;
  ASSERT_TRUE(first->has_value());
  EXPECT_EQ((*first)->key, "k:l");
  EXPECT_FALSE((*first)->value.empty());
  EXPECT_FALSE(b->try_lock("k:l", 5000ms).value().has_value());  // contested: 200, null id
  EXPECT_TRUE(b->release_lock(**first).value());
  EXPECT_TRUE(b->try_lock("k:l", 5000ms).value().has_value());

  const auto requests = server_->requests();
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].target, "/v1/cache/k%3Al/lock");
  EXPECT_EQ(nlohmann::json::parse(requests[0].body)["timeout_ms"], 5000);
  EXPECT_EQ(requests[2].method, "DELETE");
  EXPECT_EQ(requests[2].target, "/v1/cache/k%3Al/lock");  // the id never in the query
  EXPECT_EQ(requests[2].header("x-cachekit-lock-id"), (*first)->value);
}

TEST_F(cachekitio_backend_test, health_reports_the_server_and_never_the_key) {
  auto b = make();
  ASSERT_TRUE(b->set("k:h", bytes_of("v"), 60s));
  auto h = b->health();
  EXPECT_TRUE(h.healthy);
  EXPECT_EQ(h.backend_type, "cachekitio");
  EXPECT_GE(h.latency.count(), 0);
  EXPECT_EQ(h.details["status"], "ok");
  EXPECT_EQ(h.details["cache_entries"], "1");
  EXPECT_EQ(h.details["api_host"], cachekitio_server::host);
  EXPECT_EQ(server_->requests().back().target, "/v1/cache/health");

  auto denied = make(options("ck_live_wrongwrongwrong"))->health();
  EXPECT_FALSE(denied.healthy);
  EXPECT_EQ(denied.latency.count(), -1);
  for (const auto& [k, v] : denied.details) {
    EXPECT_EQ(v.find("wrongwrong"), std::string::npos) << k;
  }
  EXPECT_NE(denied.details["error"].find("401"), std::string::npos);
}

TEST_F(cachekitio_backend_test, get_many_and_set_many_run_concurrently_and_answer_in_order) {
  auto b = make();
  std::vector<std::string> keys;
  std::vector<std::string> values;
  for (int i = 0; i < 100; ++i) {
    keys.push_back("k:many:" + std::to_string(i));
    values.push_back("value-" + std::to_string(i));
  }
  std::vector<write_request> writes;
  for (int i = 0; i < 100; i += 2) {  // even keys only
    writes.push_back({.key = keys[i], .value = bytes_of(values[i]), .ttl = 60s, .registry = {}});
  }
  ASSERT_TRUE(b->set_many(writes));
  EXPECT_EQ(server_->keys().size(), 50U);
  std::vector<std::string_view> views(keys.begin(), keys.end());
  auto got = b->get_many(views);
  ASSERT_TRUE(got) << got.error().detail;
  ASSERT_EQ(got->size(), 100U);
  for (int i = 0; i < 100; ++i) {
    if (i % 2 == 0) {
      ASSERT_TRUE((*got)[i].has_value()) << i;
      EXPECT_EQ(text_of(*(*got)[i]), values[i]);
    } else {
      EXPECT_FALSE((*got)[i].has_value()) << i;
    }
  }
  auto timed = b->get_many_with_ttl(views).value();
  ASSERT_TRUE(timed[0] && timed[0]->remaining && *timed[0]->remaining);
  EXPECT_LE((*timed[0]->remaining)->count(), 60);
  EXPECT_FALSE(timed[1].has_value());
  // Concurrent: more than one connection was opened for the batch.
  EXPECT_GT(server_->connections_accepted(), 1U);

  // A reserved key anywhere fails the whole batch before anything is sent.
  server_->clear_requests();
  std::vector<std::string_view> with_reserved = {"k:many:0", ".."};
  EXPECT_EQ(b->get_many(with_reserved).error().code, make_error_code(errc::backend_permanent));
  EXPECT_TRUE(server_->requests().empty());
}

TEST_F(cachekitio_backend_test, one_instance_serves_many_threads_on_pooled_connections) {
  auto o = options();
  constexpr int threads = 8;
  o.connection_pool_size = 2 * threads;  // a get_many of two keys holds two at once
  auto b = make(o);
  constexpr int rounds = 40;
  std::atomic<int> wrong{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; i < rounds; ++i) {
        const std::string key = "k:thread:" + std::to_string(t) + ":" + std::to_string(i % 5);
        const std::string value = std::to_string(t * 1000 + i);
        if (!b->set(key, bytes_of(value), 60s)) ++wrong;
        auto got = b->get(key);
        if (!got || !*got || text_of(**got) != value) ++wrong;
        std::vector<std::string_view> keys = {key, "k:absent"};
        auto many = b->get_many(keys);
        if (!many || (*many)[1].has_value()) ++wrong;
      }
    });
  }
  for (auto& w : workers) w.join();
  EXPECT_EQ(wrong, 0);
  EXPECT_EQ(b->requests_sent(), static_cast<std::uint64_t>(threads * rounds * 4));
  // Connections are reused: with a pool as large as the requests in flight, about one per
  // concurrent request, not one per request (a smaller pool closes the extra ones as they come
  // back, as cachekit-py's non-blocking urllib3 pool does).
  EXPECT_LE(server_->connections_accepted(), o.connection_pool_size + 4)
      << "of " << b->requests_sent();
}

TEST_F(cachekitio_backend_test, path_encoding_vectors_on_the_path_the_server_received) {
  auto vectors = test::load_vector_file<nlohmann::json>("path-encoding.json");
  if (!vectors) GTEST_SKIP() << "path-encoding.json not found";
  auto b = make();
  int rejected = 0;
  int sent = 0;
  for (const auto& row : (*vectors)["vectors"]) {
    const std::string key = row["key"].get<std::string>();
    server_->clear_requests();
    if (row.value("reject", false)) {
      auto got = b->get(key);
      ASSERT_FALSE(got) << key;
      EXPECT_EQ(got.error().code, make_error_code(errc::backend_permanent)) << key;
      EXPECT_TRUE(server_->requests().empty()) << key;  // raised before a URL was built
      ++rejected;
      continue;
    }
    (void)b->get(key);  // the server may refuse the decoded key (400): the path is what counts
    const auto requests = server_->requests();
    ASSERT_EQ(requests.size(), 1U) << key;
    std::vector<std::string> allowed = {row["encoded"].get<std::string>()};
    if (row.contains("encoded_alternates")) {
      for (const auto& alt : row["encoded_alternates"]) allowed.push_back(alt.get<std::string>());
    }
    const std::string received = requests[0].target.substr(std::string("/v1/cache/").size());
    EXPECT_NE(std::find(allowed.begin(), allowed.end(), received), allowed.end())
        << key << " -> " << received;
    EXPECT_EQ(requests[0].target.rfind("/v1/cache/", 0), 0U);
    ++sent;
  }
  EXPECT_EQ(rejected, 6);
  EXPECT_GE(sent, 20);
}

TEST_F(cachekitio_backend_test, key_classes_and_the_l1_status_rule) {
  auto sdk = make(options(cachekitio_server::sdk_key));
  ASSERT_TRUE(sdk->set("ns:app:k", bytes_of("v"), 60s));  // L1-Status sent, so accepted
  auto forbidden = sdk->set("nsapi:app:k", bytes_of("v"), 60s);
  ASSERT_FALSE(forbidden);
  EXPECT_EQ(forbidden.error().code, make_error_code(errc::backend_authentication));
  EXPECT_NE(forbidden.error().detail.find("403"), std::string::npos);
  auto api = make(options(cachekitio_server::api_key));
  EXPECT_FALSE(api->set("ns:app:k", bytes_of("v"), 60s));
  EXPECT_TRUE(api->get("ns:app:k").value().has_value());  // reads are open to every class
}

TEST_F(cachekitio_backend_test, each_failure_is_classified) {
  auto b = make();
  const auto code_of = [&](fault f) {
    server_->inject(std::move(f));
    auto got = b->get("k:f");
    server_->clear_faults();
    return got ? std::error_code{} : got.error().code;
  };
  EXPECT_EQ(code_of({.kind = fault_kind::status, .status = 500}), make_error_code(errc::transient));
  EXPECT_EQ(code_of({.kind = fault_kind::status, .status = 502}), make_error_code(errc::transient));
  EXPECT_EQ(code_of({.kind = fault_kind::status, .status = 503}), make_error_code(errc::transient));
  EXPECT_EQ(code_of({.kind = fault_kind::status, .status = 429}), make_error_code(errc::transient));
  EXPECT_EQ(code_of({.kind = fault_kind::status, .status = 400}),
            make_error_code(errc::backend_permanent));
  EXPECT_EQ(code_of({.kind = fault_kind::status, .status = 405}),
            make_error_code(errc::backend_permanent));
  EXPECT_EQ(code_of({.kind = fault_kind::status, .status = 401}),
            make_error_code(errc::backend_authentication));
  EXPECT_EQ(code_of({.kind = fault_kind::status, .status = 403}),
            make_error_code(errc::backend_authentication));
  EXPECT_EQ(code_of({.kind = fault_kind::status, .status = 302}),
            make_error_code(errc::backend_permanent));
  EXPECT_EQ(code_of({.kind = fault_kind::truncate}), make_error_code(errc::transient));
  EXPECT_EQ(code_of({.kind = fault_kind::malformed}), make_error_code(errc::transient));
  // A miss is no error.
  EXPECT_EQ(code_of({.kind = fault_kind::status, .status = 404}), std::error_code{});

  server_->set_max_value_bytes(10);
  auto too_large = b->set("k:big", bytes_of("more than ten bytes"), 60s);
  ASSERT_FALSE(too_large);
  EXPECT_EQ(too_large.error().code, make_error_code(errc::backend_permanent));
  EXPECT_NE(too_large.error().detail.find("too large"), std::string::npos);

  // Nobody listening: transient, at once.
  auto port = server_->port();
  auto o = options();
  server_.reset();
  o.api_url = std::string("https://") + cachekitio_server::host + ":" + std::to_string(port);
  o.resolve = {std::string(cachekitio_server::host) + ":" + std::to_string(port) + ":127.0.0.1"};
  auto refused = make(o)->get("k:f");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, make_error_code(errc::transient));
}

TEST_F(cachekitio_backend_test, a_slow_server_is_a_timeout) {
  auto o = options();
  o.timeout = 300ms;
  auto b = make(o);
  server_->inject({.kind = fault_kind::delay, .delay = 1500ms});
  auto got = b->get("k:slow");
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, make_error_code(errc::timeout));
}

TEST_F(cachekitio_backend_test, an_untrusted_certificate_is_transient_and_says_why) {
  auto o = options();
  o.ca_file = certificates_->other_ca_cert().string();
  auto got = make(o)->get("k:tls");
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, make_error_code(errc::transient));
  EXPECT_NE(got.error().detail.find("certificate"), std::string::npos);
}

TEST_F(cachekitio_backend_test, retries_follow_retry_after_and_are_counted) {
  auto b = make();
  // 503 to a PUT with a short Retry-After: sent again (cachekit-py's write retry).
  server_->inject({.kind = fault_kind::status, .status = 503, .retry_after = "0", .times = 1});
  ASSERT_TRUE(b->set("k:r", bytes_of("v"), 60s));
  EXPECT_EQ(b->retries_sent(), 1U);
  EXPECT_EQ(server_->requests().size(), 2U);

  // 503 to a GET: not retried here (the reliability layer's retry decides).
  server_->clear_requests();
  server_->inject({.kind = fault_kind::status, .status = 503, .retry_after = "0"});
  EXPECT_FALSE(b->get("k:r"));
  EXPECT_EQ(b->retries_sent(), 1U);
  EXPECT_EQ(server_->requests().size(), 1U);

  // 503 to a write with a long Retry-After (the rate limiter's): honoured by not retrying.
  server_->inject({.kind = fault_kind::status, .status = 503, .retry_after = "10"});
  EXPECT_FALSE(b->set("k:r", bytes_of("v"), 60s));
  EXPECT_EQ(b->retries_sent(), 1U);

  // 429 with Retry-After inside the time budget: waited out, any method.
  server_->inject({.kind = fault_kind::status, .status = 429, .retry_after = "1", .times = 1});
  auto got = b->get("k:r");
  ASSERT_TRUE(got) << got.error().detail;
  EXPECT_EQ(b->retries_sent(), 2U);

  // 429 without Retry-After (a quota deny) or past the budget: not retried.
  server_->inject({.kind = fault_kind::status, .status = 429});
  EXPECT_FALSE(b->get("k:r"));
  server_->inject({.kind = fault_kind::status, .status = 429, .retry_after = "60"});
  EXPECT_FALSE(b->get("k:r"));
  EXPECT_EQ(b->retries_sent(), 2U);

  // At most max_retries retries.
  server_->clear_faults();
  server_->clear_requests();
  auto o = options();
  o.max_retries = 2;
  auto limited = make(o);
  server_->inject({.kind = fault_kind::status, .status = 503, .retry_after = "0", .times = 10});
  auto failed = limited->set("k:r", bytes_of("v"), 60s);
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, make_error_code(errc::transient));
  EXPECT_EQ(limited->retries_sent(), 2U);
  EXPECT_EQ(limited->requests_sent(), 3U);
  EXPECT_EQ(server_->requests().size(), 3U);
}

TEST_F(cachekitio_backend_test, the_api_key_is_in_no_url_error_health_detail_or_log_line) {
  std::mutex mutex;
  std::vector<std::string> lines;
  set_log_sink([&](const log_record& r) {
    std::lock_guard<std::mutex> hold(mutex);
    lines.push_back(std::string(r.event) + ": " + std::string(r.message));
  });
  const std::string secret = "ck_live_TOPSECRETKEY123";
  const std::string secret_part = "TOPSECRETKEY123";
  std::vector<std::string> texts;
  {
    // Wrong key: 401 on every operation, then every failure mode with a valid-looking key.
    auto wrong = make(options(secret));
    texts.push_back(wrong->get("k:s").error().detail);
    texts.push_back(wrong->set("k:s", bytes_of("v"), 60s).error().detail);
    texts.push_back(wrong->ttl("k:s").error().detail);
    texts.push_back(wrong->try_lock("k:s", 100ms).error().detail);
    for (const auto& [k, v] : wrong->health().details) texts.push_back(k + "=" + v);
    for (auto kind : {fault_kind::truncate, fault_kind::malformed}) {
      server_->inject({.kind = kind});
      texts.push_back(wrong->get("k:s").error().detail);
    }
    // A cache over it logs its first L2 error.
    cache_options co;
    co.l2 = wrong;
    cache c(std::move(co));
    auto m = c.memoize("it.cachekitio.secret", [](int x) { return x + 1; }, {.ttl = 60s});
    EXPECT_EQ(m(1), 2);
  }
  {
    auto bad_url = options(secret);
    bad_url.api_url = "http://api.cachekit.test";
    texts.push_back(cachekitio_backend::create(bad_url).error().detail);
    auto bad_key = options(secret + "\n");
    texts.push_back(cachekitio_backend::create(bad_key).error().detail);
  }
  set_log_sink(stderr_log_sink());
  for (const auto& r : server_->requests()) texts.push_back(r.target);
  {
    std::lock_guard<std::mutex> hold(mutex);
    texts.insert(texts.end(), lines.begin(), lines.end());
    EXPECT_FALSE(lines.empty());  // the cache did log the failure
  }
  ASSERT_FALSE(texts.empty());
  for (const auto& t : texts) EXPECT_EQ(t.find(secret_part), std::string::npos) << t;
}

TEST_F(cachekitio_backend_test, a_forked_child_opens_its_own_connections) {
  if (CACHEKIT_TESTS_FORK_WITH_THREADS_UNSUPPORTED) GTEST_SKIP() << "sanitizer and fork";
  auto b = make();
  ASSERT_TRUE(b->set("k:fork", bytes_of("parent"), 60s));
  EXPECT_EQ(server_->connections_accepted(), 1U);
  testing::forked_child child([&](int) {
    auto got = b->get("k:fork");
    if (!got || !*got || text_of(**got) != "parent") return 1;
    if (!b->set("k:fork", bytes_of("child"), 60s)) return 2;
    return 0;
  });
  const auto outcome = child.finish(10s);
  EXPECT_FALSE(outcome.timed_out);
  EXPECT_EQ(outcome.exit_code, 0);
  EXPECT_EQ(server_->connections_accepted(), 2U);  // the child's own connection
  // The parent's connection still works (the child wrote nothing on it).
  auto got = b->get("k:fork");
  ASSERT_TRUE(got) << got.error().detail;
  EXPECT_EQ(text_of(**got), "child");
  EXPECT_EQ(server_->connections_accepted(), 2U);
}

TEST_F(cachekitio_backend_test, cache_and_memoize_end_to_end_with_the_l1_bound) {
  auto l2 = make();
  manual_clock clock;
  std::atomic<int> calls{0};
  const auto twice = [&](int x) {
    ++calls;
    return x * 2;
  };
  const auto make_cache = [&](bool swr = true) {
    cache_options o;
    o.l2 = l2;
    o.clock = &clock;
    o.swr.enabled = swr;
    return cache(std::move(o));
  };
  auto writer = make_cache();
  auto w = writer.memoize("it.cachekitio.twice", twice, {.ttl = 300s});
  EXPECT_EQ(w(21), 42);
  EXPECT_EQ(calls, 1);
  ASSERT_EQ(server_->keys().size(), 1U);
  const std::string key = server_->keys()[0];
  const auto written = server_->requests();
  const auto put =
      std::find_if(written.begin(), written.end(), [](const auto& q) { return q.method == "PUT"; });
  ASSERT_NE(put, written.end());
  EXPECT_EQ(put->header("x-cachekit-ttl"), "300");

  // Near the end of the server's freshness: the reader's L1 copy lives only as long.
  server_->advance(290s);
  auto reader = make_cache();
  auto r = reader.memoize("it.cachekitio.twice", twice, {.ttl = 300s});
  EXPECT_EQ(r(21), 42);
  EXPECT_EQ(r(21), 42);
  EXPECT_EQ(r.info().l2_hits, 1U);
  EXPECT_EQ(r.info().l1_hits, 1U);
  clock.advance(12s);  // past Fresh-For (about 10 s), well inside the 300 s TTL
  EXPECT_EQ(r(21), 42);
  EXPECT_EQ(r.info().l2_hits, 2U);  // the L1 copy had expired
  EXPECT_EQ(calls, 1);

  // A stale read is served but never copied to L1 (refreshes: the next test).
  server_->put(key, *server_->stored(key), 10, 600);
  server_->advance(20s);
  auto stale_reader = make_cache(false);
  auto s = stale_reader.memoize("it.cachekitio.twice", twice, {.ttl = 300s});
  server_->clear_requests();
  EXPECT_EQ(s(21), 42);
  EXPECT_EQ(s(21), 42);
  EXPECT_EQ(s.info().l1_hits, 0U);
  const auto requests = server_->requests();
  const auto gets = std::count_if(requests.begin(), requests.end(), [](const auto& q) {
    return q.method == "GET" && q.target.find("/lock") == std::string::npos;
  });
  EXPECT_GE(gets, 2);  // each call read L2 again
}

TEST_F(cachekitio_backend_test, a_stale_read_is_served_at_once_and_refreshed_with_a_new_window) {
  auto o = options();
  o.stale_while_revalidate = true;
  auto l2 = make(o);
  std::atomic<int> calls{0};
  testing::call_gate held;
  const auto versioned = [&](int x) {
    const int n = ++calls;
    held.pass();
    return x * 100 + n;
  };
  cache writer({.l2 = l2, .l1_enabled = false});
  auto w = writer.memoize("it.cachekitio.stale", versioned, {.ttl = 60s});
  EXPECT_EQ(w(7), 701);
  const auto written = server_->requests();
  const auto put =
      std::find_if(written.begin(), written.end(), [](const auto& q) { return q.method == "PUT"; });
  ASSERT_NE(put, written.end());
  EXPECT_EQ(put->header("x-cachekit-stale-ttl"), "60");
  server_->clear_requests();  // the writer's own, fill lock included

  server_->advance(90s);  // past the TTL, inside the grace window: served labelled stale
  cache reader({.l2 = l2});
  auto r = reader.memoize("it.cachekitio.stale", versioned, {.ttl = 60s});
  held.close();
  EXPECT_EQ(r(7), 701);  // at once: the refresh waits at the gate
  ASSERT_TRUE(held.wait_arrivals(2));
  EXPECT_EQ(r(7), 701);  // read again (never copied to L1), and no second refresh
  // The spec's revalidation flow: the lease first (taken before the function runs) ...
  const auto leased = server_->requests();
  EXPECT_EQ(std::count_if(leased.begin(), leased.end(),
                          [](const auto& q) {
                            return q.method == "POST" &&
                                   q.target.find("/lock") != std::string::npos;
                          }),
            1);
  server_->clear_requests();
  held.open();
  ASSERT_TRUE(reader.wait_for_refreshes(testing::call_gate::generous));
  EXPECT_EQ(calls.load(), 2);
  EXPECT_EQ(r.info().refreshes, 1U);
  // ... then the PUT with a new window, then the lease released.
  const auto refreshed = server_->requests();
  ASSERT_EQ(refreshed.size(), 2U);
  EXPECT_EQ(refreshed[0].method, "PUT");
  EXPECT_EQ(refreshed[0].header("x-cachekit-ttl"), "60");
  EXPECT_EQ(refreshed[0].header("x-cachekit-stale-ttl"), "60");  // a new window
  EXPECT_EQ(refreshed[1].method, "DELETE");
  EXPECT_NE(refreshed[1].target.find("/lock"), std::string::npos);
  server_->clear_requests();
  EXPECT_EQ(r(7), 702);  // the refresh's value, from L1
  EXPECT_TRUE(server_->requests().empty());

  // Past the refreshed entry's TTL and window, the server has nothing: a third process runs it.
  server_->advance(121s);
  cache third({.l2 = l2});
  auto t = third.memoize("it.cachekitio.stale", versioned, {.ttl = 60s});
  EXPECT_EQ(t(7), 703);
}

TEST_F(cachekitio_backend_test, a_stale_key_leased_by_another_client_is_not_recomputed_here) {
  auto o = options();
  o.stale_while_revalidate = true;
  auto l2 = make(o);
  std::atomic<int> calls{0};
  const auto counted = [&](int x) {
    ++calls;
    return x * 3;
  };
  cache writer({.l2 = l2, .l1_enabled = false});
  auto w = writer.memoize("it.cachekitio.leased", counted, {.ttl = 60s});
  EXPECT_EQ(w(5), 15);
  server_->advance(90s);
  auto other = make(o);  // another client, revalidating the key: it holds the lease
  auto lease = other->try_lock(w.key(5).value(), 30s);
  ASSERT_TRUE(lease && *lease);
  cache reader({.l2 = l2});
  auto r = reader.memoize("it.cachekitio.leased", counted, {.ttl = 60s});
  EXPECT_EQ(r(5), 15);  // served stale
  ASSERT_TRUE(reader.wait_for_refreshes(testing::call_gate::generous));
  EXPECT_EQ(calls.load(), 1);  // contention: serve stale, never wait or retry (API-62)
  EXPECT_EQ(r.info().refreshes, 0U);
  ASSERT_TRUE(other->release_lock(**lease));
  EXPECT_EQ(r(5), 15);  // the next stale read revalidates
  ASSERT_TRUE(reader.wait_for_refreshes(testing::call_gate::generous));
  EXPECT_EQ(calls.load(), 2);
}

// ---- the io preset (intent-presets.md) ---------------------------------------------------

TEST_F(cachekitio_backend_test, stale_while_revalidate_writes_a_grace_window_as_long_as_the_ttl) {
  auto o = options();
  o.stale_while_revalidate = true;
  auto b = make(o);
  ASSERT_TRUE(b->set("k:a", bytes_of("v"), 60s));
  ASSERT_TRUE(b->set("k:b", bytes_of("v"), 2000000s));  // capped: TTL + window <= 30 days
  ASSERT_TRUE(b->set("k:c", bytes_of("v"), 2592000s));  // no room left for a window
  ASSERT_TRUE(b->set("k:d", bytes_of("v"), std::nullopt));
  const auto requests = server_->requests();
  ASSERT_EQ(requests.size(), 4U);
  EXPECT_EQ(requests[0].header("x-cachekit-stale-ttl"), "60");
  EXPECT_EQ(requests[1].header("x-cachekit-stale-ttl"), "592000");
  EXPECT_FALSE(requests[2].header("x-cachekit-stale-ttl").has_value());
  EXPECT_FALSE(requests[3].header("x-cachekit-stale-ttl").has_value());
  // Without the preset's switch, no window.
  auto plain = make();
  server_->clear_requests();
  ASSERT_TRUE(plain->set("k:e", bytes_of("v"), 60s));
  EXPECT_FALSE(server_->requests()[0].header("x-cachekit-stale-ttl").has_value());
}

TEST(cachekitio_io_preset, io_cache_options_takes_the_argument_else_fails_saying_what_to_set) {
  ::unsetenv("CACHEKIT_API_KEY");  // NOLINT(concurrency-mt-unsafe): no other thread yet
  auto missing = io_cache_options();
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.code(), errc::invalid_configuration);
  EXPECT_NE(missing.error().detail.find("CACHEKIT_API_KEY"), std::string::npos);

  auto options = io_cache_options(cachekitio_server::live_key);
  ASSERT_TRUE(options.has_value()) << options.error().message();
  EXPECT_EQ(options->preset, intent::io);
  EXPECT_EQ(options->default_ttl, std::chrono::seconds{3600});
  EXPECT_TRUE(options->l1_enabled);
  EXPECT_TRUE(options->swr.enabled);
  ASSERT_NE(options->l2, nullptr);
  EXPECT_EQ(options->l2->type(), "cachekitio");
  EXPECT_TRUE(dynamic_cast<cachekitio_backend&>(*options->l2).writes_stale_window());
  EXPECT_TRUE(options->l2->labels_stale_entries());
  EXPECT_FALSE(options->encryption.has_value());
  cache c(std::move(*options));  // builds; no request is sent before the first call

  auto malformed = io_cache_options("ck_live_has a space");
  ASSERT_FALSE(malformed.has_value());
  EXPECT_EQ(malformed.error().message().find("has a space"), std::string::npos);
}

// The factory this header installs lets the core's from_env build the backend.
TEST(cachekitio_io_preset, from_env_builds_cachekit_io_for_the_io_preset_and_the_api_key) {
  std::map<std::string, std::string, std::less<>> vars{
      {"CACHEKIT_API_KEY", cachekitio_server::live_key}};
  const cache_options::env_lookup lookup = [&](std::string_view n) -> std::optional<std::string> {
    auto it = vars.find(n);
    return it == vars.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
  for (auto i : {intent::io, intent::production}) {
    auto options = cache_options::from_env(i, lookup);
    ASSERT_TRUE(options.has_value()) << options.error().message();
    ASSERT_NE(options->l2, nullptr);
    EXPECT_EQ(options->l2->type(), "cachekitio");
    // The grace window is the io preset's (cachekit-py's swr_by_default), not every preset's.
    EXPECT_EQ(dynamic_cast<cachekitio_backend&>(*options->l2).writes_stale_window(),
              i == intent::io);
  }
  EXPECT_EQ(cache_options::from_env(intent::io, lookup)->default_ttl, std::chrono::seconds{3600});

  vars["CACHEKIT_API_URL"] = "http://api.cachekit.io";
  auto refused = cache_options::from_env(intent::io, lookup);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.code(), errc::invalid_configuration);
  EXPECT_EQ(refused.error().message().find(cachekitio_server::live_key), std::string::npos);
}

}  // namespace
}  // namespace cachekit
