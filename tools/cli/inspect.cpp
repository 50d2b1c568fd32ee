#include "inspect.hpp"

#include "codec/tagged_json.hpp"

#include <cachekit/envelope.hpp>
#include <cachekit/error.hpp>
#include <cachekit/frame.hpp>

#include <cstdio>
#include <string_view>

namespace cachekit::cli {
namespace {

constexpr std::size_t gcm_overhead = 12 + 16;  // nonce + tag

std::string yes_no(bool b) {
  return b ? "yes" : "no";
}

std::string hex64(std::uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

bool looks_like_frame(byte_view stored) {
  return !stored.empty() && (static_cast<char>(stored[0]) == '{' ||
                             (stored.size() >= 2 && static_cast<char>(stored[0]) == 'C' &&
                              static_cast<char>(stored[1]) == 'K'));
}

decode_request request_for(const entry_context& c, bool with_key) {
  decode_request req;
  req.encryption.cache_key = c.storage_key;
  if (with_key && c.master_key_hex) {
    req.encryption.master_key_hex = c.master_key_hex;
    req.encryption.previous_key_hex = c.previous_key_hex;
    req.encryption.tenant = c.tenant;
  }
  return req;
}

// Adds what an operator can do about a failure to open an entry.
failure with_hint(failure f, const entry_context& c, const std::optional<frame::header>& h) {
  const bool encrypted = h && h->metadata.encrypted;
  // The library's messages already name the missing key and the fingerprint; add what only
  // the CLI knows: its flags.
  if (encrypted && !c.master_key_hex) {
    f.detail += " (CACHEKIT_MASTER_KEY or --master-key-file)";
  } else if (encrypted && h->metadata.tenant_id && *h->metadata.tenant_id != c.tenant) {
    f.detail += ": pass --tenant " + *h->metadata.tenant_id;
  } else if (encrypted && f.code == make_error_code(errc::unknown_key_fingerprint)) {
    f.detail += " (--master-key-file, or --previous-key-hex for an older key)";
  } else if (encrypted && f.code == make_error_code(errc::authentication_failed)) {
    f.detail += "; wrong master key or tenant for this entry, or the entry was altered";
  }
  return f;
}

void add_frame_fields(inspection& out, const frame::decoded& fr, const entry_context& c) {
  const auto& h = fr.header();
  const auto& m = h.metadata;
  out.fields.emplace_back(
      "container", fr.kind() == frame::container::v3
                       ? "CK v3 frame, " + std::to_string(fr.header_len()) + "-byte JSON header"
                       : "legacy JSON envelope");
  out.fields.emplace_back("serializer", fr.recorded_serializer());
  out.fields.emplace_back("format", m.format);
  out.fields.emplace_back(
      "compressed", yes_no(m.compressed) + (m.compressed ? " (ByteStorage envelope: LZ4 + "
                                                           "xxHash3-64, integrity checking on)"
                                                         : ""));
  out.fields.emplace_back("encrypted", yes_no(m.encrypted));
  if (m.encrypted) {
    out.fields.emplace_back("algorithm", m.encryption_algorithm.value_or("(none)"));
    out.fields.emplace_back("tenant", m.tenant_id.value_or("(none)"));
    out.fields.emplace_back("key fingerprint", m.key_fingerprint.value_or("(none)"));
    out.fields.emplace_back(
        "ciphertext",
        std::to_string(fr.payload().size()) + " bytes (12-byte nonce, " +
            std::to_string(fr.payload().size() > gcm_overhead ? fr.payload().size() - gcm_overhead
                                                              : 0) +
            " sealed, 16-byte tag)");
    return;
  }
  if (h.key_hash) {
    out.fields.emplace_back("key binding",
                            hex64(*h.key_hash) + (*h.key_hash == frame::key_hash(c.storage_key)
                                                      ? " (matches the storage key)"
                                                      : " (does NOT match the storage key)"));
  } else {
    out.fields.emplace_back("key binding", "none (as cachekit-py writes)");
  }
  out.fields.emplace_back("payload", std::to_string(fr.payload().size()) + " bytes");
  if (m.compressed) {
    auto env = envelope::decode(fr.payload());
    if (env) {
      out.fields.emplace_back("envelope format", env->format);
      out.fields.emplace_back("checksum",
                              "xxHash3-64 " + hex64(checksum_xxh3(env->data)) + " (verified)");
      out.fields.emplace_back("uncompressed", std::to_string(env->data.size()) + " bytes");
    } else {
      out.fields.emplace_back("envelope", "INVALID: " + env.error().message());
    }
  }
}

}  // namespace

std::string describe_ttl(const std::optional<ttl_seconds>& ttl, std::string_view backend_type) {
  if (!ttl) return "unknown (" + std::string(backend_type) + " cannot report a TTL)";
  if (!*ttl) return "no expiry";
  return std::to_string((*ttl)->count()) + " s";
}

result<value> open_entry(byte_view stored, const entry_context& context) {
  std::optional<frame::header> header;
  bool use_key = context.master_key_hex.has_value();
  if (looks_like_frame(stored)) {
    if (auto fr = frame::decode(stored); fr) {
      header = fr->header();
      use_key = use_key && header->metadata.encrypted;
    }
  }
  auto decoded = decode_command(stored, request_for(context, use_key));
  if (!decoded && use_key && !header) {
    // Interop entries carry no header: with a key given, a plaintext one reads without it.
    if (auto plain = decode_command(stored, request_for(context, false)); plain) {
      return std::move(plain->data);
    }
  }
  if (!decoded) return with_hint(std::move(decoded).error(), context, header);
  return std::move(decoded->data);
}

inspection inspect_entry(byte_view stored, const entry_context& context) {
  inspection out;
  out.fields.emplace_back("key", context.key);
  out.fields.emplace_back("storage key", context.storage_key);
  out.fields.emplace_back("stored size", std::to_string(stored.size()) + " bytes");
  out.fields.emplace_back("ttl", describe_ttl(context.ttl, context.backend_type));
  std::optional<frame::header> header;
  if (looks_like_frame(stored)) {
    auto fr = frame::decode(stored);
    if (fr) {
      header = fr->header();
      out.fields.emplace_back("mode", "frame (cachekit-py @cache)");
      add_frame_fields(out, *fr, context);
    } else {
      out.fields.emplace_back("container", "INVALID frame: " + fr.error().message());
    }
  } else {
    out.fields.emplace_back("mode", "interop (plain canonical MessagePack, or AES-GCM of it)");
  }
  const bool use_key = context.master_key_hex && (!header || header->metadata.encrypted);
  auto req = request_for(context, use_key);
  auto decoded = decode_command(stored, req);
  if (!decoded && use_key && !header) {
    if (auto plain = decode_command(stored, request_for(context, false)); plain) {
      decoded = std::move(plain);
    }
  }
  if (!decoded) {
    out.error = with_hint(std::move(decoded).error(), context, header);
    return out;
  }
  for (const auto& layer : decoded->layers) out.fields.emplace_back("layer", layer);
  out.data = std::move(decoded->data);
  return out;
}

}  // namespace cachekit::cli
