#include "backends/cachekitio/freshness_headers.hpp"

#include <cstddef>

namespace cachekit {
inline namespace v0 {
namespace detail {
namespace {

bool all_ascii_digits(std::string_view text) noexcept {
  if (text.empty()) return false;
  for (const char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

long long digits_value(std::string_view digits) noexcept {
  long long value = 0;
  for (const char c : digits) value = value * 10 + (c - '0');
  return value;
}

}  // namespace

bool is_stale_freshness(std::optional<std::string_view> value) noexcept {
  return value.has_value() && *value != "fresh";
}

std::optional<long long> parse_fresh_for(std::optional<std::string_view> value) noexcept {
  if (!value) return std::nullopt;
  constexpr std::size_t max_digits = 7;  // the 30-day cap has seven
  if (value->size() > max_digits || !all_ascii_digits(*value)) return 0;
  const long long seconds = digits_value(*value);
  return seconds <= cachekitio_max_ttl_seconds ? seconds : 0;
}

std::optional<long long> parse_retry_after(std::optional<std::string_view> value,
                                           long long max_seconds) noexcept {
  if (!value) return std::nullopt;
  std::string_view text = *value;
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  if (!all_ascii_digits(text)) return std::nullopt;
  while (text.size() > 1 && text.front() == '0') text.remove_prefix(1);
  if (text.size() > 12) return std::nullopt;  // far above any bound a caller passes
  const long long seconds = digits_value(text);
  if (seconds > max_seconds) return std::nullopt;
  return seconds;
}

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
