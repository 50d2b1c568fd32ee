#include <cachekit/envelope.hpp>
#include <cachekit/frame.hpp>

#include "protocol/big_endian.hpp"
#include "protocol/msgpack_reader.hpp"
#include "protocol/untrusted_text.hpp"
#include "protocol/utf8_check.hpp"

#include <xxhash.h>
#include <nlohmann/json.hpp>

#include <array>
#include <cstring>
#include <optional>
#include <string>
#include <utility>

namespace cachekit {
inline namespace v0 {
namespace frame {
namespace {

constexpr std::byte magic0{0x43};  // 'C'
constexpr std::byte magic1{0x4b};  // 'K'

// cachekit-py's `SerializationFormat` values; any other format fails its `from_dict`.
bool is_known_format(std::string_view f) noexcept {
  return f == "msgpack" || f == "orjson" || f == "arrow";
}

// ---- writing ----------------------------------------------------------------------------------

// A JSON string as Python's json.dumps(ensure_ascii=False) writes it: the two-character escapes
// for " \ \b \f \n \r \t, \u00XX (lowercase hex) for the other control characters, everything
// else (including DEL and non-ASCII) as is.
void append_json_string(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out.push_back('"');
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out.push_back(hex[c >> 4]);
          out.push_back(hex[c & 0xf]);
        } else {
          out.push_back(ch);
        }
    }
  }
  out.push_back('"');
}

void append_json_optional(std::string& out, const std::optional<std::string>& s) {
  if (s) {
    append_json_string(out, *s);
  } else {
    out += "null";
  }
}

std::string render_header_json(const header& h) {
  const metadata& m = h.metadata;
  std::string out;
  out.reserve(160 + h.serializer.size() + m.format.size() +
              (m.tenant_id ? m.tenant_id->size() : 0) + 128);
  out += "{\"s\": ";
  append_json_string(out, h.serializer);
  out += ", \"m\": {\"format\": ";
  append_json_string(out, m.format);
  out += ", \"encoding\": ";
  append_json_string(out, m.encoding);
  out += ", \"compressed\": ";
  out += m.compressed ? "true" : "false";
  out += ", \"original_type\": ";
  append_json_optional(out, m.original_type);
  if (m.encrypted) {
    out += ", \"encrypted\": true, \"tenant_id\": ";
    append_json_optional(out, m.tenant_id);
    out += ", \"encryption_algorithm\": ";
    append_json_optional(out, m.encryption_algorithm);
    out += ", \"key_fingerprint\": ";
    append_json_optional(out, m.key_fingerprint);
  }
  out += "}, \"v\": \"2.0\"";
  if (h.key_hash) {
    out += ", \"k\": \"";
    out.append(key_hash_digits, '0');
    write_key_hash(*h.key_hash, out.data() + out.size() - key_hash_digits);
    out += '"';
  }
  out += '}';
  return out;
}

// Where the digits of "k" start in a header rendered with a key_hash: 18 characters before its
// end (16 digits, the closing quote and brace).
constexpr std::size_t key_hash_from_end = key_hash_digits + 2;

result<void> check_text(std::string_view field, std::string_view value) {
  if (const auto bad = detail::utf8_invalid_offset(value); bad != value.size()) {
    return fail(errc::invalid_argument, "frame header field " + std::string(field) +
                                            " is not UTF-8 (invalid byte at " +
                                            std::to_string(bad) + ")");
  }
  return {};
}

result<void> validate(const header& h) {
  const metadata& m = h.metadata;
  if (h.serializer.empty()) {
    return fail(errc::invalid_argument,
                "frame serializer name is empty; cachekit-py rejects nameless entries");
  }
  if (!is_known_format(m.format)) {
    return fail(errc::invalid_argument, "frame metadata format \"" + m.format +
                                            "\" is not one cachekit-py reads; use \"msgpack\", "
                                            "\"orjson\" or \"arrow\"");
  }
  if (m.encrypted && h.key_hash) {
    return fail(errc::invalid_argument,
                "an encrypted frame header cannot carry the key binding \"k\": its AAD binds the "
                "key already (and readers ignore \"k\" there)");
  }
  if (m.encrypted && (!m.tenant_id || !m.encryption_algorithm || !m.key_fingerprint)) {
    return fail(errc::invalid_argument,
                "an encrypted frame header needs tenant_id, encryption_algorithm (\"AES-256-GCM\") "
                "and key_fingerprint");
  }
  const std::pair<std::string_view, const std::string*> texts[] = {
      {"s", &h.serializer},
      {"format", &m.format},
      {"encoding", &m.encoding},
      {"original_type", m.original_type ? &*m.original_type : nullptr},
      {"tenant_id", m.tenant_id ? &*m.tenant_id : nullptr},
      {"encryption_algorithm", m.encryption_algorithm ? &*m.encryption_algorithm : nullptr},
      {"key_fingerprint", m.key_fingerprint ? &*m.key_fingerprint : nullptr},
  };
  for (const auto& [name, text] : texts) {
    if (text == nullptr) continue;
    if (auto ok = check_text(name, *text); !ok) return ok;
  }
  return {};
}

// ---- reading ----------------------------------------------------------------------------------

using json = nlohmann::json;

failure malformed(std::string detail) {
  return fail(errc::malformed, std::move(detail));
}

const char* json_type(const json& j) noexcept {
  return j.type_name();
}

// An optional string member: absent → `fallback`, null → nullopt when `nullable`.
result<std::optional<std::string>> optional_string(const json& m, const char* key, bool nullable,
                                                   std::optional<std::string> fallback) {
  const auto it = m.find(key);
  if (it == m.end()) return fallback;
  if (it->is_string()) return std::optional<std::string>(it->get<std::string>());
  if (nullable && it->is_null()) return std::optional<std::string>();
  return malformed(std::string("frame metadata \"") + key + "\" must be a string" +
                   (nullable ? " or null" : "") + ", got " + json_type(*it));
}

result<bool> optional_bool(const json& m, const char* key) {
  const auto it = m.find(key);
  if (it == m.end()) return false;
  if (it->is_boolean()) return it->get<bool>();
  return malformed(std::string("frame metadata \"") + key + "\" must be a bool, got " +
                   json_type(*it));
}

// cachekit-py `SerializationMetadata.from_dict`, with the JSON types its `to_dict` writes.
result<metadata> parse_metadata(const json* m) {
  if (m == nullptr) return malformed("frame header has no metadata \"m\" (it needs \"format\")");
  if (!m->is_object()) {
    return malformed(std::string("frame metadata \"m\" must be an object, got ") + json_type(*m));
  }
  metadata out;
  const auto format = m->find("format");
  if (format == m->end()) return malformed("frame metadata has no \"format\"");
  if (!format->is_string()) {
    return malformed(std::string("frame metadata \"format\" must be a string, got ") +
                     json_type(*format));
  }
  out.format = format->get<std::string>();
  if (!is_known_format(out.format)) {
    return malformed("frame metadata format \"" + detail::quote_untrusted(out.format) +
                     "\" is not msgpack, orjson or arrow");
  }
  auto encoding = optional_string(*m, "encoding", false, std::string("utf-8"));
  if (!encoding) return std::move(encoding).error();
  out.encoding = std::move(**encoding);
  auto compressed = optional_bool(*m, "compressed");
  if (!compressed) return compressed.error();
  out.compressed = *compressed;
  auto original_type = optional_string(*m, "original_type", true, std::nullopt);
  if (!original_type) return std::move(original_type).error();
  out.original_type = std::move(*original_type);
  auto encrypted = optional_bool(*m, "encrypted");
  if (!encrypted) return encrypted.error();
  out.encrypted = *encrypted;
  auto tenant = optional_string(*m, "tenant_id", true, std::nullopt);
  if (!tenant) return std::move(tenant).error();
  out.tenant_id = std::move(*tenant);
  auto algorithm = optional_string(*m, "encryption_algorithm", true, std::nullopt);
  if (!algorithm) return std::move(algorithm).error();
  out.encryption_algorithm = std::move(*algorithm);
  auto fingerprint = optional_string(*m, "key_fingerprint", true, std::nullopt);
  if (!fingerprint) return std::move(fingerprint).error();
  out.key_fingerprint = std::move(*fingerprint);
  return out;
}

// A serializer name as cachekit-py requires it: a non-empty string. Returned as recorded.
result<std::string> parse_serializer(const json& doc, const char* key) {
  const auto it = doc.find(key);
  if (it == doc.end() || !it->is_string() || it->get_ref<const std::string&>().empty()) {
    return malformed(std::string("frame records no serializer name (\"") + key +
                     "\" must be a non-empty string)");
  }
  return it->get<std::string>();
}

// A parsed header and the serializer name exactly as recorded (before canonicalization).
struct parsed_header {
  header h;
  std::string recorded_serializer;
};

parsed_header make_parsed(std::string recorded, metadata m) {
  std::string canonical(canonical_serializer_name(recorded));
  return parsed_header{header{std::move(canonical), std::move(m), std::nullopt},
                       std::move(recorded)};
}

// The key binding "k" of a plaintext header: absent, or exactly 16 lowercase hex digits. An
// encrypted header's "k" is ignored like any unknown key: its AAD binds the key, and its checks
// stay those of cachekit-py.
result<std::optional<std::uint64_t>> parse_key_binding(const json& doc, const metadata& m) {
  if (m.encrypted) return std::optional<std::uint64_t>();
  const auto it = doc.find("k");
  if (it == doc.end()) return std::optional<std::uint64_t>();
  if (!it->is_string()) {
    return malformed(
        std::string("frame key binding \"k\" must be a string of 16 hex digits, got ") +
        json_type(*it));
  }
  const auto& text = it->get_ref<const std::string&>();
  auto value = parse_key_hash(text);
  if (!value) {
    return malformed("frame key binding \"k\" must be 16 lowercase hex digits, got \"" +
                     detail::quote_untrusted(text.substr(0, 40)) + "\"" +
                     (text.size() > 40 ? " (" + std::to_string(text.size()) + " characters)" : ""));
  }
  return std::optional<std::uint64_t>(*value);
}

// A header or legacy envelope holds a dozen values two levels deep; anything far beyond that is
// hostile, and a DOM of it would cost tens of bytes per input byte. Elements past the budget are
// discarded as they are parsed (the parser cannot stop early), so memory stays bounded.
constexpr std::size_t max_json_values = 128;
constexpr int max_json_depth = 8;

result<json> parse_json(std::string_view text, const char* what) {
  std::size_t values = 0;
  bool over_budget = false;
  const json::parser_callback_t bound = [&](int depth, json::parse_event_t event, json&) {
    if (event == json::parse_event_t::key) return !over_budget;
    if (event == json::parse_event_t::value || event == json::parse_event_t::object_start ||
        event == json::parse_event_t::array_start) {
      if (++values > max_json_values || depth > max_json_depth) over_budget = true;
    }
    return !over_budget;
  };
  json doc = json::parse(text.begin(), text.end(), bound, /*allow_exceptions=*/false);
  if (over_budget) {
    return malformed(std::string(what) + " holds more than " + std::to_string(max_json_values) +
                     " JSON values or nests deeper than " + std::to_string(max_json_depth) +
                     " levels; no cachekit writer produces that");
  }
  if (doc.is_discarded()) return malformed(std::string(what) + " is not valid JSON");
  if (!doc.is_object()) {
    return malformed(std::string(what) + " must be a JSON object, got " + json_type(doc));
  }
  return doc;
}

result<parsed_header> parse_v3_header(std::string_view text) {
  auto doc = parse_json(text, "frame header");
  if (!doc) return std::move(doc).error();
  auto serializer = parse_serializer(*doc, "s");
  if (!serializer) return std::move(serializer).error();
  const auto m = doc->find("m");
  auto meta = parse_metadata(m == doc->end() ? nullptr : &*m);
  if (!meta) return std::move(meta).error();
  auto binding = parse_key_binding(*doc, *meta);
  if (!binding) return std::move(binding).error();
  parsed_header out = make_parsed(std::move(*serializer), std::move(*meta));
  out.h.key_hash = *binding;
  return out;
}

// Headers repeat (one per configuration), so each thread remembers the last few it parsed, as
// cachekit-py's reader memoizes them. Long headers are parsed every time, and so are headers
// with a key binding: each is one key's, so remembering them would only push out the others.
constexpr std::size_t memo_max_header = 512;
constexpr std::size_t memo_entries = 4;

struct header_memo {
  struct entry {
    std::string text;
    parsed_header parsed;
  };
  std::array<entry, memo_entries> entries;
  std::size_t used = 0;
  std::size_t next = 0;

