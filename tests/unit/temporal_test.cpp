// Expected strings below are what CPython 3.11.7 prints (`isoformat()`, `str(uuid.UUID(x))`) or
// refuses (`fromisoformat` raising ValueError) for the same input.
#include <gtest/gtest.h>
#include <cachekit/temporal.hpp>

#include <chrono>
#include <string>

namespace cachekit {
namespace {

using namespace std::chrono;
using namespace std::chrono_literals;

datetime make_dt(int y, unsigned mo, unsigned d, hours h, minutes mi, seconds s,
                 microseconds us = 0us, std::optional<seconds> offset = std::nullopt) {
  const local_days local{year{y} / month{mo} / std::chrono::day{d}};
  return datetime{local_time<microseconds>{local.time_since_epoch()} + h + mi + s + us, offset};
}

std::string roundtrip_datetime(std::string_view text) {
  auto r = datetime::parse_isoformat(text);
  return r ? r->to_isoformat() : "ERR";
}
std::string roundtrip_time(std::string_view text) {
  auto r = time_of_day::parse_isoformat(text);
  return r ? r->to_isoformat() : "ERR";
}
std::string roundtrip_date(std::string_view text) {
  auto r = date::parse_isoformat(text);
  return r ? r->to_isoformat() : "ERR";
}
std::string roundtrip_uuid(std::string_view text) {
  auto r = uuid::parse(text);
  return r ? r->to_string() : "ERR";
}

TEST(temporal, datetime_isoformat_matches_python) {
  EXPECT_EQ(make_dt(2024, 1, 15, 10h, 30min, 0s).to_isoformat(), "2024-01-15T10:30:00");
  EXPECT_EQ(make_dt(2024, 1, 15, 10h, 30min, 0s, 0us, 0s).to_isoformat(),
            "2024-01-15T10:30:00+00:00");
  EXPECT_EQ(make_dt(2024, 1, 15, 10h, 30min, 0s, 123us, 5h + 30min).to_isoformat(),
            "2024-01-15T10:30:00.000123+05:30");
  EXPECT_EQ(make_dt(1999, 12, 31, 23h, 59min, 59s, 1us, -8h).to_isoformat(),
            "1999-12-31T23:59:59.000001-08:00");
  EXPECT_EQ(make_dt(2024, 1, 15, 0h, 0min, 0s, 0us, -(5h + 30min + 15s)).to_isoformat(),
            "2024-01-15T00:00:00-05:30:15");
  EXPECT_EQ(make_dt(1, 1, 1, 0h, 0min, 0s).to_isoformat(), "0001-01-01T00:00:00");
  EXPECT_EQ(make_dt(9999, 12, 31, 23h, 59min, 59s, 999999us, 23h + 59min).to_isoformat(),
            "9999-12-31T23:59:59.999999+23:59");
  EXPECT_EQ(make_dt(2024, 1, 15, 0h, 0min, 0s, 0us, -30s).to_isoformat(),
            "2024-01-15T00:00:00-00:00:30");
}

TEST(temporal, datetime_from_utc_shows_wall_time_at_offset) {
  const auto utc = sys_days{2024y / 1 / 15} + 10h;
  const datetime dt = datetime::from_utc(time_point_cast<microseconds>(utc), 2h);
  EXPECT_EQ(dt.to_isoformat(), "2024-01-15T12:00:00+02:00");
  EXPECT_EQ(dt.utc(), time_point_cast<microseconds>(utc));
}

TEST(temporal, datetime_parse_reads_the_forms_cachekit_writes) {
  auto r = datetime::parse_isoformat("2024-01-01T12:30:45.123456+00:00");
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, make_dt(2024, 1, 1, 12h, 30min, 45s, 123456us, 0s));
  r = datetime::parse_isoformat("2024-01-02T03:04:05");
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->is_aware());
  r = datetime::parse_isoformat("2024-01-15 10:30:00-05:30:15");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->utc_offset, -(5h + 30min + 15s));
}

