// Python-compatible text forms of datetime, date, time and UUID.
//
// Formatting follows CPython's `isoformat()` / `str(uuid)`. Parsing follows the state machine of
// CPython 3.11's C `fromisoformat` (Modules/_datetimemodule.c), quirks included, because the text
// comes from stored values that cachekit-py revives with that parser: a C++ reader must accept and
// refuse the same strings. The C parser reads a NUL-terminated UTF-8 buffer and sometimes looks
// one byte past a component; `iso_text::at` reproduces that by answering '\0' past the end.
#include <cachekit/temporal.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace cachekit {
inline namespace v0 {
namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::microseconds;
using std::chrono::minutes;
using std::chrono::seconds;

constexpr int min_year = 1;
constexpr int max_year = 9999;
constexpr std::int64_t seconds_per_day = 86400;

// ---------------------------------------------------------------------------------------------
// Formatting

void append_2(std::string& out, long v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%02ld", v);
  out += buf;
}

void append_ymd(std::string& out, const std::chrono::year_month_day& ymd) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  out += buf;
}

// `hh:mm:ss[.ffffff]` for a time of day in [0, 24h).
void append_clock(std::string& out, microseconds since_midnight) {
  const std::chrono::hh_mm_ss<microseconds> hms{since_midnight};
  append_2(out, hms.hours().count());
  out += ':';
  append_2(out, hms.minutes().count());
  out += ':';
  append_2(out, static_cast<long>(hms.seconds().count()));
  if (const auto us = hms.subseconds().count(); us != 0) {
    char buf[24];
    std::snprintf(buf, sizeof buf, ".%06ld", static_cast<long>(us));
    out += buf;
  }
}

// Python's `_format_offset`: `+HH:MM`, plus `:SS` only when the seconds are non-zero.
void append_offset(std::string& out, seconds offset) {
  std::int64_t s = offset.count();
  out += s < 0 ? '-' : '+';
  if (s < 0) s = -s;
  append_2(out, static_cast<long>(s / 3600));
  out += ':';
  append_2(out, static_cast<long>((s / 60) % 60));
  if (s % 60 != 0) {
    out += ':';
    append_2(out, static_cast<long>(s % 60));
  }
}

// ---------------------------------------------------------------------------------------------
// Parsing (CPython 3.11 `fromisoformat`)

class iso_text {
 public:
  explicit iso_text(std::string_view s) noexcept : s_(s) {}
  [[nodiscard]] char at(std::size_t i) const noexcept { return i < s_.size() ? s_[i] : '\0'; }
  [[nodiscard]] std::size_t size() const noexcept { return s_.size(); }

  // Reads `n` ASCII digits at `pos` into `var` (appending, as CPython does). False on a non-digit.
  bool digits(std::size_t& pos, std::size_t n, int& var) const noexcept {
    for (std::size_t i = 0; i < n; ++i) {
      const auto d = static_cast<unsigned>(static_cast<unsigned char>(at(pos++)) - '0');
      if (d > 9) return false;
      var = var * 10 + static_cast<int>(d);
    }
    return true;
  }

 private:
  std::string_view s_;
};

bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}

struct clock_fields {
  int hour = 0, minute = 0, second = 0, microsecond = 0;
};

// `HH[:?MM[:?SS]][{.,}f+]` between `p` and `end`. Returns <0 on error, 1 when the text does not
// end right after the fraction (the caller decides whether that matters), else 0.
int parse_clock(const iso_text& t, std::size_t p, std::size_t end, clock_fields& out) {
  out = {};
  int* fields[3] = {&out.hour, &out.minute, &out.second};
  bool has_separator = true;
  for (std::size_t i = 0; i < 3; ++i) {
    if (!t.digits(p, 2, *fields[i])) return -3;
    const char c = t.at(p++);
    if (i == 0) has_separator = c == ':';
    if (p >= end) return c != '\0' ? 1 : 0;
    if (has_separator && c == ':') continue;
    if (c == '.' || c == ',') break;
    if (!has_separator) {
      --p;
    } else {
      return -4;
    }
  }
  // Here p < end: at least one fraction digit is required, more than six are read and dropped.
  const std::size_t to_parse = std::min<std::size_t>(end - p, 6);
  if (!t.digits(p, to_parse, out.microsecond)) return -3;
  static constexpr int scale[] = {100000, 10000, 1000, 100, 10, 1};
  out.microsecond *= scale[to_parse - 1];
  while (is_digit(t.at(p))) ++p;
  return t.at(p) != '\0' ? 1 : 0;
}

struct time_fields {
  clock_fields clock;
  bool has_offset = false;
  int offset_seconds = 0;       // sign included
  int offset_microseconds = 0;  // sign included
};

