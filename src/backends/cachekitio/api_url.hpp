// The checks cachekit.io's API URL and API key must pass before any request (spec/saas-api.md
// "SSRF Protection", cachekit-py 0.24.1's CachekitIOBackendConfig): https only, no credentials
// in the URL, no private or loopback address, a host in the allowlist unless custom hosts are
// allowed, and a key that is an RFC 6750 bearer token. No message quotes the URL's userinfo or
// the key.
//
// Thread-safe (pure).
#pragma once

#include <cachekit/result.hpp>

#include <string>
#include <string_view>

namespace cachekit {
inline namespace v0 {
namespace detail {

// An API URL split into what the client needs.
struct api_url_parts {
  std::string origin;  // "https://host[:port]", as given (host lowercased)
  std::string host;    // lowercase, IPv6 without brackets
  std::string path;    // the URL's path without a trailing '/', prefixed to every request path
};

// Whether `host` names a loopback, private, link-local, "this network" or unspecified address
// in any spelling the resolver accepts (127.1, 2130706433, 0x7f.1, 0177.0.0.1, IPv4-mapped
// IPv6), or is `localhost` / `*.localhost`. No DNS lookup: a name that resolves to a private
// address passes.
[[nodiscard]] bool is_private_host(std::string_view host);

// Checks `url` (see the file comment). Errors: errc::invalid_configuration saying what to fix.
[[nodiscard]] result<api_url_parts> check_api_url(std::string_view url, bool allow_custom_host);

// Checks the API key: present and an RFC 6750 b64token. Errors: errc::invalid_configuration,
// never quoting the key.
[[nodiscard]] result<void> check_api_key(std::string_view key);

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
