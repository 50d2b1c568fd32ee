#include "backends/redis/redis_tls_context.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <filesystem>
#include <string>
#include <system_error>

namespace cachekit {
inline namespace v0 {
namespace detail {
namespace {

failure unusable(std::string_view what, const std::string& path, std::string_view fix) {
  std::string reason = take_openssl_error();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) reason = "no such file or directory";
  return fail(errc::invalid_configuration,
              "redis TLS: cannot use " + std::string(what) + " '" + path +
                  "': " + (reason.empty() ? "unreadable" : reason) + "; " + std::string(fix));
}

}  // namespace

std::string take_openssl_error() {
  unsigned long last = 0;
  for (unsigned long e = ERR_get_error(); e != 0; e = ERR_get_error()) last = e;
  if (last == 0) return {};
  const char* reason = ERR_reason_error_string(last);
  return reason != nullptr ? reason : "OpenSSL error " + std::to_string(last);
}

result<std::shared_ptr<const redis_tls_context>> redis_tls_context::create(
    const redis_tls_settings& settings) {
  ERR_clear_error();
  SSL_CTX* raw = SSL_CTX_new(TLS_client_method());
  if (raw == nullptr) {
    return fail(errc::invalid_configuration,
                "redis TLS: OpenSSL could not create a context: " + take_openssl_error());
  }
  std::shared_ptr<const redis_tls_context> ctx(new redis_tls_context(raw, settings));
  // TLS 1.0 and 1.1 are deprecated (RFC 8996); Redis 6+ speaks 1.2 and 1.3.
  SSL_CTX_set_min_proto_version(raw, TLS1_2_VERSION);
  // Writes resume from wherever the pending buffer stands after a partial send; an EOF without
  // close_notify is an ordinary dropped connection for a framed protocol like RESP.
  SSL_CTX_set_mode(raw, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_options(raw, SSL_OP_IGNORE_UNEXPECTED_EOF);
  SSL_CTX_set_verify(raw, settings.verify_peer ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nullptr);

  const std::string_view ca_fix =
      "set ssl_ca_certs / redis_options::tls.ca_file to a PEM file of the CA that signed the "
      "server's certificate (or ssl_ca_path / tls.ca_path to a c_rehash'ed directory)";
  if (!settings.ca_file.empty() && SSL_CTX_load_verify_file(raw, settings.ca_file.c_str()) != 1) {
    return unusable("the CA file", settings.ca_file, ca_fix);
  }
  if (!settings.ca_path.empty()) {
    std::error_code ec;
    // OpenSSL reads a CA directory lazily and never fails here: check it exists now.
    if (!std::filesystem::is_directory(settings.ca_path, ec) ||
        SSL_CTX_load_verify_dir(raw, settings.ca_path.c_str()) != 1) {
      return unusable("the CA directory", settings.ca_path, ca_fix);
    }
  }
  if (settings.ca_file.empty() && settings.ca_path.empty() &&
      SSL_CTX_set_default_verify_paths(raw) != 1) {
    return fail(errc::invalid_configuration,
                "redis TLS: the system's trusted CAs could not be loaded (" + take_openssl_error() +
                    "); " + std::string(ca_fix));
  }

  if (!settings.key_file.empty() && settings.cert_file.empty()) {
    return fail(errc::invalid_configuration,
                "redis TLS: a client key (ssl_keyfile / tls.key_file) was given without its "
                "certificate; set ssl_certfile / tls.cert_file too");
  }
  if (!settings.cert_file.empty()) {
    const std::string_view cert_fix =
        "ssl_certfile / tls.cert_file must be a PEM certificate (chain) and ssl_keyfile / "
        "tls.key_file its unencrypted PEM private key";
    if (SSL_CTX_use_certificate_chain_file(raw, settings.cert_file.c_str()) != 1) {
      return unusable("the client certificate", settings.cert_file, cert_fix);
    }
    const std::string& key = settings.key_file.empty() ? settings.cert_file : settings.key_file;
    // A passphrase prompt on the terminal would hang a service: an encrypted key just fails.
    SSL_CTX_set_default_passwd_cb(raw, [](char*, int, int, void*) { return 0; });
    if (SSL_CTX_use_PrivateKey_file(raw, key.c_str(), SSL_FILETYPE_PEM) != 1) {
      if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH) {
        ERR_clear_error();
        return fail(errc::invalid_configuration,
                    "redis TLS: the client key '" + key + "' does not belong to the certificate '" +
                        settings.cert_file + "'; give the key the certificate was issued for");
      }
      return unusable("the client key", key, cert_fix);
    }
    if (SSL_CTX_check_private_key(raw) != 1) {
      return unusable("the client key", key,
                      "the key does not belong to the certificate " + settings.cert_file);
    }
  }
  return ctx;
}

redis_tls_context::~redis_tls_context() {
  SSL_CTX_free(ctx_);
}

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
