// Encoders for the two value profiles.
//
// Standard: msgpack-python `packb(obj, use_bin_type=True)` with cachekit-py's `_standard_default`
// hook — maps in insertion order, any key kind, floats as float64, temporal values as
// `{"__datetime__": true, "value": isoformat}` maps.
// Interop: cachekit-py `encode_interop_value` — the same shapes, but map keys must be strings
// and are written in UTF-8 byte order, and NaN/Infinity are refused.
#include <cachekit/temporal_msgpack.hpp>
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
  result<void> encode_one(const value_ext& e, std::size_t) {
    if (profile_ == profile::interop) {
      return fail(errc::unsupported_type,
                  "MessagePack extension types cannot be stored in the interop value profile "
                  "(cachekit-py's encode_interop_value refuses them too)");
    }
    if (auto r = check_length(e.data.size(), "extension"); !r) return r;
    writer_.write_ext(e.type, e.data);
    return {};
  }
  result<void> encode_one(const datetime& t, std::size_t depth) { return sentinel(t, depth); }
  result<void> encode_one(const date& d, std::size_t depth) { return sentinel(d, depth); }
  result<void> encode_one(const time_of_day& t, std::size_t depth) { return sentinel(t, depth); }

  // `{marker: true, "value": text}`; the same key order in both profiles ("__" sorts first).
  result<void> sentinel(const value& temporal, std::size_t depth) {
    auto s = detail::sentinel_of(temporal);
    if (!s) return s.error();
    if (auto r = enter(depth); !r) return r;
    writer_.write_map_header(2);
    writer_.write_str(s->marker);
    writer_.write_bool(true);
    writer_.write_str(detail::sentinel_value_key);
    writer_.write_str(s->text);
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

namespace detail {

result<temporal_sentinel> sentinel_of(const value& temporal) {
  if (auto r = check_temporal(temporal); !r) return r.error();
  if (const auto* t = temporal.get_if<datetime>()) {
    return temporal_sentinel{datetime_marker, t->to_isoformat()};
  }
  if (const auto* d = temporal.get_if<date>())
    return temporal_sentinel{date_marker, d->to_isoformat()};
  if (const auto* t = temporal.get_if<time_of_day>()) {
    return temporal_sentinel{time_marker, t->to_isoformat()};
  }
  return fail(errc::unsupported_type, "not a datetime, date or time_of_day");
}

}  // namespace detail

result<byte_buffer> encode_standard_value(const value& v) {
  return encode_with(profile::standard, v);
}

result<byte_buffer> encode_interop_value(const value& v) {
  return encode_with(profile::interop, v);
}

result<byte_buffer> standard_to_interop(byte_view standard_msgpack) {
  // Sentinel maps stay maps: the interop profile writes a temporal value as the same map.
  auto decoded = decode_standard_value(standard_msgpack, {.revive_temporal_sentinels = false});
  if (!decoded) {
    if (decoded.error().code == make_error_code(errc::malformed) &&
        decoded.error().detail.find("map key") != std::string::npos) {
      return fail(errc::unsupported_type, "interop map keys must be strings (" +
                                              decoded.error().detail +
                                              "); convert the keys to strings first");
    }
    return decoded.error();
  }
  return encode_interop_value(*decoded);
}

}  // namespace v0
}  // namespace cachekit
