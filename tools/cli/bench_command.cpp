#include "bench_command.hpp"

#include "cli_io.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ostream>
#include <random>
#include <string>

namespace cachekit::cli {
namespace {

using clock_type = std::chrono::steady_clock;

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
      req.set_ratio > 1) {
    err << "cachekit: bench needs --ops > 0, --seconds > 0, --keys > 0 and --set-ratio in [0, 1]\n";
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
  std::vector<std::chrono::nanoseconds> gets, sets;
  std::size_t get_errors = 0, set_errors = 0, misses = 0;
  std::uniform_real_distribution<double> coin(0, 1);
  std::uniform_int_distribution<std::size_t> pick(0, warm - 1);
  const auto start = clock_type::now();
  const auto deadline = start + req.duration;
  std::size_t done = 0;
  for (; done < req.ops && clock_type::now() < deadline; ++done) {
    const std::string key = prefix + std::to_string(pick(rng));
    const bool is_set = coin(rng) < req.set_ratio;
    const auto t0 = clock_type::now();
    if (is_set) {
      const bool ok = b.store->set(key, value, std::chrono::seconds(300)).has_value();
      sets.push_back(clock_type::now() - t0);
      set_errors += ok ? 0 : 1;
    } else {
      auto hit = b.store->get(key);
      gets.push_back(clock_type::now() - t0);
      if (!hit) {
        ++get_errors;
      } else if (!*hit) {
        ++misses;
      }
    }
  }
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
  out << "throughput: " << rate << " ops/s (one connection, sequential); " << misses
      << " get misses; " << cleaned << " bench keys deleted\n";
  return (get_errors + set_errors) == 0 ? exit_ok : exit_bad_input;
}

}  // namespace cachekit::cli
