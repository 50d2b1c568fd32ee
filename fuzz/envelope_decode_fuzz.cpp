// libFuzzer target: ByteStorage envelope decoding of untrusted bytes. Never crashes; whatever
// decodes re-encodes (bin and legacy forms) to an envelope that decodes to the same data.
#include "support/allocation_budget.hpp"

#include <cachekit/envelope.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Memory amplification bound: decoding expands up to 255x (what LZ4 can produce); the round trips
  // below re-encode the output about four times.
  const cachekit_fuzz::allocation_budget budget(size, 1100);
  const cachekit::byte_view input(reinterpret_cast<const std::byte*>(data), size);
  auto decoded = cachekit::envelope::decode(input);
  if (!decoded) return 0;

  for (const auto encoding : {cachekit::envelope::payload_encoding::bin,
                              cachekit::envelope::payload_encoding::legacy_int_array}) {
    auto again = cachekit::envelope::encode(decoded->data, decoded->format, {.encoding = encoding});
    if (!again) std::abort();
    auto back = cachekit::envelope::decode(*again);
    if (!back || back->data != decoded->data || back->format != decoded->format) std::abort();
  }
  return 0;
}