TEST(temporal, datetime_parse_accepts_python_311_extended_forms) {
  EXPECT_EQ(roundtrip_datetime("2024-01-15T10:30Z"), "2024-01-15T10:30:00+00:00");
  EXPECT_EQ(roundtrip_datetime("2024-01-15x10:30"), "2024-01-15T10:30:00");
  EXPECT_EQ(roundtrip_datetime("2024-01-15\xc3\xa9"
                               "10:30"),
            "2024-01-15T10:30:00");  // any one separator character, even non-ASCII
  EXPECT_EQ(roundtrip_datetime("2024-01-15T10"), "2024-01-15T10:00:00");
  EXPECT_EQ(roundtrip_datetime("2024-01-15T103045"), "2024-01-15T10:30:45");
  EXPECT_EQ(roundtrip_datetime("2024-01-15T10:30:45.1"), "2024-01-15T10:30:45.100000");
  EXPECT_EQ(roundtrip_datetime("2024-01-15T10:30:45,123"), "2024-01-15T10:30:45.123000");
  EXPECT_EQ(roundtrip_datetime("2024-01-15T10:30:45.123456789"), "2024-01-15T10:30:45.123456");
  EXPECT_EQ(roundtrip_datetime("2024-01-15T10.5"), "2024-01-15T10:00:00.500000");
  EXPECT_EQ(roundtrip_datetime("2024-01-15T10:30+05"), "2024-01-15T10:30:00+05:00");
  EXPECT_EQ(roundtrip_datetime("2024-01-15T10:30+0530"), "2024-01-15T10:30:00+05:30");
  EXPECT_EQ(roundtrip_datetime("2024-01-15T10:30-00:00"), "2024-01-15T10:30:00+00:00");
  EXPECT_EQ(roundtrip_datetime("2024-01-15T10:30+10:60"), "2024-01-15T10:30:00+11:00");
  EXPECT_EQ(roundtrip_datetime("2024-01-15T10:30:45.Z"), "2024-01-15T10:30:45+00:00");
  EXPECT_EQ(roundtrip_datetime("20240115"), "2024-01-15T00:00:00");
  EXPECT_EQ(roundtrip_datetime("2024W03"), "2024-01-15T00:00:00");
  EXPECT_EQ(roundtrip_datetime("2024-W03-1"), "2024-01-15T00:00:00");
  EXPECT_EQ(roundtrip_datetime("2020-W53-7"), "2021-01-03T00:00:00");
  EXPECT_EQ(roundtrip_datetime("2024-01-15T00:00+00:00:00.000001"), "2024-01-15T00:00:00+00:00");
}

TEST(temporal, datetime_parse_rejects_what_python_rejects) {
  for (const char* text : {"",
                           "2024-01",
                           "2024-01-15T",
                           "2024-01-15 ",
                           "2024-01-15T10:30z",
                           "2024-01-15T24:00",
                           "2024-01-15T10:60",
                           "2024-01-15T10:30:60",
                           "0000-01-01",
                           "2024-02-30",
                           "2023-02-29",
                           "2024-13-01",
                           "2024-1-15",
                           "+024-01-15",
                           "2024-01-15T10:30+24:00",
                           "2024-01-15T10:30-24:00",
                           "2024-01-15T10:30+",
                           "2024-01-15T10:30+5",
                           "2024-01-15T10:30+053",
                           "2024-01-15T10:30:45.",
                           "2024-01-15T10:30Z+05:00",
                           "2024-01-15T10:30+05:00Z",
                           "2024-01-15T1:30",
                           "2024-W53-1",
                           "2024-W00",
                           "2024-W01-8",
                           "2024-W031",
                           "2024-01-15T10:30:45.12x+01:00",
                           "\xef\xbc\x92\xef\xbc\x90\xef\xbc\x92\xef\xbc\x94-01-15"}) {
    const auto r = datetime::parse_isoformat(text);
    EXPECT_FALSE(r) << text;
    if (!r) EXPECT_EQ(r.code(), errc::malformed) << text;
  }
}

TEST(temporal, datetime_parse_refuses_sub_second_offsets_python_would_keep) {
  const auto r = datetime::parse_isoformat("2024-01-15T10:30+05:30:15.5");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.code(), errc::malformed);
  EXPECT_NE(r.error().detail.find("whole-second"), std::string::npos);
}

