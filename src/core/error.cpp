#include <cachekit/error.hpp>

#include <string>

namespace cachekit {
inline namespace v0 {
namespace {

const char* describe(errc code) noexcept {
  switch (code) {
    case errc::truncated: return "input is truncated";
    case errc::trailing_bytes: return "unexpected bytes after the document";
    case errc::malformed: return "malformed data";
    case errc::type_mismatch: return "value has a different type than requested";
    case errc::length_limit: return "declared length exceeds the input or a limit";
    case errc::checksum_mismatch: return "checksum mismatch";
    case errc::size_mismatch: return "decompressed size differs from the declared size";
    case errc::decompression_bomb: return "decompression bomb rejected";
    case errc::input_too_large: return "input larger than the protocol limit";
    case errc::decompression_failed: return "LZ4 decompression failed";
    case errc::unsupported_version: return "unsupported format version";
    case errc::serializer_mismatch: return "entry written by an incompatible serializer";
    case errc::key_mismatch: return "entry was written for another key";
    case errc::python_only_value: return "entry holds a Python-only value (NumPy, pandas, Arrow)";
    case errc::authentication_failed: return "authentication failed (tampered data or wrong key)";
    case errc::invalid_ciphertext: return "invalid ciphertext";
    case errc::unknown_key_fingerprint: return "key fingerprint not in the keyring";
    case errc::nonce_exhausted: return "nonce counter exhausted; rotate the encryption key";
    case errc::plaintext_downgrade: return "plaintext entry read while encryption is required";
    case errc::tenant_mismatch: return "entry is sealed for another tenant";
    case errc::invalid_argument: return "invalid argument";
    case errc::invalid_key: return "invalid cache key";
    case errc::invalid_master_key: return "invalid master key";
    case errc::invalid_configuration: return "invalid configuration";
    case errc::unsupported_type: return "unsupported type";
    case errc::value_too_large: return "value too large";
    case errc::not_supported: return "operation not supported by this backend";
    case errc::transient: return "transient backend failure";
    case errc::timeout: return "operation timed out";
    case errc::circuit_open: return "circuit breaker open";
    case errc::backpressure: return "too many concurrent operations";
    case errc::backend_permanent: return "backend rejected the operation";
    case errc::backend_authentication: return "backend authentication failed";
  }
  return "unknown cachekit error";
}

class code_category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "cachekit"; }
  std::string message(int value) const override { return describe(static_cast<errc>(value)); }
  std::error_condition default_error_condition(int value) const noexcept override {
    return make_error_condition(group_of(static_cast<errc>(value)));
  }
};

class group_category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "cachekit.group"; }
  std::string message(int value) const override {
    switch (static_cast<errc_group>(value)) {
      case errc_group::corrupt_data: return "corrupt cache data";
      case errc_group::security: return "security failure";
      case errc_group::fix_config: return "configuration or usage error";
      case errc_group::retry: return "temporary failure";
    }
    return "unknown cachekit error group";
  }
};

}  // namespace

const std::error_category& cachekit_category() noexcept {
  static const code_category instance;
  return instance;
}

const std::error_category& cachekit_group_category() noexcept {
  static const group_category instance;
  return instance;
}

errc_group group_of(errc code) noexcept {
  const int value = static_cast<int>(code);
  if (value < 100) return errc_group::corrupt_data;
  if (value < 200) return errc_group::security;
  if (value < 300) return errc_group::fix_config;
  return errc_group::retry;
}

error_class classify(const std::error_code& code) noexcept {
  if (code.category() == cachekit_category()) {
    switch (static_cast<errc>(code.value())) {
      case errc::transient: return error_class::transient;
      case errc::timeout: return error_class::timeout;
      case errc::circuit_open:
      case errc::backpressure: return error_class::overload;
      case errc::backend_authentication: return error_class::security;
      default: break;
    }
    return group_of(static_cast<errc>(code.value())) == errc_group::security
               ? error_class::security
               : error_class::permanent;
  }
  if (code == std::errc::timed_out) return error_class::timeout;
  if (code == std::errc::interrupted || code == std::errc::resource_unavailable_try_again ||
      code == std::errc::no_space_on_device || code == std::errc::connection_refused ||
      code == std::errc::connection_reset || code == std::errc::connection_aborted ||
      code == std::errc::not_connected || code == std::errc::broken_pipe ||
      code == std::errc::host_unreachable || code == std::errc::network_unreachable ||
      code == std::errc::network_down || code == std::errc::too_many_files_open) {
    return error_class::transient;
  }
  return error_class::permanent;
}

const char* to_string(error_class c) noexcept {
  switch (c) {
    case error_class::transient: return "transient";
    case error_class::timeout: return "timeout";
    case error_class::overload: return "overload";
    case error_class::permanent: return "permanent";
    case error_class::security: return "security";
  }
  return "unknown";
}

error::error(errc code, const std::string& detail) : error(make_error_code(code), detail) {}
error::error(std::error_code code, const std::string& detail)
    : std::system_error(code, detail),
      message_(detail.empty() ? code.message() : code.message() + ": " + detail) {}

const char* error::what() const noexcept {
  return message_.what();
}

}  // namespace v0
}  // namespace cachekit