  const parsed_header* find(std::string_view text) const noexcept {
    for (std::size_t i = 0; i < used; ++i) {
      if (entries[i].text == text) return &entries[i].parsed;
    }
    return nullptr;
  }
  void add(std::string_view text, const parsed_header& h) {
    entries[next].text.assign(text);
    entries[next].parsed = h;
    next = (next + 1) % memo_entries;
    if (used < memo_entries) ++used;
  }
};

result<parsed_header> parse_v3_header_memo(std::string_view text) {
  if (text.size() > memo_max_header) return parse_v3_header(text);
  thread_local header_memo memo;
  if (const parsed_header* hit = memo.find(text)) return *hit;
  auto parsed = parse_v3_header(text);
  if (parsed && !parsed->h.key_hash) memo.add(text, *parsed);
  return parsed;
}

// Python's non-strict base64.b64decode: characters outside the alphabet are skipped, a complete
// pad ends the data (anything after it is ignored), leftover bits are dropped.
result<byte_buffer> decode_base64_lenient(std::string_view text) {
  auto value_of = [](unsigned char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  byte_buffer out;
  out.reserve(text.size() / 4 * 3 + 3);
  int quad_pos = 0;
  int pads = 0;
  unsigned left = 0;
  std::size_t data_chars = 0;
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '=') {
      if (quad_pos >= 2 && quad_pos + ++pads >= 4) return out;
      continue;
    }
    const int v = value_of(c);
    if (v < 0) continue;
    pads = 0;
    ++data_chars;
    switch (quad_pos) {
      case 0:
        left = static_cast<unsigned>(v);
        quad_pos = 1;
        break;
      case 1:
        out.push_back(static_cast<std::byte>((left << 2) | (static_cast<unsigned>(v) >> 4)));
        left = static_cast<unsigned>(v) & 0x0f;
        quad_pos = 2;
        break;
      case 2:
        out.push_back(static_cast<std::byte>((left << 4) | (static_cast<unsigned>(v) >> 2)));
        left = static_cast<unsigned>(v) & 0x03;
        quad_pos = 3;
        break;
      default:
        out.push_back(static_cast<std::byte>((left << 6) | static_cast<unsigned>(v)));
        quad_pos = 0;
    }
  }
  if (quad_pos == 1) {
    return malformed("legacy JSON envelope \"data\" is not base64: " + std::to_string(data_chars) +
                     " data characters cannot be 1 more than a multiple of 4");
  }
  if (quad_pos != 0) return malformed("legacy JSON envelope \"data\" has incorrect base64 padding");
  return out;
}

