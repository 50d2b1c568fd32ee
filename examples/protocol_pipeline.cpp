// The cachekit protocol pipeline on a sample value: what a memoized call computes and stores
// (key, msgpack, CK frame, encryption), with the cost of each step.
//
// Run with `build/examples/cachekit_protocol_demo` after `make build`. No server is needed.
#include <cachekit/codec.hpp>
#include <cachekit/default_key.hpp>
#include <cachekit/encryption.hpp>
#include <cachekit/interop_key.hpp>
#include <cachekit/storage_format.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

namespace {

struct user {
  std::int64_t id = 0;
  std::string name;
  std::string email;
  std::vector<std::string> roles;
  double score = 0;
  MSGPACK_DEFINE_MAP(id, name, email, roles, score)
};

// Median nanoseconds per call of `fn` over a few batches (a rough figure for orientation; the
// benchmark suites in bench/ are the real measurements).
template <typename Fn>
double median_ns(Fn&& fn) {
  constexpr int batches = 9;
  constexpr int per_batch = 2000;
  std::vector<double> samples;
  for (int b = 0; b < batches; ++b) {
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < per_batch; ++i) fn();
    const std::chrono::duration<double, std::nano> elapsed =
        std::chrono::steady_clock::now() - start;
    samples.push_back(elapsed.count() / per_batch);
  }
  std::nth_element(samples.begin(), samples.begin() + batches / 2, samples.end());
  return samples[batches / 2];
}

std::string preview(cachekit::byte_view bytes, std::size_t n = 24) {
  auto hex = cachekit::to_hex(bytes.first(std::min(n, bytes.size())));
  return bytes.size() > n ? hex + "..." : hex;
}

}  // namespace

int main() {
  using namespace cachekit;
  const user sample{42, "Ada Lovelace", "ada@example.org", {"admin", "analyst"}, 97.5};

  std::printf("cachekit for C++ — protocol pipeline demo\n\n");

  // 1. The key cachekit-py's @cache would use for myapp.users.get_user(42, "eu", 1.5).
  const auto key_builder =
      default_key_builder::make("myapp.users.get_user", {.ns = "users"}).value();
  const std::string key = key_builder(std::int64_t{42}, std::string("eu"), 1.5).value();
  std::printf("default key   %s\n", key.c_str());
  std::printf("              %.0f ns per key (3 arguments)\n",
              median_ns([&] { (void)key_builder(std::int64_t{42}, std::string("eu"), 1.5); }));

  const std::string ikey = interop_key_for("users", "get_user", std::int64_t{42}).value();
  std::printf("interop key   %s\n\n", ikey.c_str());

  // 2. The value's MessagePack (a Python dict for cachekit-py).
  const byte_buffer msgpack = codec<user>::encode(sample).value();
  std::printf("msgpack       %zu bytes  %s\n", msgpack.size(), preview(msgpack).c_str());

  // 3. Stored bytes: CK frame + ByteStorage envelope, as cachekit-py writes them.
  const storage_format plain({.mode = storage_mode::frame});
  const byte_buffer stored = plain.seal(msgpack, key).value();
  std::printf("stored frame  %zu bytes  %s\n", stored.size(), preview(stored).c_str());
  std::printf("              seal %.0f ns, open %.0f ns\n",
              median_ns([&] { (void)plain.seal(msgpack, key); }),
              median_ns([&] { (void)plain.open(stored, key); }));

  // 4. The same, sealed with AES-256-GCM under a per-tenant key derived from a throwaway random
  // master key (a service takes its key from a secret store: openssl rand -hex 32).
  std::printf("master key    a throwaway random key, generated for this run\n");
  auto tenant =
      keyring::from_hex(keyring::generate_master_key_hex()).value().for_tenant("default").value();
  const storage_format secure({.mode = storage_mode::frame, .encryption = tenant});
  const byte_buffer sealed = secure.seal(msgpack, key).value();
  std::printf("encrypted     %zu bytes  key fingerprint %s\n", sealed.size(),
              std::string(tenant.current_fingerprint()).c_str());
  std::printf("              seal %.0f ns, open %.0f ns\n",
              median_ns([&] { (void)secure.seal(msgpack, key); }),
              median_ns([&] { (void)secure.open(sealed, key); }));

  // 5. Read back, explaining every layer, and decode into the struct.
  const auto opened = secure.open(sealed, key, /*explain=*/true).value();
  for (const auto& layer : opened.layers) std::printf("  checked     %s\n", layer.c_str());
  const user back = codec<user>::decode(opened.msgpack).value();
  std::printf("decoded       user{id=%lld, name=\"%s\", roles=%zu, score=%.1f}\n",
              static_cast<long long>(back.id), back.name.c_str(), back.roles.size(), back.score);

  // 6. A tampered entry is refused, never returned.
  byte_buffer tampered = sealed;
  tampered.back() ^= std::byte{1};
  const auto refused = secure.open(tampered, key);
  std::printf("tampered      %s\n", refused ? "ACCEPTED (bug)" : refused.error().message().c_str());
  return refused ? 1 : 0;
}
