// What a `rediss://` endpoint asks of TLS: the URL's redis-py `ssl_*` parameters, then
// `redis_options::tls` over them (redis_backend.cpp). Plain data; redis_tls_context turns it
// into an OpenSSL context.
//
// Thread-safe: a value type.
#pragma once

#include <string>

namespace cachekit {
inline namespace v0 {
namespace detail {

struct redis_tls_settings {
  std::string ca_file;      // PEM bundle of trusted CAs; with ca_path empty too: the system store
  std::string ca_path;      // directory of hashed CA certificates (c_rehash)
  std::string cert_file;    // client certificate (PEM), for servers with tls-auth-clients yes
  std::string key_file;     // its private key (PEM); empty: the key is in cert_file
  std::string server_name;  // SNI and the name verified; empty: the URL's host
  bool verify_peer = true;  // ssl_cert_reqs=required|optional
  bool verify_hostname = true;  // ssl_check_hostname
};

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