result<decoded> decode_legacy_json(byte_view stored) {
  const std::string_view text = as_string_view(stored);
  if (const auto bad = detail::utf8_invalid_offset(text); bad != text.size()) {
    return malformed("value is neither a CK frame nor UTF-8 JSON (invalid UTF-8 at offset " +
                     std::to_string(bad) + ")");
  }
  if (text.starts_with("\xef\xbb\xbf")) {
    return malformed("legacy JSON envelope starts with a UTF-8 byte order mark");
  }
  auto doc = parse_json(text, "value (neither a CK frame nor a legacy JSON envelope)");
  if (!doc) return std::move(doc).error();
  auto serializer = parse_serializer(*doc, "serializer");
  if (!serializer) return std::move(serializer).error();
  const auto data = doc->find("data");
  if (data == doc->end() || !data->is_string()) {
    return malformed("legacy JSON envelope needs \"data\" as a base64 string");
  }
  const auto& encoded = data->get_ref<const std::string&>();
  for (const char c : encoded) {
    if (static_cast<unsigned char>(c) >= 0x80) {
      return malformed("legacy JSON envelope \"data\" has a non-ASCII character");
    }
  }
  auto payload = decode_base64_lenient(encoded);
  if (!payload) return std::move(payload).error();
  // cachekit-py reads a missing "metadata" as {} — which then lacks "format".
  const auto m = doc->find("metadata");
  const json empty = json::object();
  auto meta = parse_metadata(m == doc->end() ? &empty : &*m);
  if (!meta) return std::move(meta).error();
  parsed_header parsed = make_parsed(std::move(*serializer), std::move(*meta));
  return decoded(std::move(parsed.h), std::move(parsed.recorded_serializer), std::move(*payload));
}

