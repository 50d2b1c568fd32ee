// The cache at work: a memoized price lookup that costs ~2 ms per real call, called 20,000
// times over 2,000 SKUs with a skewed (Zipf) popularity, through L1 and an L2. Prints which
// layer served the calls, how long each kind took, what the L2 holds, and the time saved.
//
// Run with `make demo`. With no server the L2 is a file_backend in a fresh temporary directory
// (removed at exit); with REDIS_URL set it is that Redis, with cachekit-py's zero-config key
// layout (`t:default:` in front of every key) and the entries written are deleted at exit.
//
// The run has two phases, as two processes would: the first cache starts cold; a second cache,
// with its own empty L1, then serves the same calls from the first one's L2 entries.
#include <cachekit/cache.hpp>
#include <cachekit/file_backend.hpp>
#include <cachekit/frame.hpp>
#include <cachekit/redis_backend.hpp>

#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using clock_type = std::chrono::steady_clock;

constexpr std::size_t call_count = 20'000;
constexpr std::size_t sku_count = 2'000;
constexpr std::int64_t first_sku = 10'000;  // the most popular; rank k is first_sku + k - 1
constexpr double zipf_s = 1.0;
constexpr std::uint64_t seed = 42;
constexpr std::size_t l1_budget = 256 * 1024;
constexpr auto function_cost = 2ms;

// What the expensive call returns: a dict {"sku": ..., "name": ..., ...} for cachekit-py.
struct price_quote {
  std::int64_t sku = 0;
  std::string name;
  std::string currency;
  double price = 0;
  std::int64_t stock = 0;
  MSGPACK_DEFINE_MAP(sku, name, currency, price, stock)
};

// The "expensive" function: a pricing-service round trip, simulated by a sleep.
std::atomic<std::uint64_t> function_runs{0};
std::atomic<std::int64_t> function_nanos{0};

price_quote quote(std::int64_t sku, const std::string& currency) {
  const auto started = clock_type::now();
  std::this_thread::sleep_for(function_cost);
  ++function_runs;
  price_quote q{sku, "product-" + std::to_string(sku), currency,
                9.99 + static_cast<double>(sku % 97), (sku * 37) % 500};
  function_nanos += (clock_type::now() - started).count();
  return q;
}

// SKU ids drawn with P(rank k) proportional to 1/k^s: a few hot products, a long tail.
std::vector<std::int64_t> zipf_stream() {
  std::vector<double> cdf(sku_count);
  double total = 0;
  for (std::size_t k = 0; k < sku_count; ++k) {
    total += 1.0 / std::pow(static_cast<double>(k + 1), zipf_s);
    cdf[k] = total;
  }
  std::mt19937_64 random(seed);
  std::uniform_real_distribution<double> uniform(0, total);
  std::vector<std::int64_t> stream(call_count);
  for (auto& sku : stream) {
    const auto rank = std::lower_bound(cdf.begin(), cdf.end(), uniform(random)) - cdf.begin();
    sku = first_sku + rank;
  }
  return stream;
}

// A temporary directory (mode 0700, as the file backend requires), removed on scope exit.
struct temp_dir {
  temp_dir() {
    std::string pattern = (fs::temp_directory_path() / "cachekit-demo-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path = pattern;
  }
  ~temp_dir() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  fs::path path;
};

struct latencies {
  std::vector<double> l1, l2, miss;  // microseconds
};

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  const auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(i), v.end());
  return v[i];
}

std::string format_us(double us) {
  char text[32];
  if (us >= 1000) {
    std::snprintf(text, sizeof text, "%.2f ms", us / 1000);
  } else {
    std::snprintf(text, sizeof text, "%.1f us", us);
  }
  return text;
}

void print_latency_row(const char* name, const std::vector<double>& v) {
  if (v.empty()) {
    std::printf("    %-8s %6s\n", name, "-");
    return;
  }
  std::printf("    %-8s %6zu  %10s %10s %10s\n", name, v.size(),
              format_us(percentile(v, 0.5)).c_str(), format_us(percentile(v, 0.9)).c_str(),
              format_us(percentile(v, 0.99)).c_str());
}

struct phase_result {
  double seconds = 0;
};

