// Throwaway TLS material for the TLS tests, made at test time with OpenSSL's API in a temporary
// directory that is removed with the object: a CA, a server certificate it signs (SAN
// DNS:localhost, IP:127.0.0.1 and DNS:api.cachekit.test, the public-looking name the
// cachekit.io backend's tests reach their local server by), a client certificate it signs, and a
// second, unrelated CA with a client certificate of its own. Keys are P-256, PEM, unencrypted;
// certificates last a day.
//
// Not thread-safe: make one from the test's main thread (a fixture's SetUpTestSuite).
#pragma once

#include <filesystem>
#include <memory>

namespace cachekit::testing {

class tls_certificates {
 public:
  // Throws std::runtime_error when OpenSSL or the file system fails.
  static std::unique_ptr<tls_certificates> make();
  ~tls_certificates();
  tls_certificates(const tls_certificates&) = delete;
  tls_certificates& operator=(const tls_certificates&) = delete;

  [[nodiscard]] const std::filesystem::path& dir() const noexcept { return dir_; }
  [[nodiscard]] std::filesystem::path ca_cert() const { return dir_ / "ca.crt"; }
  [[nodiscard]] std::filesystem::path server_cert() const { return dir_ / "server.crt"; }
  [[nodiscard]] std::filesystem::path server_key() const { return dir_ / "server.key"; }
  [[nodiscard]] std::filesystem::path client_cert() const { return dir_ / "client.crt"; }
  [[nodiscard]] std::filesystem::path client_key() const { return dir_ / "client.key"; }
  // Signed by neither server nor client CA above.
  [[nodiscard]] std::filesystem::path other_ca_cert() const { return dir_ / "other-ca.crt"; }
  [[nodiscard]] std::filesystem::path other_client_cert() const { return dir_ / "other.crt"; }
  [[nodiscard]] std::filesystem::path other_client_key() const { return dir_ / "other.key"; }

 private:
  explicit tls_certificates(std::filesystem::path dir) : dir_(std::move(dir)) {}
  std::filesystem::path dir_;
};

}  // namespace cachekit::testing
