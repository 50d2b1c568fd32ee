// What attaching observers costs a memoized L1 hit (bytes mode, L1 only, the call of
// cache_bench's cache_memo_l1_hit_bytes), in one run:
// - `none`: no observer (the default): one branch per event;
// - `counting`: an observer that counts operations and asks for no latency (a virtual call);
// - `timed`: the same asking for latencies (two steady_clock reads per hit);
// - `prometheus`: cachekit::prometheus_observer (counter, duration and size histograms).
// Report ratios of medians against `none`; docs/observability.md has the figures.
#include <cachekit/cache.hpp>
#include <cachekit/prometheus.hpp>

#include "bench_inputs.hpp"

#include <benchmark/benchmark.h>
#include <prometheus/registry.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <memory>

namespace {

using cachekit_bench::arguments;
using cachekit_bench::call_args;
using cachekit_bench::lookup;
using cachekit_bench::lookup_runs;
using cachekit_bench::next_index;
using cachekit_bench::product;

class counting_observer final : public cachekit::observer {
 public:
  explicit counting_observer(bool timed) : timed_(timed) {}
  bool wants_latency() const noexcept override { return timed_; }
  void on_operation(const cachekit::operation_event&) override {
    count_.fetch_add(1, std::memory_order_relaxed);
  }

 private:
  bool timed_;
  std::atomic<std::uint64_t> count_{0};
};

enum class attached { none, counting, timed, prometheus };

template <attached What>
struct fixture {
  fixture()
      : cache([] {
          cachekit::cache_options o;  // bytes mode, L1 only, integrity on
          if constexpr (What == attached::counting) {
            o.observers.push_back(std::make_shared<counting_observer>(false));
          } else if constexpr (What == attached::timed) {
            o.observers.push_back(std::make_shared<counting_observer>(true));
          } else if constexpr (What == attached::prometheus) {
            o.observers.push_back(std::make_shared<cachekit::prometheus_observer>(
                std::make_shared<prometheus::Registry>()));
          }
          return o;
        }()),
        memo(cache.memoize("bench.catalog.lookup", lookup)) {
    for (const auto& a : arguments()) (void)memo(a.id, *a.region);
    const int runs = lookup_runs;
    for (const auto& a : arguments()) (void)memo(a.id, *a.region);
    if (lookup_runs != runs) std::abort();  // every read must hit
  }
  cachekit::cache cache;
  decltype(cache.memoize("bench.catalog.lookup", lookup)) memo;
};

template <attached What>
void l1_hit(benchmark::State& state) {
  static fixture<What> f;
  const auto& args = arguments();
  std::size_t i = static_cast<std::size_t>(state.thread_index()) * 7919;
  for (auto _ : state) {
    const call_args& a = args[next_index(i)];
    product p = f.memo(a.id, *a.region);
    benchmark::DoNotOptimize(p.id);
    benchmark::DoNotOptimize(p.name.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

void observer_l1_hit_none(benchmark::State& s) {
  l1_hit<attached::none>(s);
}
void observer_l1_hit_counting(benchmark::State& s) {
  l1_hit<attached::counting>(s);
}
void observer_l1_hit_timed(benchmark::State& s) {
  l1_hit<attached::timed>(s);
}
void observer_l1_hit_prometheus(benchmark::State& s) {
  l1_hit<attached::prometheus>(s);
}

}  // namespace

BENCHMARK(observer_l1_hit_none)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(observer_l1_hit_counting)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(observer_l1_hit_timed)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(observer_l1_hit_prometheus)->Threads(1)->Threads(2)->UseRealTime();