// Calls `fn` for every SKU of the stream, timing each call and classifying it by which counter
// of `info()` moved.
template <class Memo>
phase_result run_phase(const char* title, const Memo& fn, const cachekit::cache& cache,
                       const std::vector<std::int64_t>& stream, const std::string& currency) {
  latencies lat;
  const std::uint64_t runs_before = function_runs;
  cachekit::cache_info before = fn.info();
  const auto started = clock_type::now();
  for (const std::int64_t sku : stream) {
    const auto t0 = clock_type::now();
    const price_quote q = fn(sku, currency);
    const std::chrono::duration<double, std::micro> took = clock_type::now() - t0;
    if (q.sku != sku) std::abort();  // a cache must never answer for another key
    const cachekit::cache_info after = fn.info();
    if (after.l1_hits > before.l1_hits) {
      lat.l1.push_back(took.count());
    } else if (after.l2_hits > before.l2_hits) {
      lat.l2.push_back(took.count());
    } else {
      lat.miss.push_back(took.count());
    }
    before = after;
  }
  const std::chrono::duration<double> elapsed = clock_type::now() - started;

  const cachekit::cache_info info = fn.info();
  const cachekit::l1_stats l1 = cache.l1();
  const cachekit::cache_stats faults = cache.stats();
  std::printf("\n%s  (%.2f s)\n", title, elapsed.count());
  std::printf("  calls %zu  function runs %llu  l1_hits %llu  l2_hits %llu  misses %llu\n",
              stream.size(), static_cast<unsigned long long>(function_runs - runs_before),
              static_cast<unsigned long long>(info.l1_hits),
              static_cast<unsigned long long>(info.l2_hits),
              static_cast<unsigned long long>(info.misses));
  std::printf("    %-8s %6s  %10s %10s %10s\n", "latency", "calls", "p50", "p90", "p99");
  print_latency_row("L1 hit", lat.l1);
  print_latency_row("L2 hit", lat.l2);
  print_latency_row("miss", lat.miss);
  std::printf("  L1: %zu entries, %zu of %zu KiB, %llu evictions (%llu hits, %llu misses)\n",
              l1.entries, l1.bytes / 1024, l1_budget / 1024,
              static_cast<unsigned long long>(l1.evictions),
              static_cast<unsigned long long>(l1.hits), static_cast<unsigned long long>(l1.misses));
  std::printf(
      "  stats: l2_errors %llu, corrupt_entries %llu, oversize_values %llu, "
      "uncacheable_calls %llu\n",
      static_cast<unsigned long long>(faults.l2_errors),
      static_cast<unsigned long long>(faults.corrupt_entries),
      static_cast<unsigned long long>(faults.oversize_values),
      static_cast<unsigned long long>(faults.uncacheable_calls));
  return {elapsed.count()};
}

std::string hex_spaced(cachekit::byte_view bytes) {
  std::string out;
  char pair[4];
  for (const std::byte b : bytes) {
    std::snprintf(pair, sizeof pair, "%02x ", static_cast<unsigned>(b));
    out += pair;
  }
  if (!out.empty()) out.pop_back();
  return out;
}