// The time part (after the date and its separator): a clock, then `Z` or `±HH[:?MM[:?SS[.f]]]`.
int parse_time_part(const iso_text& t, std::size_t p, std::size_t len, time_fields& out) {
  const std::size_t end = p + len;
  std::size_t tz = p;
  do {
    const char c = t.at(tz);
    if (c == 'Z' || c == '+' || c == '-') break;
  } while (++tz < end);

  const int rv = parse_clock(t, p, tz, out.clock);
  if (rv < 0) return rv;
  if (tz == end) return rv == 1 ? -5 : 0;

  out.has_offset = true;
  if (t.at(tz) == 'Z') {
    out.offset_seconds = 0;
    out.offset_microseconds = 0;
    return t.at(tz + 1) != '\0' ? -5 : 1;
  }
  const int sign = t.at(tz) == '-' ? -1 : 1;
  clock_fields off;
  const int tz_rv = parse_clock(t, tz + 1, end, off);
  out.offset_seconds = sign * (off.hour * 3600 + off.minute * 60 + off.second);
  out.offset_microseconds = sign * off.microsecond;
  return tz_rv != 0 ? -5 : 1;
}

// ISO week date to a calendar date; false when the week or weekday is out of range.
bool iso_week_to_ymd(int iso_year, int week, int weekday, int& year, int& month, int& day) {
  using namespace std::chrono;
  const std::chrono::year y{iso_year};
  if (week <= 0 || week >= 53) {
    bool out_of_range = true;
    if (week == 53) {
      // Years starting on a Thursday, and leap years starting on a Wednesday, have 53 weeks.
      const unsigned first = std::chrono::weekday{sys_days{y / January / 1}}.iso_encoding();
      if (first == 4 || (first == 3 && y.is_leap())) out_of_range = false;
    }
    if (out_of_range) return false;
  }
  if (weekday <= 0 || weekday >= 8) return false;
  const sys_days jan4{y / January / 4};
  const sys_days week1_monday = jan4 - days{std::chrono::weekday{jan4}.iso_encoding() - 1};
  const year_month_day ymd{week1_monday + days{(week - 1) * 7 + (weekday - 1)}};
  year = static_cast<int>(ymd.year());
  month = static_cast<int>(static_cast<unsigned>(ymd.month()));
  day = static_cast<int>(static_cast<unsigned>(ymd.day()));
  return true;
}

// `YYYY-MM-DD`, `YYYYMMDD`, `YYYY-Www[-D]`, `YYYYWww[D]`; `len` is where the date part ends.
bool parse_date_part(const iso_text& t, std::size_t len, int& year, int& month, int& day) {
  year = month = day = 0;
  std::size_t p = 0;
  if (!t.digits(p, 4, year)) return false;
  const bool uses_separator = t.at(p) == '-';
  if (uses_separator) ++p;
  if (t.at(p) == 'W') {
    ++p;
    int week = 0;
    int weekday = 0;
    if (!t.digits(p, 2, week)) return false;
    if (p < len) {
      if (uses_separator && t.at(p++) != '-') return false;
      if (!t.digits(p, 1, weekday)) return false;
    } else {
      weekday = 1;
    }
    return iso_week_to_ymd(year, week, weekday, year, month, day);
  }
  if (!t.digits(p, 2, month)) return false;
  if (uses_separator && t.at(p++) != '-') return false;
  return t.digits(p, 2, day);
}

// Where the date part of a datetime string ends (CPython's `_find_isoformat_datetime_separator`).
std::size_t find_separator(const iso_text& t) {
  const std::size_t len = t.size();
  if (len == 7) return 7;
  if (t.at(4) == '-') {
    if (t.at(5) == 'W') {
      if (len > 8 && t.at(8) == '-') {
        if (len == 9) return std::string_view::npos;
        if (len > 10 && is_digit(t.at(10))) return 8;
        return 10;
      }
      return 8;
    }
    return 10;
  }
  if (t.at(4) == 'W') {
    std::size_t idx = 7;
    while (idx < len && is_digit(t.at(idx))) ++idx;
    if (idx < 9) return idx;
    return idx % 2 == 0 ? 7 : 8;
  }
  return 8;
}

failure invalid(std::string_view what, std::string_view text) {
  std::string shown(text.substr(0, 80));
  if (text.size() > 80) shown += "...";
  return fail(errc::malformed, "invalid " + std::string(what) + " isoformat string '" + shown +
                                   "' (expected Python isoformat, e.g. 2024-01-15T10:30:00+00:00)");
}

