// Typed reading of cachekit's environment variables with pydantic's rules (the parsing
// cachekit-py's settings apply): whole numbers, decimals and booleans in the forms pydantic
// accepts, range checks, and messages that name the variable and the accepted form but never
// repeat the value (it may be a secret pasted into the wrong variable).
//
// Thread safety: stateless functions; an `env_reader` only reads through its lookup.
#pragma once

#include <cachekit/cache_options.hpp>
#include <cachekit/result.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

namespace cachekit {
inline namespace v0 {
namespace detail {

inline constexpr std::int64_t no_upper_bound = std::numeric_limits<std::int64_t>::max();

char ascii_lower(char c) noexcept;
std::string to_lower(std::string_view text);
bool is_digit(char c) noexcept;
std::string_view trim(std::string_view text) noexcept;
// pydantic's lax str -> int / float / bool (the forms are listed in env_reader.cpp).
std::optional<std::int64_t> parse_integer(std::string_view text);
std::optional<double> parse_number(std::string_view text);
std::optional<bool> parse_bool(std::string_view text);

// A whole-number setting and its range, as the pydantic Field constraints say.
struct integer_rule {
  std::string_view var;
  std::int64_t min;
  std::int64_t max;
  std::string_view hint;  // unit and default, for the message
};

// A float setting (seconds or a ratio). Python's gt=0 is `min_exclusive`.
struct number_rule {
  std::string_view var;
  double min;
  double max;
  bool min_exclusive;
  std::string_view hint;
};

failure bad_integer(const integer_rule& rule);
failure bad_number(const number_rule& rule);

// Reads settings through the caller's lookup, parsing and range-checking them.
class env_reader {
 public:
  explicit env_reader(const cache_options::env_lookup& lookup) : lookup_(lookup) {}

  /// The lookup it reads through (for a component that reads its own variables).
  [[nodiscard]] const cache_options::env_lookup& lookup() const noexcept { return lookup_; }

  [[nodiscard]] std::optional<std::string> get(std::string_view name) const {
    if (!lookup_) return std::nullopt;
    return lookup_(name);
  }

  // Unset and empty are the same: `os.environ.get(name)` is falsy for both.
  [[nodiscard]] std::optional<std::string> non_empty(std::string_view name) const {
    auto value = get(name);
    if (value && value->empty()) return std::nullopt;
    return value;
  }

  [[nodiscard]] result<std::optional<std::int64_t>> integer(const integer_rule& rule) const {
    const auto text = get(rule.var);
    if (!text) return std::optional<std::int64_t>{};
    const auto value = parse_integer(*text);
    if (!value || *value < rule.min || *value > rule.max) return bad_integer(rule);
    return std::optional<std::int64_t>{*value};
  }

  [[nodiscard]] result<std::optional<double>> number(const number_rule& rule) const {
    const auto text = get(rule.var);
    if (!text) return std::optional<double>{};
    const auto value = parse_number(*text);
    if (!value || std::isnan(*value) || *value > rule.max ||
        (rule.min_exclusive ? *value <= rule.min : *value < rule.min)) {
      return bad_number(rule);
    }
    return std::optional<double>{*value};
  }

  [[nodiscard]] result<std::optional<bool>> boolean(std::string_view var) const {
    const auto text = get(var);
    if (!text) return std::optional<bool>{};
    const auto value = parse_bool(*text);
    if (!value) {
      return fail(errc::invalid_configuration,
                  std::string(var) +
                      " must be a boolean: true, false, 1, 0, yes, no, on, off, t, f, y or n "
                      "(any letter case)");
    }
    return std::optional<bool>{*value};
  }

  [[nodiscard]] result<std::optional<std::chrono::milliseconds>> timeout(
      const number_rule& rule) const {
    auto seconds = number(rule);
    if (!seconds) return std::move(seconds).error();
    if (!*seconds) return std::optional<std::chrono::milliseconds>{};
    const auto millis = std::max<long long>(1, std::llround(**seconds * 1000.0));
    return std::optional<std::chrono::milliseconds>{std::chrono::milliseconds{millis}};
  }

 private:
  const cache_options::env_lookup& lookup_;
};
}  // namespace detail
}  // namespace v0
}  // namespace cachekit
