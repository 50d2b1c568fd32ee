#include "coherence/invalidation_event.hpp"

#include "protocol/blake3.hpp"
#include "protocol/utf8_check.hpp"

#include <cstdint>

namespace cachekit {
inline namespace v0 {
namespace detail {
namespace {

void append_str(std::string& out, std::string_view text) {
  const std::size_t n = text.size();
  if (n < 32) {
    out += static_cast<char>(0xa0 | n);
  } else if (n < 256) {
    out += '\xd9';
    out += static_cast<char>(n);
  } else {  // callers cap fields at 1024 bytes
    out += '\xda';
    out += static_cast<char>(n >> 8);
    out += static_cast<char>(n & 0xff);
  }
  out.append(text);
}

// A cursor over the event's bytes; every read checks what is left first.
class event_reader {
 public:
  explicit event_reader(byte_view bytes) : bytes_(bytes) {}

  [[nodiscard]] bool done() const noexcept { return at_ == bytes_.size(); }

  result<std::uint8_t> byte() {
    if (at_ >= bytes_.size()) return fail(errc::truncated, "invalidation event ends early");
    return static_cast<std::uint8_t>(bytes_[at_++]);
  }

  result<std::uint64_t> big_endian(std::size_t n) {
    if (bytes_.size() - at_ < n) return fail(errc::truncated, "invalidation event ends early");
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) v = v << 8 | static_cast<std::uint8_t>(bytes_[at_++]);
    return v;
  }

  // A string whose header byte `head` was read; nullopt when `head` starts no string.
  result<std::optional<std::string_view>> string(std::uint8_t head) {
    std::uint64_t n = 0;
    if ((head & 0xe0) == 0xa0) {
      n = head & 0x1f;
    } else if (head == 0xd9 || head == 0xda || head == 0xdb) {
      auto len = big_endian(head == 0xd9 ? 1 : head == 0xda ? 2 : 4);
      if (!len) return len.error();
      n = *len;
    } else {
      return std::optional<std::string_view>{};
    }
    if (n > max_event_field_bytes) {
      return fail(errc::length_limit, "invalidation event field over 1024 bytes");
    }
    if (bytes_.size() - at_ < n) return fail(errc::truncated, "invalidation event ends early");
    const std::string_view text(reinterpret_cast<const char*>(bytes_.data() + at_), n);
    at_ += n;
    if (utf8_invalid_offset(text) != text.size()) {
      return fail(errc::malformed, "invalidation event field is not UTF-8");
    }
    return std::optional<std::string_view>(text);
  }

  // Skips a scalar value (nil, bool, integer, float); false for anything else.
  result<bool> skip_scalar(std::uint8_t head) {
    if (head <= 0x7f || head >= 0xe0 || head == 0xc0 || head == 0xc2 || head == 0xc3) return true;
    std::size_t n = 0;
    switch (head) {
      case 0xcc:
      case 0xd0: n = 1; break;
      case 0xcd:
      case 0xd1: n = 2; break;
      case 0xca:
      case 0xce:
      case 0xd2: n = 4; break;
      case 0xcb:
      case 0xcf:
      case 0xd3: n = 8; break;
      default: return false;
    }
    auto skipped = big_endian(n);
    if (!skipped) return skipped.error();
    return true;
  }

 private:
  byte_view bytes_;
  std::size_t at_ = 0;
};

}  // namespace

std::string registry_id(std::string_view function, const std::optional<std::string>& ns) {
  return "ck:reg:" + ns.value_or("") + ":" + blake3_hex(function, 8);
}

std::optional<std::string> encode_invalidation_event(std::string_view registry,
                                                     std::optional<std::string_view> key) {
  if (registry.size() > max_event_field_bytes) return std::nullopt;
  const bool with_key = key && key->size() <= max_event_field_bytes;
  std::string out;
  out.reserve(8 + registry.size() + (with_key ? key->size() : 0));
  out += static_cast<char>(with_key ? 0x82 : 0x81);
  append_str(out, "r");
  append_str(out, registry);
  if (with_key) {
    append_str(out, "k");
    append_str(out, *key);
  }
  return out;
}

result<invalidation_event> decode_invalidation_event(byte_view bytes) {
  if (bytes.size() > max_event_bytes) {
    return fail(errc::length_limit, "invalidation event over 4096 bytes");
  }
  event_reader in(bytes);
  auto head = in.byte();
  if (!head) return head.error();
  std::uint64_t entries = 0;
  if ((*head & 0xf0) == 0x80) {
    entries = *head & 0x0f;
  } else if (*head == 0xde) {
    auto n = in.big_endian(2);
    if (!n) return n.error();
    entries = *n;
  } else {
    return fail(errc::malformed, "invalidation event is not a map");
  }
  if (entries > 4) return fail(errc::length_limit, "invalidation event map over 4 entries");
  std::optional<std::string> registry;
  std::optional<std::string> key;
  for (std::uint64_t i = 0; i < entries; ++i) {
    auto name_head = in.byte();
    if (!name_head) return name_head.error();
    auto name = in.string(*name_head);
    if (!name) return name.error();
    if (!*name) return fail(errc::malformed, "invalidation event map key is not a string");
    auto value_head = in.byte();
    if (!value_head) return value_head.error();
    auto text = in.string(*value_head);
    if (!text) return text.error();
    const bool is_registry = **name == "r";
    const bool is_key = **name == "k";
    if (*text) {
      if (is_registry) registry = std::string(**text);
      if (is_key) key = std::string(**text);
      continue;
    }
    if (is_registry || is_key) {
      return fail(errc::malformed, "invalidation event registry id or key is not a string");
    }
    auto scalar = in.skip_scalar(*value_head);
    if (!scalar) return scalar.error();
    if (!*scalar) return fail(errc::malformed, "invalidation event holds a container or bytes");
  }
  if (!in.done()) return fail(errc::trailing_bytes, "bytes after the invalidation event");
  if (!registry) return fail(errc::malformed, "invalidation event has no registry id");
  return invalidation_event{.registry = std::move(*registry), .key = std::move(key)};
}

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
