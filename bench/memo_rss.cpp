// How much memory a memoized function really costs against its L1 budget (issue 10): millions
// of distinct calls through an L1-only cache, then the process's RSS growth divided by the L1
// budget. Each budget runs in its own child process, so one run's heap does not hide another's.
//
//     cachekit_memo_rss                 # 3,000,000 calls with a 16 MiB and a 64 MiB L1
//     cachekit_memo_rss 5000000 16 64   # calls, then budgets in MiB
//
// Prints one line per budget and exits 1 when a ratio is above 1.3.
#include <cachekit/cache.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

namespace {

constexpr double max_ratio = 1.3;

// Resident set size in bytes, from /proc/self/status (VmRSS, in KiB).
std::size_t rss_bytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  }
  return 0;
}

// One budget, in this (child) process. Returns the ratio; prints the line.
double measure(std::int64_t calls, std::size_t budget_mib) {
  const std::size_t budget = budget_mib << 20;
  cachekit::cache cache(cachekit::cache_options{.l1_max_bytes = budget});
  auto square = cache.memoize("bench.memo_rss.square", [](std::int64_t x) { return x * x; });
  (void)square(-1);  // first-call costs (key scratch, stripes) belong to the baseline
  const std::size_t before = rss_bytes();
  for (std::int64_t i = 0; i < calls; ++i) (void)square(i);
  const std::size_t after = rss_bytes();
  const double growth = static_cast<double>(after - before);
  const double ratio = growth / static_cast<double>(budget);
  const cachekit::l1_stats l1 = cache.l1();
  std::printf(
      "L1 budget %3zu MiB: %lld distinct calls, RSS growth %.1f MiB, growth / budget = %.2f "
      "(L1 holds %zu entries, %.1f MiB charged)\n",
      budget_mib, static_cast<long long>(calls), growth / (1 << 20), ratio, l1.entries,
      static_cast<double>(l1.bytes) / (1 << 20));
  return ratio;
}

}  // namespace

int main(int argc, char** argv) {
  const std::int64_t calls = argc > 1 ? std::atoll(argv[1]) : 3'000'000;
  std::vector<std::size_t> budgets;
  for (int i = 2; i < argc; ++i) budgets.push_back(std::strtoull(argv[i], nullptr, 10));
  if (budgets.empty()) budgets = {16, 64};

  bool within = true;
  for (const std::size_t budget : budgets) {
    std::fflush(stdout);
    const pid_t child = fork();
    if (child == 0) {
      const bool ok = measure(calls, budget) <= max_ratio;
      std::fflush(stdout);  // _Exit does not flush
      std::_Exit(ok ? 0 : 1);
    }
    int status = 0;
    if (child < 0 || waitpid(child, &status, 0) != child || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0) {
      within = false;
    }
  }
  return within ? 0 : 1;
}
