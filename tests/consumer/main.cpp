// A program written as a user of the installed library writes it: public headers only, the
// cachekit::cachekit target (or pkg-config's flags). Exits non-zero when the second call of a
// memoized function is not an L1 hit, or a typed value does not round-trip. It instantiates the
// header templates a user's code does (memoize, the typed codec of a nested struct, of a double
// and of a container) so a warning in them fails the -Werror build. Built with
// CACHEKIT_CONSUMER_PROMETHEUS (the component cachekit::prometheus, or pkg-config
// cachekit-prometheus), it also counts the cache's operations in a Prometheus registry. Built
// with CACHEKIT_CONSUMER_IO (cachekit::io, or pkg-config cachekit-io), it also builds the `io`
// preset with the cachekit.io backend (no request is sent: none is made before the first call).
#include <cachekit/cachekit.hpp>
#include <cachekit/version.hpp>

#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#ifdef CACHEKIT_CONSUMER_PROMETHEUS
#include <prometheus/registry.h>
#include <cachekit/prometheus.hpp>
#endif
#ifdef CACHEKIT_CONSUMER_IO
#include <cachekit/cachekitio_backend.hpp>
#endif

namespace {

using namespace std::chrono_literals;

struct user {
  std::int64_t id = 0;
  std::string name;
  MSGPACK_DEFINE_MAP(id, name)
};

struct order {
  std::int64_t id = 0;
  user buyer;
  std::vector<user> others;
  double total = 0;
  std::map<std::string, std::int64_t> lines;
  MSGPACK_DEFINE_MAP(id, buyer, others, total, lines)
};

int runs = 0;

user fetch_user(std::int64_t id) {
  ++runs;
  return user{id, "user-" + std::to_string(id)};
}

#ifdef CACHEKIT_CONSUMER_PROMETHEUS
// The sum of cache_operations_total's series in `registry`.
double operations_counted(prometheus::Registry& registry) {
  double total = 0;
  for (const prometheus::MetricFamily& family : registry.Collect()) {
    if (family.name != "cache_operations_total") continue;
    for (const prometheus::ClientMetric& metric : family.metric) total += metric.counter.value;
  }
  return total;
}
#endif

}  // namespace

int main() {
  cachekit::cache_options options;  // no L2: L1 only
#ifdef CACHEKIT_CONSUMER_PROMETHEUS
  auto registry = std::make_shared<prometheus::Registry>();
  options.observers.push_back(std::make_shared<cachekit::prometheus_observer>(registry));
#endif
  cachekit::cache cache(std::move(options));
  auto get_user = cache.memoize("consumer.fetch_user", fetch_user, {.ttl = 10min});
  const user first = get_user(42);
  const user second = get_user(42);
  const cachekit::cache_info info = get_user.info();
  std::printf("cachekit %s: runs=%d l1_hits=%llu misses=%llu name=%s\n", CACHEKIT_VERSION_STRING,
              runs, static_cast<unsigned long long>(info.l1_hits),
              static_cast<unsigned long long>(info.misses), second.name.c_str());
  if (runs != 1 || info.l1_hits != 1 || info.misses != 1 || first.name != second.name ||
      second.id != 42) {
    std::fprintf(stderr, "consumer: expected one run and one L1 hit\n");
    return 1;
  }
#ifdef CACHEKIT_CONSUMER_PROMETHEUS
  const double counted = operations_counted(*registry);
  std::printf("cachekit::prometheus: cache_operations_total sums to %.0f\n", counted);
  if (counted != 1) {  // the L1 hit (cachekit-py's metrics count no misses)
    std::fprintf(stderr, "consumer: cachekit::prometheus should have counted the L1 hit once\n");
    return 1;
  }
#endif

#ifdef CACHEKIT_CONSUMER_IO
  auto io_options = cachekit::io_cache_options("ck_live_consumer");
  if (!io_options || io_options->l2 == nullptr || io_options->l2->type() != "cachekitio") {
    std::fprintf(stderr, "consumer: io_cache_options did not build the cachekit.io backend\n");
    return 1;
  }
  cachekit::cache io_cache(std::move(*io_options));
  std::printf("cachekit::io: the io preset's L2 is %s\n",
              std::string(io_cache.options().l2->type()).c_str());
#endif
  const order placed{7, first, {second}, 12.5, {{"sku-1", 2}}};
  const auto bytes = cachekit::codec<order>::encode(placed);
  const auto decoded = bytes ? cachekit::codec<order>::decode(*bytes) : bytes.error();
  if (!decoded || decoded->id != 7 || decoded->buyer.name != "user-42" ||
      decoded->others.size() != 1 || decoded->total != 12.5 || decoded->lines.at("sku-1") != 2) {
    std::fprintf(stderr, "consumer: a struct did not round-trip through its codec\n");
    return 1;
  }
  const auto number = cachekit::codec<double>::encode(0.5);
  const auto list = cachekit::codec<std::vector<std::int64_t>>::encode({1, 2, 3});
  if (!number || !list || number->size() != 9 || list->size() != 4) {
    std::fprintf(stderr, "consumer: unexpected MessagePack sizes\n");
    return 1;
  }
  return 0;
}
