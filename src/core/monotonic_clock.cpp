#include <cachekit/monotonic_clock.hpp>

#include <chrono>
#include <ctime>
#include <thread>

namespace cachekit {
inline namespace v0 {
namespace {

class precise_clock final : public monotonic_clock {
 public:
  [[nodiscard]] time_point now() const noexcept override {
    return std::chrono::steady_clock::now();
  }
};

class coarse_clock final : public monotonic_clock {
 public:
  [[nodiscard]] time_point now() const noexcept override {
#if defined(__linux__) && defined(CLOCK_MONOTONIC_COARSE)
    // libstdc++'s steady_clock reads CLOCK_MONOTONIC, so both clocks share one timeline.
    timespec ts{};
    if (clock_gettime(CLOCK_MONOTONIC_COARSE, &ts) == 0) {
      return time_point{std::chrono::duration_cast<duration>(std::chrono::seconds{ts.tv_sec} +
                                                             std::chrono::nanoseconds{ts.tv_nsec})};
    }
#endif
    return std::chrono::steady_clock::now();
  }
};

}  // namespace

void monotonic_clock::sleep_for(duration d) const {
  if (d > duration::zero()) std::this_thread::sleep_for(d);
}

const monotonic_clock& monotonic_clock::precise() noexcept {
  static const precise_clock clock;
  return clock;
}

const monotonic_clock& monotonic_clock::coarse() noexcept {
  static const coarse_clock clock;
  return clock;
}

}  // namespace v0
}  // namespace cachekit