bool valid_ymd(int year, int month, int day) {
  if (year < min_year || year > max_year || month < 1 || month > 12 || day < 1) return false;
  const std::chrono::year_month_day_last last{std::chrono::year{year} /
                                              std::chrono::month{static_cast<unsigned>(month)} /
                                              std::chrono::last};
  return static_cast<unsigned>(day) <= static_cast<unsigned>(last.day());
}

bool valid_clock(const clock_fields& c) {
  return c.hour >= 0 && c.hour <= 23 && c.minute >= 0 && c.minute <= 59 && c.second >= 0 &&
         c.second <= 59 && c.microsecond >= 0 && c.microsecond <= 999999;
}

microseconds clock_duration(const clock_fields& c) {
  return hours{c.hour} + minutes{c.minute} + seconds{c.second} + microseconds{c.microsecond};
}

// The offset Python would build, or an error: strictly inside ±24h, and whole seconds (our
// types hold seconds; Python itself ignores the fraction of an offset whose h:m:s are all zero).
result<std::optional<seconds>> offset_of(const time_fields& f, std::string_view what,
                                         std::string_view text) {
  if (!f.has_offset) return std::optional<seconds>{};
  if (f.offset_seconds == 0) return std::optional<seconds>{seconds{0}};
  const std::int64_t total_us =
      std::int64_t{f.offset_seconds} * 1000000 + std::int64_t{f.offset_microseconds};
  if (total_us <= -seconds_per_day * 1000000 || total_us >= seconds_per_day * 1000000) {
    return fail(errc::malformed, "UTC offset in " + std::string(what) + " '" +
                                     std::string(text.substr(0, 80)) +
                                     "' must be strictly between -24:00 and +24:00");
  }
  if (f.offset_microseconds != 0) {
    return fail(errc::malformed, "UTC offset in " + std::string(what) + " '" +
                                     std::string(text.substr(0, 80)) +
                                     "' has a fraction of a second; cachekit supports whole-second "
                                     "offsets only");
  }
  return std::optional<seconds>{seconds{f.offset_seconds}};
}

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Characters CPython's int() skips around the digits (ASCII part of str.isspace()).
bool is_python_space(char c) noexcept {
  return c == ' ' || (c >= '\t' && c <= '\r') || (c >= '\x1c' && c <= '\x1f');
}

void replace_all(std::string& s, std::string_view from) {
  std::string out;
  out.reserve(s.size());
  std::size_t pos = 0;
  while (true) {
    const std::size_t hit = s.find(from, pos);
    if (hit == std::string::npos) break;
    out.append(s, pos, hit - pos);
    pos = hit + from.size();
  }
  out.append(s, pos, std::string::npos);
  s = std::move(out);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// datetime

std::string datetime::to_isoformat() const {
  const auto day = std::chrono::floor<days>(wall);
  std::string out;
  out.reserve(40);
  append_ymd(out, std::chrono::year_month_day{day});
  out += 'T';
  append_clock(out, wall - day);
  if (utc_offset) append_offset(out, *utc_offset);
  return out;
}

result<datetime> datetime::parse_isoformat(std::string_view text) {
  const iso_text t{text};
  if (text.size() < 7) return invalid("datetime", text);
  const std::size_t separator = find_separator(t);
  if (separator == std::string_view::npos) return invalid("datetime", text);

  int year = 0;
  int month = 0;
  int day = 0;
  if (!parse_date_part(t, separator, year, month, day)) return invalid("datetime", text);

  time_fields time;
  if (text.size() > separator) {
    // The separator is any one character; a non-ASCII one spans its whole UTF-8 sequence.
    const auto lead = static_cast<unsigned char>(text[separator]);
    std::size_t width = 1;
    if ((lead & 0x80) != 0) width = (lead & 0xf0) == 0xe0 ? 3 : (lead & 0xf0) == 0xf0 ? 4 : 2;
    const std::size_t start = separator + width;
    if (start > text.size()) return invalid("datetime", text);
    if (parse_time_part(t, start, text.size() - start, time) < 0) {
      return invalid("datetime", text);
    }
  }
  if (!valid_ymd(year, month, day) || !valid_clock(time.clock)) return invalid("datetime", text);
  auto offset = offset_of(time, "datetime", text);
  if (!offset) return offset.error();

  const std::chrono::local_days local{std::chrono::year{year} /
                                      std::chrono::month{static_cast<unsigned>(month)} /
                                      std::chrono::day{static_cast<unsigned>(day)}};
  datetime out;
  out.wall =
      std::chrono::local_time<microseconds>{local.time_since_epoch()} + clock_duration(time.clock);
  out.utc_offset = *offset;
  return out;
}

// ---------------------------------------------------------------------------------------------
// date

std::string date::to_isoformat() const {
  std::string out;
  append_ymd(out, ymd);
  return out;
}

result<date> date::parse_isoformat(std::string_view text) {
  const iso_text t{text};
  const std::size_t len = text.size();
  int year = 0;
  int month = 0;
  int day = 0;
  if ((len != 7 && len != 8 && len != 10) || !parse_date_part(t, len, year, month, day) ||
      !valid_ymd(year, month, day)) {
    return invalid("date", text);
  }
  return date{std::chrono::year{year} / std::chrono::month{static_cast<unsigned>(month)} /
              std::chrono::day{static_cast<unsigned>(day)}};
}

// ---------------------------------------------------------------------------------------------
// time_of_day

std::string time_of_day::to_isoformat() const {
  std::string out;
  out.reserve(24);
  append_clock(out, since_midnight);
  if (utc_offset) append_offset(out, *utc_offset);
  return out;
}

result<time_of_day> time_of_day::parse_isoformat(std::string_view text) {
  // ISO 8601 wants a `T` before a bare time; Python allows it to be left out.
  std::string_view body = text;
  if (!body.empty() && body.front() == 'T') body.remove_prefix(1);
  const iso_text t{body};
  time_fields time;
  if (parse_time_part(t, 0, body.size(), time) < 0 || !valid_clock(time.clock)) {
    return invalid("time", text);
  }
  auto offset = offset_of(time, "time", text);
  if (!offset) return offset.error();
  return time_of_day{clock_duration(time.clock), *offset};
}

// ---------------------------------------------------------------------------------------------
// uuid

std::string uuid::to_string() const {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += digits[bytes[i] >> 4];
    out += digits[bytes[i] & 0x0f];
  }
  return out;
}

