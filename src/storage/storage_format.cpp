#include <cachekit/envelope.hpp>
#include <cachekit/error.hpp>
#include <cachekit/frame.hpp>
#include <cachekit/storage_format.hpp>

#include "codec/auto_payload.hpp"
#include "codec/orjson.hpp"
#include "protocol/big_endian.hpp"
#include "protocol/untrusted_text.hpp"

#include <algorithm>
#include <cstring>
#include <string>
#include <utility>

namespace cachekit {
inline namespace v0 {
namespace {

constexpr std::string_view msgpack_format = "msgpack";
constexpr std::string_view orjson_format = "orjson";
// OrjsonSerializer's integrity prefix, and the shortest payload its reader takes (prefix + `{}`).
constexpr std::size_t orjson_checksum_size = 8;
constexpr std::size_t orjson_min_checked_payload = 10;

bool starts_with_ck(byte_view bytes) {
  return bytes.size() >= 2 && bytes[0] == std::byte{'C'} && bytes[1] == std::byte{'K'};
}

std::string yes_no(bool b) {
  return b ? "true" : "false";
}

// The frame header cachekit-py's serializer of this configuration writes.
frame::header frame_header_for(const storage_options& options) {
  frame::header h{
      .serializer = std::string(serializer_name(options.serializer)),
      .metadata = frame::standard_metadata({.integrity_checking = options.integrity_checking})};
  if (options.serializer == serializer_kind::json) {
    // OrjsonSerializer's metadata: never compressed, whatever the integrity setting.
    h.metadata.format = std::string(orjson_format);
    h.metadata.compressed = false;
    h.metadata.original_type = std::string(orjson_format);
  }
  if (options.encryption) {
    h.metadata.encrypted = true;
    h.metadata.tenant_id = std::string(options.encryption->tenant_id());
    h.metadata.encryption_algorithm = std::string(frame::aes_256_gcm);
    h.metadata.key_fingerprint = std::string(options.encryption->current_fingerprint());
  }
  return h;
}

}  // namespace

struct storage_format::impl {
  storage_options options;
  // Frame mode: the header cachekit-py writes for this configuration, built once ...
  std::optional<frame::prefix> prefix;
  // ... and, when plaintext frames bind their key, the same with "k" (digits filled per write).
  std::optional<frame::prefix> keyed_prefix;

  explicit impl(storage_options o) : options(std::move(o)) {
    if (options.serializer != serializer_kind::standard &&
        (options.encryption || options.mode == storage_mode::interop)) {
      throw error(errc::invalid_configuration,
                  "serializer \"" + std::string(serializer_name(options.serializer)) +
                      "\" works in frame mode without encryption only in this release; use "
                      "serializer_kind::standard for encrypted or interop entries");
    }
    if (options.mode == storage_mode::frame) {
      frame::header h = frame_header_for(options);
      prefix = frame::prefix::make(h).value();
      if (binds_keys()) {
        h.key_hash = 0;
        keyed_prefix = frame::prefix::make(h).value();
      }
    }
  }

  [[nodiscard]] bool binds_keys() const noexcept {
    return options.mode == storage_mode::frame && options.key_binding && !options.encryption;
  }

  // A plaintext frame's "k" against the key it was read under.
  [[nodiscard]] static result<void> check_binding(std::uint64_t recorded, std::string_view key) {
    const std::uint64_t expected = frame::key_hash(key);
    if (recorded == expected) return {};
    std::string text(2 * frame::key_hash_digits + 1, ' ');
    frame::write_key_hash(recorded, text.data());
    frame::write_key_hash(expected, text.data() + frame::key_hash_digits + 1);
    return fail(errc::key_mismatch, "its key binding \"k\" is " +
                                        text.substr(0, frame::key_hash_digits) + " but key \"" +
                                        detail::quote_untrusted(key) + "\" hashes to " +
                                        text.substr(frame::key_hash_digits + 1) +
                                        " (copied or swapped here from another key; evict it)");
  }

  // AAD as cachekit-py binds it: five parts in frame mode, four in interop mode.
  [[nodiscard]] byte_buffer aad(std::string_view aad_key, bool compressed,
                                std::optional<std::string_view> original_type) const {
    return encode_aad({.tenant_id = options.encryption->tenant_id(),
                       .cache_key = aad_key,
                       .format = msgpack_format,
                       .compressed = compressed,
                       .original_type = original_type});
  }

  // Appends the plaintext frame prefix this configuration writes for `aad_key`.
  void append_prefix(byte_buffer& out, std::string_view aad_key, std::size_t payload_size) const {
    const frame::prefix& p = keyed_prefix ? *keyed_prefix : *prefix;
    out.reserve(p.bytes().size() + payload_size);
    if (keyed_prefix) {
      keyed_prefix->append_to(out, frame::key_hash(aad_key));
    } else {
      prefix->append_to(out);
    }
  }

  // OrjsonSerializer's payload: [xxHash3-64 of the JSON, big endian] JSON, or the JSON alone.
  result<byte_buffer> seal_json(byte_view msgpack, std::string_view aad_key) const {
    auto text = detail::standard_to_orjson(msgpack);
    if (!text) return std::move(text).error();
    const byte_view json = as_byte_view(*text);
    if (options.integrity_checking &&
        json.size() + orjson_checksum_size < orjson_min_checked_payload) {
      // cachekit-py writes it, but its reader (and ours) refuses a payload under 10 bytes: every
      // read would miss.
      return fail(errc::unsupported_type,
                  "a one-digit number: cachekit-py's OrjsonSerializer with integrity checking "
                  "cannot read back a JSON document shorter than 2 bytes; wrap it (e.g. in a list) "
                  "or use the standard serializer");
    }
    byte_buffer out;
    append_prefix(out, aad_key, json.size() + orjson_checksum_size);
    if (options.integrity_checking) {
      std::byte digest[orjson_checksum_size];
      detail::store_be(digest, checksum_xxh3(json));
      out.insert(out.end(), digest, digest + orjson_checksum_size);
    }
    out.insert(out.end(), json.begin(), json.end());
    return out;
  }

  result<byte_buffer> seal_frame(byte_view msgpack, std::string_view aad_key) {
    if (options.serializer == serializer_kind::json) return seal_json(msgpack, aad_key);
    if (options.serializer == serializer_kind::auto_detect) {
      if (auto ok = detail::check_auto_writable(msgpack, options.integrity_checking); !ok) {
        return std::move(ok).error();
      }
    }
    byte_buffer inner_storage;
    byte_view inner = msgpack;
    if (options.integrity_checking) {
      auto env = envelope::encode(msgpack, msgpack_format);
      if (!env) return std::move(env).error();
      inner_storage = std::move(*env);
      inner = inner_storage;
    }
    byte_buffer out;
    if (!options.encryption) {
      append_prefix(out, aad_key, inner.size());
      out.insert(out.end(), inner.begin(), inner.end());
      return out;
    }
    const auto aad_bytes = aad(aad_key, options.integrity_checking, msgpack_format);
    const std::size_t header_size = prefix->bytes().size();
    out.resize(header_size + inner.size() + aes_gcm_overhead);
    std::copy(prefix->bytes().begin(), prefix->bytes().end(), out.begin());
    // Seal straight into the frame, after its header: no second copy of the payload.
    auto sealed =
        options.encryption->encrypt_to(std::span(out).subspan(header_size), inner, aad_bytes);
    if (!sealed) return sealed.error();
    return out;
  }

  // How a frame's payload is wrapped: what its header says, or for this format's own header,
  // what the options say.
  struct payload_layers {
    bool compressed = false;  // the header's flag, bound by the AAD
    // Unwrap a ByteStorage envelope. Plaintext: what the header says. Encrypted: what this
    // reader is configured for, never the stored flag (spec/encryption.md, ENC-2/ENC-3;
    // cachekit-py's StandardSerializer after decryption): a ciphertext authenticates under the
    // AAD its writer chose, not under the reader's configuration.
    bool envelope = false;
    const tenant_keyring* keys = nullptr;  // set: the payload is AES-256-GCM ciphertext
    std::optional<std::string_view> fingerprint;
    std::optional<std::string_view> original_type;
  };

  // Decrypts and unwraps the payload after a frame header into `out.msgpack`.
  result<void> open_payload(byte_view payload, const payload_layers& layers,
                            std::string_view aad_key, bool explain, opened_entry& out) const {
    byte_buffer plain;
    byte_view inner = payload;
    if (layers.keys != nullptr) {
      const auto aad_bytes = encode_aad({.tenant_id = layers.keys->tenant_id(),
                                         .cache_key = aad_key,
                                         .format = msgpack_format,
                                         .compressed = layers.compressed,
                                         .original_type = layers.original_type});
      auto opened = layers.fingerprint
                        ? layers.keys->decrypt_by_fingerprint(*layers.fingerprint, inner, aad_bytes)
                        : layers.keys->decrypt_sequential(inner, aad_bytes);
      if (!opened) return std::move(opened).error();
      if (explain) {
        out.layers.push_back("AES-256-GCM: tag verified for tenant \"" +
                             std::string(layers.keys->tenant_id()) + "\", key " +
                             std::string(layers.fingerprint.value_or("(no fingerprint)")) +
                             ", AAD key \"" + std::string(aad_key) + "\"");
      }
      plain = std::move(*opened);
      inner = plain;
      if (layers.compressed && !layers.envelope) {
        // cachekit-py's integrity-off StandardSerializer refuses what the header calls
        // compressed (the writer had integrity checking on).
        return fail(errc::serializer_mismatch,
                    "entry was written with integrity checking on but this reader has integrity "
                    "checking off");
      }
    }
    if (layers.envelope) {
      auto env = envelope::decode(inner, {.max_original_size = options.max_payload_bytes});
      if (!env) return std::move(env).error();
      if (options.serializer == serializer_kind::auto_detect && env->format != msgpack_format) {
        // AutoSerializer's columnar DataFrame/Series fallback travels in the envelope too.
        return detail::is_python_only_format(env->format)
                   ? fail(errc::python_only_value,
                          "the entry holds a pandas " + env->format +
                              " (AutoSerializer), which no C++ type holds; it is left for the "
                              "Python services")
                   : fail(errc::malformed, "AutoSerializer envelope of unknown format \"" +
                                               detail::quote_untrusted(env->format) + "\"");
      }
      if (explain) {
        out.layers.push_back(
            "ByteStorage envelope: format " + env->format + ", " + std::to_string(inner.size()) +
            " -> " + std::to_string(env->data.size()) + " bytes, xxHash3-64 and size verified");
      }
      out.msgpack = std::move(env->data);
    } else if (layers.keys != nullptr) {
      out.msgpack = std::move(plain);
    } else {
      out.msgpack.assign(inner.begin(), inner.end());
    }
    return {};
  }

  // The JSON of an OrjsonSerializer payload, checksum verified (integrity on), as MessagePack.
  result<void> open_json(byte_view payload, bool explain, opened_entry& out) const {
    byte_view json = payload;
    if (options.integrity_checking) {
      if (payload.size() < orjson_min_checked_payload) {
        return fail(errc::truncated, "orjson payload of " + std::to_string(payload.size()) +
                                         " bytes; with integrity checking it holds an 8-byte "
                                         "checksum and at least 2 bytes of JSON");
      }
      json = payload.subspan(orjson_checksum_size);
      if (detail::load_be<std::uint64_t>(payload.data()) != checksum_xxh3(json)) {
        return fail(errc::checksum_mismatch,
                    "xxHash3-64 of the orjson payload differs from its checksum prefix");
      }
    }
    auto msgpack =
        detail::orjson_to_standard(json, {.max_output_bytes = options.max_payload_bytes});
    if (!msgpack) return std::move(msgpack).error();
    if (explain) {
      out.layers.push_back(std::string("orjson payload: ") + std::to_string(json.size()) +
                           " bytes of JSON" +
                           (options.integrity_checking ? ", xxHash3-64 verified" : "") + " -> " +
                           std::to_string(msgpack->size()) + " bytes of MessagePack");
    }
    out.msgpack = std::move(*msgpack);
    return {};
  }

  // AutoSerializer's type markers rewritten for the typed codecs (most entries hold none).
  static result<void> revive_auto(bool explain, opened_entry& out) {
    static constexpr std::string_view type_markers[] = {"__tuple__", "__set__", "__uuid__",
                                                        "__ndarray__"};
    const std::string_view text = as_string_view(out.msgpack);
    bool marked = false;
    for (std::string_view m : type_markers) marked = marked || text.find(m) != text.npos;
    if (!marked) return {};
    auto rewritten = detail::auto_to_standard(out.msgpack);
    if (!rewritten) return std::move(rewritten).error();
    if (explain) out.layers.emplace_back("AutoSerializer markers rewritten (tuple/set/UUID)");
    out.msgpack = std::move(*rewritten);
    return {};
  }

  // The payload after a plaintext frame header of this format's serializer.
  result<void> open_plain(byte_view payload, const payload_layers& layers, std::string_view aad_key,
                          bool explain, opened_entry& out) const {
    if (options.serializer == serializer_kind::json) return open_json(payload, explain, out);
    if (auto ok = open_payload(payload, layers, aad_key, explain, out); !ok) return ok;
    if (options.serializer == serializer_kind::auto_detect) return revive_auto(explain, out);
    return {};
  }

  // The size of this format's own header at the start of `stored` (keyed: with any well-formed
  // digits, returned in `recorded`), or 0.
  std::size_t own_header(byte_view stored, std::optional<std::uint64_t>& recorded) const {
    if (const byte_view own = prefix->bytes();
        stored.size() >= own.size() && std::memcmp(own.data(), stored.data(), own.size()) == 0) {
      return own.size();  // what cachekit-py writes for this configuration
    }
    if (!keyed_prefix) return 0;
    const byte_view own = keyed_prefix->bytes();
    const std::size_t at = keyed_prefix->key_hash_offset();
    const std::size_t after = at + frame::key_hash_digits;
    if (stored.size() < own.size() || std::memcmp(own.data(), stored.data(), at) != 0 ||
        std::memcmp(own.data() + after, stored.data() + after, own.size() - after) != 0) {
      return 0;
    }
    recorded = frame::parse_key_hash(as_string_view(stored.subspan(at, frame::key_hash_digits)));
    return recorded ? own.size() : 0;
  }

  result<opened_entry> open_frame(byte_view stored, std::string_view aad_key, bool explain) const {
    // (own_header compares with memcmp: std::equal over std::byte compiles to a byte-at-a-time
    // loop, a third of an L1 hit's open before.)
    std::optional<std::uint64_t> recorded;
    if (const std::size_t own = explain ? 0 : own_header(stored, recorded); own != 0) {
      // The header is byte for byte one this format writes (without "k", what cachekit-py
      // writes for the same configuration too): every field is known, so no JSON parse.
      if (recorded && !aad_key.empty()) {  // empty: an L1 copy, checked when read
        if (auto ok = check_binding(*recorded, aad_key); !ok) return std::move(ok).error();
      }
      opened_entry out;
      const payload_layers layers{
          .compressed = options.integrity_checking,
          .envelope = options.integrity_checking,
          .keys = options.encryption ? &*options.encryption : nullptr,
          .fingerprint = options.encryption ? std::optional<std::string_view>(
                                                  options.encryption->current_fingerprint())
                                            : std::nullopt,
          .original_type = msgpack_format};
      if (auto ok = open_plain(stored.subspan(own), layers, aad_key, false, out); !ok) {
        return std::move(ok).error();
      }
      return out;
    }
    opened_entry out;
    auto fr = frame::decode(stored);
    if (!fr) return std::move(fr).error();
    const auto& h = fr->header();
    const auto& m = h.metadata;
    if (explain) {
      out.layers.push_back(
          std::string(fr->kind() == frame::container::v3 ? "CK v3 frame" : "legacy JSON envelope") +
          ": serializer " + detail::quote_untrusted(h.serializer) + ", format " +
          detail::quote_untrusted(m.format) + ", compressed " + yes_no(m.compressed) +
          ", encrypted " + yes_no(m.encrypted) + ", " + std::to_string(fr->header_len()) +
          "-byte header, " + std::to_string(fr->payload().size()) + "-byte payload");
    }
    const std::string_view expected = serializer_name(options.serializer);
    if (options.serializer == serializer_kind::auto_detect && h.serializer == expected &&
        (m.format == "arrow" || detail::is_python_only_format(m.original_type.value_or("")) ||
         detail::is_python_only_payload(fr->payload()))) {
      return fail(errc::python_only_value,
                  "the entry holds a Python-only value (AutoSerializer format \"" +
                      detail::quote_untrusted(m.format) + "\", original_type \"" +
                      detail::quote_untrusted(m.original_type.value_or("")) +
                      "\": a NumPy array, pandas DataFrame or Series, or Arrow table), which no "
                      "C++ type holds; it is left for the Python services");
    }
    const std::string_view expected_format =
        options.serializer == serializer_kind::json ? orjson_format : msgpack_format;
    if (h.serializer != expected || m.format != expected_format) {
      return fail(errc::serializer_mismatch,
                  "entry written by serializer \"" + detail::quote_untrusted(h.serializer) +
                      "\" with format \"" + detail::quote_untrusted(m.format) +
                      "\"; this reader decodes the \"" + std::string(expected) + "\" serializer (" +
                      std::string(expected_format) + ")");
    }

    const tenant_keyring* keys = nullptr;  // set when the payload is ciphertext
    std::optional<tenant_keyring> header_keys;
    if (m.encrypted) {
      if (!options.encryption) {
        return fail(
            errc::authentication_failed,
            "entry is encrypted; configure the master key (and tenant) it was written with");
      }
      if (!m.tenant_id) {
        return fail(errc::plaintext_downgrade, "encrypted frame without a tenant_id");
      }
      keys = &*options.encryption;
      if (*m.tenant_id != options.encryption->tenant_id()) {
        if (options.header_tenants == nullptr) {
          // Its own code, not authentication_failed: the entry may be valid for its tenant, so
          // a multi-tenant cache leaves it in place (cache_engine::load).
          return fail(errc::tenant_mismatch,
                      "entry names tenant \"" + detail::quote_untrusted(*m.tenant_id) +
                          "\", this reader is tenant \"" +
                          std::string(options.encryption->tenant_id()) + "\"");
        }
        auto derived = options.header_tenants->derive_uncached(*m.tenant_id);
        if (!derived) {
          return fail(errc::authentication_failed,
                      "entry names an unusable tenant: " + derived.error().detail);
        }
        header_keys = std::move(*derived);
        keys = &*header_keys;
      }
    } else if (options.encryption) {
      return fail(errc::plaintext_downgrade,
                  "entry is plaintext but this reader requires encryption");
    } else if (h.key_hash && options.key_binding && !aad_key.empty()) {
      if (auto ok = check_binding(*h.key_hash, aad_key); !ok) return std::move(ok).error();
      if (explain) {
        out.layers.push_back("key binding: \"k\" matches key \"" +
                             detail::quote_untrusted(aad_key) + "\"");
      }
    }
    payload_layers layers{.compressed = m.compressed,
                          .envelope = keys != nullptr ? options.integrity_checking : m.compressed,
                          .keys = keys};
    if (m.key_fingerprint) layers.fingerprint = *m.key_fingerprint;
    if (m.original_type) layers.original_type = *m.original_type;
    if (keys == nullptr) {
      if (auto ok = open_plain(fr->payload(), layers, aad_key, explain, out); !ok) {
        return std::move(ok).error();
      }
      return out;
    }
    if (auto ok = open_payload(fr->payload(), layers, aad_key, explain, out); !ok) {
      return std::move(ok).error();
    }
    return out;
  }

  result<byte_buffer> seal_interop(byte_view msgpack, std::string_view aad_key) {
    if (!options.encryption) return byte_buffer(msgpack.begin(), msgpack.end());
    return options.encryption->encrypt(msgpack, aad(aad_key, false, std::nullopt));
  }

  result<opened_entry> open_interop(byte_view stored, std::string_view aad_key,
                                    bool explain) const {
    opened_entry out;
    if (options.encryption) {
      auto opened =
          options.encryption->decrypt_sequential(stored, aad(aad_key, false, std::nullopt));
      if (!opened) return std::move(opened).error();
      if (explain) {
        out.layers.push_back("AES-256-GCM (interop): tag verified for tenant \"" +
                             std::string(options.encryption->tenant_id()) + "\", AAD key \"" +
                             std::string(aad_key) + "\"");
      }
      out.msgpack = std::move(*opened);
      return out;
    }
    if (starts_with_ck(stored)) {
      return fail(errc::serializer_mismatch,
                  "payload starts with 0x43 0x4B: a cachekit-py default-mode frame, not an "
                  "interop value");
    }
    if (explain) out.layers.emplace_back("interop: plain canonical MessagePack");
    out.msgpack.assign(stored.begin(), stored.end());
    return out;
  }
};

storage_format::storage_format(storage_options options)
    : impl_(std::make_unique<impl>(std::move(options))) {}
storage_format::storage_format(storage_format&&) noexcept = default;
storage_format& storage_format::operator=(storage_format&&) noexcept = default;
storage_format::~storage_format() = default;

const storage_options& storage_format::options() const noexcept {
  return impl_->options;
}

result<byte_buffer> storage_format::seal(byte_view msgpack, std::string_view aad_key) const {
  return impl_->options.mode == storage_mode::frame ? impl_->seal_frame(msgpack, aad_key)
                                                    : impl_->seal_interop(msgpack, aad_key);
}

result<opened_entry> storage_format::open(byte_view stored, std::string_view aad_key,
                                          bool explain) const {
  return impl_->options.mode == storage_mode::frame ? impl_->open_frame(stored, aad_key, explain)
                                                    : impl_->open_interop(stored, aad_key, explain);
}

}  // namespace v0
}  // namespace cachekit
