// The cachekit CLI's commands as plain functions (no I/O, no process exit), so tests and the
// fuzz target can call them directly. main.cpp maps them onto the command line.
#pragma once

#include <cachekit/bytes.hpp>
#include <cachekit/result.hpp>
#include <cachekit/value.hpp>

#include <optional>
#include <string>
#include <vector>

namespace cachekit::cli {

struct key_request {
  std::optional<std::string> ns;  // no namespace: no "ns:" segment
  std::string function;
  bool integrity_checking = true;
  std::string args_json = "[]";
  std::optional<std::string> kwargs_json;
};
result<std::string> default_key_command(const key_request& request);

struct interop_key_request {
  std::string ns;
  std::string operation;
  std::string args_json = "[]";
};
result<std::string> interop_key_command(const interop_key_request& request);

result<byte_buffer> envelope_wrap_command(byte_view data, const std::string& format);
result<byte_buffer> envelope_unwrap_command(byte_view envelope);

enum class stored_mode { automatic, frame, interop };

// Encryption inputs shared by encode and decode. All-or-nothing: a master key needs a tenant and
// a cache key (the AAD binds both).
struct encryption_request {
  std::optional<std::string> master_key_hex;
  std::vector<std::string> previous_key_hex;
  std::optional<std::string> tenant;
  std::optional<std::string> cache_key;
};

struct encode_request {
  std::string value_json;
  stored_mode mode = stored_mode::frame;
  bool integrity_checking = true;
  // Plaintext frame: write the key binding "k" for encryption.cache_key (which it needs).
  bool bind_key = false;
  encryption_request encryption;
};
result<byte_buffer> encode_command(const encode_request& request);

// With encryption.cache_key, a plaintext frame's key binding "k" is checked against it;
// without, "k" is ignored (as cachekit-py does).
struct decode_request {
  stored_mode mode = stored_mode::automatic;
  encryption_request encryption;
};
struct decoded {
  value data;
  std::vector<std::string> layers;  // what was peeled and checked, outermost first
};
result<decoded> decode_command(byte_view stored, const decode_request& request);

}  // namespace cachekit::cli
