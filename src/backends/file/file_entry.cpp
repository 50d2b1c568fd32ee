#include "backends/file/file_entry.hpp"

#include "protocol/big_endian.hpp"

#include <string>

namespace cachekit {
inline namespace v0 {
namespace detail {
namespace {

constexpr std::byte magic0{'C'};
constexpr std::byte magic1{'K'};

}  // namespace

file_header_bytes encode_file_header(std::uint64_t expiry) noexcept {
  file_header_bytes header{};
  header[0] = magic0;
  header[1] = magic1;
  header[2] = std::byte{file_format_version};
  // [3] reserved and [4:6] flags stay zero, as cachekit-py writes them.
  store_be<std::uint64_t>(header.data() + 6, expiry);
  return header;
}

result<file_header> parse_file_header(byte_view bytes) {
  if (bytes.size() < file_header_size) {
    return fail(errc::truncated, "cache file has " + std::to_string(bytes.size()) +
                                     " bytes, fewer than its 14-byte header");
  }
  if (bytes[0] != magic0 || bytes[1] != magic1) {
    return fail(errc::malformed, "cache file does not start with the magic \"CK\"");
  }
  if (bytes[2] != std::byte{file_format_version}) {
    return fail(errc::unsupported_version, "cache file format version " +
                                               std::to_string(static_cast<unsigned>(bytes[2])) +
                                               " is not 1");
  }
  file_header header;
  header.reserved = static_cast<std::uint8_t>(bytes[3]);
  header.flags = load_be<std::uint16_t>(bytes.data() + 4);
  header.expiry = load_be<std::uint64_t>(bytes.data() + 6);
  return header;
}

result<file_entry> parse_file_entry(byte_view file_bytes) {
  auto header = parse_file_header(file_bytes);
  if (!header) return std::move(header).error();
  return file_entry{*header, file_bytes.subspan(file_header_size)};
}

result<std::uint64_t> file_expiry_for(ttl_seconds ttl, std::chrono::system_clock::time_point now) {
  if (!ttl || ttl->count() == 0) return std::uint64_t{0};
  const auto seconds = ttl->count();
  if (seconds < 0 || seconds > file_max_ttl_seconds) {
    return fail(errc::backend_permanent, "TTL " + std::to_string(seconds) +
                                             " s is out of range [0, 315360000] (max 10 years)");
  }
  // int(time.time() + ttl): the clock's whole seconds (truncated, as int() does for positive
  // times) plus the whole-second TTL.
  const auto now_seconds =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  if (now_seconds < 0) {
    return fail(errc::backend_permanent,
                "the wall clock is before 1970: no expiry timestamp can be written");
  }
  return static_cast<std::uint64_t>(now_seconds) + static_cast<std::uint64_t>(seconds);
}

bool file_entry_expired(std::uint64_t expiry, std::chrono::system_clock::time_point now) noexcept {
  if (expiry == 0) return false;
  // Compare in the clock's own units so a fractional "now" behaves as Python's float does.
  using clock_duration = std::chrono::system_clock::duration;
  const auto since_epoch = now.time_since_epoch();
  constexpr auto max_seconds =
      std::chrono::duration_cast<std::chrono::seconds>(clock_duration::max());
  if (expiry >= static_cast<std::uint64_t>(max_seconds.count())) return false;  // far future
  const auto expiry_point = std::chrono::duration_cast<clock_duration>(
      std::chrono::seconds{static_cast<std::int64_t>(expiry)});
  return since_epoch >= expiry_point;
}

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