// ---- the default serializer -------------------------------------------------------------------

const prefix& standard_prefix(bool integrity_checking) {
  static const prefix on =
      prefix::make({.serializer = "default", .metadata = standard_metadata({})}).value();
  static const prefix off =
      prefix::make(
          {.serializer = "default", .metadata = standard_metadata({.integrity_checking = false})})
          .value();
  return integrity_checking ? on : off;
}

// cachekit-py's integrity-off reader refuses a payload that is a valid envelope declaring at
// most 256 KiB (whose compressed data fits lz4_flex's bound for that): it was written with
// integrity checking on. Larger look-alikes are returned as data, as there.
constexpr std::uint64_t probe_max_original = std::uint64_t{256} * 1024;
constexpr std::uint64_t probe_max_compressed = 20 + probe_max_original * 110 / 100;

bool is_small_valid_envelope(byte_view payload) {
  if (payload.size() < 2 || payload[0] != std::byte{0x94}) return false;
  const auto marker = static_cast<std::uint8_t>(payload[1]);
  const bool bin = marker >= 0xc4 && marker <= 0xc6;
  const bool int_array = (marker >= 0x90 && marker <= 0x9f) || marker == 0xdc || marker == 0xdd;
  if (!bin && !int_array) return false;
  detail::msgpack_reader r(payload);
  if (!r.read_array_header()) return false;
  std::size_t compressed_len = 0;
  if (bin) {
    auto b = r.read_bin();
    if (!b) return false;
    compressed_len = b->size();
  } else {
    auto n = r.read_array_header();
    if (!n) return false;
    compressed_len = *n;
    for (std::size_t i = 0; i < *n; ++i) {
      if (!r.skip()) return false;
    }
  }
  if (!r.skip()) return false;  // checksum
  auto size = r.read_int();
  if (!size || size->is_unsigned_large || size->i < 0) return false;
  if (static_cast<std::uint64_t>(size->i) > probe_max_original) return false;
  if (compressed_len > probe_max_compressed) return false;
  return envelope::decode(payload).has_value();
}

