// Client-side encryption with `intent::secure`: what the L2 holds is AES-256-GCM ciphertext bound
// to its cache key, readable by any service (C++ or cachekit-py's `@cache.secure`) with the same
// master key, and a counted miss for anyone else.
//
// Run: build/examples/cachekit_secure_example. Reads CACHEKIT_MASTER_KEY (64+ hex digits) when
// set, else generates a throwaway random key (never a fixed one: an example's key gets copied
// into real services). No server: the shared L2 is an in-process memory_backend
// standing in for Redis.
#include <cachekit/cache.hpp>
#include <cachekit/memory_backend.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <string>

namespace {

struct account {
  std::int64_t id = 0;
  std::string iban;
  MSGPACK_DEFINE_MAP(id, iban)
};

account load_account(std::int64_t id) {  // the expensive, sensitive call
  return {id, "DE89 3704 0044 0532 0130 " + std::to_string(id)};
}

// One "service": a secure cache over the shared L2 with the given master key.
cachekit::cache secure_service(const std::shared_ptr<cachekit::backend>& l2,
                               const std::string& hex) {
  auto options = cachekit::cache_options::for_intent(cachekit::intent::secure);
  options.l2 = l2;
  options.encryption =
      cachekit::encryption_options{.keys = cachekit::keyring::from_hex(hex).value()};
  return cachekit::cache(std::move(options));
}

int run() {
  const char* env_key = std::getenv("CACHEKIT_MASTER_KEY");
  const bool from_env = env_key != nullptr && *env_key != '\0';
  const std::string master =
      from_env ? std::string(env_key) : cachekit::keyring::generate_master_key_hex();
  std::printf("master  %s\n", from_env ? "CACHEKIT_MASTER_KEY"
                                       : "CACHEKIT_MASTER_KEY unset: a throwaway random key "
                                         "(entries are unreadable after this run)");
  const std::string stranger_key = cachekit::keyring::generate_master_key_hex();
  auto shared_l2 = std::make_shared<cachekit::memory_backend>();

  auto writer = secure_service(shared_l2, master);
  auto get_account = writer.memoize("bank.accounts.load_account", load_account);
  const account a = get_account(7);
  const std::string key = get_account.key(7).value();
  const auto stored = *shared_l2->get(key).value();
  const std::string text(reinterpret_cast<const char*>(stored.data()), stored.size());
  std::printf("key     %s\n", key.c_str());
  std::printf("stored  %zu bytes; IBAN visible in L2: %s\n", stored.size(),
              text.find("3704") == std::string::npos ? "no (ciphertext)" : "YES");

  auto reader = secure_service(shared_l2, master);
  auto read_account = reader.memoize("bank.accounts.load_account", load_account);
  const account same = read_account(7);
  std::printf("same key:  %s, served by L2: %s\n", same.iban.c_str(),
              read_account.info().l2_hits == 1 ? "yes" : "no");

  auto stranger = secure_service(shared_l2, stranger_key);
  auto steal = stranger.memoize("bank.accounts.load_account", load_account);
  (void)steal(7);
  std::printf("other key: entry refused (corrupt_entries %llu), the function ran instead\n",
              static_cast<unsigned long long>(stranger.stats().corrupt_entries));
  return a.iban == same.iban ? 0 : 1;
}

}  // namespace

int main() {
  try {
    return run();
  } catch (const std::exception& e) {  // a bad CACHEKIT_MASTER_KEY: the message says the fix
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}
