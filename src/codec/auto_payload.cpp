#include "codec/auto_payload.hpp"

#include <cachekit/envelope.hpp>
#include <cachekit/temporal.hpp>
#include <cachekit/value.hpp>
#include <cachekit/value_codec.hpp>

#include <algorithm>
#include <array>
#include <cstring>
#include <string>

namespace cachekit {
inline namespace v0 {
namespace detail {
namespace {

// AutoSerializer's markers in the order its object hook tests them: the first present wins.
constexpr std::array<std::string_view, 7> markers = {
    "__datetime__", "__date__", "__time__", "__uuid__", "__tuple__", "__set__", "__ndarray__"};
// The ones a standard-profile writer must not emit set to true (the temporal ones are how it
// writes temporal values, which AutoSerializer revives as the same values).
constexpr std::array<std::string_view, 4> type_markers = {"__tuple__", "__set__", "__uuid__",
                                                          "__ndarray__"};

bool starts_with(byte_view bytes, std::string_view magic) noexcept {
  return bytes.size() >= magic.size() && std::memcmp(bytes.data(), magic.data(), magic.size()) == 0;
}

bool is_true(const value& v) noexcept {
  const bool* b = v.get_if<bool>();
  return b != nullptr && *b;
}

// The marker of `m` whose value is exactly true, first in hook order; empty for none.
std::string_view marker_of(const value& m) {
  for (std::string_view name : markers) {
    if (const value* flag = m.find(name); flag != nullptr && is_true(*flag)) return name;
  }
  return {};
}

result<std::string_view> marker_text(const value& m, std::string_view marker) {
  const value* text = m.find("value");
  const std::string* s = text != nullptr ? text->get_if<std::string>() : nullptr;
  if (s == nullptr) {
    return fail(errc::malformed,
                "AutoSerializer " + std::string(marker) + " marker without a string \"value\"");
  }
  return std::string_view(*s);
}

template <class T>
result<void> revive_temporal(value& v, std::string_view marker) {
  auto text = marker_text(v, marker);
  if (!text) return std::move(text).error();
  auto parsed = T::parse_isoformat(*text);
  if (!parsed) return std::move(parsed).error();
  v = value(*parsed);
  return {};
}

// Rewrites `v` in place, innermost maps first (as msgpack-python calls the object hook). The
// recursion is as deep as `v`, which decode_standard_value bounded at 1024.
result<void> rewrite(value& v) {
  if (auto* a = v.get_if<value_array>()) {
    for (auto& item : *a) {
      if (auto ok = rewrite(item); !ok) return ok;
    }
    return {};
  }
  auto* m = v.get_if<value_map>();
  if (m == nullptr) return {};
  for (auto& [key, item] : *m) {
    if (auto ok = rewrite(item); !ok) return ok;
  }
  const std::string_view marker = marker_of(v);
  if (marker.empty()) return {};
  if (marker == "__datetime__") return revive_temporal<datetime>(v, marker);
  if (marker == "__date__") return revive_temporal<date>(v, marker);
  if (marker == "__time__") return revive_temporal<time_of_day>(v, marker);
  if (marker == "__uuid__") {
    auto text = marker_text(v, marker);
    if (!text) return std::move(text).error();
    auto parsed = uuid::parse(*text);
    if (!parsed) return std::move(parsed).error();
    v = value(parsed->to_string());
    return {};
  }
  if (marker == "__ndarray__") {
    return fail(errc::python_only_value,
                "the entry holds a NumPy array (AutoSerializer __ndarray__), which no C++ type "
                "holds; it is left for the Python services");
  }
  // __tuple__ and __set__: the elements, as an array.
  value* items = nullptr;
  for (auto& [key, item] : *m) {
    if (const auto* k = key.get_if<std::string>(); k != nullptr && *k == "value") items = &item;
  }
  if (items == nullptr || items->get_if<value_array>() == nullptr) {
    return fail(errc::malformed,
                "AutoSerializer " + std::string(marker) + " marker without an array \"value\"");
  }
  value elements = std::move(*items);
  v = std::move(elements);
  return {};
}

bool holds_type_marker(const value& v) {
  if (const auto* a = v.get_if<value_array>()) {
    return std::any_of(a->begin(), a->end(),
                       [](const value& item) { return holds_type_marker(item); });
  }
  const auto* m = v.get_if<value_map>();
  if (m == nullptr) return false;
  for (std::string_view name : type_markers) {
    if (const value* flag = v.find(name); flag != nullptr && is_true(*flag)) return true;
  }
  return std::any_of(m->begin(), m->end(),
                     [](const auto& entry) { return holds_type_marker(entry.second); });
}

// AutoSerializer's `_looks_like_envelope`: [bytes, [8 ints 0..255], int >= 0, format], any three
// of the four slots right.
bool looks_like_envelope(const value& v) {
  const auto* a = v.get_if<value_array>();
  if (a == nullptr || a->size() != 4) return false;
  const value_array& slots = *a;
  int score = slots[0].get_if<value_binary>() != nullptr ? 1 : 0;
  if (const auto* checksum = slots[1].get_if<value_array>();
      checksum != nullptr && checksum->size() == 8 &&
      std::all_of(checksum->begin(), checksum->end(), [](const value& b) {
        const auto* i = b.get_if<std::int64_t>();
        return i != nullptr && *i >= 0 && *i <= 255;
      })) {
    ++score;
  }
  if (slots[2].get_if<std::uint64_t>() != nullptr ||
      (slots[2].get_if<std::int64_t>() != nullptr && *slots[2].get_if<std::int64_t>() >= 0)) {
    ++score;
  }
  if (const auto* f = slots[3].get_if<std::string>();
      f != nullptr && (*f == "msgpack" || *f == "dataframe" || *f == "series")) {
    ++score;
  }
  return score >= 3;
}

bool mentions_type_marker(byte_view msgpack) {
  const std::string_view text(reinterpret_cast<const char*>(msgpack.data()), msgpack.size());
  return std::any_of(type_markers.begin(), type_markers.end(),
                     [&](std::string_view m) { return text.find(m) != std::string_view::npos; });
}

}  // namespace

bool is_python_only_payload(byte_view payload) noexcept {
  for (std::string_view magic : {std::string_view("NUMPY_RAW"), std::string_view("ARROW1")}) {
    if (starts_with(payload, magic)) return true;
    if (payload.size() > 8 && starts_with(payload.subspan(8), magic)) return true;
  }
  return false;
}

bool is_python_only_format(std::string_view format) noexcept {
  return format == "numpy" || format == "arrow" || format == "dataframe" || format == "series";
}

result<byte_buffer> auto_to_standard(byte_view msgpack) {
  auto decoded = decode_standard_value(msgpack, {.revive_temporal_sentinels = false});
  if (!decoded) return std::move(decoded).error();
  if (auto ok = rewrite(*decoded); !ok) return std::move(ok).error();
  return encode_standard_value(*decoded);
}

result<void> check_auto_writable(byte_view msgpack, bool integrity_checking) {
  const bool envelope_shaped_top =
      !integrity_checking && !msgpack.empty() && msgpack[0] == std::byte{0x94};
  if (!envelope_shaped_top && !mentions_type_marker(msgpack)) return {};  // the common case
  auto decoded = decode_standard_value(msgpack, {.revive_temporal_sentinels = false});
  if (!decoded) return std::move(decoded).error();
  if (holds_type_marker(*decoded)) {
    return fail(errc::unsupported_type,
                "a map holding \"__tuple__\", \"__set__\", \"__uuid__\" or \"__ndarray__\" set to "
                "true: cachekit-py's auto serializer would read it back as a tuple, set, UUID or "
                "NumPy array; rename the key or use the standard serializer");
  }
  if (envelope_shaped_top && looks_like_envelope(*decoded)) {
    return fail(errc::unsupported_type,
                "a 4-element list shaped like a ByteStorage envelope, which cachekit-py's auto "
                "serializer refuses to read with integrity checking off; wrap it (e.g. in a map) "
                "or use the standard serializer");
  }
  return {};
}

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
