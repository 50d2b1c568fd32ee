#include "key_registry.hpp"

#include "blake3_digest.hpp"

#include <cachekit/default_key.hpp>

namespace cachekit::cli {

std::string registry_id(std::string_view function, const std::optional<std::string>& ns) {
  return "ck:reg:" + ns.value_or("") + ":" + blake3_hex(function, 8);
}

result<std::string> function_key_prefix(std::string_view function,
                                        const std::optional<std::string>& ns) {
  auto key = default_key(function, {}, {}, {.ns = ns});
  if (!key) return std::move(key).error();
  const auto args = key->find(":args:");
  if (args == std::string::npos) {
    return fail(errc::invalid_key, "the function name makes a shortened key; give --prefix");
  }
  return key->substr(0, args + 6);
}

std::string invalidation_event(std::string_view registry_id) {
  std::string out = "\x81\xa1r";  // fixmap(1), fixstr "r"
  const std::size_t n = registry_id.size();
  if (n < 32) {
    out += static_cast<char>(0xa0 | n);
  } else if (n < 256) {
    out += '\xd9';
    out += static_cast<char>(n);
  } else {
    out += '\xda';
    out += static_cast<char>(n >> 8);
    out += static_cast<char>(n & 0xff);
  }
  out.append(registry_id);
  return out;
}

}  // namespace cachekit::cli
