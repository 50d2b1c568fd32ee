#include "backends/cachekitio/api_url.hpp"

#include <cachekit/error.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <cstring>

namespace cachekit {
inline namespace v0 {
namespace detail {
namespace {

constexpr std::array<std::string_view, 2> allowed_hosts = {"api.cachekit.io",
                                                           "api.staging.cachekit.io"};

std::string lowercase(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool private_v4(std::uint32_t host_order) {
  struct net {
    std::uint32_t base;
    int bits;
  };
  constexpr std::array<net, 6> nets = {{{0x7F000000U, 8},
                                        {0x0A000000U, 8},
                                        {0xAC100000U, 12},
                                        {0xC0A80000U, 16},
                                        {0xA9FE0000U, 16},
                                        {0x00000000U, 8}}};
  return std::any_of(nets.begin(), nets.end(), [&](const net& n) {
    const std::uint32_t mask = n.bits == 0 ? 0 : ~std::uint32_t{0} << (32 - n.bits);
    return (host_order & mask) == n.base;
  });
}

bool private_v6(const in6_addr& a) {
  const unsigned char* b = a.s6_addr;
  static constexpr unsigned char mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
  if (std::memcmp(b, mapped_prefix, 12) == 0) {
    const std::uint32_t v4 = (std::uint32_t{b[12]} << 24) | (std::uint32_t{b[13]} << 16) |
                             (std::uint32_t{b[14]} << 8) | std::uint32_t{b[15]};
    return private_v4(v4);
  }
  const bool first_fifteen_zero = std::all_of(b, b + 15, [](unsigned char c) { return c == 0; });
  if (first_fifteen_zero && (b[15] == 0 || b[15] == 1)) return true;  // :: and ::1
  if (b[0] == 0xFE && (b[1] & 0xC0) == 0x80) return true;             // fe80::/10
  if ((b[0] & 0xFE) == 0xFC) return true;                             // fc00::/7
  return false;
}

}  // namespace

bool is_private_host(std::string_view host_text) {
  std::string host = lowercase(host_text);
  if (!host.empty() && host.front() == '[') host.erase(0, 1);
  if (!host.empty() && host.back() == ']') host.pop_back();
  while (!host.empty() && host.back() == '.') host.pop_back();
  if (host == "localhost" ||
      (host.size() > 10 && host.compare(host.size() - 10, 10, ".localhost") == 0)) {
    return true;
  }
  if (host.find('\0') != std::string::npos) return false;
  const std::string without_zone = host.substr(0, host.find('%'));
  in6_addr v6{};
  if (inet_pton(AF_INET6, without_zone.c_str(), &v6) == 1) return private_v6(v6);
  in_addr v4{};
  if (inet_aton(host.c_str(), &v4) != 0) return private_v4(ntohl(v4.s_addr));
  return false;
}

result<api_url_parts> check_api_url(std::string_view url, bool allow_custom_host) {
  if (url.find('\\') != std::string_view::npos) {
    return fail(errc::invalid_configuration, "cachekit.io API URL must not contain a backslash");
  }
  const std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) {
    return fail(errc::invalid_configuration,
                "cachekit.io API URL could not be parsed: expected https://host[:port][/path]");
  }
  const std::string_view rest = url.substr(scheme_end + 3);
  const std::size_t authority_end = rest.find_first_of("/?#");
  const std::string_view authority = rest.substr(0, authority_end);
  if (authority.find('@') != std::string_view::npos) {
    return fail(errc::invalid_configuration,
                "cachekit.io API URL must not contain credentials (user:password@); the API key "
                "is the only credential");
  }
  if (lowercase(url.substr(0, scheme_end)) != "https") {
    return fail(errc::invalid_configuration, "cachekit.io API URL must use HTTPS (https://...)");
  }
  std::string_view path =
      authority_end == std::string_view::npos ? std::string_view{} : rest.substr(authority_end);
  if (path.find_first_of("?#") != std::string_view::npos) {
    return fail(errc::invalid_configuration,
                "cachekit.io API URL must not carry a query or fragment");
  }
  std::string_view host_view;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      return fail(errc::invalid_configuration, "cachekit.io API URL has an unclosed '[' host");
    }
    host_view = authority.substr(1, close - 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        return fail(errc::invalid_configuration, "cachekit.io API URL could not be parsed");
      }
      port = after.substr(1);
    }
  } else {
    const std::size_t colon = authority.find(':');
    host_view = authority.substr(0, colon);
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (!port.empty() && (port.size() > 5 || !std::all_of(port.begin(), port.end(), [](char c) {
                          return c >= '0' && c <= '9';
                        }))) {
    return fail(errc::invalid_configuration,
                "cachekit.io API URL has an invalid port: use digits only, 1-65535");
  }
  if (host_view.empty()) {
    return fail(errc::invalid_configuration, "cachekit.io API URL must name a host");
  }
  const bool ascii_host = std::all_of(host_view.begin(), host_view.end(),
                                      [](unsigned char c) { return c > 0x20 && c < 0x7F; });
  if (!ascii_host) {
    return fail(errc::invalid_configuration,
                "cachekit.io API URL host must be ASCII (give an international name in its "
                "xn-- form)");
  }
  api_url_parts parts;
  parts.host = lowercase(host_view);
  if (is_private_host(parts.host)) {
    return fail(errc::invalid_configuration,
                "cachekit.io API URL cannot use a private/internal address: " + parts.host);
  }
  if (!allow_custom_host &&
      std::find(allowed_hosts.begin(), allowed_hosts.end(), parts.host) == allowed_hosts.end()) {
    return fail(errc::invalid_configuration,
                "cachekit.io API URL host '" + parts.host +
                    "' is not in the allowlist (api.cachekit.io, api.staging.cachekit.io); set "
                    "allow_custom_host (CACHEKIT_ALLOW_CUSTOM_HOST=true) to use another host");
  }
  parts.origin = "https://" + lowercase(authority);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  parts.path = std::string(path);
  return parts;
}

result<void> check_api_key(std::string_view key) {
  if (key.empty()) {
    return fail(errc::invalid_configuration,
                "cachekit.io requires an API key: set cachekitio_options::api_key or "
                "CACHEKIT_API_KEY (get one at https://cachekit.io)");
  }
  std::size_t i = 0;
  const auto token_char = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
  };
  while (i < key.size() && token_char(key[i])) ++i;
  const bool has_token = i > 0;
  while (i < key.size() && key[i] == '=') ++i;
  if (!has_token || i != key.size()) {
    return fail(errc::invalid_configuration,
                "cachekit.io API key is not a valid bearer token (RFC 6750 allows only A-Z a-z "
                "0-9 - . _ ~ + / and trailing =); the usual cause is a trailing newline or "
                "space, a byte-order mark, a control character or a non-ASCII letter");
  }
  return {};
}

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
