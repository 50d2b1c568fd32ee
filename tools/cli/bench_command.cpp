#include "bench_command.hpp"

#include "cli_io.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <ostream>
#include <random>
#include <string>
#include <thread>

namespace cachekit::cli {
namespace {

using clock_type = std::chrono::steady_clock;

struct worker_tally {
  std::vector<std::chrono::nanoseconds> gets;
  std::vector<std::chrono::nanoseconds> sets;
  std::size_t get_errors = 0;
  std::size_t set_errors = 0;
  std::size_t misses = 0;
};

std::string ms(std::chrono::nanoseconds d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", std::chrono::duration<double, std::milli>(d).count());
  return buf;
}

void print_line(std::ostream& out, const char* name, std::vector<std::chrono::nanoseconds>& s,
                std::size_t errors) {
  std::sort(s.begin(), s.end());
  out << name << ": " << s.size() << " ops, " << errors << " errors";
  if (!s.empty()) {
    out << ", p50 " << ms(percentile(s, 50)) << " ms, p90 " << ms(percentile(s, 90)) << " ms, p99 "
        << ms(percentile(s, 99)) << " ms, max " << ms(s.back()) << " ms";
  }
  out << '\n';
}

}  // namespace

std::chrono::nanoseconds percentile(const std::vector<std::chrono::nanoseconds>& sorted, double p) {
  if (sorted.empty()) return std::chrono::nanoseconds{0};
  const auto rank =
      static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
  return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

int bench_command(live_backend& b, const bench_request& req, std::ostream& out, std::ostream& err) {
  if (req.ops == 0 || req.duration.count() <= 0 || req.key_space == 0 || req.set_ratio < 0 ||
      req.set_ratio > 1 || req.connections == 0 || req.connections > max_bench_connections) {
    err << "cachekit: bench needs --ops > 0, --seconds > 0, --keys > 0, --set-ratio in [0, 1] "
           "and --connections from 1 to "
        << max_bench_connections << '\n';
    return exit_usage;
  }
  const std::string prefix = "cachekit:bench:" + std::to_string(::getpid()) + ":";
  std::mt19937_64 rng(12345);
  byte_buffer value(req.value_size);
  for (auto& byte : value) byte = static_cast<std::byte>(rng());
  // Fill the key space first so gets hit; these writes are not measured.
  const std::size_t warm = std::min(req.key_space, req.ops);
  for (std::size_t i = 0; i < warm; ++i) {
    if (auto ok = b.store->set(prefix + std::to_string(i), value, std::chrono::seconds(300)); !ok) {
      err << "cachekit: bench could not write to " << b.description << ": " << ok.error().message()
          << '\n';
      return exit_bad_input;
    }
  }
  // Each worker holds one pooled connection at a time and records its own samples; the ops are
  // shared out so the total is exactly --ops (unless --seconds ends the run first).
  std::vector<worker_tally> tallies(req.connections);
  std::atomic<std::size_t> next_op{0};
  const auto start = clock_type::now();
  const auto deadline = start + req.duration;
  auto work = [&](worker_tally& t, std::uint64_t seed) {
    std::mt19937_64 wrng(seed);
    std::uniform_real_distribution<double> coin(0, 1);
    std::uniform_int_distribution<std::size_t> pick(0, warm - 1);
    while (next_op.fetch_add(1) < req.ops && clock_type::now() < deadline) {
      const std::string key = prefix + std::to_string(pick(wrng));
      const bool is_set = coin(wrng) < req.set_ratio;
      const auto t0 = clock_type::now();
      if (is_set) {
        const bool ok = b.store->set(key, value, std::chrono::seconds(300)).has_value();
        t.sets.push_back(clock_type::now() - t0);
        t.set_errors += ok ? 0 : 1;
      } else {
        auto hit = b.store->get(key);
        t.gets.push_back(clock_type::now() - t0);
        if (!hit) {
          ++t.get_errors;
        } else if (!*hit) {
          ++t.misses;
        }
      }
    }
  };
  {
    std::vector<std::jthread> workers;
    for (std::size_t i = 1; i < req.connections; ++i)
      workers.emplace_back(work, std::ref(tallies[i]), i);
    work(tallies[0], 0);
  }
  std::vector<std::chrono::nanoseconds> gets;
  std::vector<std::chrono::nanoseconds> sets;
  std::size_t get_errors = 0;
  std::size_t set_errors = 0;
  std::size_t misses = 0;
  for (const auto& t : tallies) {
    gets.insert(gets.end(), t.gets.begin(), t.gets.end());
    sets.insert(sets.end(), t.sets.begin(), t.sets.end());
    get_errors += t.get_errors;
    set_errors += t.set_errors;
    misses += t.misses;
  }
  const std::size_t done = gets.size() + sets.size();
  const auto elapsed = clock_type::now() - start;
  std::size_t cleaned = 0;
  for (std::size_t i = 0; i < warm; ++i) {
    auto erased = b.store->erase(prefix + std::to_string(i));
    cleaned += erased && *erased ? 1 : 0;
  }
  std::vector<std::chrono::nanoseconds> all(gets);
  all.insert(all.end(), sets.begin(), sets.end());
  out << "bench: " << b.description << ", " << done << " ops in " << ms(elapsed) << " ms, "
      << req.value_size << "-byte values, " << warm << " keys, set ratio " << req.set_ratio << '\n';
  print_line(out, "get", gets, get_errors);
  print_line(out, "set", sets, set_errors);
  print_line(out, "all", all, get_errors + set_errors);
  const double seconds = std::chrono::duration<double>(elapsed).count();
  char rate[32];
  std::snprintf(rate, sizeof rate, "%.0f", seconds > 0 ? static_cast<double>(done) / seconds : 0.0);
  out << "throughput: " << rate << " ops/s ("
      << (req.connections == 1 ? std::string("1 connection")
                               : std::to_string(req.connections) + " connections")
      << ", one operation at a time on each); " << misses << " get misses; " << cleaned
      << " bench keys deleted\n";
  return (get_errors + set_errors) == 0 ? exit_ok : exit_bad_input;
}

}  // namespace cachekit::cli
