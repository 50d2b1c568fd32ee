// key_writer: the normalization rules of both key profiles, applied while writing MessagePack.
// Default profile = cachekit-py 0.24.1 CacheKeyGenerator._normalize + msgpack.packb(
// use_bin_type=True, strict_types=True); interop profile = interop.py's args profile.
#include <cachekit/key_argument.hpp>

#include "protocol/key_text.hpp"
#include "protocol/msgpack_writer.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

namespace cachekit {
inline namespace v0 {
namespace {

__extension__ using int128 = __int128;

const char* kind_name(value_kind kind) noexcept {
  switch (kind) {
    case value_kind::nil: return "nil";
    case value_kind::boolean: return "bool";
    case value_kind::integer:
    case value_kind::unsigned_integer: return "int";
    case value_kind::floating: return "float";
    case value_kind::string: return "str";
    case value_kind::binary: return "bytes";
    case value_kind::array: return "array";
    case value_kind::map: return "map";
    case value_kind::set: return "set";
    case value_kind::datetime: return "datetime";
    case value_kind::date: return "date";
    case value_kind::time: return "time";
    case value_kind::uuid: return "uuid";
    case value_kind::ext: return "MessagePack extension";
  }
  return "value";
}

// Python's ordering of dict keys: only keys of one of these classes can be sorted together.
enum class key_class { nil, number, string, binary, unpackable };

key_class class_of(const value& k) noexcept {
  switch (k.kind()) {
    case value_kind::nil: return key_class::nil;
    case value_kind::boolean:
    case value_kind::integer:
    case value_kind::unsigned_integer:
    case value_kind::floating: return key_class::number;
    case value_kind::string: return key_class::string;
    case value_kind::binary: return key_class::binary;
    default: return key_class::unpackable;
  }
}

// A Python number (bool, int or float) for exact comparison across kinds.
struct number {
  bool is_float;
  int128 i;
  double d;
};

number as_number(const value& v) noexcept {
  if (const auto* b = v.get_if<bool>()) return {false, *b ? 1 : 0, 0.0};
  if (const auto* i = v.get_if<std::int64_t>()) return {false, *i, 0.0};
  if (const auto* u = v.get_if<std::uint64_t>()) return {false, static_cast<int128>(*u), 0.0};
  return {true, 0, *v.get_if<double>()};
}

// -1, 0, 1 as Python compares int `i` with a non-NaN float `d` (exactly, no rounding).
int compare_int_float(int128 i, double d) noexcept {
  if (d >= 0x1p64) return -1;  // every int here is below 2^64 (also catches +inf)
  if (d < -0x1p63) return 1;   // and at least -2^63 (also catches -inf)
  const double f = std::floor(d);
  const auto fi = static_cast<int128>(f);
  if (i < fi) return -1;
  if (i > fi) return 1;
  return d > f ? -1 : 0;
}

int compare_numbers(const number& a, const number& b) noexcept {
  if (!a.is_float && !b.is_float) return a.i < b.i ? -1 : (a.i > b.i ? 1 : 0);
  if (a.is_float && b.is_float) return a.d < b.d ? -1 : (a.d > b.d ? 1 : 0);
  if (!a.is_float) return compare_int_float(a.i, b.d);
  return -compare_int_float(b.i, a.d);
}

// -1, 0, 1 for two keys of the same (sortable) class.
int compare_keys(const value& a, const value& b, key_class cls) noexcept {
  switch (cls) {
    case key_class::number: return compare_numbers(as_number(a), as_number(b));
    case key_class::string: {
      // char_traits<char> compares as unsigned bytes: UTF-8 byte order = code-point order.
      const int c = a.get_if<std::string>()->compare(*b.get_if<std::string>());
      return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
    case key_class::binary: {
      const auto& x = a.get_if<value_binary>()->bytes;
      const auto& y = b.get_if<value_binary>()->bytes;
      if (std::lexicographical_compare(x.begin(), x.end(), y.begin(), y.end())) return -1;
      return x == y ? 0 : 1;
    }
    default: return 0;
  }
}

using entry = std::pair<value, value>;

}  // namespace

void key_writer::fail(errc code, std::string detail) {
  if (failed_) return;
  failed_ = true;
  failure_ = cachekit::fail(code, std::move(detail));
}

void key_writer::fail(failure f) {
  if (failed_) return;
  failed_ = true;
  failure_ = std::move(f);
}

void key_writer::write_nil() {
  detail::msgpack_writer(*out_).write_nil();
}
void key_writer::write_bool(bool v) {
  detail::msgpack_writer(*out_).write_bool(v);
}
void key_writer::write_int(std::int64_t v) {
  detail::msgpack_writer(*out_).write_int(v);
}
void key_writer::write_uint(std::uint64_t v) {
  detail::msgpack_writer(*out_).write_uint(v);
}

void key_writer::write_float(double v) {
  detail::msgpack_writer w(*out_);
  if (profile_ == key_profile::default_key) {
    // cachekit-py: `0.0 if obj == 0.0 else obj`; NaN and infinities pass through unchanged.
    w.write_float64(v == 0.0 ? 0.0 : v);
    return;
  }
  if (!std::isfinite(v)) {
    fail(errc::invalid_argument,
         std::isnan(v) ? "NaN is not allowed in interop keys (interop/v1 number rule)"
                       : "infinity is not allowed in interop keys (interop/v1 number rule)");
    return;
  }
  // Number canonicalization: integral floats in [-2^63, 2^64) take the integer encoding, so
  // 2.0 and 2 (and -0.0 and 0) hash alike in every SDK.
  if (v >= -0x1p63 && v < 0x1p64 && std::trunc(v) == v) {
    if (v < 0) {
      w.write_int(static_cast<std::int64_t>(v));
    } else {
      w.write_uint(static_cast<std::uint64_t>(v));
    }
    return;
  }
  w.write_float64(v);
}

void key_writer::write_string(std::string_view utf8) {
  if (!detail::is_valid_utf8(utf8)) {
    fail(errc::invalid_argument,
         "a string argument is not valid UTF-8 (keys hash Unicode text, as Python str); pass "
         "binary data as std::vector<std::byte> or value::binary()");
    return;
  }
  detail::msgpack_writer(*out_).write_str(utf8);
}

void key_writer::write_binary(byte_view bytes) {
  detail::msgpack_writer(*out_).write_bin(bytes);
}

void key_writer::write_array_header(std::size_t size) {
  detail::msgpack_writer(*out_).write_array_header(size);
}

void key_writer::write_map_header(std::size_t size) {
  detail::msgpack_writer(*out_).write_map_header(size);
}

void key_writer::write_uuid(const uuid& u) {
  detail::msgpack_writer(*out_).write_str(u.to_string());
}

void key_writer::write_datetime(const datetime& t) {
  if (!t.is_aware()) {
    fail(errc::invalid_argument,
         "a naive datetime (no UTC offset) cannot be part of a cache key (timezone ambiguity); "
         "use an aware one, e.g. cachekit::datetime::from_utc(...) or a std::chrono::sys_time");
    return;
  }
  if (profile_ == key_profile::interop) {
    // Integer microseconds since the epoch (already floored: datetime holds whole
    // microseconds), then exactly one float64 division, then the number rule.
    const auto micros = t.utc().time_since_epoch().count();
    write_float(static_cast<double>(micros) / 1e6);
    return;
  }
  // Python's datetime can only hold years 1..9999 and offsets strictly within a day.
  const std::chrono::year_month_day ymd{std::chrono::floor<std::chrono::days>(t.wall)};
  if (!ymd.ok() || ymd.year() < std::chrono::year{1} || ymd.year() > std::chrono::year{9999} ||
      std::chrono::abs(*t.utc_offset) >= std::chrono::hours{24}) {
    fail(errc::invalid_argument,
         "datetime is outside Python's range (years 1..9999, UTC offset within +/-24h), so "
         "cachekit-py could never compute this key");
    return;
  }
  detail::msgpack_writer(*out_).write_str(t.to_isoformat());
}

void key_writer::write_value(const value& v) {
  write_value_nested(v);
}

void key_writer::write_value_nested(const value& v) {
  if (failed_) return;
  switch (v.kind()) {
    case value_kind::nil: write_nil(); return;
    case value_kind::boolean: write_bool(*v.get_if<bool>()); return;
    case value_kind::integer: write_int(*v.get_if<std::int64_t>()); return;
    case value_kind::unsigned_integer: write_uint(*v.get_if<std::uint64_t>()); return;
    case value_kind::floating: write_float(*v.get_if<double>()); return;
    case value_kind::string: write_string(*v.get_if<std::string>()); return;
    case value_kind::binary: write_binary(v.get_if<value_binary>()->bytes); return;
    case value_kind::array: {
      if (depth_ >= max_key_nesting) {
        fail(errc::invalid_argument, "key argument nests arrays/maps deeper than 512 levels");
        return;
      }
      const auto& items = *v.get_if<value_array>();
      ++depth_;
      write_array_header(items.size());
      for (const auto& item : items) write_value_nested(item);
      --depth_;
      return;
    }
    case value_kind::map: write_map(*v.get_if<value_map>()); return;
    case value_kind::set: write_set(v.get_if<value_set>()->items); return;
    case value_kind::datetime: write_datetime(*v.get_if<datetime>()); return;
    case value_kind::date:
      fail(errc::unsupported_type,
           "date values cannot be part of a cache key (cachekit-py rejects datetime.date); pass "
           "its isoformat() string or an aware datetime");
      return;
    case value_kind::time:
      fail(errc::unsupported_type,
           "time-of-day values cannot be part of a cache key (cachekit-py rejects "
           "datetime.time); pass its isoformat() string");
      return;
    case value_kind::uuid: write_uuid(*v.get_if<uuid>()); return;
    case value_kind::ext:
      fail(errc::unsupported_type,
           "MessagePack extension items cannot be part of a cache key (cachekit-py rejects "
           "ExtType arguments)");
      return;
  }
}

void key_writer::write_map(const value_map& m) {
  if (failed_) return;
  if (depth_ >= max_key_nesting) {
    fail(errc::invalid_argument, "key argument nests arrays/maps deeper than 512 levels");
    return;
  }
  ++depth_;
  if (profile_ == key_profile::interop) {
    write_map_interop(m);
  } else {
    write_map_default(m);
  }
  --depth_;
}

void key_writer::write_map_interop(const value_map& m) {
  std::vector<const entry*> entries;
  entries.reserve(m.size());
  for (const auto& e : m) {
    if (e.first.kind() != value_kind::string) {
      fail(errc::unsupported_type,
           std::string("interop map keys must be strings, got ") + kind_name(e.first.kind()));
      return;
    }
    entries.push_back(&e);
  }
  std::sort(entries.begin(), entries.end(), [](const entry* a, const entry* b) {
    return *a->first.get_if<std::string>() < *b->first.get_if<std::string>();
  });
  write_map_header(entries.size());
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const auto& key = *entries[i]->first.get_if<std::string>();
    if (i > 0 && key == *entries[i - 1]->first.get_if<std::string>()) {
      fail(errc::invalid_argument, "interop map has duplicate key \"" + key + "\"");
      return;
    }
    write_string(key);
    write_value_nested(entries[i]->second);
  }
}

void key_writer::write_map_default(const value_map& m) {
  // cachekit-py: {k: normalize(v) for k, v in sorted(d.items())}; keys are not normalized and
  // msgpack (strict_types) must be able to pack them. sorted() raises on keys Python cannot
  // order against each other, so such maps are errors here too.
  if (m.empty()) {
    write_map_header(0);
    return;
  }
  const key_class cls = class_of(m.front().first);
  for (const auto& e : m) {
    const key_class c = class_of(e.first);
    if (c == key_class::unpackable) {
      fail(errc::unsupported_type,
           std::string("a map key of kind ") + kind_name(e.first.kind()) +
               " cannot be part of a cache key (cachekit-py's msgpack cannot pack it); use "
               "str, int, float, bool, bytes or nil keys");
      return;
    }
    if (m.size() > 1) {
      if (c != cls || c == key_class::nil) {
        fail(errc::unsupported_type,
             "map keys of different types cannot be ordered (cachekit-py's sorted() raises "
             "TypeError); use keys of one type");
        return;
      }
      if (const auto* d = e.first.get_if<double>(); d != nullptr && std::isnan(*d)) {
        fail(errc::unsupported_type, "a NaN map key cannot be ordered against other keys");
        return;
      }
    }
  }
  std::vector<const entry*> entries;
  entries.reserve(m.size());
  for (const auto& e : m) entries.push_back(&e);
  std::sort(entries.begin(), entries.end(), [cls](const entry* a, const entry* b) {
    return compare_keys(a->first, b->first, cls) < 0;
  });
  for (std::size_t i = 1; i < entries.size(); ++i) {
    if (compare_keys(entries[i - 1]->first, entries[i]->first, cls) == 0) {
      fail(errc::invalid_argument,
           "map has two equal keys (a Python dict cannot; 1, 1.0 and true are equal keys)");
      return;
    }
  }
  write_map_header(entries.size());
  detail::msgpack_writer w(*out_);
  for (const entry* e : entries) {
    const value& k = e->first;
    switch (k.kind()) {
      case value_kind::floating: w.write_float64(*k.get_if<double>()); break;  // not normalized
      case value_kind::nil: write_nil(); break;
      case value_kind::boolean: write_bool(*k.get_if<bool>()); break;
      case value_kind::integer: write_int(*k.get_if<std::int64_t>()); break;
      case value_kind::unsigned_integer: write_uint(*k.get_if<std::uint64_t>()); break;
      case value_kind::string: write_string(*k.get_if<std::string>()); break;
      case value_kind::binary: write_binary(k.get_if<value_binary>()->bytes); break;
      default: break;  // rejected above
    }
    write_value_nested(e->second);
  }
}

bool key_writer::begin_set() {
  if (failed_) return false;
  if (profile_ == key_profile::default_key) {
    fail(errc::unsupported_type,
         "sets cannot be part of a default cache key (cachekit-py rejects set/frozenset and "
         "runs the call uncached); pass a sorted array instead");
    return false;
  }
  if (depth_ >= max_key_nesting) {
    fail(errc::invalid_argument, "key argument nests arrays/maps deeper than 512 levels");
    return false;
  }
  return true;
}

void key_writer::write_encoded_set(std::vector<byte_buffer>& encoded) {
  // A total, language-neutral order: by canonical encoded bytes; equal encodings ({2, 2.0})
  // collapse to one element.
  // memcmp on unsigned bytes, shorter first on a common prefix (Python's bytes ordering).
  std::sort(encoded.begin(), encoded.end(), [](const byte_buffer& a, const byte_buffer& b) {
    const std::size_t common = std::min(a.size(), b.size());
    const int c = common == 0 ? 0 : std::memcmp(a.data(), b.data(), common);
    return c != 0 ? c < 0 : a.size() < b.size();
  });
  encoded.erase(std::unique(encoded.begin(), encoded.end()), encoded.end());
  detail::msgpack_writer w(*out_);
  w.write_array_header(encoded.size());
  for (const auto& e : encoded) w.write_raw(e);
}

void key_writer::write_sorted_kwargs(std::size_t begin, std::span<const std::string_view> names,
                                     std::span<const std::size_t> ends) {
  if (failed_) return;
  const std::size_t n = names.size();
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(),
            [&names](std::size_t a, std::size_t b) { return names[a] < names[b]; });
  std::size_t names_size = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (i > 0 && names[order[i]] == names[order[i - 1]]) {
      fail(errc::invalid_argument,
           "keyword argument \"" + std::string(names[order[i]]) + "\" is given twice");
      return;
    }
    names_size += names[i].size() + 5;
  }
  // The values sit at [begin, end); append the sorted map after them, then drop them. Reserving
  // first keeps the copies' source in place.
  const std::size_t end = out_->size();
  out_->reserve(end + (end - begin) + names_size + 5);
  write_map_header(n);
  for (std::size_t idx : order) {
    write_string(names[idx]);
    const std::size_t from = idx == 0 ? begin : ends[idx - 1];
    const std::size_t to = ends[idx];
    const std::size_t at = out_->size();
    out_->resize(at + (to - from));
    std::memcpy(out_->data() + at, out_->data() + from, to - from);
  }
  out_->erase(out_->begin() + static_cast<std::ptrdiff_t>(begin),
              out_->begin() + static_cast<std::ptrdiff_t>(end));
}

namespace detail {
namespace {

struct thread_scratch {
  byte_buffer buffer;
  bool in_use = false;
};
thread_local thread_scratch tls_scratch;
// A pre-image above this size is not kept around for the next key.
constexpr std::size_t max_retained_capacity = std::size_t{64} * 1024;

}  // namespace

key_scratch::key_scratch() noexcept : buffer_(&own_) {
  thread_scratch& s = tls_scratch;
  if (!s.in_use) {
    s.in_use = true;
    s.buffer.clear();
    buffer_ = &s.buffer;
    borrowed_ = true;
  }
}

key_scratch::~key_scratch() {
  if (!borrowed_) return;
  thread_scratch& s = tls_scratch;
  if (s.buffer.capacity() > max_retained_capacity) byte_buffer().swap(s.buffer);
  s.in_use = false;
}

}  // namespace detail

}  // namespace v0
}  // namespace cachekit
