// Default ("auto mode") keys as cachekit-py 0.24.1's CacheKeyGenerator.generate_key builds them.
#include <cachekit/default_key.hpp>

#include "protocol/blake2b.hpp"
#include "protocol/key_text.hpp"

#include <algorithm>
#include <cstring>

namespace cachekit {
inline namespace v0 {
namespace {

constexpr std::size_t max_key_code_points = 250;     // CacheKeyGenerator.MAX_KEY_LENGTH
constexpr std::size_t kept_prefix_code_points = 50;  // CacheKeyGenerator.KEY_PREFIX_LENGTH
constexpr std::size_t max_function_name = 200;       // CacheKeyGenerator._FUNC_NAME_MAX
constexpr std::size_t hash_hex_length = 64;

bool allowed_in_function_name(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.';
}

void write_preimage(key_writer& w, const value_array& args, const key_kwargs& kwargs) {
  w.write_array_header(2);
  w.write_array_header(args.size());
  for (const auto& arg : args) w.write_value(arg);

  std::vector<const std::pair<std::string, value>*> sorted;
  sorted.reserve(kwargs.size());
  for (const auto& kw : kwargs) sorted.push_back(&kw);
  // Python sorts the kwargs names by code point; char_traits<char> compares unsigned bytes,
  // which is the same order for UTF-8.
  std::sort(sorted.begin(), sorted.end(),
            [](const auto* a, const auto* b) { return a->first < b->first; });
  w.write_map_header(sorted.size());
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    if (i > 0 && sorted[i]->first == sorted[i - 1]->first) {
      w.fail(errc::invalid_argument,
             "keyword argument \"" + sorted[i]->first + "\" is given twice");
      return;
    }
    w.write_string(sorted[i]->first);
    w.write_value(sorted[i]->second);
  }
}

}  // namespace

result<std::string> serializer_code(std::string_view serializer) {
  if (serializer.empty()) {
    return fail(errc::invalid_configuration,
                "the serializer name must not be empty; use \"default\" for the standard "
                "MessagePack serializer");
  }
  // CacheKeyGenerator.SERIALIZER_NAME_ALIASES, then SERIALIZER_CODES.
  std::string_view canonical = serializer;
  if (canonical == "std" || canonical == "standard") canonical = "default";
  if (canonical == "pythonic") canonical = "auto";
  if (canonical == "default") return std::string("s");
  if (canonical == "auto") return std::string("a");
  if (canonical == "orjson") return std::string("o");
  if (canonical == "arrow") return std::string("w");
  if (canonical == "local") return std::string("l");
  // Any other identity gets its own keyspace: "x" + a 2-byte BLAKE2b digest of the name.
  std::array<std::byte, 2> digest;
  detail::blake2b(as_byte_view(canonical), digest);
  std::string code(5, 'x');
  detail::append_hex_lower(digest, code.data() + 1);
  return code;
}

result<std::string> default_key_function_name(std::string_view module_qualname) {
  if (!detail::is_valid_utf8(module_qualname)) {
    return fail(errc::invalid_argument,
                "the function name is not valid UTF-8; pass it as UTF-8 text (cachekit-py "
                "names are Python str, module.qualname)");
  }
  std::string out;
  out.reserve(std::min(module_qualname.size(), max_function_name));
  for (std::size_t i = 0; i < module_qualname.size() && out.size() < max_function_name;) {
    const char c = module_qualname[i];
    const auto lead = static_cast<unsigned char>(c);
    if (lead >= 0x80) {
      // One code point outside [A-Za-z0-9_.], however many bytes it takes: one '_'.
      const std::size_t length = lead >= 0xF0 ? 4 : (lead >= 0xE0 ? 3 : 2);
      out.push_back('_');
      i += length;
      continue;
    }
    ++i;
    if (!allowed_in_function_name(c)) {
      out.push_back('_');
    } else if (c != '.' || out.empty() || out.back() != '.') {
      // Replacements only ever write '_', so a '.' before this one came from the input: runs
      // of dots collapse to one.
      out.push_back(c);
    }
  }
  return out;
}

result<default_key_builder> default_key_builder::make(std::string_view function_name,
                                                      const default_key_options& options) {
  auto code = serializer_code(options.serializer);
  if (!code) return std::move(code).error();
  auto name = default_key_function_name(function_name);
  if (!name) return std::move(name).error();

  default_key_builder b;
  if (options.ns.has_value() && !options.ns->empty()) {
    if (!detail::is_valid_utf8(*options.ns)) {
      return fail(errc::invalid_argument,
                  "the key namespace is not valid UTF-8; pass it as UTF-8 text");
    }
    b.head_.append("ns:").append(*options.ns).append(":");
  }
  b.head_.append("func:").append(*name).append(":args:");
  // CacheKeyGenerator._normalize_key replaces these in the whole key; only the namespace can
  // contain them (the name is sanitized, the hash is hex, the suffix is fixed).
  std::replace_if(
      b.head_.begin(), b.head_.end(), [](char c) { return c == ' ' || c == '\n' || c == '\r'; },
      '_');
  b.tail_.append(":").append(options.integrity_checking ? "1" : "0").append(*code);
  b.shortened_ =
      detail::utf8_code_points(b.head_) + hash_hex_length + b.tail_.size() > max_key_code_points;
  return b;
}

default_key_builder::default_key_builder(std::string_view function_name,
                                         const default_key_options& options) {
  auto made = make(function_name, options);
  if (!made) throw error(made.error().code, made.error().detail);
  *this = std::move(*made);
}

std::string default_key_builder::key_from_preimage(byte_view preimage) const {
  std::string key(head_.size() + hash_hex_length + tail_.size(), '\0');
  std::memcpy(key.data(), head_.data(), head_.size());
  detail::append_hex_lower(detail::blake2b_256(preimage), key.data() + head_.size());
  std::memcpy(key.data() + head_.size() + hash_hex_length, tail_.data(), tail_.size());
  if (!shortened_) return key;

  // Too long for backends: first 50 characters, ':', first 32 hex digits of the key's own hash.
  const std::size_t prefix = detail::utf8_prefix_bytes(key, kept_prefix_code_points);
  std::string shortened;
  shortened.reserve(prefix + 1 + 32);
  shortened.append(key, 0, prefix).push_back(':');
  shortened.append(detail::blake2b_256_hex(as_byte_view(key)), 0, 32);
  return shortened;
}

std::string default_key_builder::local_key_prefix() const {
  std::string whole = head_ + tail_;  // tail_ starts with ':', never a hex digit
  if (!shortened_) return whole;
  std::string prefix = key_space_prefix();
  prefix.append(detail::blake2b_256_hex(as_byte_view(whole)), 0, 32).push_back(':');
  return prefix;
}

result<std::string> default_key_builder::finish(const key_writer& w) const {
  if (w.failed()) return w.error();
  return key_from_preimage(w.bytes());
}

result<std::string> default_key_builder::key(const value_array& args,
                                             const key_kwargs& kwargs) const {
  detail::key_scratch scratch;
  key_writer w(scratch.buffer(), key_profile::default_key);
  write_preimage(w, args, kwargs);
  return finish(w);
}

result<byte_buffer> default_key_preimage(const value_array& args, const key_kwargs& kwargs) {
  byte_buffer out;
  key_writer w(out, key_profile::default_key);
  write_preimage(w, args, kwargs);
  if (w.failed()) return w.error();
  return out;
}

result<std::string> default_key(std::string_view function_name, const value_array& args,
                                const key_kwargs& kwargs, const default_key_options& options) {
  auto builder = default_key_builder::make(function_name, options);
  if (!builder) return std::move(builder).error();
  return builder->key(args, kwargs);
}

}  // namespace v0
}  // namespace cachekit
