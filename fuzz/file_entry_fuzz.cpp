// libFuzzer target: the file backend's entry parser over untrusted file bytes (a cache directory
// other processes write), plus the expiry arithmetic over arbitrary clocks and TTLs. Never
// crashes; a parsed entry's payload is exactly the input's tail, and a header without an
// unknown transform re-encodes to the input's first 14 bytes.
#include "support/allocation_budget.hpp"

#include "backends/file/file_entry.hpp"
#include "protocol/big_endian.hpp"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Memory amplification bound: parsing a file entry views the input and allocates no copy of it.
  const cachekit_fuzz::allocation_budget budget(size, 8);
  namespace detail = cachekit::detail;
  const cachekit::byte_view input(reinterpret_cast<const std::byte*>(data), size);

  auto entry = detail::parse_file_entry(input);
  auto header = detail::parse_file_header(input);
  if (entry.has_value() != header.has_value()) std::abort();
  if (entry) {
    if (size < detail::file_header_size) std::abort();
    if (entry->payload.data() != input.data() + detail::file_header_size ||
        entry->payload.size() != size - detail::file_header_size) {
      std::abort();
    }
    if (!entry->header.has_unknown_transform()) {
      const auto again = detail::encode_file_header(entry->header.expiry);
      if (!std::equal(again.begin(), again.end(), input.begin())) std::abort();
    }
  } else if (entry.code().category() != cachekit::cachekit_category()) {
    std::abort();
  }

  // Expiry arithmetic on whatever the first 24 bytes say: no overflow, no UB.
  if (size >= 24) {
    const auto now_ns = static_cast<std::int64_t>(detail::load_be<std::uint64_t>(input.data()));
    const auto ttl = static_cast<std::int64_t>(detail::load_be<std::uint64_t>(input.data() + 8));
    const auto expiry = detail::load_be<std::uint64_t>(input.data() + 16);
    const std::chrono::system_clock::time_point now{
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::nanoseconds{now_ns})};
    auto computed = detail::file_expiry_for(std::chrono::seconds{ttl}, now);
    if (computed && ttl > 0 && *computed == 0) std::abort();  // a TTL never means "never"
    (void)detail::file_entry_expired(expiry, now);
  }
  return 0;
}
