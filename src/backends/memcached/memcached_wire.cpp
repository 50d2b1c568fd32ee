#include "backends/memcached/memcached_wire.hpp"

#include <algorithm>
#include <cstdio>

namespace cachekit {
inline namespace v0 {
namespace detail {
namespace {

bool is_key_byte(char c) noexcept {
  const auto b = static_cast<unsigned char>(c);
  return b >= 0x21 && b <= 0x7E;
}

// "0x20 (space)", "0x0a (line feed)", "0xc3 (non-ASCII)".
std::string describe_byte(char c) {
  const auto b = static_cast<unsigned char>(c);
  char hex[8];
  std::snprintf(hex, sizeof hex, "0x%02x", b);
  std::string out = hex;
  switch (b) {
    case 0x00: return out + " (NUL)";
    case 0x09: return out + " (tab)";
    case 0x0A: return out + " (line feed)";
    case 0x0D: return out + " (carriage return)";
    case 0x20: return out + " (space)";
    case 0x7F: return out + " (DEL)";
    default: break;
  }
  return out + (b >= 0x80 ? " (non-ASCII)" : " (control character)");
}

}  // namespace

std::int64_t memcached_expiration(ttl_seconds ttl) noexcept {
  if (!ttl || ttl->count() <= 0) return 0;
  return std::min(ttl->count(), static_cast<std::int64_t>(memcached_max_ttl.count()));
}

result<void> check_memcached_key(std::string_view prefix, std::string_view key) {
  const std::size_t size = prefix.size() + key.size();
  if (size == 0) {
    return fail(errc::backend_permanent,
                "memcached key is empty; memcached keys are 1-250 bytes of printable ASCII");
  }
  if (size > memcached_max_key_size) {
    return fail(
        errc::backend_permanent,
        "memcached key is " + std::to_string(size) + " bytes" +
            (prefix.empty() ? std::string()
                            : " with the " + std::to_string(prefix.size()) + "-byte key prefix") +
            "; memcached allows at most 250: shorten the key or hash its long parts");
  }
  // The prefix was checked at construction; only the caller's part can be wrong.
  const auto bad = std::find_if_not(key.begin(), key.end(), is_key_byte);
  if (bad != key.end()) {
    return fail(errc::backend_permanent,
                "memcached key has byte " + describe_byte(*bad) + " at offset " +
                    std::to_string(bad - key.begin()) + " (not counting the key prefix)" +
                    "; memcached keys allow only printable ASCII 0x21-0x7E, no spaces or "
                    "control characters");
  }
  return {};
}

result<void> check_memcached_key_prefix(std::string_view prefix) {
  if (prefix.size() >= memcached_max_key_size) {
    return fail(errc::invalid_configuration,
                "memcached_options::key_prefix is " + std::to_string(prefix.size()) +
                    " bytes; it must leave room for a key within memcached's 250-byte limit "
                    "(use a prefix of a few bytes, e.g. \"myapp:\")");
  }
  const auto bad = std::find_if_not(prefix.begin(), prefix.end(), is_key_byte);
  if (bad != prefix.end()) {
    return fail(errc::invalid_configuration,
                "memcached_options::key_prefix has byte " + describe_byte(*bad) + " at offset " +
                    std::to_string(bad - prefix.begin()) +
                    "; use printable ASCII 0x21-0x7E only (no spaces or control characters)");
  }
  return {};
}

result<memcached_server_address> parse_memcached_server(std::string_view entry, std::size_t index) {
  const std::string where = "memcached_options::servers[" + std::to_string(index) + "]";
  const auto colon = entry.rfind(':');
  if (colon == std::string_view::npos) {
    return fail(errc::invalid_configuration,
                where + ": address must be in 'host:port' format, e.g. \"127.0.0.1:11211\"");
  }
  const std::string_view host = entry.substr(0, colon);
  const std::string_view port_text = entry.substr(colon + 1);
  if (host.empty()) {
    return fail(errc::invalid_configuration, where + ": the host before ':' is empty");
  }
  if (!std::all_of(host.begin(), host.end(), is_key_byte)) {
    return fail(errc::invalid_configuration,
                where +
                    ": the host must be printable ASCII without spaces (use the punycode "
                    "form of an internationalized name)");
  }
  if (port_text.empty() || !std::all_of(port_text.begin(), port_text.end(),
                                        [](char c) { return c >= '0' && c <= '9'; })) {
    return fail(errc::invalid_configuration, where + ": port must be numeric");
  }
  unsigned port = 0;
  for (char c : port_text) {
    port = port * 10 + static_cast<unsigned>(c - '0');
    if (port > 65535) break;  // leading zeros are fine ("011211", as Python's int() reads it)
  }
  if (port < 1 || port > 65535) {
    return fail(errc::invalid_configuration, where + ": port must be 1-65535");
  }
  memcached_server_address out;
  out.host = std::string(host);
  out.port = static_cast<std::uint16_t>(port);
  out.node_name = out.host + ":" + std::to_string(port);
  return out;
}

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
