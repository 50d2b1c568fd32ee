/// @file
/// Calendar values that cross the SDK boundary: `datetime` (with or without a UTC offset),
/// `date`, `time_of_day`, and `uuid`. They mirror Python's `datetime.datetime`, `datetime.date`,
/// `datetime.time` and `uuid.UUID`, and format exactly as Python's `isoformat()` / `str()` do,
/// because that text ends up inside cache keys and stored values shared with cachekit-py.
///
/// Thread safety: value types; thread-compatible.
#pragma once

#include <cachekit/export.hpp>
#include <cachekit/result.hpp>

#include <array>
#include <chrono>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cachekit {
inline namespace v0 {

/// A point in time as Python's `datetime`: wall-clock fields to the microsecond plus an
/// optional UTC offset. Without an offset it is "naive" (allowed in stored values, rejected in
/// keys, as cachekit-py does).
struct datetime {
  /// Wall-clock time (the fields Python prints), microsecond precision.
  std::chrono::local_time<std::chrono::microseconds> wall{};
  /// Offset from UTC; `std::nullopt` for a naive datetime.
  std::optional<std::chrono::seconds> utc_offset{};

  /// An aware datetime at `utc` shown with `offset` (wall = utc + offset).
  static datetime from_utc(std::chrono::sys_time<std::chrono::microseconds> utc,
                           std::chrono::seconds offset = std::chrono::seconds{0}) noexcept {
    return {std::chrono::local_time<std::chrono::microseconds>{utc.time_since_epoch() + offset},
            offset};
  }
  /// The UTC instant; only meaningful when `utc_offset` is set.
  [[nodiscard]] std::chrono::sys_time<std::chrono::microseconds> utc() const noexcept {
    return std::chrono::sys_time<std::chrono::microseconds>{
        wall.time_since_epoch() - utc_offset.value_or(std::chrono::seconds{0})};
  }
  [[nodiscard]] bool is_aware() const noexcept { return utc_offset.has_value(); }

  /// Python's `isoformat()`: `2024-01-15T10:30:00+00:00`, `...T10:30:00.000123+05:30`,
  /// no offset when naive, microseconds only when non-zero.
  [[nodiscard]] CACHEKIT_EXPORT std::string to_isoformat() const;
  /// Parses what Python's `datetime.fromisoformat` (3.11) accepts, quirks included, so values
  /// cachekit-py revives are revived here too: `YYYY-MM-DD[Thh:mm[:ss[.ffffff]]][±hh:mm[:ss]|Z]`
  /// and the other 3.11 forms (`YYYYMMDD`, ISO week dates, any one separator character,
  /// `hhmmss`, 1+ fraction digits with `.` or `,`). Sub-second UTC offsets are refused (Python
  /// accepts them; these types hold whole seconds). Errors: errc::malformed naming the text.
  CACHEKIT_EXPORT static result<datetime> parse_isoformat(std::string_view text);

  friend bool operator==(const datetime&, const datetime&) = default;
};

/// A calendar date as Python's `datetime.date`.
struct date {
  std::chrono::year_month_day ymd{};

  /// `2024-01-15`.
  [[nodiscard]] CACHEKIT_EXPORT std::string to_isoformat() const;
  /// `YYYY-MM-DD` and what else Python 3.11's `date.fromisoformat` accepts (`YYYYMMDD`,
  /// `YYYY-Www-D`, ...). Errors: errc::malformed.
  CACHEKIT_EXPORT static result<date> parse_isoformat(std::string_view text);

  friend bool operator==(const date&, const date&) = default;
};

/// A time of day as Python's `datetime.time`, optionally with a UTC offset.
struct time_of_day {
  std::chrono::microseconds since_midnight{};  ///< in [0, 24h)
  std::optional<std::chrono::seconds> utc_offset{};

  /// `10:30:00`, `10:30:00.000123`, `10:30:00+02:00`.
  [[nodiscard]] CACHEKIT_EXPORT std::string to_isoformat() const;
  /// `[T]hh[:mm[:ss[.ffffff]]][±hh:mm[:ss]|Z]`, as Python 3.11's `time.fromisoformat`.
  /// Errors: errc::malformed.
  CACHEKIT_EXPORT static result<time_of_day> parse_isoformat(std::string_view text);

  friend bool operator==(const time_of_day&, const time_of_day&) = default;
};

/// A UUID (RFC 4122 bytes, any version).
struct uuid {
  std::array<std::uint8_t, 16> bytes{};

  /// Lowercase hyphenated, as Python's `str(uuid.UUID(...))`.
  [[nodiscard]] CACHEKIT_EXPORT std::string to_string() const;
  /// Hyphenated (either case), 32 hex digits, optionally in braces or with `urn:uuid:`,
  /// as Python's `uuid.UUID(str)` accepts. Errors: errc::malformed.
  CACHEKIT_EXPORT static result<uuid> parse(std::string_view text);

  friend auto operator<=>(const uuid&, const uuid&) = default;
};

}  // namespace v0
}  // namespace cachekit
