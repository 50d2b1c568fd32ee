// Encoders for the two value profiles.
//
// Standard: msgpack-python `packb(obj, use_bin_type=True)` with cachekit-py's `_standard_default`
// hook — maps in insertion order, any key kind, floats as float64, temporal values as
// `{"__datetime__": true, "value": isoformat}` maps.
// Interop: cachekit-py `encode_interop_value` — the same shapes, but map keys must be strings
// and are written in UTF-8 byte order, and NaN/Infinity are refused.
#include <cachekit/value_codec.hpp>

#include "codec/value_codec_internal.hpp"
#include "protocol/msgpack_writer.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace cachekit {
inline namespace v0 {
namespace {

enum class profile { standard, interop };

const char* profile_name(profile p) {
  return p == profile::standard ? "standard" : "interop";
}

class value_encoder {
 public:
  value_encoder(profile p, byte_buffer& out) : profile_(p), writer_(out) {}

  result<void> encode(const value& v, std::size_t depth) {
    return std::visit([&](const auto& x) { return encode_one(x, depth); }, v.variant());
  }

 private:
  result<void> encode_one(std::monostate, std::size_t) {
    writer_.write_nil();
    return {};
  }
  result<void> encode_one(bool b, std::size_t) {
    writer_.write_bool(b);
    return {};
  }
  result<void> encode_one(std::int64_t i, std::size_t) {
    writer_.write_int(i);
    return {};
  }
  result<void> encode_one(std::uint64_t u, std::size_t) {
    writer_.write_uint(u);
    return {};
  }
  result<void> encode_one(double d, std::size_t) {
    if (profile_ == profile::interop && !std::isfinite(d)) {
      return fail(errc::invalid_argument,
                  "NaN and Infinity are not allowed in interop values (cachekit-py raises "
                  "InteropError); store null or a string instead");
    }
    writer_.write_float64(d);
    return {};
  }
  result<void> encode_one(const std::string& s, std::size_t) {
    if (!detail::is_valid_utf8(s)) {
      return fail(errc::invalid_argument,
                  "string is not valid UTF-8; store raw bytes as value::binary(...) instead");
    }
    if (auto r = check_length(s.size(), "string"); !r) return r;
    writer_.write_str(s);
    return {};
  }
  result<void> encode_one(const value_binary& b, std::size_t) {
    if (auto r = check_length(b.bytes.size(), "binary"); !r) return r;
    writer_.write_bin(b.bytes);
    return {};
  }
  result<void> encode_one(const value_array& a, std::size_t depth) {
    if (auto r = enter(depth); !r) return r;
    if (auto r = check_length(a.size(), "array"); !r) return r;
    writer_.write_array_header(a.size());
    for (const auto& item : a) {
      if (auto r = encode(item, depth + 1); !r) return r;
    }
    return {};
  }
  result<void> encode_one(const value_map& m, std::size_t depth) {
    if (auto r = enter(depth); !r) return r;
    if (auto r = check_length(m.size(), "map"); !r) return r;
    if (profile_ == profile::standard) {
      writer_.write_map_header(m.size());
      for (const auto& [k, v] : m) {
        if (auto r = encode(k, depth + 1); !r) return r;
        if (auto r = encode(v, depth + 1); !r) return r;
      }
      return {};
    }
    // Interop: string keys only, emitted in UTF-8 byte order (== code point order).
    std::vector<const std::pair<value, value>*> sorted;
    sorted.reserve(m.size());
    for (const auto& entry : m) {
      if (entry.first.get_if<std::string>() == nullptr) {
        return fail(errc::unsupported_type,
                    "interop map keys must be strings; convert the key to a string first");
      }
      sorted.push_back(&entry);
    }
    std::sort(sorted.begin(), sorted.end(), [](const auto* a, const auto* b) {
      return *a->first.template get_if<std::string>() < *b->first.template get_if<std::string>();
    });
    for (std::size_t i = 1; i < sorted.size(); ++i) {
      if (*sorted[i]->first.get_if<std::string>() == *sorted[i - 1]->first.get_if<std::string>()) {
        return fail(errc::invalid_argument, "interop map has the key '" +
                                                *sorted[i]->first.get_if<std::string>() +
                                                "' twice; a map needs distinct keys");
      }
    }
    writer_.write_map_header(sorted.size());
    for (const auto* entry : sorted) {
      if (auto r = encode(entry->first, depth + 1); !r) return r;
      if (auto r = encode(entry->second, depth + 1); !r) return r;
    }
    return {};
  }
  result<void> encode_one(const value_set&, std::size_t) {
    return fail(errc::unsupported_type,
                std::string("sets cannot be stored in the ") + profile_name(profile_) +
                    " value profile (cachekit-py rejects them too); store a sorted array instead");
  }
  result<void> encode_one(const uuid&, std::size_t) {
    return fail(errc::unsupported_type, std::string("UUIDs cannot be stored in the ") +
                                            profile_name(profile_) +
                                            " value profile (cachekit-py rejects them too); store "
                                            "value(id.to_string()) instead");
  }
  result<void> encode_one(const datetime& t, std::size_t depth) {
    return sentinel(detail::datetime_marker, value(t), t.to_isoformat(), depth);
  }
  result<void> encode_one(const date& d, std::size_t depth) {
    return sentinel(detail::date_marker, value(d), d.to_isoformat(), depth);
  }
  result<void> encode_one(const time_of_day& t, std::size_t depth) {
    return sentinel(detail::time_marker, value(t), t.to_isoformat(), depth);
  }

  // `{marker: true, "value": text}`; the same key order in both profiles ("__" sorts first).
  result<void> sentinel(std::string_view marker, const value& original, const std::string& text,
                        std::size_t depth) {
    if (auto r = detail::check_temporal(original); !r) return r;
    if (auto r = enter(depth); !r) return r;
    writer_.write_map_header(2);
    writer_.write_str(marker);
    writer_.write_bool(true);
    writer_.write_str(detail::sentinel_value_key);
    writer_.write_str(text);
    return {};
  }

  static result<void> enter(std::size_t depth) {
    if (depth >= detail::max_value_nesting) {
      return fail(errc::invalid_argument,
                  "value nests deeper than " + std::to_string(detail::max_value_nesting) +
                      " arrays/maps, which msgpack-python refuses to pack; flatten it");
    }
    return {};
  }

  static result<void> check_length(std::size_t n, const char* what) {
    if (n > UINT32_MAX) {
      return fail(errc::value_too_large, std::string("a MessagePack ") + what +
                                             " holds at most 4294967295 elements/bytes, got " +
                                             std::to_string(n));
    }
    return {};
  }

  profile profile_;
  detail::msgpack_writer writer_;
};

result<byte_buffer> encode_with(profile p, const value& v) {
  byte_buffer out;
  value_encoder encoder(p, out);
  if (auto r = encoder.encode(v, 0); !r) return r.error();
  return out;
}

}  // namespace

result<byte_buffer> encode_standard_value(const value& v) {
  return encode_with(profile::standard, v);
}

result<byte_buffer> encode_interop_value(const value& v) {
  return encode_with(profile::interop, v);
}

}  // namespace v0
}  // namespace cachekit
