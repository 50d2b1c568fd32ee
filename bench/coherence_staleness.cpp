// How long a process keeps serving a value another process changed, per L1 coherence mode
// (cache_options::coherence): ttl_only, invalidation_events, redis_tracking. Real processes on
// one redis-server (started here): a reader process (forked, its own cache) calls a memoized
// function in a loop; the writer process changes the truth the function reads (a counter in
// shared memory, standing for a database row), stamps the time, then invalidates the entry.
// The staleness of one update is the time from that stamp until the reader's call returns the
// new value. Not a Google Benchmark: percentiles per mode, read side by side.
//
//     cachekit_coherence_staleness [updates]     # default 200 (ttl_only: 20, each up to 1 s)
#include <cachekit/cache.hpp>
#include <cachekit/redis_backend.hpp>

#include "support/local_server.hpp"

#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <thread>
#include <vector>

namespace {

using steady = std::chrono::steady_clock;
using namespace std::chrono_literals;
using cachekit::testing::local_server;

constexpr int max_updates = 1000;

// Shared by the writer and the reader (MAP_SHARED before the fork). steady_clock is
// CLOCK_MONOTONIC: one clock for both processes.
struct shared_state {
  std::atomic<std::int64_t> truth{0};
  std::atomic<std::int64_t> changed_at_ns{0};
  std::atomic<bool> reader_ready{false};
  std::atomic<bool> done{false};
  std::atomic<std::int64_t> seen_ns[max_updates];  // reader: when it first served version i
};

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(steady::now().time_since_epoch())
      .count();
}

cachekit::cache make_cache(const std::string& url, cachekit::l1_coherence mode) {
  cachekit::cache_options options =
      cachekit::cache_options::for_intent(cachekit::intent::production);
  options.l2 = std::make_shared<cachekit::redis_backend>(
      cachekit::redis_options{.url = url, .key_layout = cachekit::redis_key_layout::tenant_scoped});
  options.coherence = mode;
  options.swr.enabled = false;  // measure the mode, not a background refresh
  return cachekit::cache(std::move(options));
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  const auto at = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(at), v.end());
  return v[at];
}

void reader(const std::string& url, cachekit::l1_coherence mode, shared_state& s) {
  auto c = make_cache(url, mode);
  auto f = c.memoize("bench.staleness.row", [&s](int) { return s.truth.load(); }, {.ttl = 1s});
  if (mode != cachekit::l1_coherence::ttl_only) {
    while (c.stats().listener_subscriptions == 0) std::this_thread::sleep_for(1ms);
  }
  (void)f(0);
  s.reader_ready = true;
  while (!s.done.load()) {
    const std::int64_t v = f(0);
    if (v > 0 && v < max_updates && s.seen_ns[v].load() == 0) s.seen_ns[v] = now_ns();
  }
}

void measure(const std::string& url, cachekit::l1_coherence mode, const char* name, int updates,
             std::chrono::milliseconds spacing) {
  auto* s = static_cast<shared_state*>(mmap(nullptr, sizeof(shared_state), PROT_READ | PROT_WRITE,
                                            MAP_SHARED | MAP_ANONYMOUS, -1, 0));
  if (s == MAP_FAILED) std::exit(1);
  new (s) shared_state();
  const pid_t child = fork();
  if (child == 0) {
    reader(url, mode, *s);
    _exit(0);
  }
  auto c = make_cache(url, mode);
  auto f = c.memoize("bench.staleness.row", [s](int) { return s->truth.load(); }, {.ttl = 1s});
  while (!s->reader_ready.load()) std::this_thread::sleep_for(1ms);
  std::vector<std::int64_t> changed(static_cast<std::size_t>(updates) + 1, 0);
  for (int v = 1; v <= updates; ++v) {
    changed[static_cast<std::size_t>(v)] = now_ns();
    s->truth = v;     // the row changes ...
    f.invalidate(0);  // ... and the writer invalidates its cache entry, as an application does
    std::this_thread::sleep_for(spacing);
  }
  std::this_thread::sleep_for(1200ms);  // longer than the TTL: every version has been seen
  s->done = true;
  waitpid(child, nullptr, 0);
  std::vector<double> ms;
  int missed = 0;
  for (int v = 1; v <= updates; ++v) {
    const std::int64_t seen = s->seen_ns[v].load();
    // A version replaced before the reader saw it was never served stale for longer than the
    // next one: count it as missed, not as a figure.
    if (seen == 0) {
      ++missed;
      continue;
    }
    ms.push_back(static_cast<double>(seen - changed[static_cast<std::size_t>(v)]) / 1e6);
  }
  std::printf(
      "%-20s updates %4d  served %4zu  staleness p50 %9.3f ms  p99 %9.3f ms  max %9.3f ms\n", name,
      updates, ms.size(), percentile(ms, 0.5), percentile(ms, 0.99),
      ms.empty() ? 0.0 : *std::max_element(ms.begin(), ms.end()));
  if (missed > 0)
    std::printf("%-20s (%d versions replaced before the reader saw them)\n", "", missed);
  munmap(s, sizeof(shared_state));
}

}  // namespace

int main(int argc, char** argv) {
  const int updates = std::clamp(argc > 1 ? std::atoi(argv[1]) : 200, 1, max_updates - 1);
  auto server = local_server::start_redis();
  const std::string url = server->address();
  std::printf("L1 staleness after another process's change (entry TTL 1 s, one reader process)\n");
  measure(url, cachekit::l1_coherence::ttl_only, "ttl_only", std::min(updates, 20), 1100ms);
  measure(url, cachekit::l1_coherence::invalidation_events, "invalidation_events", updates, 20ms);
  measure(url, cachekit::l1_coherence::redis_tracking, "redis_tracking", updates, 20ms);
  return 0;
}
