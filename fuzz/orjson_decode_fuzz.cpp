// libFuzzer target: the JSON serializer's reader (cachekit-py's orjson entries) on untrusted
// bytes, alone and behind the CK frame as storage_format opens it. Never crashes, never throws;
// a document it accepts is one MessagePack document that the JSON writer turns back into JSON
// the reader accepts again, decoding to the same value (the writer's refusals aside).
#include "support/allocation_budget.hpp"

#include <cachekit/storage_format.hpp>
#include <cachekit/value_codec.hpp>

#include "codec/orjson.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Output is bounded by max_output_bytes; SAX keeps no tree. Containers cost 5 bytes of output
  // each and a repeated-key check 16 bytes per key, so 64x the input covers the worst case.
  const cachekit_fuzz::allocation_budget budget(size, 64);
  const cachekit::byte_view input(reinterpret_cast<const std::byte*>(data), size);

  static const cachekit::storage_format with_checksum(
      {.serializer = cachekit::serializer_kind::json, .key_binding = false});
  static const cachekit::storage_format without_checksum(
      {.serializer = cachekit::serializer_kind::json,
       .integrity_checking = false,
       .key_binding = false});
  (void)with_checksum.open(input, "k");
  (void)without_checksum.open(input, "k");

  auto msgpack = cachekit::detail::orjson_to_standard(input, {.max_output_bytes = 16 * size + 64});
  if (!msgpack) return 0;
  auto decoded = cachekit::decode_standard_value(*msgpack, {.revive_temporal_sentinels = false});
  if (!decoded) std::abort();  // the reader wrote something that is not one document
  auto json = cachekit::detail::standard_to_orjson(*msgpack);
  if (!json) return 0;  // e.g. a map that reads as a temporal sentinel with bad text
  auto again = cachekit::detail::orjson_to_standard(cachekit::as_byte_view(*json),
                                                    {.max_output_bytes = 16 * json->size() + 64});
  if (!again) std::abort();
  auto redecoded = cachekit::decode_standard_value(*again, {.revive_temporal_sentinels = false});
  if (!redecoded) std::abort();
  return 0;
}
