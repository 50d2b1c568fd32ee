#include "commands.hpp"

#include "protocol/crypto/master_key.hpp"
#include "protocol/msgpack_bounds.hpp"

#include <cachekit/cache_options.hpp>
#include <cachekit/default_key.hpp>
#include <cachekit/encryption.hpp>
#include <cachekit/envelope.hpp>
#include <cachekit/frame.hpp>
#include <cachekit/interop_key.hpp>
#include <cachekit/storage_format.hpp>
#include <cachekit/value_codec.hpp>

#include "codec/tagged_json.hpp"

#include <algorithm>
#include <string_view>

namespace cachekit::cli {
namespace {

result<value_array> parse_args_array(const std::string& json, const char* option) {
  auto parsed = detail::parse_tagged_json(json);
  if (!parsed) return std::move(parsed).error();
  auto* array = parsed->get_if<value_array>();
  if (array == nullptr) {
    return fail(errc::invalid_argument, std::string(option) + " must be a JSON array");
  }
  return std::move(*array);
}

result<key_kwargs> parse_kwargs(const std::string& json) {
  auto parsed = detail::parse_tagged_json(json);
  if (!parsed) return std::move(parsed).error();
  auto* map = parsed->get_if<value_map>();
  if (map == nullptr) return fail(errc::invalid_argument, "--kwargs must be a JSON object");
  key_kwargs out;
  for (auto& [k, v] : *map) {
    auto* name = k.get_if<std::string>();
    if (name == nullptr) return fail(errc::invalid_argument, "--kwargs names must be strings");
    out.emplace_back(*name, std::move(v));
  }
  // cachekit-py builds the kwargs map in sorted name order.
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

// A storage format for the request; encryption needs all three of key, tenant, cache key.
result<storage_format> make_format(stored_mode mode, bool integrity, bool key_binding,
                                   const encryption_request& req) {
  storage_options options{
      .mode = mode == stored_mode::interop ? storage_mode::interop : storage_mode::frame,
      .integrity_checking = integrity,
      .key_binding = key_binding};
  if (!req.master_key_hex) {
    if (!req.previous_key_hex.empty()) {
      return fail(errc::invalid_argument,
                  "--previous-key-hex needs a master key (--master-key-file, CACHEKIT_MASTER_KEY "
                  "or --master-key-hex)");
    }
    return storage_format(std::move(options));
  }
  if (!req.tenant || !req.cache_key) {
    return fail(errc::invalid_argument,
                "a master key needs --tenant and --cache-key (both are bound into the AAD); "
                "cachekit-py's single-tenant default tenant is \"default\"");
  }
  std::vector<std::string_view> previous(req.previous_key_hex.begin(), req.previous_key_hex.end());
  auto ring = keyring::from_hex(*req.master_key_hex, previous);
  if (!ring) return std::move(ring).error();
  if (auto ok = detail::keyring_access::check_sealing_key(*ring, "the master key"); !ok) {
    return std::move(ok).error();
  }
  auto tenant = ring->for_tenant(*req.tenant);
  if (!tenant) return std::move(tenant).error();
  options.encryption = std::move(*tenant);
  return storage_format(std::move(options));
}

bool starts_with(byte_view bytes, std::string_view prefix) {
  return bytes.size() >= prefix.size() && as_string_view(bytes.first(prefix.size())) == prefix;
}

// What the bytes look like when no --mode is given: a CK frame or legacy JSON envelope is frame
// mode; anything else is interop (plain msgpack or, with a key, a ciphertext).
stored_mode detect_mode(byte_view stored) {
  if (starts_with(stored, "CK") || starts_with(stored, "{")) return stored_mode::frame;
  return stored_mode::interop;
}

}  // namespace

result<std::string> default_key_command(const key_request& request) {
  auto args = parse_args_array(request.args_json, "--args");
  if (!args) return std::move(args).error();
  key_kwargs kwargs;
  if (request.kwargs_json) {
    auto parsed = parse_kwargs(*request.kwargs_json);
    if (!parsed) return std::move(parsed).error();
    kwargs = std::move(*parsed);
  }
  return default_key(request.function, *args, kwargs,
                     {.ns = request.ns, .integrity_checking = request.integrity_checking});
}

result<std::string> interop_key_command(const interop_key_request& request) {
  auto args = parse_args_array(request.args_json, "--args");
  if (!args) return std::move(args).error();
  return interop_key(request.ns, request.operation, *args);
}

result<byte_buffer> envelope_wrap_command(byte_view data, const std::string& format) {
  return envelope::encode(data, format);
}

result<byte_buffer> envelope_unwrap_command(byte_view envelope) {
  auto decoded = envelope::decode(envelope);
  if (!decoded) return std::move(decoded).error();
  return std::move(decoded->data);
}

result<byte_buffer> encode_command(const encode_request& request) {
  auto v = detail::parse_tagged_json(request.value_json);
  if (!v) return std::move(v).error();
  if (request.bind_key && !request.encryption.cache_key) {
    return fail(errc::invalid_argument,
                "--bind-key binds the entry to a key: give it with --cache-key (the key as the "
                "backend stores it)");
  }
  auto format =
      make_format(request.mode, request.integrity_checking, request.bind_key, request.encryption);
  if (!format) return std::move(format).error();
  auto msgpack =
      request.mode == stored_mode::interop ? encode_interop_value(*v) : encode_standard_value(*v);
  if (!msgpack) return std::move(msgpack).error();
  return format->seal(*msgpack, request.encryption.cache_key.value_or(""));
}

result<decoded> decode_command(byte_view stored, const decode_request& request) {
  const stored_mode mode =
      request.mode == stored_mode::automatic ? detect_mode(stored) : request.mode;
  // A decoder of any entry, unlike a cache (which opens encrypted frames as it is configured,
  // as cachekit-py does): the integrity setting is the one the frame header records, so entries
  // written with integrity checking off open too.
  bool integrity = true;
  if (mode == stored_mode::frame) {
    if (auto header = frame::decode(stored)) integrity = header->header().metadata.compressed;
  }
  auto format =
      make_format(mode, integrity, request.encryption.cache_key.has_value(), request.encryption);
  if (!format) return std::move(format).error();
  auto opened = format->open(stored, request.encryption.cache_key.value_or(""), true);
  if (!opened) return std::move(opened).error();
  // The cache's read bounds: a few KB of input must not decode to gigabytes of values.
  if (auto bounded =
          detail::check_msgpack_bounds(opened->msgpack, 1024, cache_options{}.max_value_items);
      !bounded) {
    return std::move(bounded).error();
  }
  decoded out;
  out.layers = std::move(opened->layers);
  auto v = mode == stored_mode::interop ? decode_interop_value(opened->msgpack)
                                        : decode_standard_value(opened->msgpack);
  if (!v) return std::move(v).error();
  out.layers.push_back(std::string(mode == stored_mode::interop ? "interop" : "standard") +
                       " MessagePack value: " + std::to_string(opened->msgpack.size()) +
                       " bytes, one document");
  out.data = std::move(*v);
  return out;
}

}  // namespace cachekit::cli