constexpr const char* cross_config_error =
    "cache entry was written with integrity checking on but this reader has integrity checking "
    "disabled; use the same integrity_checking setting as the writer";

}  // namespace

// ---- public -----------------------------------------------------------------------------------

metadata standard_metadata(const standard_options& options) {
  metadata m;
  m.format = "msgpack";
  m.compressed = options.integrity_checking;
  m.original_type = "msgpack";
  return m;
}

std::uint64_t key_hash(std::string_view storage_key) noexcept {
  return XXH3_64bits(storage_key.data(), storage_key.size());
}

void write_key_hash(std::uint64_t key_hash, char* out) noexcept {
  static constexpr char hex[] = "0123456789abcdef";
  for (std::size_t i = key_hash_digits; i-- > 0;) {
    out[i] = hex[key_hash & 0xf];
    key_hash >>= 4;
  }
}

std::optional<std::uint64_t> parse_key_hash(std::string_view digits) noexcept {
  if (digits.size() != key_hash_digits) return std::nullopt;
  std::uint64_t value = 0;
  for (const char c : digits) {
    unsigned d = 0;
    if (c >= '0' && c <= '9') {
      d = static_cast<unsigned>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      d = static_cast<unsigned>(c - 'a' + 10);
    } else {
      return std::nullopt;
    }
    value = (value << 4) | d;
  }
  return value;
}

