// Round-trip properties of the ByteStorage envelope and the CK frame over random bytes.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <cachekit/envelope.hpp>
#include <cachekit/frame.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace cachekit {
namespace {

byte_buffer to_bytes(const std::vector<std::uint8_t>& v) {
  byte_buffer out(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) out[i] = static_cast<std::byte>(v[i]);
  return out;
}

// Random bytes, or runs of a few symbols (so LZ4 finds matches), up to a few KiB.
rc::Gen<std::vector<std::uint8_t>> payloads() {
  return rc::gen::oneOf(
      rc::gen::arbitrary<std::vector<std::uint8_t>>(),
      rc::gen::map(
          rc::gen::container<std::vector<std::pair<std::uint8_t, std::uint8_t>>>(rc::gen::pair(
              rc::gen::inRange<std::uint8_t>(0, 4), rc::gen::inRange<std::uint8_t>(1, 200))),
          [](const std::vector<std::pair<std::uint8_t, std::uint8_t>>& runs) {
            std::vector<std::uint8_t> out;
            for (auto [symbol, length] : runs) out.insert(out.end(), length, symbol);
            return out;
          }));
}

RC_GTEST_PROP(envelope_property, bin_envelope_round_trips, ()) {
  const byte_buffer data = to_bytes(*payloads());
  auto env = envelope::encode(data);
  RC_ASSERT(env.has_value());
  RC_ASSERT(env->size() <= envelope::encoded_size_bound(data.size()));
  auto back = envelope::decode(*env);
  RC_ASSERT(back.has_value());
  RC_ASSERT(back->data == data);
  RC_ASSERT(back->format == "msgpack");
}

RC_GTEST_PROP(envelope_property, legacy_envelope_round_trips_with_any_format, ()) {
  const byte_buffer data = to_bytes(*payloads());
  const auto format = *rc::gen::element<std::string>("msgpack", "dataframe", "series", "");
  auto env =
      envelope::encode(data, format, {.encoding = envelope::payload_encoding::legacy_int_array});
  RC_ASSERT(env.has_value());
  auto back = envelope::decode(*env);
  RC_ASSERT(back.has_value());
  RC_ASSERT(back->data == data);
  RC_ASSERT(back->format == format);
}

RC_GTEST_PROP(envelope_property, encoding_is_deterministic, ()) {
  const byte_buffer data = to_bytes(*payloads());
  RC_ASSERT(envelope::encode(data).value() == envelope::encode(data).value());
}

RC_GTEST_PROP(envelope_property, any_single_byte_change_is_detected_or_harmless, ()) {
  const byte_buffer data = to_bytes(*payloads());
  byte_buffer env = envelope::encode(data).value();
  const auto at = *rc::gen::inRange<std::size_t>(0, env.size());
  const auto delta = *rc::gen::inRange<int>(1, 256);
  env[at] = static_cast<std::byte>((static_cast<int>(env[at]) + delta) & 0xff);
  auto back = envelope::decode(env);
  // A change either fails decoding or still yields the original data (e.g. a different but
  // equivalent integer width is impossible here, so only the format string can change).
  if (back) RC_ASSERT(back->data == data);
}

RC_GTEST_PROP(envelope_property, standard_frame_round_trips, ()) {
  const byte_buffer data = to_bytes(*payloads());
  const bool integrity = *rc::gen::arbitrary<bool>();
  auto stored = frame::encode_standard(data, {.integrity_checking = integrity});
  RC_ASSERT(stored.has_value());
  auto f = frame::decode(*stored);
  RC_ASSERT(f.has_value());
  RC_ASSERT(f->header().metadata.compressed == integrity);
  auto back = frame::decode_standard(*stored, {.integrity_checking = integrity});
  if (!integrity && !back) {
    // Only a payload that is itself a valid envelope is refused by the integrity-off reader.
    RC_ASSERT(envelope::decode(data).has_value());
    return;
  }
  RC_ASSERT(back.has_value());
  RC_ASSERT(*back == data);
}

RC_GTEST_PROP(envelope_property, frame_round_trips_any_payload_and_header, ()) {
  const byte_buffer payload = to_bytes(*rc::gen::arbitrary<std::vector<std::uint8_t>>());
  frame::metadata m;
  m.format = *rc::gen::element<std::string>("msgpack", "orjson", "arrow");
  m.compressed = *rc::gen::arbitrary<bool>();
  m.original_type = *rc::gen::element<std::string>("msgpack", "orjson", "arrow");
  if (*rc::gen::arbitrary<bool>()) {
    m.encrypted = true;
    // ASCII tenant ids with characters JSON must escape.
    m.tenant_id = *rc::gen::container<std::string>(rc::gen::inRange<char>(1, 127));
    m.encryption_algorithm = "AES-256-GCM";
    m.key_fingerprint = "00112233445566778899aabbccddeeff";
  }
  const std::size_t align = *rc::gen::element<std::size_t>(1, 8, 64);
  const std::size_t offset = *rc::gen::inRange<std::size_t>(0, 100);
  auto p = frame::prefix::make({.serializer = "default", .metadata = m},
                               {.align = align, .offset = offset});
  RC_ASSERT(p.has_value());
  RC_ASSERT((offset + p->bytes().size()) % align == 0);
  const byte_buffer stored = p->wrap(payload);
  auto f = frame::decode(stored);
  RC_ASSERT(f.has_value());
  RC_ASSERT(f->header() == p->header());
  RC_ASSERT(byte_buffer(f->payload().begin(), f->payload().end()) == payload);
}

}  // namespace
}  // namespace cachekit
