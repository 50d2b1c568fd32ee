/// @file
/// `cachekit::datetime`, `date` and `time_of_day` as typed results and struct members: they are
/// stored as cachekit-py stores Python's `datetime`, `date` and `time`, the sentinel map
/// `{"__datetime__": true, "value": "<isoformat>"}` (`__date__`, `__time__`), the same bytes a
/// `cachekit::value` holding them is stored as, in both modes.
///
/// Packing refuses what Python cannot hold (year outside 1..9999, offset not strictly inside
/// ±24h): `codec<T>::encode` reports errc::invalid_argument. Converting accepts a 2-entry map whose
/// marker is `true` and whose `value` is text Python's `fromisoformat` accepts, or that text
/// alone (how the JSON serializer, cachekit-py's orjson, stores temporal values); anything else
/// is a type mismatch (a counted corrupt entry in the cache).
///
/// Thread safety: stateless; thread-safe.
#pragma once

#include <cachekit/export.hpp>
#include <cachekit/temporal.hpp>
#include <cachekit/typed_packer.hpp>
#include <cachekit/value.hpp>

// msgpack-cxx without its unpacking and parsing machinery, which is most of its compile time;
// include <msgpack.hpp> where you unpack.
#include <msgpack/object.hpp>
#include <msgpack/pack.hpp>
#include <msgpack/sbuffer.hpp>
#include <msgpack/type.hpp>
#include <msgpack/zone.hpp>

#include <string>
#include <string_view>

namespace cachekit {
inline namespace v0 {
namespace detail {

/// The sentinel map of a temporal value: its marker key and its `value` text.
struct temporal_sentinel {
  std::string_view marker;
  std::string text;
};
/// The sentinel of `temporal` (a value holding a datetime, date or time_of_day); the value
/// encoders and the adaptors below both write this. Errors: errc::invalid_argument for a value
/// Python cannot hold; errc::unsupported_type when `temporal` is not temporal.
CACHEKIT_EXPORT result<temporal_sentinel> sentinel_of(const value& temporal);

template <class T>
inline constexpr std::string_view temporal_marker;
template <>
inline constexpr std::string_view temporal_marker<datetime> = "__datetime__";
template <>
inline constexpr std::string_view temporal_marker<date> = "__date__";
template <>
inline constexpr std::string_view temporal_marker<time_of_day> = "__time__";

template <class T>
struct temporal_pack {
  template <class Stream>
  msgpack::packer<Stream>& operator()(msgpack::packer<Stream>& o, const T& v) const {
    auto sentinel = sentinel_of(value(v));
    if (!sentinel) {
      throw unstorable_value(static_cast<errc>(sentinel.error().code.value()),
                             "a temporal value Python cannot hold (year outside 1..9999, or a UTC "
                             "offset not strictly inside +-24h)");
    }
    o.pack_map(2);
    o.pack(sentinel->marker);
    o.pack_true();
    o.pack(std::string_view("value"));
    o.pack(sentinel->text);
    return o;
  }
};

template <class T>
struct temporal_convert {
  const msgpack::object& operator()(const msgpack::object& o, T& v) const {
    if (o.type == msgpack::type::STR) {
      // The JSON serializer (serializer_kind::json, cachekit-py's orjson) stores the text alone.
      auto parsed = T::parse_isoformat(std::string_view(o.via.str.ptr, o.via.str.size));
      if (!parsed) throw msgpack::type_error();
      v = *parsed;
      return o;
    }
    if (o.type != msgpack::type::MAP || o.via.map.size != 2) throw msgpack::type_error();
    bool marked = false;
    const msgpack::object* text = nullptr;
    for (const auto& kv : std::span(o.via.map.ptr, o.via.map.size)) {
      if (kv.key.type != msgpack::type::STR) throw msgpack::type_error();
      const std::string_view key(kv.key.via.str.ptr, kv.key.via.str.size);
      if (key == temporal_marker<T>) {
        marked = kv.val.type == msgpack::type::BOOLEAN && kv.val.via.boolean;
      } else if (key == "value" && kv.val.type == msgpack::type::STR) {
        text = &kv.val;
      }
    }
    if (!marked || text == nullptr) throw msgpack::type_error();
    auto parsed = T::parse_isoformat(std::string_view(text->via.str.ptr, text->via.str.size));
    if (!parsed) throw msgpack::type_error();
    v = *parsed;
    return o;
  }
};

}  // namespace detail
}  // namespace v0
}  // namespace cachekit

namespace msgpack {
MSGPACK_API_VERSION_NAMESPACE(v1) {
  namespace adaptor {
  template <>
  struct pack<cachekit::datetime> : cachekit::detail::temporal_pack<cachekit::datetime> {};
  template <>
  struct pack<cachekit::date> : cachekit::detail::temporal_pack<cachekit::date> {};
  template <>
  struct pack<cachekit::time_of_day> : cachekit::detail::temporal_pack<cachekit::time_of_day> {};
  template <>
  struct convert<cachekit::datetime> : cachekit::detail::temporal_convert<cachekit::datetime> {};
  template <>
  struct convert<cachekit::date> : cachekit::detail::temporal_convert<cachekit::date> {};
  template <>
  struct convert<cachekit::time_of_day>
      : cachekit::detail::temporal_convert<cachekit::time_of_day> {};
  }  // namespace adaptor
}  // MSGPACK_API_VERSION_NAMESPACE(v1)
}  // namespace msgpack
