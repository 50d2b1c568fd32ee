#include "codec/tagged_json.hpp"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <string_view>
#include <unordered_set>

namespace cachekit {
inline namespace v0 {
namespace detail {
namespace {

using json = nlohmann::ordered_json;

failure bad(std::string detail) {
  return fail(errc::invalid_argument, std::move(detail));
}

// Decimal integer text within [-2^63, 2^64-1], the range MessagePack (and cachekit) can hold.
result<value> parse_int_tag(const std::string& text) {
  const char* first = text.data();
  const char* last = text.data() + text.size();
  if (!text.empty() && text[0] == '-') {
    std::int64_t v = 0;
    auto [ptr, ec] = std::from_chars(first, last, v);
    if (ec == std::errc::result_out_of_range) return bad("$int " + text + " is below -2^63");
    if (ec != std::errc{} || ptr != last)
      return bad("$int needs a decimal integer, got \"" + text + "\"");
    return value(v);
  }
  if (!text.empty() && text[0] == '+') ++first;
  std::uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(first, last, v);
  if (ec == std::errc::result_out_of_range) return bad("$int " + text + " is above 2^64-1");
  if (ec != std::errc{} || ptr != last)
    return bad("$int needs a decimal integer, got \"" + text + "\"");
  return value(v);
}

// Float text as Python's float() reads it (decimal, exponent, nan, inf; overflow gives inf).
result<value> parse_float_tag(const std::string& text) {
  if (text.empty()) return bad("$float needs a number, got an empty string");
  char* end = nullptr;
  errno = 0;
  const double d = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size()) {
    return bad("$float needs a decimal float literal (or nan/inf), got \"" + text + "\"");
  }
  return value(d);  // ERANGE overflow yields ±inf and underflow 0 or a subnormal, as in Python
}

result<value> parse_tag(const std::string& tag, const json& body) {
  const auto text = [&](const char* what) -> result<std::string> {
    if (!body.is_string()) return bad(tag + " needs a string (" + what + ")");
    return body.get<std::string>();
  };
  if (tag == "$int") {
    auto s = text("a decimal integer");
    if (!s) return s.error();
    return parse_int_tag(*s);
  }
  if (tag == "$float") {
    auto s = text("a float literal");
    if (!s) return s.error();
    return parse_float_tag(*s);
  }
  if (tag == "$bytes") {
    auto s = text("hex digits");
    if (!s) return s.error();
    byte_buffer bytes;
    if (!from_hex(*s, bytes)) return bad("$bytes needs an even number of hex digits");
    return value(value_binary{std::move(bytes)});
  }
  if (tag == "$datetime") {
    auto s = text("ISO 8601");
    if (!s) return s.error();
    auto dt = datetime::parse_isoformat(*s);
    if (!dt) return bad("$datetime: " + dt.error().message());
    return value(*dt);
  }
  if (tag == "$date") {
    auto s = text("YYYY-MM-DD");
    if (!s) return s.error();
    auto d = date::parse_isoformat(*s);
    if (!d) return bad("$date: " + d.error().message());
    return value(*d);
  }
  if (tag == "$time") {
    auto s = text("hh:mm:ss");
    if (!s) return s.error();
    auto t = time_of_day::parse_isoformat(*s);
    if (!t) return bad("$time: " + t.error().message());
    return value(*t);
  }
  if (tag == "$uuid") {
    auto s = text("a UUID");
    if (!s) return s.error();
    auto u = uuid::parse(*s);
    if (!u) return bad("$uuid: " + u.error().message());
    return value(*u);
  }
  if (tag == "$set" || tag == "$map") {
    if (!body.is_array()) return bad(tag + " needs a JSON array");
    if (tag == "$set") {
      value_set set;
      for (const auto& item : body) {
        auto v = value_from_tagged_json(item);
        if (!v) return v.error();
        set.items.push_back(std::move(*v));
      }
      return value(std::move(set));
    }
    value_map map;
    for (const auto& pair : body) {
      if (!pair.is_array() || pair.size() != 2) return bad("$map needs [[key, value], ...]");
      auto k = value_from_tagged_json(pair[0]);
      if (!k) return k.error();
      auto v = value_from_tagged_json(pair[1]);
      if (!v) return v.error();
      map.emplace_back(std::move(*k), std::move(*v));
    }
    return value(std::move(map));
  }
  return bad("unknown tag " + tag +
             " (known: $int $float $bytes $set $datetime $date $time $uuid $map)");
}

}  // namespace

result<value> value_from_tagged_json(const json& j) {
  switch (j.type()) {
    case json::value_t::null: return value(nullptr);
    case json::value_t::boolean: return value(j.get<bool>());
    case json::value_t::number_integer: return value(j.get<std::int64_t>());
    case json::value_t::number_unsigned: return value(j.get<std::uint64_t>());
    case json::value_t::number_float: return value(j.get<double>());
    case json::value_t::string: return value(j.get<std::string>());
    case json::value_t::array: {
      value_array out;
      out.reserve(j.size());
      for (const auto& item : j) {
        auto v = value_from_tagged_json(item);
        if (!v) return v.error();
        out.push_back(std::move(*v));
      }
      return value(std::move(out));
    }
    case json::value_t::object: {
      if (j.size() == 1 && j.begin().key().starts_with('$')) {
        return parse_tag(j.begin().key(), j.begin().value());
      }
      value_map out;
      out.reserve(j.size());
      for (const auto& [k, item] : j.items()) {
        auto v = value_from_tagged_json(item);
        if (!v) return v.error();
        out.emplace_back(value(k), std::move(*v));
      }
      return value(std::move(out));
    }
    default: return bad("unsupported JSON element (binary or discarded)");
  }
}

result<value> parse_tagged_json(std::string_view text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return bad("not valid JSON: " + std::string(text.substr(0, 80)) +
               (text.size() > 80 ? "..." : ""));
  }
  return value_from_tagged_json(j);
}

std::string python_float_repr(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  // Shortest round-trip digits, then Python's layout rule: positional notation when the
  // decimal exponent is in [-4, 16), exponent notation otherwise.
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string sci(buf, end);
  const auto e_pos = sci.find('e');
  const int exponent = std::stoi(sci.substr(e_pos + 1));
  std::string mantissa = sci.substr(0, e_pos);
  const bool negative = mantissa[0] == '-';
  if (negative) mantissa.erase(0, 1);
  std::string digits;
  for (char c : mantissa) {
    if (c != '.') digits.push_back(c);
  }
  std::string out = negative ? "-" : "";
  if (exponent < -4 || exponent >= 16) {
    out += digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    out += exponent < 0 ? "e-" : "e+";
    const int magnitude = exponent < 0 ? -exponent : exponent;
    if (magnitude < 10) out += "0";
    out += std::to_string(magnitude);
    return out;
  }
  if (exponent < 0) {
    out += "0." + std::string(static_cast<std::size_t>(-exponent - 1), '0') + digits;
    return out;
  }
  const auto int_len = static_cast<std::size_t>(exponent) + 1;
  if (digits.size() <= int_len) {
    out += digits + std::string(int_len - digits.size(), '0') + ".0";
  } else {
    out += digits.substr(0, int_len) + "." + digits.substr(int_len);
  }
  return out;
}

json value_to_tagged_json(const value& v) {
  struct visitor {
    json operator()(std::monostate) const { return nullptr; }
    json operator()(bool b) const { return b; }
    json operator()(std::int64_t i) const { return i; }
    json operator()(std::uint64_t u) const { return u; }
    json operator()(double d) const { return json{{"$float", python_float_repr(d)}}; }
    json operator()(const std::string& s) const { return s; }
    json operator()(const value_binary& b) const { return json{{"$bytes", to_hex(b.bytes)}}; }
    json operator()(const value_ext& e) const {
      return json{{"$ext", json{{"type", e.type}, {"data", to_hex(e.data)}}}};
    }
    json operator()(const value_array& a) const {
      json out = json::array();
      for (const auto& item : a) out.push_back(value_to_tagged_json(item));
      return out;
    }
    json operator()(const value_map& m) const {
      // An object only when every key is a string that cannot be mistaken for a tag.
      bool plain = !(m.size() == 1 && m[0].first.get_if<std::string>() != nullptr &&
                     m[0].first.get_if<std::string>()->starts_with('$'));
      for (const auto& [k, item] : m) {
        if (k.get_if<std::string>() == nullptr) plain = false;
      }
      if (plain) {
        // ordered_json's own insert searches linearly for the key; appending to the underlying
        // vector after a hashed duplicate check keeps large maps linear.
        std::unordered_set<std::string_view> seen;
        seen.reserve(m.size());
        for (const auto& [k, item] : m) {
          if (!seen.insert(*k.get_if<std::string>()).second) plain = false;
        }
      }
      if (plain) {
        json out = json::object();
        auto& entries = out.get_ref<json::object_t&>();
        auto& storage = static_cast<json::object_t::Container&>(entries);
        storage.reserve(m.size());
        for (const auto& [k, item] : m) {
          storage.emplace_back(*k.get_if<std::string>(), value_to_tagged_json(item));
        }
        return out;
      }
      json pairs = json::array();
      for (const auto& [k, item] : m) {
        pairs.push_back(json::array({value_to_tagged_json(k), value_to_tagged_json(item)}));
      }
      return json{{"$map", std::move(pairs)}};
    }
    json operator()(const value_set& s) const {
      json items = json::array();
      for (const auto& item : s.items) items.push_back(value_to_tagged_json(item));
      return json{{"$set", std::move(items)}};
    }
    json operator()(const datetime& t) const { return json{{"$datetime", t.to_isoformat()}}; }
    json operator()(const date& d) const { return json{{"$date", d.to_isoformat()}}; }
    json operator()(const time_of_day& t) const { return json{{"$time", t.to_isoformat()}}; }
    json operator()(const uuid& u) const { return json{{"$uuid", u.to_string()}}; }
  };
  return std::visit(visitor{}, v.variant());
}

std::string dump_tagged_json(const value& v) {
  // Invalid UTF-8 (possible in values read from foreign bytes) is replaced, never thrown on.
  return value_to_tagged_json(v).dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
