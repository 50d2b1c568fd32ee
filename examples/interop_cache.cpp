// Interop mode: entries other SDKs share under their bare keys. A Python service decorated with
//     @cache(interop="get_price", namespace="pricing", backend=RedisBackend(...))
//     def get_price(sku: int, currency: str) -> dict: ...
// and this C++ function read and write the same entries: the key is
// `{namespace}:{operation}:{BLAKE2b-256 of the canonical argument array}` and the value plain
// canonical MessagePack (no frame, no envelope), so cachekit-rs and cachekit-ts read it too.
//
// Run: build/examples/cachekit_interop_example (no server: an in-process memory_backend stands
// in for a plain-layout Redis; interop mode refuses a backend that prefixes keys).
#include <cachekit/cache.hpp>
#include <cachekit/memory_backend.hpp>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

int main() {
  auto l2 = std::make_shared<cachekit::memory_backend>();
  cachekit::cache cache({.l2 = l2});

  // The dynamic `value` type reads any MessagePack another SDK writes; structs with
  // MSGPACK_DEFINE_MAP work too when every writer agrees on the fields.
  auto get_price = cache.memoize_interop(
      "pricing", "get_price", [](std::int64_t sku, const std::string& currency) {
        return cachekit::value(
            cachekit::value_map{{cachekit::value("sku"), cachekit::value(sku)},
                                {cachekit::value("currency"), cachekit::value(currency)},
                                {cachekit::value("cents"), cachekit::value(1999)}});
      });

  (void)get_price(42, "EUR");
  const std::string key = get_price.key(42, "EUR").value();
  const auto stored = *l2->get(key).value();
  std::printf("key    %s\n", key.c_str());
  std::printf("value  %zu bytes of canonical MessagePack: %s\n", stored.size(),
              cachekit::to_hex(stored).c_str());
  (void)get_price(42, "EUR");
  std::printf("second call served by L1: %s\n", get_price.info().l1_hits == 1 ? "yes" : "no");
  // The map as every interop writer encodes it: keys sorted by their UTF-8 bytes.
  return cachekit::to_hex(stored) == "83a563656e7473cd07cfa863757272656e6379a3455552a3736b752a" &&
                 get_price.info().l1_hits == 1
             ? 0
             : 1;
}
