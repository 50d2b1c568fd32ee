#include "cache/env_reader.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <string>

namespace cachekit {
inline namespace v0 {
namespace detail {
namespace {

constexpr std::string_view whitespace = " \t\n\r\f\v";

}  // namespace

char ascii_lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string to_lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), ascii_lower);
  return out;
}

bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}

std::string_view trim(std::string_view text) noexcept {
  const auto first = text.find_first_not_of(whitespace);
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(whitespace);
  return text.substr(first, last - first + 1);
}

namespace {

// Python's numeric literals allow one '_' between two digits ("1_000"); pydantic does too.
std::optional<std::string> without_digit_separators(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '_') {
      out.push_back(text[i]);
      continue;
    }
    if (i == 0 || i + 1 == text.size() || !is_digit(text[i - 1]) || !is_digit(text[i + 1])) {
      return std::nullopt;
    }
  }
  return out;
}

}  // namespace

// pydantic's lax str -> int: surrounding whitespace, a sign, digit separators, and a fraction
// of zeros only ("42.0"); no other bases.
std::optional<std::int64_t> parse_integer(std::string_view text) {
  auto digits = without_digit_separators(trim(text));
  if (!digits) return std::nullopt;
  std::string_view body = *digits;
  bool negative = false;
  if (!body.empty() && (body.front() == '+' || body.front() == '-')) {
    negative = body.front() == '-';
    body.remove_prefix(1);
  }
  if (const auto dot = body.find('.'); dot != std::string_view::npos) {
    const auto fraction = body.substr(dot + 1);
    if (fraction.empty() || fraction.find_first_not_of('0') != std::string_view::npos) {
      return std::nullopt;
    }
    body = body.substr(0, dot);
  }
  if (body.empty() || !std::all_of(body.begin(), body.end(), is_digit)) return std::nullopt;
  std::uint64_t magnitude = 0;
  const auto [end, ec] = std::from_chars(body.data(), body.data() + body.size(), magnitude);
  if (ec != std::errc{} || end != body.data() + body.size()) return std::nullopt;
  constexpr auto max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (magnitude > max) return std::nullopt;
  const auto value = static_cast<std::int64_t>(magnitude);
  return negative ? -value : value;
}

// pydantic's lax str -> float: Python's float() grammar, "inf"/"infinity"/"nan" included.
std::optional<double> parse_number(std::string_view text) {
  auto cleaned = without_digit_separators(trim(text));
  if (!cleaned) return std::nullopt;
  std::string_view body = *cleaned;
  double sign = 1.0;
  if (!body.empty() && (body.front() == '+' || body.front() == '-')) {
    if (body.front() == '-') sign = -1.0;
    body.remove_prefix(1);
  }
  const std::string lower = to_lower(body);
  if (lower == "inf" || lower == "infinity") return sign * std::numeric_limits<double>::infinity();
  if (lower == "nan") return std::numeric_limits<double>::quiet_NaN();
  if (body.empty() || !(is_digit(body.front()) || body.front() == '.')) return std::nullopt;
  double value = 0.0;
  const auto [end, ec] = std::from_chars(body.data(), body.data() + body.size(), value);
  if (ec != std::errc{} || end != body.data() + body.size()) return std::nullopt;
  return sign * value;
}

// pydantic's str -> bool (case-insensitive, no surrounding whitespace).
std::optional<bool> parse_bool(std::string_view text) {
  const std::string lower = to_lower(text);
  for (std::string_view yes : {"1", "on", "t", "true", "y", "yes"}) {
    if (lower == yes) return true;
  }
  for (std::string_view no : {"0", "off", "f", "false", "n", "no"}) {
    if (lower == no) return false;
  }
  return std::nullopt;
}

namespace {

std::string number_text(double value) {
  if (value == std::floor(value) && std::abs(value) < 1e15) {
    return std::to_string(static_cast<std::int64_t>(value));
  }
  std::string text = std::to_string(value);  // "0.100000"
  text.erase(text.find_last_not_of('0') + 1);
  return text;
}

}  // namespace

failure bad_integer(const integer_rule& rule) {
  std::string range = rule.max == no_upper_bound
                          ? "of at least " + std::to_string(rule.min)
                          : "from " + std::to_string(rule.min) + " to " + std::to_string(rule.max);
  return fail(errc::invalid_configuration, std::string(rule.var) + " must be a whole number " +
                                               range + " (" + std::string(rule.hint) + ")");
}

failure bad_number(const number_rule& rule) {
  std::string range =
      rule.min_exclusive
          ? "greater than " + number_text(rule.min) + " and at most " + number_text(rule.max)
          : "from " + number_text(rule.min) + " to " + number_text(rule.max);
  return fail(errc::invalid_configuration, std::string(rule.var) + " must be a number " + range +
                                               " (" + std::string(rule.hint) + ")");
}

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
