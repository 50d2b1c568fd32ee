// libFuzzer target: ByteStorage envelope decoding of untrusted bytes. Never crashes; whatever
// decodes re-encodes (bin and legacy forms) to an envelope that decodes to the same data.
#include <cachekit/envelope.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
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
