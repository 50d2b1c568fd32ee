// The cachekit.io backend (include/cachekit/cachekitio_backend.hpp): the API's requests, their
// retries and the classification of their outcomes into cachekit's error codes. The transport is
// http_client; the header grammar is freshness_headers; the URL and key checks are api_url.
#include <cachekit/cachekitio_backend.hpp>

#include "backends/cachekitio/api_url.hpp"
#include "backends/cachekitio/freshness_headers.hpp"
#include "backends/cachekitio/http_client.hpp"

#include <cachekit/error.hpp>
#include <cachekit/path_segment.hpp>
#include <cachekit/version.hpp>

#include <curl/curl.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <thread>

namespace cachekit {
inline namespace v0 {

using detail::http_request;
using detail::http_response;

namespace {

// A 503 to a write is retried only when the server asks for at most this long (cachekit-py's
// LAB-7686: a longer hint comes from the rate limiter and is honoured by not retrying).
constexpr long long max_write_retry_after_s = 2;

const std::string l1_status_header = "X-CacheKit-L1-Status: disabled";

result<std::string> key_path(std::string_view key, std::string_view suffix = {}) {
  auto segment = cache_key_path_segment(key);
  // A key no URL can carry is a refused key, as the server's 400 would be (cachekit-py raises
  // PERMANENT): errc::backend_permanent, with path_segment's reason, before any URL is built.
  if (!segment) return fail(errc::backend_permanent, "cachekit.io: " + segment.error().detail);
  std::string path = "/v1/cache/";
  path += *segment;
  path += suffix;
  return path;
}

failure status_failure(std::string_view operation, long status) {
  const std::string what =
      "cachekit.io " + std::string(operation) + ": HTTP " + std::to_string(status);
  if (status == 401) {
    return fail(errc::backend_authentication,
                what + " (the API key is unknown, revoked or malformed: check CACHEKIT_API_KEY)");
  }
  if (status == 403) {
    return fail(errc::backend_authentication,
                what + " (the API key may not do this on this key's namespace)");
  }
  if (status == 429) return fail(errc::transient, what + " (rate limited)");
  if (status >= 500 && status < 600) return fail(errc::transient, what + " (server error)");
  if (status == 413) {
    return fail(errc::backend_permanent,
                what + " (value too large: it exceeds the server's maximum value size)");
  }
  if (status == 409) {
    return fail(errc::backend_permanent,
                what + " (the entry is stale: refresh it with a new value, not a TTL change)");
  }
  if (status >= 400 && status < 500) return fail(errc::backend_permanent, what + " (client error)");
  return fail(errc::backend_permanent, what + " (unexpected status)");
}

failure transport_failure(std::string_view operation, int code) {
  const std::string what =
      "cachekit.io " + std::string(operation) + ": " + detail::http_client::describe(code);
  if (detail::http_client::is_timeout(code)) return fail(errc::timeout, what);
  if (code == CURLE_PEER_FAILED_VERIFICATION || code == CURLE_SSL_CACERT_BADFILE) {
    return fail(errc::transient,
                what + " (certificate verification failed: check the trust store or ca_file)");
  }
  if (code == CURLE_WRITE_ERROR) {
    return fail(errc::backend_permanent, what + " (response body too large)");
  }
  return fail(errc::transient, what);
}

bool is_success(long status) {
  return status >= 200 && status < 300;
}

}  // namespace

struct cachekitio_backend::impl {
  explicit impl(detail::http_client_options http, const cachekitio_options& o, std::string h)
      : client(std::move(http)), options(o), host(std::move(h)) {
    options.api_key.clear();  // kept only in the client's Authorization header
  }

  detail::http_client client;
  cachekitio_options options;
  std::string host;
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> retries{0};

  void add_common_headers(http_request& r) {
    const detail::http_session& s = client.session();
    r.headers.push_back(l1_status_header);
    r.headers.push_back("X-CacheKit-Session-ID: " + s.id);
    r.headers.push_back("X-CacheKit-Session-Start: " + s.start_millis);
  }

  // How long to wait before retrying `response` to `request`, or nullopt for no retry.
  std::optional<std::chrono::seconds> retry_delay(const http_request& request,
                                                  const http_response& response,
                                                  std::chrono::steady_clock::time_point started,
                                                  int retried) const {
    if (response.transport_error != 0 || retried >= options.max_retries) return std::nullopt;
    std::optional<long long> delay;
    if (response.status == 503 && (request.method == "PUT" || request.method == "DELETE")) {
      delay = detail::parse_retry_after(response.header("retry-after"), max_write_retry_after_s);
    } else if (response.status == 429) {
      delay = detail::parse_retry_after(response.header("retry-after"),
                                        detail::cachekitio_max_ttl_seconds);
    }
    if (!delay) return std::nullopt;
    const auto wait = std::chrono::seconds{*delay};
    // The wait must end within the request's time budget: a caller never blocks much past it.
    if (std::chrono::steady_clock::now() + wait > started + options.timeout) return std::nullopt;
    return wait;
  }

  http_response send(http_request request) {
    add_common_headers(request);
    const auto started = std::chrono::steady_clock::now();
    int retried = 0;
    while (true) {
      requests.fetch_add(1, std::memory_order_relaxed);
      http_response response = client.perform(request);
      auto delay = retry_delay(request, response, started, retried);
      if (!delay) return response;
      ++retried;
      retries.fetch_add(1, std::memory_order_relaxed);
      std::this_thread::sleep_for(*delay);
    }
  }

  std::vector<http_response> send_many(std::vector<http_request> batch) {
    for (auto& r : batch) add_common_headers(r);
    const auto started = std::chrono::steady_clock::now();
    requests.fetch_add(batch.size(), std::memory_order_relaxed);
    std::vector<http_response> responses = client.perform_many(batch);
    // Retried one at a time: a retry is rare, and waits for the server's own delay anyway.
    for (std::size_t i = 0; i < batch.size(); ++i) {
      int retried = 0;
      while (auto delay = retry_delay(batch[i], responses[i], started, retried)) {
        ++retried;
        retries.fetch_add(1, std::memory_order_relaxed);
        std::this_thread::sleep_for(*delay);
        requests.fetch_add(1, std::memory_order_relaxed);
        responses[i] = client.perform(batch[i]);
      }
    }
    return responses;
  }

  // The outcome of a request that must succeed; a 404 is accepted when `miss_on_404`.
  static result<void> check(std::string_view operation, const http_response& r, bool miss_on_404) {
    if (r.transport_error != 0) return transport_failure(operation, r.transport_error);
    if (is_success(r.status) || (miss_on_404 && r.status == 404)) return {};
    return status_failure(operation, r.status);
  }

  static std::optional<timed_value> timed(http_response& r) {
    timed_value v;
    v.value.assign(reinterpret_cast<const std::byte*>(r.body.data()),
                   reinterpret_cast<const std::byte*>(r.body.data()) + r.body.size());
    const auto freshness = r.header("x-cachekit-freshness");
    const auto fresh_for_text = r.header("x-cachekit-fresh-for");
    if (detail::is_stale_freshness(freshness)) {
      v.remaining = ttl_seconds{std::chrono::seconds{0}};  // served, never copied to L1
      v.stale = true;                                      // and refreshed (cache_options::swr)
    } else if (auto fresh_for = detail::parse_fresh_for(fresh_for_text)) {
      v.remaining = ttl_seconds{std::chrono::seconds{*fresh_for}};
    } else {
      v.remaining = ttl_seconds{std::nullopt};  // no server-side bound: the L1's own TTL
    }
    return v;
  }

  result<http_request> put_request(std::string_view key, byte_view value, ttl_seconds ttl) {
    auto path = key_path(key);
    if (!path) return std::move(path).error();
    http_request r{.method = "PUT", .path = std::move(*path), .headers = {}, .body = value};
    r.headers.emplace_back("Content-Type: application/octet-stream");
    if (ttl) {
      if (ttl->count() > detail::cachekitio_max_ttl_seconds) {
        return fail(errc::backend_permanent,
                    "cachekit.io set: a TTL of " + std::to_string(ttl->count()) +
                        " s is above the API's maximum of 2592000 s (30 days); use a shorter TTL "
                        "or none");
      }
      r.headers.push_back("X-CacheKit-TTL: " + std::to_string(ttl->count()));
      // The grace window: as long as the TTL, within the 30-day cap on both together.
      const long long window =
          std::min<long long>(ttl->count(), detail::cachekitio_max_ttl_seconds - ttl->count());
      if (options.stale_while_revalidate && ttl->count() > 0 && window > 0) {
        r.headers.push_back("X-CacheKit-Stale-TTL: " + std::to_string(window));
      }
    }
    return r;
  }
};

result<cachekitio_options> cachekitio_options::from_env() {
  return from_env([](std::string_view name) -> std::optional<std::string> {
    // NOLINTNEXTLINE(concurrency-mt-unsafe): read at setup
    const char* v = std::getenv(std::string(name).c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  });
}

result<cachekitio_options> cachekitio_options::from_env(
    const std::function<std::optional<std::string>(std::string_view name)>& lookup) {
  cachekitio_options o;
  const auto env = [&lookup](const char* name) -> std::optional<std::string> {
    if (!lookup) return std::nullopt;
    return lookup(name);
  };
  if (auto v = env("CACHEKIT_API_KEY")) o.api_key = *v;
  if (auto v = env("CACHEKIT_API_URL"); v && !v->empty()) o.api_url = *v;
  if (auto v = env("CACHEKIT_ALLOW_CUSTOM_HOST"); v && !v->empty()) {
    std::string s = *v;
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (s == "1" || s == "true" || s == "yes" || s == "on") {
      o.allow_custom_host = true;
    } else if (s == "0" || s == "false" || s == "no" || s == "off") {
      o.allow_custom_host = false;
    } else {
      return fail(errc::invalid_configuration, "CACHEKIT_ALLOW_CUSTOM_HOST must be true or false");
    }
  }
  if (auto v = env("CACHEKIT_TIMEOUT"); v && !v->empty()) {
    char* end = nullptr;
    const double seconds = std::strtod(v->c_str(), &end);
    if (end == v->c_str() || *end != '\0' || !(seconds > 0) || seconds > 86400) {
      return fail(errc::invalid_configuration,
                  "CACHEKIT_TIMEOUT must be a number of seconds above 0 (e.g. 5 or 0.5)");
    }
    o.timeout =
        std::chrono::milliseconds{std::max<long long>(1, static_cast<long long>(seconds * 1000))};
  }
  const auto read_count = [&](const char* name, long long min, long long& out) -> result<void> {
    auto v = env(name);
    if (!v || v->empty()) return {};
    char* end = nullptr;
    const long long n = std::strtoll(v->c_str(), &end, 10);
    if (end == v->c_str() || *end != '\0' || n < min || n > 100000) {
      return fail(errc::invalid_configuration,
                  std::string(name) + " must be a whole number of at least " + std::to_string(min));
    }
    out = n;
    return {};
  };
  long long retries = o.max_retries;
  if (auto r = read_count("CACHEKIT_MAX_RETRIES", 0, retries); !r) return r.error();
  o.max_retries = static_cast<int>(retries);
  long long pool = static_cast<long long>(o.connection_pool_size);
  if (auto r = read_count("CACHEKIT_CONNECTION_POOL_SIZE", 1, pool); !r) return r.error();
  o.connection_pool_size = static_cast<std::size_t>(pool);
  return o;
}

result<std::shared_ptr<cachekitio_backend>> cachekitio_backend::create(
    const cachekitio_options& options) {
  if (auto key = detail::check_api_key(options.api_key); !key) return key.error();
  auto url = detail::check_api_url(options.api_url, options.allow_custom_host);
  if (!url) return std::move(url).error();
  if (options.timeout <= std::chrono::milliseconds::zero()) {
    return fail(errc::invalid_configuration, "cachekit.io timeout must be above 0");
  }
  if (options.max_retries < 0) {
    return fail(errc::invalid_configuration, "cachekit.io max_retries must be 0 or more");
  }
  if (options.connection_pool_size == 0) {
    return fail(errc::invalid_configuration, "cachekit.io connection_pool_size must be at least 1");
  }
  detail::http_client_options http;
  http.origin = url->origin;
  http.path_prefix = url->path;
  http.authorization_header = "Authorization: Bearer " + options.api_key;
  http.user_agent =
      options.user_agent_prefix.empty() ? std::string{} : options.user_agent_prefix + " ";
  http.user_agent +=
      std::string("cachekit-cpp/") + CACHEKIT_VERSION_STRING + " libcurl/" + LIBCURL_VERSION;
  http.timeout = options.timeout;
  http.pool_size = options.connection_pool_size;
  http.ca_file = options.ca_file;
  http.resolve = options.resolve;
  auto state = std::make_unique<impl>(std::move(http), options, url->host);
  return std::shared_ptr<cachekitio_backend>(new cachekitio_backend(std::move(state)));
}

cachekitio_backend::cachekitio_backend(std::unique_ptr<impl> state) : impl_(std::move(state)) {}
cachekitio_backend::~cachekitio_backend() = default;

std::uint64_t cachekitio_backend::requests_sent() const noexcept {
  return impl_->requests.load(std::memory_order_relaxed);
}
std::uint64_t cachekitio_backend::retries_sent() const noexcept {
  return impl_->retries.load(std::memory_order_relaxed);
}
bool cachekitio_backend::writes_stale_window() const noexcept {
  return impl_->options.stale_while_revalidate;
}

result<std::optional<byte_buffer>> cachekitio_backend::get(std::string_view key) {
  auto got = get_with_ttl(key);
  if (!got) return std::move(got).error();
  if (!*got) return std::optional<byte_buffer>{};
  return std::optional<byte_buffer>{std::move((*got)->value)};
}

result<std::optional<timed_value>> cachekitio_backend::get_with_ttl(std::string_view key) {
  auto path = key_path(key);
  if (!path) return std::move(path).error();
  http_response r =
      impl_->send({.method = "GET", .path = std::move(*path), .headers = {}, .body = {}});
  if (auto ok = impl::check("get", r, true); !ok) return ok.error();
  if (r.status == 404) return std::optional<timed_value>{};
  return impl::timed(r);
}

result<void> cachekitio_backend::set(std::string_view key, byte_view value, ttl_seconds ttl) {
  if (ttl && ttl->count() <= 0) {  // already expired (backend.hpp): remove any older value
    auto erased = erase(key);
    if (!erased) return std::move(erased).error();
    return {};
  }
  auto request = impl_->put_request(key, value, ttl);
  if (!request) return std::move(request).error();
  http_response r = impl_->send(std::move(*request));
  return impl::check("set", r, false);
}

result<bool> cachekitio_backend::erase(std::string_view key) {
  auto path = key_path(key);
  if (!path) return std::move(path).error();
  http_response r =
      impl_->send({.method = "DELETE", .path = std::move(*path), .headers = {}, .body = {}});
  if (auto ok = impl::check("erase", r, false); !ok) return ok.error();
  return true;
}

result<bool> cachekitio_backend::exists(std::string_view key) {
  auto path = key_path(key);
  if (!path) return std::move(path).error();
  http_response r =
      impl_->send({.method = "HEAD", .path = std::move(*path), .headers = {}, .body = {}});
  if (auto ok = impl::check("exists", r, true); !ok) return ok.error();
  return r.status != 404;
}

result<std::vector<std::optional<byte_buffer>>> cachekitio_backend::get_many(
    std::span<const std::string_view> keys) {
  auto timed = get_many_with_ttl(keys);
  if (!timed) return std::move(timed).error();
  std::vector<std::optional<byte_buffer>> out;
  out.reserve(timed->size());
  for (auto& one : *timed) {
    if (one) {
      out.emplace_back(std::move(one->value));
    } else {
      out.emplace_back(std::nullopt);
    }
  }
  return out;
}

result<std::vector<std::optional<timed_value>>> cachekitio_backend::get_many_with_ttl(
    std::span<const std::string_view> keys) {
  std::vector<http_request> batch;
  batch.reserve(keys.size());
  for (std::string_view key : keys) {  // every key is checked before anything is sent
    auto path = key_path(key);
    if (!path) return std::move(path).error();
    batch.push_back({.method = "GET", .path = std::move(*path), .headers = {}, .body = {}});
  }
  std::vector<http_response> responses = impl_->send_many(std::move(batch));
  std::vector<std::optional<timed_value>> out;
  out.reserve(responses.size());
  for (http_response& r : responses) {
    if (auto ok = impl::check("get_many", r, true); !ok) return ok.error();
    out.push_back(r.status == 404 ? std::nullopt : impl::timed(r));
  }
  return out;
}

result<void> cachekitio_backend::set_many(std::span<const write_request> writes) {
  std::vector<http_request> batch;
  batch.reserve(writes.size());
  for (const write_request& w : writes) {
    if (w.ttl && w.ttl->count() <= 0) {
      auto path = key_path(w.key);
      if (!path) return std::move(path).error();
      batch.push_back({.method = "DELETE", .path = std::move(*path), .headers = {}, .body = {}});
      continue;
    }
    auto request = impl_->put_request(w.key, w.value, w.ttl);
    if (!request) return std::move(request).error();
    batch.push_back(std::move(*request));
  }
  std::vector<http_response> responses = impl_->send_many(std::move(batch));
  for (const http_response& r : responses) {
    if (auto ok = impl::check("set_many", r, false); !ok) return ok;
  }
  return {};
}

result<remaining_ttl> cachekitio_backend::ttl(std::string_view key) {
  auto path = key_path(key, "/ttl");
  if (!path) return std::move(path).error();
  http_response r =
      impl_->send({.method = "GET", .path = std::move(*path), .headers = {}, .body = {}});
  if (auto ok = impl::check("ttl", r, true); !ok) return ok.error();
  if (r.status == 404) return remaining_ttl{};
  const auto parsed = nlohmann::json::parse(r.body, nullptr, false);
  if (!parsed.is_object() || !parsed.contains("ttl")) {
    return fail(errc::transient, "cachekit.io ttl: the response is not {\"ttl\": ...}");
  }
  const auto& t = parsed["ttl"];
  if (t.is_null()) return remaining_ttl{.exists = true, .ttl = std::nullopt};
  if (!t.is_number_integer()) {
    return fail(errc::transient, "cachekit.io ttl: \"ttl\" is neither a whole number nor null");
  }
  return remaining_ttl{.exists = true, .ttl = std::chrono::seconds{t.get<long long>()}};
}

result<bool> cachekitio_backend::touch(std::string_view key, ttl_seconds ttl) {
  if (!ttl) {
    return fail(errc::not_supported,
                "cachekit.io cannot remove an entry's expiry: store it again without a TTL");
  }
  if (ttl->count() <= 0) {  // expires now: remove it, reporting whether it was there
    auto existed = exists(key);
    if (!existed) return existed;
    if (!*existed) return false;
    auto erased = erase(key);
    if (!erased) return std::move(erased).error();
    return true;
  }
  if (ttl->count() > detail::cachekitio_max_ttl_seconds) {
    return fail(errc::backend_permanent,
                "cachekit.io touch: a TTL above 2592000 s (30 days) is refused by the API");
  }
  auto path = key_path(key, "/ttl");
  if (!path) return std::move(path).error();
  const std::string body = "{\"ttl\": " + std::to_string(ttl->count()) + "}";
  http_response r = impl_->send({.method = "PATCH",
                                 .path = std::move(*path),
                                 .headers = {"Content-Type: application/json"},
                                 .body = as_byte_view(body)});
  if (auto ok = impl::check("touch", r, false); !ok) return ok.error();
  // A PATCH on an absent key is a no-op 200: existence comes from HEAD.
  return exists(key);
}

result<std::optional<lock_token>> cachekitio_backend::try_lock(std::string_view key,
                                                               std::chrono::milliseconds timeout) {
  auto path = key_path(key, "/lock");
  if (!path) return std::move(path).error();
  const long long ms = std::max<long long>(1, timeout.count());
  const std::string body = "{\"timeout_ms\": " + std::to_string(ms) + "}";
  http_response r = impl_->send({.method = "POST",
                                 .path = std::move(*path),
                                 .headers = {"Content-Type: application/json"},
                                 .body = as_byte_view(body)});
  if (r.transport_error == 0 && r.status == 409) return std::optional<lock_token>{};  // legacy
  if (auto ok = impl::check("try_lock", r, false); !ok) return ok.error();
  // Contention is a null or absent lock_id, never a status (spec LAB-240).
  const auto parsed = nlohmann::json::parse(r.body, nullptr, false);
  if (!parsed.is_object() || !parsed.contains("lock_id") || !parsed["lock_id"].is_string() ||
      parsed["lock_id"].get<std::string>().empty()) {
    return std::optional<lock_token>{};
  }
  return std::optional<lock_token>{
      lock_token{.key = std::string(key), .value = parsed["lock_id"].get<std::string>()}};
}

result<bool> cachekitio_backend::release_lock(const lock_token& token) {
  auto path = key_path(token.key, "/lock");
  if (!path) return std::move(path).error();
  if (token.value.find_first_of("\r\n") != std::string::npos) {
    return fail(errc::invalid_argument, "cachekit.io release_lock: the lock id holds a line break");
  }
  http_response r = impl_->send({.method = "DELETE",
                                 .path = std::move(*path),
                                 .headers = {"X-CacheKit-Lock-Id: " + token.value},
                                 .body = {}});
  if (auto ok = impl::check("release_lock", r, false); !ok) return ok.error();
  return true;
}

backend_health cachekitio_backend::health() {
  backend_health h;
  h.backend_type = "cachekitio";
  h.details["api_host"] = impl_->host;
  const auto started = std::chrono::steady_clock::now();
  http_response r =
      impl_->send({.method = "GET", .path = "/v1/cache/health", .headers = {}, .body = {}});
  const auto elapsed = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - started);
  if (auto ok = impl::check("health", r, false); !ok) {
    h.details["error"] = ok.error().detail;
    return h;
  }
  const auto parsed = nlohmann::json::parse(r.body, nullptr, false);
  if (!parsed.is_object()) {
    h.details["error"] = "cachekit.io health: the response is not a JSON object";
    return h;
  }
  for (const char* field : {"status", "cache_entries", "active_locks", "version"}) {
    if (!parsed.contains(field)) continue;
    const auto& v = parsed[field];
    h.details[field] = v.is_string() ? v.get<std::string>() : v.dump();
  }
  h.healthy = !parsed.contains("status") || h.details["status"] == "ok";
  h.latency = elapsed;
  return h;
}

result<std::shared_ptr<backend>> make_cachekitio_backend(const cachekitio_options& options) {
  auto made = cachekitio_backend::create(options);
  if (!made) return std::move(made).error();
  return std::shared_ptr<backend>(std::move(*made));
}

}  // namespace v0
}  // namespace cachekit
