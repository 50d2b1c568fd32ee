// The cachekit.io backend's HTTP transport: libcurl easy handles over one curl share (the
// connection cache, TLS sessions and DNS), so every thread and every concurrent batch reuses the
// same pooled connections. `perform` sends one request; `perform_many` sends several at once on a
// curl multi handle, one round trip of wall-clock time.
//
// It knows nothing of the API: no retries, no status classification (cachekitio_backend.cpp
// does both). Transport failures are reported as the curl code, never as curl's error text,
// which can quote the URL (and with it the cache key).
//
// Fork safety: all curl state belongs to the process that made it. A forked child finds the
// parent's state (checked by PID on every request) and makes its own; the parent's handles are
// abandoned in the child, never cleaned up, so the child writes nothing on the parent's
// connections or TLS sessions (cachekit-py does the same with its per-PID client lease).
//
// Thread-safe.
#pragma once

#include <cachekit/bytes.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cachekit {
inline namespace v0 {
namespace detail {

struct http_client_options {
  std::string origin;                // "https://host[:port]"
  std::string path_prefix;           // the API URL's own path, "" or "/prefix"
  std::string authorization_header;  // "Authorization: Bearer ..." (secret)
  std::string user_agent;
  std::chrono::milliseconds timeout{5000};
  std::size_t pool_size = 32;  // cachekitio_options::connection_pool_size
  std::string ca_file;
  std::vector<std::string> resolve;
};

struct http_request {
  std::string_view method;           // GET HEAD PUT POST PATCH DELETE
  std::string path;                  // from "/v1/cache/", already percent-encoded
  std::vector<std::string> headers;  // extra "Name: value" lines
  std::optional<byte_view> body;     // sent for PUT, POST, PATCH
};

struct http_response {
  int transport_error = 0;  // a CURLcode; 0: the response below is complete
  long status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // names lowercased
  // A header's value; repeated lines are joined with ", " (RFC 9110 §5.3). nullopt: absent.
  [[nodiscard]] std::optional<std::string> header(std::string_view lowercase_name) const;
};

// The process-scoped session of the metrics headers (X-CacheKit-Session-ID / -Start): made on
// first use in each process.
struct http_session {
  std::string id;            // a random UUID (version 4)
  std::string start_millis;  // milliseconds since the epoch
};

class http_client {
 public:
  explicit http_client(http_client_options options);
  ~http_client();
  http_client(const http_client&) = delete;
  http_client& operator=(const http_client&) = delete;

  // One attempt.
  [[nodiscard]] http_response perform(const http_request& request);
  // Concurrently, at most `pool_size` in flight (a batch up to that size is one round trip;
  // larger ones run in waves on the pooled connections: a wider batch would open, and on its
  // return to the pool close, a TLS connection per extra request); answers in input order.
  [[nodiscard]] std::vector<http_response> perform_many(std::span<const http_request> requests);

  // This process's session (see http_session).
  [[nodiscard]] const http_session& session();

  // The text of a transport error (curl's fixed description of the code, never a URL).
  [[nodiscard]] static std::string describe(int transport_error);
  // Whether a transport error is "no answer in time".
  [[nodiscard]] static bool is_timeout(int transport_error) noexcept;

  struct process_state;

 private:
  process_state& state();
  void* checkout(process_state& s);
  void checkin(process_state& s, void* easy);
  void prepare(void* easy, process_state& s, const http_request& request, http_response& response,
               void*& header_list);

  http_client_options options_;
  void* resolve_list_ = nullptr;
  std::atomic<process_state*> state_{nullptr};
};

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
