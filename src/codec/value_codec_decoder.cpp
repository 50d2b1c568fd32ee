// Decoders for the two value profiles, over untrusted bytes.
//
// One iterative walk (no recursion, so hostile nesting cannot exhaust the stack) builds the
// value the way cachekit-py's readers do:
// - standard: msgpack-python `unpackb(raw=False, strict_map_key=True, object_hook=...)` behind
//   `unpackb_bounded` — str/bin keys only, and a map of exactly two entries with a truthy marker
//   is revived (`value` missing or nil ⇒ error);
// - interop: `decode_interop_value` — "CK" prefix refused, any hashable scalar key, at most 32
//   keys per map that are neither str nor bytes, and a map revived when its marker `is True`
//   and its `value` is a str (a trailing Z/z means +00:00).
// Both build maps as Python dicts do: a repeated key keeps its first position and takes the last
// value. Strings must be well-formed UTF-8; extension items become `value_ext`.
#include <cachekit/value_codec.hpp>

#include "codec/value_codec_internal.hpp"
#include "protocol/msgpack_reader.hpp"

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <new>
#include <string>
#include <unordered_map>
#include <vector>

namespace cachekit {
inline namespace v0 {
namespace detail {

namespace {

// A number as Python compares it: integral floats equal the int of the same value.
struct python_number {
  enum class kind { signed_int, unsigned_int, real, none } k = kind::none;
  std::int64_t i = 0;
  std::uint64_t u = 0;
  double d = 0;
};

python_number number_of(const value& v) noexcept {
  python_number n;
  if (const auto* b = v.get_if<bool>()) {
    n.k = python_number::kind::signed_int;
    n.i = *b ? 1 : 0;
  } else if (const auto* i = v.get_if<std::int64_t>()) {
    n.k = python_number::kind::signed_int;
    n.i = *i;
  } else if (const auto* u = v.get_if<std::uint64_t>()) {
    if (*u <= static_cast<std::uint64_t>(INT64_MAX)) {
      n.k = python_number::kind::signed_int;
      n.i = static_cast<std::int64_t>(*u);
    } else {
      n.k = python_number::kind::unsigned_int;
      n.u = *u;
    }
  } else if (const auto* d = v.get_if<double>()) {
    constexpr double two_63 = 9223372036854775808.0;
    constexpr double two_64 = 18446744073709551616.0;
    if (std::isfinite(*d) && std::trunc(*d) == *d && *d >= -two_63 && *d < two_64) {
      if (*d < two_63) {
        n.k = python_number::kind::signed_int;
        n.i = static_cast<std::int64_t>(*d);
      } else {
        n.k = python_number::kind::unsigned_int;
        n.u = static_cast<std::uint64_t>(*d);
      }
    } else {
      n.k = python_number::kind::real;
      n.d = *d;
    }
  }
  return n;
}

}  // namespace

bool python_keys_equal(const value& a, const value& b) noexcept {
  const python_number na = number_of(a);
  const python_number nb = number_of(b);
  if (na.k != python_number::kind::none || nb.k != python_number::kind::none) {
    if (na.k != nb.k) return false;
    switch (na.k) {
      case python_number::kind::signed_int: return na.i == nb.i;
      case python_number::kind::unsigned_int: return na.u == nb.u;
      default: return na.d == nb.d;  // NaN equals nothing
    }
  }
  return a == b;
}

std::size_t python_key_hash(const value& key) noexcept {
  const python_number n = number_of(key);
  switch (n.k) {
    case python_number::kind::signed_int: return std::hash<std::int64_t>{}(n.i);
    case python_number::kind::unsigned_int: return std::hash<std::uint64_t>{}(n.u);
    case python_number::kind::real:
      return std::hash<std::uint64_t>{}(std::bit_cast<std::uint64_t>(n.d));
    case python_number::kind::none: break;
  }
  if (const auto* s = key.get_if<std::string>()) return std::hash<std::string_view>{}(*s);
  if (const auto* b = key.get_if<value_binary>()) {
    return ~std::hash<std::string_view>{}(as_string_view(b->bytes));
  }
  return static_cast<std::size_t>(key.kind());
}

namespace {

bool offset_in_range(const std::optional<std::chrono::seconds>& offset) {
  return !offset || (offset->count() > -86400 && offset->count() < 86400);
}

bool year_in_range(std::chrono::year y) {
  return static_cast<int>(y) >= 1 && static_cast<int>(y) <= 9999;
}

}  // namespace

result<void> check_temporal(const value& v) {
  if (const auto* t = v.get_if<datetime>()) {
    const std::chrono::year_month_day ymd{std::chrono::floor<std::chrono::days>(t->wall)};
    if (!year_in_range(ymd.year())) {
      return fail(errc::invalid_argument, "datetime year " +
                                              std::to_string(static_cast<int>(ymd.year())) +
                                              " is outside Python's range 1..9999");
    }
    if (!offset_in_range(t->utc_offset)) {
      return fail(errc::invalid_argument,
                  "datetime UTC offset must be strictly between -24h and +24h");
    }
  } else if (const auto* d = v.get_if<date>()) {
    if (!d->ymd.ok() || !year_in_range(d->ymd.year())) {
      return fail(errc::invalid_argument, "date must be a valid day in years 1..9999");
    }
  } else if (const auto* tod = v.get_if<time_of_day>()) {
    if (tod->since_midnight.count() < 0 || tod->since_midnight >= std::chrono::hours{24}) {
      return fail(errc::invalid_argument, "time of day must be in [00:00, 24:00)");
    }
    if (!offset_in_range(tod->utc_offset)) {
      return fail(errc::invalid_argument, "time UTC offset must be strictly between -24h and +24h");
    }
  }
  return {};
}

}  // namespace detail

namespace {

enum class profile { standard, interop };

// Keys per map that are neither str nor bytes, above which cachekit-py's interop reader refuses
// the map (`_MAX_NON_STRING_KEYS`, a hash-flood bound).
constexpr std::size_t max_non_string_keys = 32;
// Maps at least this large get a hash index for duplicate-key detection.
constexpr std::size_t indexed_map_size = 16;

// Python truthiness of a decoded value (revived temporal values are objects, hence true).
bool truthy(const value& v) {
  switch (v.kind()) {
    case value_kind::nil: return false;
    case value_kind::boolean: return *v.get_if<bool>();
    case value_kind::integer: return *v.get_if<std::int64_t>() != 0;
    case value_kind::unsigned_integer: return *v.get_if<std::uint64_t>() != 0;
    case value_kind::floating: return *v.get_if<double>() != 0.0;  // NaN is truthy
    case value_kind::string: return !v.get_if<std::string>()->empty();
    case value_kind::binary: return !v.get_if<value_binary>()->bytes.empty();
    case value_kind::array: return !v.get_if<value_array>()->empty();
    case value_kind::map: return !v.get_if<value_map>()->empty();
    case value_kind::set: return !v.get_if<value_set>()->items.empty();
    default: return true;
  }
}

struct frame {
  bool is_map = false;
  std::size_t remaining = 0;  // elements (array) or pairs (map) still to read
  value_array items;
  value_map pairs;
  value pending_key;
  bool has_key = false;
  std::size_t non_string_keys = 0;
  std::unordered_multimap<std::size_t, std::size_t> index;  // key hash -> position in pairs
  bool indexed = false;
};

class value_decoder {
 public:
  value_decoder(profile p, byte_view bytes, const value_decode_options& options)
      : profile_(p), reader_(bytes), options_(options) {}

  result<value> run() {
    std::vector<frame> stack;
    std::size_t pending = 1;  // items announced by open headers and not yet read
    while (true) {
      --pending;
      auto item = read_item(stack, pending);
      if (!item) return item.error();
      if (!item->has_value()) continue;  // a container was opened
      value v = std::move(**item);
      // Hand the finished value to its parents, closing every container it completes.
      while (true) {
        if (stack.empty()) {
          if (!reader_.at_end()) {
            return fail(errc::trailing_bytes,
                        std::to_string(reader_.remaining()) +
                            " bytes follow the MessagePack document (exactly one is expected)");
          }
          return v;
        }
        frame& top = stack.back();
        if (!top.is_map) {
          top.items.push_back(std::move(v));
          if (--top.remaining != 0) break;
          v = value(std::move(top.items));
          stack.pop_back();
          continue;
        }
        if (!top.has_key) {
          if (auto r = accept_key(top, v); !r) return r.error();
          top.pending_key = std::move(v);
          top.has_key = true;
          break;
        }
        add_pair(top, std::move(v));
        if (--top.remaining != 0) break;
        auto finished = finish_map(std::move(top.pairs));
        if (!finished) return finished.error();
        v = std::move(*finished);
        stack.pop_back();
      }
    }
  }

 private:
  // Reads one item. A scalar (or an empty container) comes back as a value; a non-empty
  // container is pushed on `stack` and comes back as nullopt.
  result<std::optional<value>> read_item(std::vector<frame>& stack, std::size_t& pending) {
    using detail::msgpack_type;
    switch (reader_.peek_type()) {
      case msgpack_type::nil:
        if (auto r = reader_.read_nil(); !r) return r.error();
        return std::optional<value>(value());
      case msgpack_type::boolean: {
        auto r = reader_.read_bool();
        if (!r) return r.error();
        return std::optional<value>(value(*r));
      }
      case msgpack_type::integer: {
        auto r = reader_.read_int();
        if (!r) return r.error();
        return std::optional<value>(r->is_unsigned_large ? value(r->u) : value(r->i));
      }
      case msgpack_type::floating: {
        auto r = reader_.read_float();
        if (!r) return r.error();
        return std::optional<value>(value(*r));
      }
      case msgpack_type::string: {
        const std::size_t at = reader_.position();
        auto r = reader_.read_str();
        if (!r) return r.error();
        if (!detail::is_valid_utf8(*r)) {
          return fail(errc::malformed,
                      "string at offset " + std::to_string(at) + " is not valid UTF-8");
        }
        return std::optional<value>(value(std::string(*r)));
      }
      case msgpack_type::binary: {
        auto r = reader_.read_bin();
        if (!r) return r.error();
        return std::optional<value>(value::binary(*r));
      }
      case msgpack_type::array:
      case msgpack_type::map: {
        const bool is_map = reader_.peek_type() == msgpack_type::map;
        const std::size_t at = reader_.position();
        auto n = is_map ? reader_.read_map_header() : reader_.read_array_header();
        if (!n) return n.error();
        if (stack.size() + 1 > options_.max_depth) {
          return fail(errc::length_limit, "containers nest deeper than " +
                                              std::to_string(options_.max_depth) +
                                              " levels at offset " + std::to_string(at));
        }
        // Every announced item needs at least one byte: refuse headers the rest of the input
        // cannot back before reserving anything for them.
        const std::size_t items = is_map ? 2 * *n : *n;
        if (pending + items > reader_.remaining()) {
          return fail(errc::length_limit, std::string(is_map ? "map" : "array") + " at offset " +
                                              std::to_string(at) + " declares " +
                                              std::to_string(*n) +
                                              " entries, more than the remaining input can hold");
        }
        if (*n == 0) {
          if (!is_map) return std::optional<value>(value(value_array{}));
          auto empty = finish_map(value_map{});
          if (!empty) return empty.error();
          return std::optional<value>(std::move(*empty));
        }
        pending += items;
        frame f;
        f.is_map = is_map;
        f.remaining = *n;
        if (is_map) {
          f.pairs.reserve(*n);
          f.indexed = *n >= indexed_map_size;
        } else {
          f.items.reserve(*n);
        }
        stack.push_back(std::move(f));
        return std::optional<value>();
      }
      case msgpack_type::ext: {
        // msgpack-python decodes an extension item as ExtType(code, data), in both of
        // cachekit-py's readers; the interop reader MUST accept one (interop-mode.json
        // reader_ext_type).
        auto e = reader_.read_ext();
        if (!e) return e.error();
        return std::optional<value>(
            value(value_ext{e->first, byte_buffer(e->second.begin(), e->second.end())}));
      }
      case msgpack_type::invalid: break;
    }
    if (reader_.at_end()) {
      return fail(errc::truncated, "input ends before the MessagePack document is complete");
    }
    return fail(errc::malformed, "byte 0xc1 at offset " + std::to_string(reader_.position()) +
                                     " is not a MessagePack type");
  }

  result<void> accept_key(frame& f, const value& key) {
    const value_kind k = key.kind();
    if (k == value_kind::string || k == value_kind::binary) return {};
    if (profile_ == profile::standard) {
      return fail(errc::malformed,
                  "map key is not a string or bytes (cachekit-py's reader uses strict_map_key)");
    }
    if (k == value_kind::array || k == value_kind::map || k == value_kind::datetime ||
        k == value_kind::date || k == value_kind::time) {
      return fail(errc::malformed, "map key is an array or map (unhashable in Python)");
    }
    if (++f.non_string_keys > max_non_string_keys) {
      return fail(errc::malformed, "map has more than " + std::to_string(max_non_string_keys) +
                                       " keys that are neither str nor bytes (cachekit-py's "
                                       "hash-flood bound); the entry is likely forged");
    }
    return {};
  }

  // Python dict insertion: a key equal to an earlier one keeps that slot and takes the new value.
  static void add_pair(frame& f, value v) {
    value& key = f.pending_key;
    f.has_key = false;
    if (f.indexed) {
      const std::size_t h = detail::python_key_hash(key);
      auto [first, last] = f.index.equal_range(h);
      for (auto it = first; it != last; ++it) {
        if (detail::python_keys_equal(f.pairs[it->second].first, key)) {
          f.pairs[it->second].second = std::move(v);
          return;
        }
      }
      f.index.emplace(h, f.pairs.size());
    } else {
      for (auto& [k, existing] : f.pairs) {
        if (detail::python_keys_equal(k, key)) {
          existing = std::move(v);
          return;
        }
      }
    }
    f.pairs.emplace_back(std::move(key), std::move(v));
  }

  result<value> finish_map(value_map pairs) {
    value m(std::move(pairs));
    if (!options_.revive_temporal_sentinels) return m;
    return profile_ == profile::standard ? revive_standard(std::move(m))
                                         : revive_interop(std::move(m));
  }

  // cachekit-py `_standard_object_hook`.
  static result<value> revive_standard(value m) {
    if (m.get_if<value_map>()->size() != 2) return m;
    const std::string_view markers[] = {detail::datetime_marker, detail::date_marker,
                                        detail::time_marker};
    for (const auto marker : markers) {
      const value* flag = m.find(marker);
      if (flag == nullptr || !truthy(*flag)) continue;
      const value* text = m.find(detail::sentinel_value_key);
      if (text == nullptr || text->is_nil()) {
        return fail(errc::malformed, "temporal sentinel " + std::string(marker) +
                                         " has no 'value' field (corrupt cache entry)");
      }
      const auto* s = text->get_if<std::string>();
      if (s == nullptr) {
        return fail(errc::malformed,
                    "temporal sentinel " + std::string(marker) + " has a non-string 'value'");
      }
      return parse_temporal(marker, *s);
    }
    return m;
  }

  // cachekit-py interop `_revive_sentinels`.
  static result<value> revive_interop(value m) {
    const std::string_view markers[] = {detail::datetime_marker, detail::date_marker,
                                        detail::time_marker};
    for (const auto marker : markers) {
      const value* flag = m.find(marker);
      if (flag == nullptr || flag->get_if<bool>() == nullptr || !*flag->get_if<bool>()) continue;
      const value* text = m.find(detail::sentinel_value_key);
      if (text == nullptr || text->get_if<std::string>() == nullptr) continue;
      std::string s = *text->get_if<std::string>();
      if (marker != detail::date_marker && !s.empty() && (s.back() == 'Z' || s.back() == 'z')) {
        s.pop_back();
        s += "+00:00";
      }
      return parse_temporal(marker, s);
    }
    return m;
  }

  static result<value> parse_temporal(std::string_view marker, std::string_view text) {
    if (marker == detail::datetime_marker) {
      auto r = datetime::parse_isoformat(text);
      if (!r) return r.error();
      return value(*r);
    }
    if (marker == detail::date_marker) {
      auto r = date::parse_isoformat(text);
      if (!r) return r.error();
      return value(*r);
    }
    auto r = time_of_day::parse_isoformat(text);
    if (!r) return r.error();
    return value(*r);
  }

  profile profile_;
  detail::msgpack_reader reader_;
  const value_decode_options& options_;
};

// The decoder allocates at most a few dozen bytes per input byte (every declared element needs
// an input byte), but the bytes are untrusted: running out of memory is a decode failure, never
// an exception out of a cached call.
result<value> decode_guarded(profile p, byte_view bytes, const value_decode_options& options) {
  try {
    return value_decoder(p, bytes, options).run();
  } catch (const std::bad_alloc&) {
    return fail(errc::length_limit, "decoding " + std::to_string(bytes.size()) +
                                        " bytes of MessagePack needed more memory than is "
                                        "available");
  }
}

}  // namespace

result<value> decode_standard_value(byte_view bytes, const value_decode_options& options) {
  return decode_guarded(profile::standard, bytes, options);
}

result<value> decode_interop_value(byte_view bytes, const value_decode_options& options) {
  if (bytes.size() >= 2 && bytes[0] == std::byte{0x43} && bytes[1] == std::byte{0x4b}) {
    return fail(errc::serializer_mismatch,
                "stored value starts with 'CK': it is a cachekit-py auto-mode entry (CK v3 frame), "
                "not an interop value; make every writer of this key use interop mode");
  }
  return decode_guarded(profile::interop, bytes, options);
}

}  // namespace v0
}  // namespace cachekit
