/// @file
/// `cachekit::prometheus_observer` (component `cachekit::prometheus`, prometheus-cpp): the
/// cache's events as the Prometheus metrics cachekit-py 0.24.1 exports, with the same names,
/// label names, label values and histogram buckets, so a dashboard built for Python services
/// shows C++ services too. The table of metrics and what each C++ event maps to is in
/// docs/observability.md.
///
///     auto registry = std::make_shared<prometheus::Registry>();
///     auto options = cachekit::cache_options::for_intent(cachekit::intent::production);
///     options.observers.push_back(std::make_shared<cachekit::prometheus_observer>(registry));
///     cachekit::cache cache(std::move(options));
///     prometheus::Exposer exposer{"127.0.0.1:9464"};   // prometheus-cpp's pull component
///     exposer.RegisterCollectable(registry);
///
/// One observer may serve several caches (their series add up, as cachekit-py's process-wide
/// metrics do). It registers its metric families in `registry` when built; a registry may
/// hold only one `prometheus_observer` (a second would find the names taken and throw, as
/// prometheus-cpp does for any duplicate family).
///
/// Thread safety: thread-safe (events arrive from any thread; the series of a namespace are
/// created once and then updated lock-free, histograms under prometheus-cpp's per-series lock).
#pragma once

#include <cachekit/export.hpp>
#include <cachekit/observer.hpp>

#include <memory>
#include <string>

namespace prometheus {
class Registry;
}  // namespace prometheus

namespace cachekit {
inline namespace v0 {

struct prometheus_options {
  /// The `namespace` label of `circuit_breaker_state` for the breakers of the caches this
  /// observer watches (cachekit-py labels a breaker with its decorator's namespace; a C++
  /// cache's breaker serves all its functions).
  std::string breaker_namespace = "default";
};

class CACHEKIT_EXPORT prometheus_observer final : public observer {
 public:
  /// Registers the metric families in `registry` (kept alive by the observer). Throws
  /// std::invalid_argument (prometheus-cpp's) when the registry already holds one of them.
  explicit prometheus_observer(std::shared_ptr<prometheus::Registry> registry,
                               prometheus_options options = {});
  ~prometheus_observer() override;
  prometheus_observer(const prometheus_observer&) = delete;
  prometheus_observer& operator=(const prometheus_observer&) = delete;

  /// True: cachekit-py's duration histogram needs the latency of every operation.
  [[nodiscard]] bool wants_latency() const noexcept override { return true; }
  void on_operation(const operation_event& event) override;
  void on_fault(const fault_event& event) override;
  void on_breaker(const breaker_event& event) override;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace v0
}  // namespace cachekit
