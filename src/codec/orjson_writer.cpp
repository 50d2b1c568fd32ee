// MessagePack (standard profile) -> the JSON cachekit-py's OrjsonSerializer writes.
#include "codec/orjson.hpp"

#include <cachekit/temporal.hpp>
#include <cachekit/value.hpp>
#include <cachekit/value_codec.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <vector>

namespace cachekit {
inline namespace v0 {
namespace detail {
namespace {

constexpr char hex_digits[] = "0123456789abcdef";

// orjson escapes `"`, `\` and the controls below 0x20; everything else (DEL, `/`, U+2028,
// non-ASCII) is written as is.
void append_string(std::string& out, std::string_view s) {
  out.push_back('"');
  std::size_t run = 0;  // start of the pending unescaped run
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out.append("\\\""); break;
      case '\\': out.append("\\\\"); break;
      case '\b': out.append("\\b"); break;
      case '\f': out.append("\\f"); break;
      case '\n': out.append("\\n"); break;
      case '\r': out.append("\\r"); break;
      case '\t': out.append("\\t"); break;
      default:
        out.append("\\u00");
        out.push_back(hex_digits[c >> 4]);
        out.push_back(hex_digits[c & 0xf]);
    }
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

// orjson writes datetime, date and time as their isoformat text, except that it drops the
// seconds of a UTC offset and refuses an aware time: those are refused here rather than stored
// as a value that reads back differently.
result<std::string> temporal_text(const value& v) {
  if (const auto* dt = v.get_if<datetime>()) {
    if (dt->utc_offset && dt->utc_offset->count() % 60 != 0) {
      return fail(errc::unsupported_type,
                  "a datetime whose UTC offset has seconds: orjson (serializer \"orjson\") "
                  "writes the offset without them; use a whole-minute offset or the standard "
                  "serializer");
    }
    return dt->to_isoformat();
  }
  if (const auto* d = v.get_if<date>()) return d->to_isoformat();
  const auto& t = *v.get_if<time_of_day>();
  if (t.utc_offset) {
    return fail(errc::unsupported_type,
                "a time of day with a UTC offset: orjson (serializer \"orjson\") refuses aware "
                "times; store a datetime or use the standard serializer");
  }
  return t.to_isoformat();
}

result<void> append_value(std::string& out, const value& v);

result<void> append_map(std::string& out, const value_map& m) {
  std::vector<const std::pair<value, value>*> entries;
  entries.reserve(m.size());
  for (const auto& entry : m) {
    if (entry.first.get_if<std::string>() == nullptr) {
      return fail(errc::unsupported_type,
                  "a map key that is not a string: JSON (serializer \"orjson\") has string keys "
                  "only; convert the keys to strings or use the standard serializer");
    }
    entries.push_back(&entry);
  }
  // OPT_SORT_KEYS: by the keys' UTF-8 bytes (std::string compares chars as unsigned).
  std::sort(entries.begin(), entries.end(), [](const auto* a, const auto* b) {
    return *a->first.template get_if<std::string>() < *b->first.template get_if<std::string>();
  });
  out.push_back('{');
  const std::string* previous = nullptr;
  for (const auto* entry : entries) {
    const std::string& key = *entry->first.get_if<std::string>();
    if (previous != nullptr) {
      if (*previous == key) {
        return fail(errc::invalid_argument, "a map with the key \"" + key + "\" twice");
      }
      out.push_back(',');
    }
    previous = &key;
    append_string(out, key);
    out.push_back(':');
    if (auto ok = append_value(out, entry->second); !ok) return ok;
  }
  out.push_back('}');
  return {};
}

result<void> append_value(std::string& out, const value& v) {
  switch (v.kind()) {
    case value_kind::nil: out.append("null"); return {};
    case value_kind::boolean: out.append(*v.get_if<bool>() ? "true" : "false"); return {};
    case value_kind::integer: out.append(std::to_string(*v.get_if<std::int64_t>())); return {};
    case value_kind::unsigned_integer:
      out.append(std::to_string(*v.get_if<std::uint64_t>()));
      return {};
    case value_kind::floating: {
      const double d = *v.get_if<double>();
      if (!std::isfinite(d)) {
        return fail(errc::unsupported_type,
                    "NaN or infinity: orjson (serializer \"orjson\") writes them as null, which "
                    "reads back as another value; use the standard serializer");
      }
      append_orjson_float(out, d);
      return {};
    }
    case value_kind::string: append_string(out, *v.get_if<std::string>()); return {};
    case value_kind::binary:
      return fail(errc::unsupported_type,
                  "bytes: JSON (serializer \"orjson\") has no binary type, as orjson refuses "
                  "bytes; encode them (base64, hex) into a string or use the standard serializer");
    case value_kind::array: {
      out.push_back('[');
      bool first = true;
      for (const auto& item : *v.get_if<value_array>()) {
        if (!first) out.push_back(',');
        first = false;
        if (auto ok = append_value(out, item); !ok) return ok;
      }
      out.push_back(']');
      return {};
    }
    case value_kind::map: return append_map(out, *v.get_if<value_map>());
    case value_kind::set:
      return fail(errc::unsupported_type, "a set: JSON (serializer \"orjson\") has no set type");
    case value_kind::datetime:
    case value_kind::date:
    case value_kind::time: {
      auto text = temporal_text(v);
      if (!text) return std::move(text).error();
      append_string(out, *text);
      return {};
    }
    case value_kind::uuid: append_string(out, v.get_if<uuid>()->to_string()); return {};
    case value_kind::ext:
      return fail(errc::unsupported_type,
                  "a MessagePack extension item: JSON (serializer \"orjson\") has no such type, "
                  "as orjson refuses msgpack's ExtType; use the standard serializer");
  }
  return fail(errc::unsupported_type, "a value kind JSON cannot hold");
}

}  // namespace

void append_orjson_float(std::string& out, double v) {
  if (v == 0.0) {
    out.append(std::signbit(v) ? "-0.0" : "0.0");
    return;
  }
  // Shortest round-trip digits, then laid out as orjson (ryu's pretty printer) lays them out.
  std::array<char, 40> buf{};
  const auto res =
      std::to_chars(buf.data(), buf.data() + buf.size(), v, std::chars_format::scientific);
  std::string_view sci(buf.data(), static_cast<std::size_t>(res.ptr - buf.data()));
  if (sci.front() == '-') {
    out.push_back('-');
    sci.remove_prefix(1);
  }
  const std::size_t e_at = sci.find('e');
  std::string digits;
  for (char c : sci.substr(0, e_at)) {
    if (c != '.') digits.push_back(c);
  }
  const int exponent = std::atoi(std::string(sci.substr(e_at + 1)).c_str());
  const int n = static_cast<int>(digits.size());
  const int kk = exponent + 1;  // digits before the decimal point
  if (n <= kk && kk <= 16) {
    out.append(digits).append(static_cast<std::size_t>(kk - n), '0').append(".0");
  } else if (0 < kk && kk <= 16) {
    out.append(digits, 0, static_cast<std::size_t>(kk)).push_back('.');
    out.append(digits, static_cast<std::size_t>(kk), std::string::npos);
  } else if (-5 < kk && kk <= 0) {
    out.append("0.").append(static_cast<std::size_t>(-kk), '0').append(digits);
  } else {
    out.push_back(digits[0]);
    if (n > 1) out.append(".").append(digits, 1, std::string::npos);
    out.push_back('e');
    const int shown = kk - 1;
    out.push_back(shown < 0 ? '-' : '+');
    out.append(std::to_string(shown < 0 ? -shown : shown));
  }
}

result<std::string> standard_to_orjson(byte_view msgpack) {
  auto decoded = decode_standard_value(msgpack);
  if (!decoded) {
    // The bytes come from this SDK's own encoders: what its reader refuses (an integer map key,
    // an extension type) is a value JSON cannot carry.
    return fail(
        errc::unsupported_type,
        "the value cannot be written as JSON (serializer \"orjson\"): " + decoded.error().detail);
  }
  std::string out;
  out.reserve(msgpack.size() + msgpack.size() / 2 + 8);
  if (auto ok = append_value(out, *decoded); !ok) return std::move(ok).error();
  return out;
}

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