std::string_view canonical_serializer_name(std::string_view name) {
  if (name == "std" || name == "standard") return "default";
  if (name == "pythonic") return "auto";
  return name;
}

result<prefix> prefix::make(const frame::header& h, const alignment& a) {
  if (a.align == 0) {
    return fail(errc::invalid_argument, "frame alignment must be at least 1 (1 = no padding)");
  }
  frame::header canonical = h;
  canonical.serializer = std::string(canonical_serializer_name(h.serializer));
  if (auto ok = validate(canonical); !ok) return ok.error();

  std::string text = render_header_json(canonical);
  const std::size_t key_hash_at =
      canonical.key_hash ? prefix_size + text.size() - key_hash_from_end : 0;
  if (a.align > 1) {
    // (-(offset + prefix length)) mod align, without overflowing a huge offset.
    const std::size_t used = (a.offset % a.align + (prefix_size + text.size()) % a.align) % a.align;
    text.append((a.align - used) % a.align, ' ');
  }
  if (text.size() > 0xffffffffu) {
    return fail(errc::invalid_argument, "frame header of " + std::to_string(text.size()) +
                                            " bytes does not fit the u32 header_len");
  }
  prefix out;
  out.header_ = std::move(canonical);
  out.key_hash_at_ = key_hash_at;
  out.bytes_.resize(prefix_size + text.size());
  out.bytes_[0] = magic0;
  out.bytes_[1] = magic1;
  out.bytes_[2] = std::byte{version};
  detail::store_be(out.bytes_.data() + 3, static_cast<std::uint32_t>(text.size()));
  std::memcpy(out.bytes_.data() + prefix_size, text.data(), text.size());
  return out;
}