result<uuid> uuid::parse(std::string_view text) {
  // Python: hex.replace('urn:', '').replace('uuid:', '').strip('{}').replace('-', ''), then
  // exactly 32 characters that int(hex, 16) accepts. Non-ASCII text (Unicode digits or spaces,
  // which int() would also take) is refused here.
  const auto bad = [&](std::string_view why) {
    return fail(errc::malformed, "invalid UUID '" + std::string(text.substr(0, 80)) +
                                     "': " + std::string(why) +
                                     " (expected 32 hex digits, e.g. "
                                     "123e4567-e89b-12d3-a456-426614174000)");
  };
  if (std::any_of(text.begin(), text.end(),
                  [](char c) { return (static_cast<unsigned char>(c) & 0x80) != 0; })) {
    return bad("non-ASCII character");
  }
  std::string hex(text);
  replace_all(hex, "urn:");
  replace_all(hex, "uuid:");
  const std::size_t first = hex.find_first_not_of("{}");
  if (first == std::string::npos) {
    hex.clear();
  } else {
    hex = hex.substr(first, hex.find_last_not_of("{}") - first + 1);
  }
  replace_all(hex, "-");
  if (hex.size() != 32) return bad("wrong length");

  // int(hex, 16): spaces around, an optional '+', an optional 0x prefix, digits with single
  // underscores between them.
  std::size_t p = 0;
  std::size_t end = hex.size();
  while (p < end && is_python_space(hex[p])) ++p;
  while (end > p && is_python_space(hex[end - 1])) --end;
  if (p < end && hex[p] == '+') ++p;
  bool after_prefix = false;
  if (end - p >= 2 && hex[p] == '0' && (hex[p + 1] == 'x' || hex[p + 1] == 'X')) {
    p += 2;
    after_prefix = true;
  }
  if (after_prefix && p < end && hex[p] == '_') ++p;
  std::array<std::uint8_t, 32> nibbles{};
  std::size_t count = 0;
  bool previous_digit = false;
  for (; p < end; ++p) {
    const char c = hex[p];
    if (c == '_') {
      if (!previous_digit || p + 1 >= end || hex_value(hex[p + 1]) < 0) {
        return bad("misplaced underscore");
      }
      previous_digit = false;
      continue;
    }
    const int v = hex_value(c);
    if (v < 0) return bad("not a hex digit");
    nibbles[count++] = static_cast<std::uint8_t>(v);
    previous_digit = true;
  }
  if (count == 0) return bad("no hex digits");
  // A shorter digit string (prefix, sign, spaces) is a smaller number: right-align it.
  uuid out;
  std::array<std::uint8_t, 32> full{};
  std::copy(nibbles.begin(), nibbles.begin() + static_cast<std::ptrdiff_t>(count),
            full.begin() + static_cast<std::ptrdiff_t>(32 - count));
  for (std::size_t i = 0; i < 16; ++i) {
    out.bytes[i] = static_cast<std::uint8_t>((full[2 * i] << 4) | full[2 * i + 1]);
  }
  return out;
}

}  // namespace v0
}  // namespace cachekit
