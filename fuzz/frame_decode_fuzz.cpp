// libFuzzer target: CK v3 frame / legacy JSON envelope decoding of untrusted bytes, and the
// default-serializer reader on top. Never crashes; a decoded header that the writer accepts
// re-frames the payload into bytes that decode to the same header and payload.
#include "support/allocation_budget.hpp"

#include <cachekit/frame.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Memory amplification bound: headers are parsed under a value budget; a legacy envelope decodes
  // base64 to at most its own size.
  const cachekit_fuzz::allocation_budget budget(size, 64);
  const cachekit::byte_view input(reinterpret_cast<const std::byte*>(data), size);
  (void)cachekit::frame::decode_standard(input);
  (void)cachekit::frame::decode_standard(input, {.integrity_checking = false});

  auto decoded = cachekit::frame::decode(input);
  if (!decoded) return 0;
  const cachekit::byte_view payload = decoded->payload();
  if (decoded->kind() == cachekit::frame::container::v3 &&
      (payload.data() < input.data() || payload.data() + payload.size() != input.data() + size)) {
    std::abort();  // a v3 payload is the tail of the input
  }

  auto prefix = cachekit::frame::prefix::make(decoded->header());
  if (!prefix) return 0;  // e.g. an encrypted header without a key fingerprint
  // The writer emits the encryption keys only for encrypted headers (as cachekit-py does).
  cachekit::frame::header expected = decoded->header();
  if (!expected.metadata.encrypted) {
    expected.metadata.tenant_id.reset();
    expected.metadata.encryption_algorithm.reset();
    expected.metadata.key_fingerprint.reset();
  }
  const cachekit::byte_buffer again = prefix->wrap(payload);
  auto back = cachekit::frame::decode(again);
  if (!back || !(back->header() == expected) ||
      !std::equal(back->payload().begin(), back->payload().end(), payload.begin(), payload.end())) {
    std::abort();
  }
  // A key binding re-filled for another key reads back as that key's, header otherwise equal.
  if (prefix->binds_key()) {
    const std::uint64_t other = ~*expected.key_hash;
    cachekit::byte_buffer rebound;
    prefix->append_to(rebound, other);
    auto keyed = cachekit::frame::decode(rebound);
    expected.key_hash = other;
    if (!keyed || !(keyed->header() == expected) || !keyed->payload().empty()) std::abort();
  }
  return 0;
}
