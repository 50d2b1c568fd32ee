// A service that exports its cache's metrics for Prometheus: the metric names, labels and
// buckets of cachekit-py 0.24.1, so the dashboards built for Python services show this one too.
//
// Run: build/examples/cachekit_metrics_server [port] [seconds]
//      (defaults 9464 and 60), then: curl http://127.0.0.1:9464/metrics
// It serves on the loopback interface only and makes a few memoized calls per second, some
// repeated (L1 hits), against an L1 + in-process memory L2 (set REDIS_URL to use Redis).
#include <cachekit/cache.hpp>
#include <cachekit/memory_backend.hpp>
#include <cachekit/prometheus.hpp>

#include <prometheus/exposer.h>
#include <prometheus/registry.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <string>
#include <thread>

namespace {

std::int64_t slow_square(std::int64_t n) {
  std::this_thread::sleep_for(std::chrono::milliseconds(5));  // the work the cache saves
  return n * n;
}

}  // namespace

int main(int argc, char** argv) try {
  const std::string port = argc > 1 ? argv[1] : "9464";
  const int seconds = argc > 2 ? std::atoi(argv[2]) : 60;

  auto registry = std::make_shared<prometheus::Registry>();
  auto options = cachekit::cache_options::from_env(cachekit::intent::production).value();
  if (!options.l2) options.l2 = std::make_shared<cachekit::memory_backend>();
  options.observers.push_back(std::make_shared<cachekit::prometheus_observer>(registry));
  cachekit::cache cache(std::move(options));
  auto square = cache.memoize("examples.metrics_server.slow_square", slow_square,
                              {.ttl = std::chrono::seconds(30), .ns = "squares"});

  prometheus::Exposer exposer{"127.0.0.1:" + port};
  exposer.RegisterCollectable(registry);
  std::printf("serving http://127.0.0.1:%d/metrics for %d s\n", exposer.GetListeningPorts().at(0),
              seconds);
  std::fflush(stdout);

  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  for (std::int64_t i = 0; std::chrono::steady_clock::now() < until; ++i) {
    (void)square(i % 20);  // 20 distinct calls: misses first, then hits
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const auto info = square.info();
  std::printf("hits %llu, misses %llu\n", static_cast<unsigned long long>(info.hits),
              static_cast<unsigned long long>(info.misses));
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "cachekit_metrics_server: %s\n", e.what());
  return 1;
}
