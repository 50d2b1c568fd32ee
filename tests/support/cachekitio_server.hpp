// An in-process cachekit.io API server for the cachekit.io backend's tests: HTTP/1.1 over TLS
// (OpenSSL, the server certificate of support/tls_certificates, reached as api.cachekit.test
// through curl's --resolve) on a free loopback port, one thread per connection, keep-alive.
//
// It implements the API of spec/saas-api.md on stored entries: GET/HEAD/PUT/DELETE of
// /v1/cache/{key} with X-CacheKit-TTL (or X-TTL) and X-CacheKit-Stale-TTL, X-CacheKit-Freshness
// and X-CacheKit-Fresh-For from whole-second stamping, GET/PATCH .../ttl, POST/DELETE .../lock
// with X-CacheKit-Lock-Id, GET /v1/cache/health, OPTIONS 204; authentication by the accepted
// keys (401 otherwise), X-CacheKit-L1-Status required for ck_sdk_ keys (400), the write-space
// split (403), the key decoded once and checked against [A-Za-z0-9_.:-] (400), 405 with Allow,
// 413 above `max_value_bytes`. Its clock is real seconds plus what `advance` added.
//
// Faults, each for the next `times` requests (optionally only those of one method): an error
// status with an optional Retry-After, a delay before answering, a truncated body
// (Content-Length larger than what is sent, then close) and a malformed response. Every request
// is recorded (method, raw target, headers).
//
// Thread-safe; start it from the test's thread.
#pragma once

#include "support/tls_certificates.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace cachekit::testing {

class cachekitio_server {
 public:
  static constexpr const char* host = "api.cachekit.test";
  static constexpr const char* live_key = "ck_live_test0123456789";
  static constexpr const char* sdk_key = "ck_sdk_test0123456789";
  static constexpr const char* api_key = "ck_api_test0123456789";

  struct recorded_request {
    std::string method;
    std::string target;  // the raw request target, as received
    std::vector<std::pair<std::string, std::string>> headers;  // names lowercased
    std::string body;
    [[nodiscard]] std::optional<std::string> header(const std::string& lowercase_name) const;
  };

  enum class fault_kind { status, delay, truncate, malformed };
  struct fault {
    fault_kind kind = fault_kind::status;
    int status = 503;
    std::string retry_after;  // empty: no Retry-After header
    std::chrono::milliseconds delay{0};
    int times = 1;
    std::string method;  // empty: any method
  };

  // Throws std::runtime_error when the socket or TLS setup fails.
  static std::unique_ptr<cachekitio_server> start(const tls_certificates& certificates);
  ~cachekitio_server();
  cachekitio_server(const cachekitio_server&) = delete;
  cachekitio_server& operator=(const cachekitio_server&) = delete;

  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
  // "https://api.cachekit.test:<port>"
  [[nodiscard]] std::string url() const;
  // "api.cachekit.test:<port>:127.0.0.1", for cachekitio_options::resolve.
  [[nodiscard]] std::string resolve_entry() const;

  // Moves the server's clock forward.
  void advance(std::chrono::seconds by);
  // Adds a fault (see the file comment).
  void inject(fault f);
  void clear_faults();
  // Values above this answer 413 (default 25 MB).
  void set_max_value_bytes(std::size_t bytes);

  // Stores an entry directly (ttl/stale in seconds, as a PUT would).
  void put(const std::string& key, const std::string& value, std::optional<long long> ttl = {},
           std::optional<long long> stale_ttl = {});
  // The stored bytes of `key` (evicted entries included until read), nullopt when absent.
  [[nodiscard]] std::optional<std::string> stored(const std::string& key) const;
  // The stored keys (decoded), sorted.
  [[nodiscard]] std::vector<std::string> keys() const;
  // Empties the store and the locks.
  void flush();

  [[nodiscard]] std::vector<recorded_request> requests() const;
  void clear_requests();
  [[nodiscard]] std::size_t connections_accepted() const;

  struct state;

 private:
  cachekitio_server() = default;
  std::unique_ptr<state> state_;
  std::uint16_t port_ = 0;
};

}  // namespace cachekit::testing