byte_buffer prefix::wrap(byte_view payload) const {
  byte_buffer out;
  out.reserve(bytes_.size() + payload.size());
  out.insert(out.end(), bytes_.begin(), bytes_.end());
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

void prefix::append_to(byte_buffer& out) const {
  out.insert(out.end(), bytes_.begin(), bytes_.end());
}

void prefix::append_to(byte_buffer& out, std::uint64_t key_hash) const {
  const std::size_t start = out.size();
  out.insert(out.end(), bytes_.begin(), bytes_.end());
  if (key_hash_at_ != 0) {
    write_key_hash(key_hash, reinterpret_cast<char*>(out.data() + start + key_hash_at_));
  }
}

decoded::decoded(frame::header h, std::string recorded_serializer, byte_view payload,
                 std::size_t header_len)
    : header_(std::move(h)),
      recorded_serializer_(std::move(recorded_serializer)),
      kind_(container::v3),
      header_len_(header_len),
      view_(payload) {}

decoded::decoded(frame::header h, std::string recorded_serializer, byte_buffer payload)
    : header_(std::move(h)),
      recorded_serializer_(std::move(recorded_serializer)),
      kind_(container::legacy_json),
      owned_(std::move(payload)) {}

result<decoded> decode(byte_view stored) {
  const bool framed = stored.size() >= 2 && stored[0] == magic0 && stored[1] == magic1;
  if (!framed) {
    if (stored.empty()) return fail(errc::truncated, "stored value is empty");
    return decode_legacy_json(stored);
  }
  if (stored.size() < prefix_size) {
    return fail(errc::truncated, "CK frame is " + std::to_string(stored.size()) +
                                     " bytes; its prefix alone is " + std::to_string(prefix_size));
  }
  const auto v = static_cast<std::uint8_t>(stored[2]);
  if (v != version) {
    return fail(errc::unsupported_version,
                "CK frame version " + std::to_string(v) + " (this SDK reads version 3)");
  }
  const auto header_len = detail::load_be<std::uint32_t>(stored.data() + 3);
  if (header_len > stored.size() - prefix_size) {
    return fail(errc::truncated,
                "CK frame header_len " + std::to_string(header_len) + " runs past the end: only " +
                    std::to_string(stored.size() - prefix_size) + " bytes follow the prefix");
  }
  if (header_len > max_header_len) {
    return fail(errc::length_limit, "CK frame header_len " + std::to_string(header_len) +
                                        " is above the " + std::to_string(max_header_len) +
                                        "-byte limit (cachekit writers use a few hundred)");
  }
  auto h = parse_v3_header_memo(as_string_view(stored.subspan(prefix_size, header_len)));
  if (!h) return std::move(h).error();
  return decoded(std::move(h->h), std::move(h->recorded_serializer),
                 stored.subspan(prefix_size + header_len), header_len);
}

result<byte_buffer> encode_standard(byte_view msgpack, const standard_options& options) {
  const prefix& p = standard_prefix(options.integrity_checking);
  if (!options.integrity_checking) return p.wrap(msgpack);
  byte_buffer out;
  out.reserve(p.bytes().size() + envelope::encoded_size_bound(msgpack.size()));
  p.append_to(out);
  if (auto ok = envelope::encode_into(out, msgpack); !ok) return ok.error();
  return out;
}

namespace {

// The payload of a value framed with one of the two default-serializer prefixes, found by
// comparing the prefix bytes (no JSON parse), or nullopt.
struct standard_framed {
  byte_view payload;
  bool compressed;
};
std::optional<standard_framed> match_standard_prefix(byte_view stored) noexcept {
  for (const bool integrity : {true, false}) {
    const byte_view p = standard_prefix(integrity).bytes();
    if (stored.size() >= p.size() && std::memcmp(stored.data(), p.data(), p.size()) == 0) {
      return standard_framed{stored.subspan(p.size()), integrity};
    }
  }
  return std::nullopt;
}

result<byte_buffer> open_standard_payload(byte_view payload, bool compressed,
                                          const standard_options& options) {
  if (options.integrity_checking) {
    auto env = envelope::decode(payload);
    if (!env) return std::move(env).error();
    return std::move(env->data);
  }
  if (compressed || is_small_valid_envelope(payload)) {
    return fail(errc::serializer_mismatch, cross_config_error);
  }
  return byte_buffer(payload.begin(), payload.end());
}

}  // namespace

result<byte_buffer> decode_standard(byte_view stored, const standard_options& options) {
  if (const auto framed = match_standard_prefix(stored)) {
    return open_standard_payload(framed->payload, framed->compressed, options);
  }
  auto f = decode(stored);
  if (!f) return std::move(f).error();
  const header& h = f->header();
  // cachekit-py 0.24.1 compares the name as recorded: an alias ("std") is a mismatch there too.
  if (f->recorded_serializer() != "default") {
    return fail(errc::serializer_mismatch, "entry was written by serializer '" +
                                               detail::quote_untrusted(f->recorded_serializer()) +
                                               "'; this reader expects 'default'");
  }
  if (h.metadata.encrypted) {
    return fail(errc::serializer_mismatch,
                "entry is encrypted (tenant_id " +
                    detail::quote_untrusted(h.metadata.tenant_id.value_or("null")) +
                    "); read it through the encryption layer");
  }
  return open_standard_payload(f->payload(), h.metadata.compressed, options);
}

}  // namespace frame
}  // namespace v0
}  // namespace cachekit
