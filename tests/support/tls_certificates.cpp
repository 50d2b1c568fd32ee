#include "support/tls_certificates.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <stdlib.h>  // mkdtemp

#include <cerrno>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <system_error>

namespace cachekit::testing {
namespace {

struct key_deleter {
  void operator()(EVP_PKEY* k) const noexcept { EVP_PKEY_free(k); }
};
struct cert_deleter {
  void operator()(X509* c) const noexcept { X509_free(c); }
};
using key_ptr = std::unique_ptr<EVP_PKEY, key_deleter>;
using cert_ptr = std::unique_ptr<X509, cert_deleter>;

void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("tls_certificates: ") + what + " failed");
}

key_ptr new_key() {
  key_ptr key(EVP_EC_gen("P-256"));
  check(key != nullptr, "EVP_EC_gen");
  return key;
}

void add_extension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  check(ext != nullptr, "X509V3_EXT_conf_nid");
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

// A certificate for `subject`'s key, signed by `issuer_key` (self-signed when issuer is null).
cert_ptr new_cert(const char* common_name, EVP_PKEY* subject_key, X509* issuer,
                  EVP_PKEY* issuer_key, bool is_ca, const char* san, long serial) {
  cert_ptr cert(X509_new());
  check(cert != nullptr, "X509_new");
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600);
  X509_set_pubkey(cert.get(), subject_key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("cachekit tests"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(common_name), -1, -1, 0);
  X509* signer = issuer != nullptr ? issuer : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(signer));
  if (is_ca) {
    add_extension(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE");
    add_extension(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_extension(cert.get(), signer, NID_basic_constraints, "critical,CA:FALSE");
    add_extension(cert.get(), signer, NID_key_usage, "critical,digitalSignature");
    add_extension(cert.get(), signer, NID_ext_key_usage, "serverAuth,clientAuth");
  }
  add_extension(cert.get(), signer, NID_subject_key_identifier, "hash");
  if (issuer != nullptr) add_extension(cert.get(), signer, NID_authority_key_identifier, "keyid");
  if (san != nullptr) add_extension(cert.get(), signer, NID_subject_alt_name, san);
  check(X509_sign(cert.get(), issuer_key, EVP_sha256()) > 0, "X509_sign");
  return cert;
}

void write_pem(const std::filesystem::path& path, X509* cert, EVP_PKEY* key) {
  FILE* f = std::fopen(path.c_str(), "w");
  check(f != nullptr, "fopen");
  const bool ok = cert != nullptr
                      ? PEM_write_X509(f, cert) == 1
                      : PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
  std::fclose(f);
  check(ok, "PEM_write");
}

}  // namespace

std::unique_ptr<tls_certificates> tls_certificates::make() {
  std::string pattern = (std::filesystem::temp_directory_path() / "cachekit-tls-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::system_error(errno, std::generic_category(), "mkdtemp");
  }
  std::unique_ptr<tls_certificates> out(new tls_certificates(pattern));

  auto ca_key = new_key();
  auto ca = new_cert("cachekit test CA", ca_key.get(), nullptr, ca_key.get(), true, nullptr, 1);
  auto server_key = new_key();
  auto server = new_cert("localhost", server_key.get(), ca.get(), ca_key.get(), false,
                         "DNS:localhost,IP:127.0.0.1,DNS:api.cachekit.test", 2);
  auto client_key = new_key();
  auto client =
      new_cert("cachekit test client", client_key.get(), ca.get(), ca_key.get(), false, nullptr, 3);
  auto other_ca_key = new_key();
  auto other_ca = new_cert("unrelated test CA", other_ca_key.get(), nullptr, other_ca_key.get(),
                           true, nullptr, 4);
  auto other_key = new_key();
  auto other = new_cert("unrelated client", other_key.get(), other_ca.get(), other_ca_key.get(),
                        false, nullptr, 5);

  write_pem(out->ca_cert(), ca.get(), nullptr);
  write_pem(out->server_cert(), server.get(), nullptr);
  write_pem(out->server_key(), nullptr, server_key.get());
  write_pem(out->client_cert(), client.get(), nullptr);
  write_pem(out->client_key(), nullptr, client_key.get());
  write_pem(out->other_ca_cert(), other_ca.get(), nullptr);
  write_pem(out->other_client_cert(), other.get(), nullptr);
  write_pem(out->other_client_key(), nullptr, other_key.get());
  return out;
}

tls_certificates::~tls_certificates() {
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

}  // namespace cachekit::testing
