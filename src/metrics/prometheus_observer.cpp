// cachekit-py 0.24.1's Prometheus metrics fed by the cache's events. The names, label names,
// label values and buckets are cachekit-py's (reliability/async_metrics.py, load_control.py,
// circuit_breaker.py, cache_handler.py); docs/observability.md has the table.
#include <cachekit/prometheus.hpp>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace cachekit {
inline namespace v0 {
namespace {

// cachekit-py's DURATION_BUCKETS_MS and SIZE_BUCKETS_BYTES (4^2 .. 4^14).
const prometheus::Histogram::BucketBoundaries& duration_buckets_ms() {
  static const prometheus::Histogram::BucketBoundaries b{
      0.01, 0.05, 0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0};
  return b;
}
const prometheus::Histogram::BucketBoundaries& size_buckets_bytes() {
  static const prometheus::Histogram::BucketBoundaries b = [] {
    prometheus::Histogram::BucketBoundaries out;
    for (int i = 2; i <= 14; ++i) out.push_back(std::pow(4.0, i));
    return out;
  }();
  return b;
}

// The label tuples of cache_operations_total cachekit-py writes, one per kind of event.
// success is Python's str(bool); failures go through its record_failure, whose serializer is
// always "unknown".
enum series_kind : std::size_t {
  l1_get_hit,          // get, True, l1_memory  (wrapper.py: an L1 hit)
  l2_get_hit,          // get, True, rust       (an L2 hit)
  l2_set,              // set, True, rust       (an L2 write)
  l2_get_failed,       // cache_get, False, unknown
  l2_set_failed,       // cache_set, False, unknown
  l2_get_deserialize,  // cache_get_deserialize, False, unknown (an L2 entry that did not open)
  series_kinds
};
struct series_labels {
  const char* operation;
  const char* success;
  const char* serializer;
};
constexpr std::array<series_labels, series_kinds> labels_of{{
    {"get", "True", "l1_memory"},
    {"get", "True", "rust"},
    {"set", "True", "rust"},
    {"cache_get", "False", "unknown"},
    {"cache_set", "False", "unknown"},
    {"cache_get_deserialize", "False", "unknown"},
}};

const char* state_label(circuit_state s) {
  switch (s) {
    case circuit_state::closed: return "CLOSED";
    case circuit_state::open: return "OPEN";
    case circuit_state::half_open: return "HALF_OPEN";
  }
  return "CLOSED";
}

// cachekit-py's `reason` label of cachekit_decrypt_failures_total, from the error code.
const char* decrypt_failure_reason(const std::error_code& code) {
  if (code == errc_group::security) return "auth_tamper";
  if (code.category() != cachekit_category()) return "corruption";
  switch (static_cast<errc>(code.value())) {
    case errc::length_limit:
    case errc::decompression_bomb:
    case errc::input_too_large: return "suspicious_envelope";
    case errc::truncated:
    case errc::trailing_bytes:
    case errc::malformed:
    case errc::unsupported_version: return "envelope_shape";
    default: return "corruption";
  }
}

std::atomic<std::uint64_t> next_observer_id{1};

}  // namespace

struct prometheus_observer::impl {
  std::shared_ptr<prometheus::Registry> registry;
  prometheus_options options;
  std::uint64_t id = next_observer_id.fetch_add(1);
  prometheus::Family<prometheus::Counter>& operations;
  prometheus::Family<prometheus::Histogram>& durations;
  prometheus::Family<prometheus::Histogram>& sizes;
  prometheus::Family<prometheus::Gauge>& breakers;
  prometheus::Family<prometheus::Counter>& redis_operations;
  prometheus::Family<prometheus::Counter>& decrypt_failures;

  // The series of one namespace, each bound on its first update (as cachekit-py binds them),
  // so a tuple never updated exports nothing.
  struct bound {
    std::atomic<prometheus::Counter*> count{nullptr};
    std::atomic<prometheus::Histogram*> duration{nullptr};
    std::atomic<prometheus::Histogram*> size{nullptr};
  };
  struct namespace_series {
    std::string label;
    std::array<bound, series_kinds> series;
  };
  std::mutex mutex;  // guards the maps below and every Family::Add
  std::unordered_map<std::string, std::unique_ptr<namespace_series>> namespaces;
  std::unordered_map<std::string, prometheus::Counter*> decrypt_series;
  prometheus::Counter* shed = nullptr;
  std::array<prometheus::Gauge*, 3> breaker_states{};

  impl(std::shared_ptr<prometheus::Registry> r, prometheus_options o)
      : registry(std::move(r)),
        options(std::move(o)),
        operations(prometheus::BuildCounter()
                       .Name("cache_operations_total")
                       .Help("Total cache operations")
                       .Register(*registry)),
        durations(prometheus::BuildHistogram()
                      .Name("cache_operation_duration_ms")
                      .Help("Cache operation duration")
                      .Register(*registry)),
        sizes(prometheus::BuildHistogram()
                  .Name("cache_operation_size_bytes")
                  .Help("Cache operation size")
                  .Register(*registry)),
        breakers(prometheus::BuildGauge()
                     .Name("circuit_breaker_state")
                     .Help("Number of live circuit breakers per namespace and state")
                     .Register(*registry)),
        redis_operations(prometheus::BuildCounter()
                             .Name("redis_cache_operations_total")
                             .Help("Total cache operations by type and status. Use this to "
                                   "calculate hit rates, error rates, and operation distribution. "
                                   "Labels allow filtering by namespace for multi-tenant "
                                   "scenarios.")
                             .Register(*registry)),
        decrypt_failures(prometheus::BuildCounter()
                             .Name("cachekit_decrypt_failures_total")
                             .Help("Counter metric cachekit_decrypt_failures_total")
                             .Register(*registry)) {}

  namespace_series& series_of(std::string_view ns) {
    // One entry per thread: a thread calling one function mostly stays in one namespace.
    struct last_used {
      std::uint64_t owner = 0;
      std::string ns;
      namespace_series* series = nullptr;
    };
    thread_local last_used last;
    if (last.owner == id && last.series != nullptr && last.ns == ns) return *last.series;
    std::lock_guard lock(mutex);
    auto it = namespaces.find(std::string(ns));
    if (it == namespaces.end()) {
      auto made = std::make_unique<namespace_series>();
      made->label = ns.empty() ? "default" : std::string(ns);
      it = namespaces.emplace(std::string(ns), std::move(made)).first;
    }
    last.owner = id;
    last.ns.assign(ns);
    last.series = it->second.get();
    return *last.series;
  }

  void record(std::string_view ns, series_kind kind, std::chrono::nanoseconds latency,
              std::size_t bytes) {
    namespace_series& s = series_of(ns);
    bound& b = s.series[kind];
    const series_labels& l = labels_of[kind];
    prometheus::Counter* count = b.count.load(std::memory_order_acquire);
    if (count == nullptr) {
      std::lock_guard lock(mutex);
      count = &operations.Add({{"operation", l.operation},
                               {"namespace", s.label},
                               {"success", l.success},
                               {"serializer", l.serializer}});
      b.count.store(count, std::memory_order_release);
    }
    count->Increment();
    // cachekit-py observes a duration or a size only when it is positive.
    if (latency.count() > 0) {
      prometheus::Histogram* h = b.duration.load(std::memory_order_acquire);
      if (h == nullptr) {
        std::lock_guard lock(mutex);
        h = &durations.Add(
            {{"operation", l.operation}, {"namespace", s.label}, {"serializer", l.serializer}},
            duration_buckets_ms());
        b.duration.store(h, std::memory_order_release);
      }
      h->Observe(static_cast<double>(latency.count()) / 1e6);
    }
    if (bytes > 0) {
      prometheus::Histogram* h = b.size.load(std::memory_order_acquire);
      if (h == nullptr) {
        std::lock_guard lock(mutex);
        h = &sizes.Add(
            {{"operation", l.operation}, {"namespace", s.label}, {"serializer", l.serializer}},
            size_buckets_bytes());
        b.size.store(h, std::memory_order_release);
      }
      h->Observe(static_cast<double>(bytes));
    }
  }
};

prometheus_observer::prometheus_observer(std::shared_ptr<prometheus::Registry> registry,
                                         prometheus_options options)
    : impl_(std::make_unique<impl>(std::move(registry), std::move(options))) {}

prometheus_observer::~prometheus_observer() = default;

void prometheus_observer::on_operation(const operation_event& e) {
  switch (e.outcome) {
    case op_outcome::hit:
      if (e.operation != cache_op::get) return;
      if (e.layer == cache_layer::l1) {
        impl_->record(e.ns, l1_get_hit, e.latency, e.bytes);
      } else if (e.layer == cache_layer::l2) {
        impl_->record(e.ns, l2_get_hit, e.latency, e.bytes);
      }
      return;
    case op_outcome::stored:
      // cachekit-py records the time of a write, not its size.
      if (e.operation == cache_op::set && e.layer == cache_layer::l2) {
        impl_->record(e.ns, l2_set, e.latency, 0);
      }
      return;
    case op_outcome::failed:
      if (e.operation == cache_op::get) impl_->record(e.ns, l2_get_failed, e.latency, 0);
      if (e.operation == cache_op::set) impl_->record(e.ns, l2_set_failed, e.latency, 0);
      return;
    case op_outcome::shed: {
      // load_control.py: the backpressure controller's rejection, with empty labels.
      prometheus::Counter* shed = nullptr;
      {
        std::lock_guard lock(impl_->mutex);
        if (impl_->shed == nullptr) {
          impl_->shed = &impl_->redis_operations.Add({{"operation", "backpressure"},
                                                      {"status", "rejected"},
                                                      {"serializer", ""},
                                                      {"namespace", ""}});
        }
        shed = impl_->shed;
      }
      shed->Increment();
      return;
    }
    case op_outcome::miss:     // cachekit-py counts no misses in these metrics
    case op_outcome::skipped:  // nor calls its breaker rejected (it only logs them)
      return;
  }
}

void prometheus_observer::on_fault(const fault_event& e) {
  const bool security = e.kind == fault_kind::security_failure;
  // An entry that fails authentication is reported twice (security_failure, then corrupt_entry
  // unless fail_closed): counted once, under its security reason.
  if (!(security || (e.kind == fault_kind::corrupt_entry && e.what.code != errc_group::security))) {
    return;
  }
  if (e.layer != cache_layer::l1 && e.layer != cache_layer::l2) return;
  const char* reason = decrypt_failure_reason(e.what.code);
  const char* tier = e.layer == cache_layer::l1 ? "l1" : "l2";
  prometheus::Counter* counter = nullptr;
  {
    std::lock_guard lock(impl_->mutex);
    const std::string key = std::string(reason) + '|' + tier;
    auto it = impl_->decrypt_series.find(key);
    if (it == impl_->decrypt_series.end()) {
      it = impl_->decrypt_series
               .emplace(key, &impl_->decrypt_failures.Add({{"reason", reason}, {"tier", tier}}))
               .first;
    }
    counter = it->second;
  }
  counter->Increment();
  // wrapper.py's _on_l2_deserialize_error: an L2 entry that did not open is also a failed
  // cache_get_deserialize operation.
  if (e.layer == cache_layer::l2 && !security) {
    impl_->record(e.ns, l2_get_deserialize, std::chrono::nanoseconds{-1}, 0);
  }
}

void prometheus_observer::on_breaker(const breaker_event& e) {
  std::lock_guard lock(impl_->mutex);
  if (impl_->breaker_states[0] == nullptr) {
    // As cachekit-py, the namespace exports all three states once its first breaker exists.
    for (circuit_state s : {circuit_state::closed, circuit_state::open, circuit_state::half_open}) {
      impl_->breaker_states[static_cast<std::size_t>(s)] = &impl_->breakers.Add(
          {{"namespace", impl_->options.breaker_namespace}, {"state", state_label(s)}});
    }
  }
  if (e.from) impl_->breaker_states[static_cast<std::size_t>(*e.from)]->Decrement();
  if (e.to) impl_->breaker_states[static_cast<std::size_t>(*e.to)]->Increment();
}

}  // namespace v0
}  // namespace cachekit
