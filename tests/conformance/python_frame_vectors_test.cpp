// cachekit-py's CK v3 frame, python-frame.json: 11 frames whose header and payload this SDK
// reads exactly as written (and whose envelopes hold the value written), 12 inputs a frame (or
// interop) reader must refuse, and 8 entries an encrypted cache must refuse to read (forged
// plaintext, foreign keys or tenants, the wrong container after decryption, a serializer name
// other than the reader's).
#include <cachekit/encryption.hpp>
#include <cachekit/envelope.hpp>
#include <cachekit/frame.hpp>
#include <cachekit/storage_format.hpp>
#include <cachekit/value_codec.hpp>

#include <gtest/gtest.h>

#include "conformance/tagged_json_test_support.hpp"
#include "conformance/vector_file.hpp"

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

namespace cachekit {
namespace {

std::filesystem::path vectors_file() {
  return test::vector_path("python-frame.json");
}

std::optional<test::tagged_json> load() {
  return test::load_vector_file<test::tagged_json>("python-frame.json");
}

byte_buffer hex(const std::string& h) {
  return test::hex_bytes(h);
}

std::optional<std::string> optional_text(const test::tagged_json& m, const char* name) {
  if (!m.contains(name) || m[name].is_null()) return std::nullopt;
  return m[name].get<std::string>();
}

// The decoded header says what the vector's expected_header says ("v" is not kept: every
// cachekit-py header records "2.0").
void expect_header(const frame::decoded& f, const test::tagged_json& expected) {
  if (expected.contains("s")) {
    EXPECT_EQ(f.recorded_serializer(), expected["s"].get<std::string>());
  }
  const auto& m = expected["m"];
  const frame::metadata& got = f.header().metadata;
  EXPECT_EQ(got.format, m["format"].get<std::string>());
  EXPECT_EQ(got.encoding, m.value("encoding", std::string("utf-8")));
  EXPECT_EQ(got.compressed, m["compressed"].get<bool>());
  EXPECT_EQ(got.original_type, optional_text(m, "original_type"));
  EXPECT_EQ(got.encrypted, m.value("encrypted", false));
  if (got.encrypted) {
    EXPECT_EQ(got.tenant_id, optional_text(m, "tenant_id"));
    EXPECT_EQ(got.encryption_algorithm, optional_text(m, "encryption_algorithm"));
    EXPECT_EQ(got.key_fingerprint, optional_text(m, "key_fingerprint"));
  }
}

TEST(python_frame_vectors, all_11_frames_decode_to_their_header_and_payload) {
  const auto doc = load();
  if (!doc) GTEST_SKIP() << "no shared vectors at " << vectors_file();
  const auto& vectors = (*doc)["frame_vectors"];
  ASSERT_EQ(vectors.size(), 11u);
  for (const auto& v : vectors) {
    SCOPED_TRACE(v["name"].get<std::string>());
    const byte_buffer stored = hex(v["frame_hex"].get<std::string>());
    const auto f = frame::decode(stored);
    ASSERT_TRUE(f) << f.error().message();
    EXPECT_EQ(f->kind(), frame::container::v3);
    expect_header(*f, v["expected_header"]);
    if (v.contains("expected_payload_hex")) {
      EXPECT_EQ(to_hex(f->payload()), v["expected_payload_hex"].get<std::string>());
    }
    if (v.contains("arrow_detection")) {
      // An Arrow payload: its xxHash3-64 checksum, then the Arrow IPC file.
      const auto& arrow = v["arrow_detection"];
      const auto checksum_len = arrow["checksum_len"].get<std::size_t>();
      const auto magic_at = arrow["ipc_magic_offset"].get<std::size_t>();
      const std::string magic = arrow["ipc_magic"].get<std::string>();
      ASSERT_GE(f->payload().size(), magic_at + magic.size());
      EXPECT_EQ(to_hex(f->payload().first(checksum_len)), arrow["checksum_hex"].get<std::string>());
      EXPECT_EQ(as_string_view(f->payload().subspan(magic_at, magic.size())), magic);
    }
    if (v.contains("payload_envelope")) {
      const auto& env = v["payload_envelope"];
      const auto opened = envelope::decode(f->payload());
      ASSERT_TRUE(opened) << opened.error().message();
      EXPECT_EQ(to_hex(opened->data), env["inner_msgpack_hex"].get<std::string>());
      EXPECT_EQ(opened->data.size(), env["original_size"].get<std::size_t>());
      EXPECT_EQ(opened->format, env["format"].get<std::string>());
    }
    if (v.contains("value_json")) {
      // The MessagePack the frame carries is the value written.
      const byte_buffer msgpack =
          v.contains("payload_envelope")
              ? hex(v["payload_envelope"]["inner_msgpack_hex"].get<std::string>())
              : byte_buffer(f->payload().begin(), f->payload().end());
      const auto value = decode_standard_value(msgpack, {.revive_temporal_sentinels = false});
      ASSERT_TRUE(value) << value.error().message();
      const auto expected = test::value_from_tagged(v["value_json"]);
      ASSERT_TRUE(expected) << expected.error().message();
      EXPECT_EQ(*value, *expected);
    }
  }
}

// The errc each rejecting component of the vector file reports.
errc error_of(const std::string& rejected_by) {
  if (rejected_by == "prefix_length" || rejected_by == "header_length") return errc::truncated;
  if (rejected_by == "version") return errc::unsupported_version;
  // No CK magic: not a frame (nor the legacy JSON envelope); a header without a usable "s".
  if (rejected_by == "magic" || rejected_by == "serializer_name") return errc::malformed;
  ADD_FAILURE() << "a rejecting component this test does not know: " << rejected_by;
  return errc{};
}

TEST(python_frame_vectors, all_12_error_vectors_are_refused) {
  const auto doc = load();
  if (!doc) GTEST_SKIP() << "no shared vectors at " << vectors_file();
  const auto& vectors = (*doc)["error_vectors"];
  ASSERT_EQ(vectors.size(), 12u);
  for (const auto& v : vectors) {
    SCOPED_TRACE(v["name"].get<std::string>());
    const byte_buffer stored = hex(v["frame_hex"].get<std::string>());
    if (!v.contains("rejected_by")) {
      // A CK frame given to an interop reader: refused, with the diagnostic that names it.
      const auto value = decode_interop_value(stored);
      ASSERT_FALSE(value);
      EXPECT_EQ(value.code(), errc::serializer_mismatch) << value.error().message();
      continue;
    }
    const auto f = frame::decode(stored);
    ASSERT_FALSE(f) << "decoded, serializer " << f->recorded_serializer();
    EXPECT_EQ(f.code(), error_of(v["rejected_by"].get<std::string>())) << f.error().message();
    // And the default reader (what a cache reads with) refuses it too.
    EXPECT_FALSE(frame::decode_standard(stored));
  }
}

TEST(python_frame_vectors, an_encrypted_cache_fails_closed_on_all_8_read_vectors) {
  const auto doc = load();
  if (!doc) GTEST_SKIP() << "no shared vectors at " << vectors_file();
  const auto& reader = (*doc)["encrypted_reader"];
  ASSERT_EQ(reader["tenant_source"], "reader");
  const auto ring = keyring::from_hex(reader["master_key_hex"].get<std::string>());
  ASSERT_TRUE(ring) << ring.error().message();
  const auto tenant = ring->for_tenant(reader["tenant_id"].get<std::string>());
  ASSERT_TRUE(tenant) << tenant.error().message();
  // cachekit-py's default serializer with integrity checking, sealing for the reader's tenant
  // and reading as that tenant only (the vector's tenant_source "reader"; how a multi-tenant
  // cache reads).
  const storage_format reader_format(
      {.mode = storage_mode::frame, .integrity_checking = true, .encryption = *tenant});
  const std::string cache_key = reader["cache_key"].get<std::string>();
  const storage_format header_following({.mode = storage_mode::frame,
                                         .integrity_checking = true,
                                         .encryption = *tenant,
                                         .header_tenants = &*ring});
  int opened_by_header_tenant = 0;

  const auto& vectors = (*doc)["encrypted_read_vectors"];
  ASSERT_EQ(vectors.size(), 8u);
  for (const auto& v : vectors) {
    SCOPED_TRACE(v["name"].get<std::string>());
    ASSERT_EQ(v["outcome"], "fail_closed");
    const byte_buffer stored = hex(v["frame_hex"].get<std::string>());
    // The frame itself is what the vector says it is.
    const auto f = frame::decode(stored);
    if (v["expected_header"].contains("s")) {
      ASSERT_TRUE(f) << f.error().message();
      expect_header(*f, v["expected_header"]);
      EXPECT_EQ(to_hex(f->payload()), v["expected_payload_hex"].get<std::string>());
      EXPECT_EQ(f->header().metadata.encrypted, v["header_claims"] == "ciphertext");
    } else {
      ASSERT_FALSE(f) << "a frame without a serializer name decoded";
    }
    // The read refuses it: never the value.
    const auto opened = reader_format.open(stored, cache_key);
    ASSERT_FALSE(opened) << "read " << opened->msgpack.size() << " bytes";
    EXPECT_TRUE(opened.code() == errc_group::security || opened.code() == errc_group::corrupt_data)
        << opened.error().message();

    // A single-tenant cache reads as cachekit-py 0.24.1's single-tenant handler does: the
    // header's tenant selects the keys (bound by the AAD). An entry sealed under this master key
    // for the tenant its header names then opens; docs/protocol-compat.md §9 says why this
    // differs from the vector. Every other vector still fails closed.
    const auto& m = v["expected_header"]["m"];
    const bool sealed_for_header_tenant =
        m.value("encrypted", false) && m["tenant_id"] != reader["tenant_id"] &&
        ring->for_tenant(m["tenant_id"].get<std::string>())->current_fingerprint() ==
            m["key_fingerprint"];
    const auto followed = header_following.open(stored, cache_key);
    if (sealed_for_header_tenant) {
      ASSERT_TRUE(followed) << followed.error().message();
      const auto read = decode_standard_value(followed->msgpack);
      ASSERT_TRUE(read) << read.error().message();
      EXPECT_NE(read->get_if<value_map>(), nullptr);  // the written {user_id, name, active}
      ++opened_by_header_tenant;
    } else {
      EXPECT_FALSE(followed) << "read " << followed->msgpack.size() << " bytes";
    }
  }
  EXPECT_EQ(opened_by_header_tenant, 1);
}

}  // namespace
}  // namespace cachekit