TEST(temporal, date_isoformat_and_parse) {
  EXPECT_EQ((date{2024y / 1 / 2}).to_isoformat(), "2024-01-02");
  EXPECT_EQ((date{1y / 1 / 1}).to_isoformat(), "0001-01-01");
  EXPECT_EQ(roundtrip_date("2024-01-02"), "2024-01-02");
  EXPECT_EQ(roundtrip_date("20240102"), "2024-01-02");
  EXPECT_EQ(roundtrip_date("2024W011"), "2024-01-01");
  EXPECT_EQ(roundtrip_date("2024-W01-7"), "2024-01-07");
  EXPECT_EQ(roundtrip_date("2024W01"), "2024-01-01");
  for (const char* text : {"2024-01-02T00:00", "2024-1-02", "2024-02-30", "0000-01-01", "2024-01",
                           "2024-01-02z", "2024-W54"}) {
    EXPECT_EQ(roundtrip_date(text), "ERR") << text;
  }
}

TEST(temporal, time_isoformat_and_parse) {
  EXPECT_EQ((time_of_day{3h + 4min + 5s + 6us}).to_isoformat(), "03:04:05.000006");
  EXPECT_EQ((time_of_day{23h + 59min + 59s, 2h}).to_isoformat(), "23:59:59+02:00");
  EXPECT_EQ((time_of_day{0us}).to_isoformat(), "00:00:00");
  EXPECT_EQ(roundtrip_time("03:04:05.000006"), "03:04:05.000006");
  EXPECT_EQ(roundtrip_time("T03:04"), "03:04:00");
  EXPECT_EQ(roundtrip_time("0304"), "03:04:00");
  EXPECT_EQ(roundtrip_time("03:04:05Z"), "03:04:05+00:00");
  EXPECT_EQ(roundtrip_time("03:04:05-01:30"), "03:04:05-01:30");
  for (const char* text : {"", "T", "3:04", "24:00", "03:04:05z", "03:04:05+24:00", "03:04:05."}) {
    EXPECT_EQ(roundtrip_time(text), "ERR") << text;
  }
}

TEST(temporal, uuid_to_string_is_lowercase_hyphenated) {
  uuid u;
  for (std::size_t i = 0; i < 16; ++i) u.bytes[i] = static_cast<std::uint8_t>(0x10 * i + 0x0f - i);
  EXPECT_EQ(u.to_string(), "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0");
  EXPECT_EQ(uuid{}.to_string(), "00000000-0000-0000-0000-000000000000");
}

TEST(temporal, uuid_parse_accepts_what_python_uuid_accepts) {
  const std::string canonical = "123e4567-e89b-12d3-a456-426614174000";
  EXPECT_EQ(roundtrip_uuid("123E4567-E89B-12D3-A456-426614174000"), canonical);
  EXPECT_EQ(roundtrip_uuid("123e4567e89b12d3a456426614174000"), canonical);
  EXPECT_EQ(roundtrip_uuid("{123e4567-e89b-12d3-a456-426614174000}"), canonical);
  EXPECT_EQ(roundtrip_uuid("urn:uuid:123e4567-e89b-12d3-a456-426614174000"), canonical);
  EXPECT_EQ(roundtrip_uuid("{{123e4567e89b12d3a456426614174000}"), canonical);
  EXPECT_EQ(roundtrip_uuid("123e-4567-e89b-12d3a456-4266-14174000"), canonical);
  // int(hex, 16) quirks: a 0x prefix, a '+' sign, spaces and underscores count toward the 32.
  EXPECT_EQ(roundtrip_uuid("0x3e4567e89b12d3a456426614174000"),
            "003e4567-e89b-12d3-a456-426614174000");
  EXPECT_EQ(roundtrip_uuid("+23e4567e89b12d3a456426614174000"),
            "023e4567-e89b-12d3-a456-426614174000");
  EXPECT_EQ(roundtrip_uuid(" 23e4567e89b12d3a456426614174000"),
            "023e4567-e89b-12d3-a456-426614174000");
  EXPECT_EQ(roundtrip_uuid("123e4567e8_b12d3a456426614174000"),
            "0123e456-7e8b-12d3-a456-426614174000");
}

TEST(temporal, uuid_parse_rejects_malformed_text) {
  for (const char* text :
       {"", "123e4567-e89b-12d3-a456-42661417400", "123e4567-e89b-12d3-a456-4266141740000",
        "123e4567-e89b-12d3-a456-42661417400g", "123e4567e89b12d3a4564266141740__",
        "_23e4567e89b12d3a456426614174000", "123e4567e89b12d3a45642661417400\xc3\xa9"}) {
    const auto r = uuid::parse(text);
    EXPECT_FALSE(r) << text;
    if (!r) EXPECT_EQ(r.code(), errc::malformed);
  }
}

}  // namespace
}  // namespace cachekit
