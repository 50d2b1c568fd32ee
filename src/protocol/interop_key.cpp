// Interop (interop/v1) keys as cachekit-py 0.24.1's interop.generate_interop_key builds them.
#include <cachekit/interop_key.hpp>

#include "protocol/blake2b.hpp"

#include <algorithm>
#include <cstring>

namespace cachekit {
inline namespace v0 {
namespace {

constexpr std::size_t max_segment_length = 64;

bool is_segment_first(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}
bool is_segment_char(char c) noexcept {
  return is_segment_first(c) || c == '.' || c == '_' || c == '-';
}

// The segment as a quoted, escaped literal for error messages ("users\n" shows its newline).
std::string quoted(std::string_view text) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out = "\"";
  const std::size_t shown = std::min<std::size_t>(text.size(), 80);
  for (std::size_t i = 0; i < shown; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c < 0x20 || c >= 0x7f) {
      out += "\\x";
      out.push_back(digits[c >> 4]);
      out.push_back(digits[c & 0xF]);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  if (shown < text.size()) out += "...";
  out += "\"";
  return out;
}

result<void> validate_segment(std::string_view which, std::string_view segment) {
  bool matches =
      !segment.empty() && segment.size() <= max_segment_length && is_segment_first(segment.front());
  for (std::size_t i = 1; matches && i < segment.size(); ++i) matches = is_segment_char(segment[i]);
  if (!matches) {
    return fail(errc::invalid_key,
                "invalid interop " + std::string(which) + " " + quoted(segment) +
                    ": it must fully match ^[a-z0-9][a-z0-9._-]{0,63}$; use lowercase ASCII "
                    "letters, digits, '.', '_' and '-' (1-64 characters, starting with a letter "
                    "or digit), e.g. \"billing.invoices\"");
  }
  if (segment.find("..") != std::string_view::npos) {
    return fail(errc::invalid_key, "invalid interop " + std::string(which) + " " + quoted(segment) +
                                       ": it must not contain '..' (the CachekitIO server rejects "
                                       "'..' anywhere in a key); use single dots");
  }
  return {};
}

}  // namespace

result<void> validate_interop_namespace(std::string_view ns) {
  if (auto ok = validate_segment("namespace", ns); !ok) return ok;
  if (ns == "ns" || ns == "nsapi") {
    return fail(errc::invalid_key,
                "invalid interop namespace " + quoted(ns) +
                    ": it is reserved (the CachekitIO server reads a key starting '" +
                    std::string(ns) + ":' as namespace-prefixed); choose another namespace");
  }
  return {};
}

result<void> validate_interop_operation(std::string_view operation) {
  return validate_segment("operation", operation);
}

result<byte_buffer> interop_canonical_args(const value_array& flat_args) {
  byte_buffer out;
  key_writer w(out, key_profile::interop);
  w.write_array_header(flat_args.size());
  for (const auto& arg : flat_args) w.write_value(arg);
  if (w.failed()) return w.error();
  return out;
}

result<std::string> interop_key(std::string_view ns, std::string_view operation,
                                const value_array& flat_args) {
  if (auto ok = validate_interop_namespace(ns); !ok) return ok.error();
  if (auto ok = validate_interop_operation(operation); !ok) return ok.error();
  detail::key_scratch scratch;
  key_writer w(scratch.buffer(), key_profile::interop);
  w.write_array_header(flat_args.size());
  for (const auto& arg : flat_args) w.write_value(arg);
  return detail::finish_interop_key(ns, operation, w);
}

namespace detail {

result<std::string> finish_interop_key(std::string_view ns, std::string_view operation,
                                       const key_writer& w) {
  if (w.failed()) return w.error();
  std::string key(ns.size() + 1 + operation.size() + 1 + 64, ':');
  std::memcpy(key.data(), ns.data(), ns.size());
  std::memcpy(key.data() + ns.size() + 1, operation.data(), operation.size());
  append_hex_lower(blake2b_256(w.bytes()), key.data() + ns.size() + 1 + operation.size() + 1);
  return key;
}

}  // namespace detail

}  // namespace v0
}  // namespace cachekit