// What the L2 holds for the SKUs the stream asked for: entry count and bytes, one key, and
// the layers of its stored value.
template <class Memo>
void print_stored(const Memo& fn, cachekit::backend& l2, const std::vector<std::int64_t>& stream,
                  const std::string& currency, const temp_dir* dir) {
  const std::set<std::int64_t> skus(stream.begin(), stream.end());
  std::size_t entries = 0;
  std::size_t bytes = 0;
  for (const std::int64_t sku : skus) {
    if (auto stored = l2.get(fn.key(sku, currency).value()).value()) {
      ++entries;
      bytes += stored->size();
    }
  }
  std::printf("\nstored in L2 (%.*s): %zu entries, %.1f KiB of values\n",
              static_cast<int>(l2.type().size()), l2.type().data(), entries,
              static_cast<double>(bytes) / 1024);
  if (dir != nullptr) {
    std::size_t files = 0;
    std::uintmax_t on_disk = 0;
    for (const auto& f : fs::directory_iterator(dir->path)) {
      ++files;
      on_disk += f.file_size();
    }
    std::printf("  %s: %zu files, %.1f KiB (each value + a 14-byte file header)\n",
                dir->path.c_str(), files, static_cast<double>(on_disk) / 1024);
  }

  const std::string key = fn.key(first_sku, currency).value();
  const auto stored = l2.get(key).value();
  if (!stored) return;
  std::printf("  the hottest call, quote(%lld, \"%s\"), is stored under\n    %s%s\n",
              static_cast<long long>(first_sku), currency.c_str(),
              std::string(l2.key_prefix()).c_str(), key.c_str());
  if (auto* files = dynamic_cast<cachekit::file_backend*>(&l2)) {
    std::printf("    file %s\n", files->path_of(key).filename().c_str());
  }
  const auto frame = cachekit::frame::decode(*stored).value();
  const std::size_t prefix = cachekit::frame::prefix_size + frame.header_len();
  std::printf("  %zu bytes: CK frame prefix [%s] (\"CK\", v3, header_len %zu)\n", stored->size(),
              hex_spaced(cachekit::byte_view(*stored).first(cachekit::frame::prefix_size)).c_str(),
              frame.header_len());
  std::printf("    header %.*s\n", static_cast<int>(frame.header_len()),
              reinterpret_cast<const char*>(stored->data() + cachekit::frame::prefix_size));
  std::printf("    payload %zu bytes: ByteStorage envelope (LZ4 + xxHash3-64) of the msgpack\n",
              stored->size() - prefix);
}

int run() {
  const std::vector<std::int64_t> stream = zipf_stream();
  const std::string currency = "EUR";
  const char* redis_url = std::getenv("REDIS_URL");
  std::unique_ptr<temp_dir> dir;

  // The L2 of each "process": a backend of its own over the same store.
  auto make_l2 = [&]() -> std::shared_ptr<cachekit::backend> {
    if (redis_url != nullptr && *redis_url != '\0') {
      return std::make_shared<cachekit::redis_backend>(cachekit::redis_options{
          .url = redis_url, .key_layout = cachekit::redis_key_layout::tenant_scoped});
    }
    return std::make_shared<cachekit::file_backend>(
        cachekit::file_backend_options{.cache_dir = dir->path});
  };
  auto make_cache = [&] {
    return cachekit::cache(cachekit::cache_options{.l2 = make_l2(), .l1_max_bytes = l1_budget});
  };
  if (redis_url == nullptr || *redis_url == '\0') dir = std::make_unique<temp_dir>();
  const cachekit::memoize_options memo_options{.ttl = 10min, .ns = "demo"};

  std::printf("cachekit demo: memoized quote(sku, currency), ~%lld ms per real call\n",
              static_cast<long long>(function_cost.count()));
  std::printf("  %zu calls over %zu SKUs, Zipf s=%.1f (seed %llu); L1 %zu KiB; L2 %s\n",
              stream.size(), sku_count, zipf_s, static_cast<unsigned long long>(seed),
              l1_budget / 1024,
              dir ? ("file_backend in " + dir->path.string()).c_str()
                  : ("Redis " + std::string(redis_url) + ", keys under t:default:").c_str());

  cachekit::cache first = make_cache();
  auto first_quote = first.memoize("shop.pricing.quote", quote, memo_options);
  const phase_result cold =
      run_phase("process 1: cold L1, empty L2", first_quote, first, stream, currency);

  // A second process: its own cache and backend, an empty L1, the same L2 entries.
  cachekit::cache second = make_cache();
  auto second_quote = second.memoize("shop.pricing.quote", quote, memo_options);
  const phase_result warm =
      run_phase("process 2: empty L1, warm L2", second_quote, second, stream, currency);

  print_stored(first_quote, *first.l2(), stream, currency, dir.get());

  const double mean_cost =
      static_cast<double>(function_nanos) / 1e9 / static_cast<double>(function_runs);
  const double uncached = static_cast<double>(stream.size()) * mean_cost;
  std::printf("\nuncached, each phase would take %.1f s (%zu calls x %.2f ms measured per run)\n",
              uncached, stream.size(), mean_cost * 1e3);
  std::printf("speedup: process 1 %.1fx, process 2 %.0fx\n", uncached / cold.seconds,
              uncached / warm.seconds);

  if (!dir) first_quote.clear();  // Redis: delete what this run wrote
  return 0;
}

}  // namespace

int main() {
  try {
    return run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cachekit demo failed: %s\n", e.what());
    return 1;
  }
}
