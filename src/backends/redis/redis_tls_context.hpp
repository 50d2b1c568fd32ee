// The OpenSSL client context of one `rediss://` backend: trust anchors, client certificate,
// verification mode and TLS 1.2 minimum, built once when the backend is constructed and shared
// read-only by all its connections (redis_tls_session).
//
// Why OpenSSL over our own socket and not hiredis's TLS: docs/architecture.md, "TLS to Redis".
//
// Thread-safe after `create` (OpenSSL allows concurrent SSL_new on one SSL_CTX).
#pragma once

#include "backends/redis/redis_tls_settings.hpp"

#include <cachekit/result.hpp>

#include <memory>

using SSL_CTX = struct ssl_ctx_st;

namespace cachekit {
inline namespace v0 {
namespace detail {

class redis_tls_context {
 public:
  // Loads what `settings` names. Failure: errc::invalid_configuration naming the file or
  // directory that could not be used and OpenSSL's reason (a missing CA file, a key that does
  // not match its certificate, ...). With neither ca_file nor ca_path, the system trust store
  // (SSL_CTX_set_default_verify_paths) is used.
  static result<std::shared_ptr<const redis_tls_context>> create(
      const redis_tls_settings& settings);

  ~redis_tls_context();
  redis_tls_context(const redis_tls_context&) = delete;
  redis_tls_context& operator=(const redis_tls_context&) = delete;

  [[nodiscard]] SSL_CTX* native() const noexcept { return ctx_; }
  [[nodiscard]] const redis_tls_settings& settings() const noexcept { return settings_; }

 private:
  redis_tls_context(SSL_CTX* ctx, redis_tls_settings settings) noexcept
      : ctx_(ctx), settings_(std::move(settings)) {}

  SSL_CTX* ctx_;
  redis_tls_settings settings_;
};

// OpenSSL's most recent error on this thread as text ("" when there is none); clears the queue.
[[nodiscard]] std::string take_openssl_error();

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
