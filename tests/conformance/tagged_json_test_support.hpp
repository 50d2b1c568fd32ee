// Test-only: turns the protocol vectors' tagged JSON inputs into `value`s. Plain JSON maps
// directly (maps keep document order); single-key objects with a `$` key are typed tags:
// {"$int": "18446744073709551615"}, {"$float": "2.0"}, {"$bytes": "dead"}, {"$set": [...]},
// {"$datetime": "2024-01-01T00:00:00+00:00"}, {"$uuid": "..."}.
//
// Deliberately minimal; the production parser for the CLI lives elsewhere.
#pragma once

#include <cachekit/bytes.hpp>
#include <cachekit/result.hpp>
#include <cachekit/temporal.hpp>
#include <cachekit/value.hpp>

#include <nlohmann/json.hpp>

#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <utility>

namespace cachekit::test {

using tagged_json = nlohmann::ordered_json;

inline result<value> value_from_tagged(const tagged_json& j);

inline result<value> tagged_int(const std::string& text) {
  const char* first = text.data();
  const char* last = text.data() + text.size();
  if (!text.empty() && text.front() == '-') {
    std::int64_t v = 0;
    const auto [end, ec] = std::from_chars(first, last, v);
    if (ec != std::errc{} || end != last) {
      return fail(errc::invalid_argument, "$int " + text + " is outside [-2^63, 2^64-1]");
    }
    return value{v};
  }
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(first, last, v);
  if (ec != std::errc{} || end != last) {
    return fail(errc::invalid_argument, "$int " + text + " is outside [-2^63, 2^64-1]");
  }
  return value{v};
}

inline result<value> value_from_tagged(const tagged_json& j) {
  switch (j.type()) {
    case tagged_json::value_t::null: return value{};
    case tagged_json::value_t::boolean: return value{j.get<bool>()};
    case tagged_json::value_t::number_integer: return value{j.get<std::int64_t>()};
    case tagged_json::value_t::number_unsigned: return value{j.get<std::uint64_t>()};
    case tagged_json::value_t::number_float: return value{j.get<double>()};
    case tagged_json::value_t::string: return value{j.get<std::string>()};
    case tagged_json::value_t::array: {
      value_array items;
      for (const auto& e : j) {
        auto v = value_from_tagged(e);
        if (!v) return v;
        items.push_back(std::move(*v));
      }
      return value{std::move(items)};
    }
    case tagged_json::value_t::object: {
      if (j.size() == 1 && j.begin().key().starts_with("$")) {
        const std::string& tag = j.begin().key();
        const tagged_json& body = j.begin().value();
        if (tag == "$set") {
          auto items = value_from_tagged(body);
          if (!items) return items;
          return value{value_set{std::move(*items->get_if<value_array>())}};
        }
        const auto text = body.get<std::string>();
        if (tag == "$int") return tagged_int(text);
        if (tag == "$float") return value{std::strtod(text.c_str(), nullptr)};  // "1e999" -> inf
        if (tag == "$bytes") {
          byte_buffer bytes;
          if (!from_hex(text, bytes)) return fail(errc::malformed, "bad $bytes hex");
          return value{value_binary{std::move(bytes)}};
        }
        if (tag == "$datetime") {
          auto t = datetime::parse_isoformat(text);
          if (!t) return t.error();
          return value{*t};
        }
        if (tag == "$uuid") {
          auto u = uuid::parse(text);
          if (!u) return u.error();
          return value{*u};
        }
        return fail(errc::malformed, "unknown tag " + tag);
      }
      value_map entries;
      for (const auto& [k, e] : j.items()) {
        auto v = value_from_tagged(e);
        if (!v) return v;
        entries.emplace_back(value{k}, std::move(*v));
      }
      return value{std::move(entries)};
    }
    default: return fail(errc::malformed, "unsupported JSON type in a vector");
  }
}

}  // namespace cachekit::test
