#include <cachekit/circuit_breaker.hpp>

#include <algorithm>
#include <string>
#include <utility>

namespace cachekit {
inline namespace v0 {
namespace {

circuit_breaker_options checked(circuit_breaker_options o) {
  auto refuse = [](const std::string& what) {
    throw error(errc::invalid_configuration, "circuit_breaker_options: " + what);
  };
  if (o.failure_threshold == 0) refuse("failure_threshold must be at least 1 (default 5)");
  if (o.success_threshold == 0) refuse("success_threshold must be at least 1 (default 3)");
  if (o.half_open_requests < o.success_threshold) {
    refuse("half_open_requests (" + std::to_string(o.half_open_requests) +
           ") must be >= success_threshold (" + std::to_string(o.success_threshold) +
           "): a half-open cycle could never close");
  }
  if (o.recovery_timeout <= std::chrono::milliseconds::zero()) {
    refuse(
        "recovery_timeout must be positive (default 30 s): at 0 a spent half-open cycle "
        "would restart on every call, with no bound on the probes");
  }
  if (o.failure_window <= std::chrono::milliseconds::zero()) {
    refuse("failure_window must be positive (default 60 s)");
  }
  return o;
}

}  // namespace

const char* to_string(circuit_state s) noexcept {
  switch (s) {
    case circuit_state::closed: return "closed";
    case circuit_state::open: return "open";
    case circuit_state::half_open: return "half_open";
  }
  return "unknown";
}

circuit_breaker::circuit_breaker(circuit_breaker_options options, const monotonic_clock& clock,
                                 transition_handler on_transition)
    : options_(checked(options)),
      clock_(&clock),
      on_transition_(std::move(on_transition)),
      failure_times_(options_.failure_threshold) {}

bool circuit_breaker::counts_as_failure(const std::error_code& code) noexcept {
  switch (classify(code)) {
    case error_class::transient:
    case error_class::timeout:
    case error_class::security: return true;
    case error_class::overload:
    case error_class::permanent: return false;
  }
  return false;
}

std::optional<circuit_breaker::permit> circuit_breaker::admit() {
  if (state_.load(std::memory_order_acquire) == circuit_state::closed) [[likely]] {
    return permit{};
  }
  std::vector<circuit_state> transitions;
  circuit_state from{};
  std::optional<permit> admitted;
  {
    std::lock_guard lock(mutex_);
    from = state_.load(std::memory_order_relaxed);
    const auto now = clock_->now();
    if (from == circuit_state::closed) return permit{};  // closed meanwhile
    // Half-open after the recovery timeout; or, when every probe slot was taken and none
    // reported within a cooldown (their callers gave up), a fresh cycle, or the breaker would
    // stay half-open and refusing for good.
    if ((from == circuit_state::open && now - opened_at_ >= options_.recovery_timeout) ||
        (from == circuit_state::half_open && probes_admitted_ >= options_.half_open_requests &&
         now - cycle_started_at_ >= options_.recovery_timeout)) {
      enter(circuit_state::half_open, transitions);
    }
    if (state_.load(std::memory_order_relaxed) == circuit_state::half_open &&
        probes_admitted_ < options_.half_open_requests) {
      ++probes_admitted_;
      admitted = permit{cycle_};
    }
  }
  if (!admitted) rejected_.fetch_add(1, std::memory_order_relaxed);
  announce(from, transitions);
  return admitted;
}

void circuit_breaker::record(permit p, std::optional<std::error_code> failure) {
  const bool failed = failure && counts_as_failure(*failure);
  if (!failed && p.cycle == 0 && state_.load(std::memory_order_acquire) == circuit_state::closed)
      [[likely]] {
    return;  // a success while closed changes nothing (successes do not reset the count)
  }
  std::vector<circuit_state> transitions;
  circuit_state from{};
  {
    std::lock_guard lock(mutex_);
    from = state_.load(std::memory_order_relaxed);
    if (failed) {
      on_failure(p, transitions);
    } else {
      on_success(p, transitions);
    }
  }
  announce(from, transitions);
}

void circuit_breaker::on_failure(const permit& p, std::vector<circuit_state>& transitions) {
  switch (state_.load(std::memory_order_relaxed)) {
    case circuit_state::open:
      // Admitted before it opened: counting it would push the reopening further away under
      // steady traffic.
      return;
    case circuit_state::half_open:
      if (p.cycle != cycle_) return;  // not one of this cycle's probes
      enter(circuit_state::open, transitions);
      return;
    case circuit_state::closed: {
      const auto now = clock_->now();
      failure_times_[next_failure_slot_] = now;
      next_failure_slot_ = (next_failure_slot_ + 1) % failure_times_.size();
      if (failures_in_window(now) >= options_.failure_threshold) {
        enter(circuit_state::open, transitions);
      }
      return;
    }
  }
}

void circuit_breaker::on_success(const permit& p, std::vector<circuit_state>& transitions) {
  if (state_.load(std::memory_order_relaxed) != circuit_state::half_open || p.cycle != cycle_) {
    return;
  }
  if (++probe_successes_ >= options_.success_threshold) enter(circuit_state::closed, transitions);
}

std::size_t circuit_breaker::failures_in_window(monotonic_clock::time_point now) const {
  // The ring holds the newest `failure_threshold` failures; unused slots hold time_point{},
  // which no monotonic clock reads on a running system (manual_clock starts an hour past it).
  return static_cast<std::size_t>(std::count_if(
      failure_times_.begin(), failure_times_.end(), [&](monotonic_clock::time_point t) {
        return t != monotonic_clock::time_point{} && now - t < options_.failure_window;
      }));
}

void circuit_breaker::enter(circuit_state next, std::vector<circuit_state>& transitions) {
  const auto now = clock_->now();
  switch (next) {
    case circuit_state::open:
      failures_at_opening_ = failures_in_window(now);
      opened_at_ = now;
      opened_.fetch_add(1, std::memory_order_relaxed);
      break;
    case circuit_state::half_open:
      ++cycle_;
      cycle_started_at_ = now;
      probes_admitted_ = 0;
      probe_successes_ = 0;
      break;
    case circuit_state::closed:
      std::fill(failure_times_.begin(), failure_times_.end(), monotonic_clock::time_point{});
      next_failure_slot_ = 0;
      probes_admitted_ = 0;
      probe_successes_ = 0;
      break;
  }
  state_.store(next, std::memory_order_release);
  transitions.push_back(next);
}

void circuit_breaker::announce(circuit_state from,
                               const std::vector<circuit_state>& transitions) const noexcept {
  if (!on_transition_) return;
  for (circuit_state to : transitions) {
    try {
      on_transition_(from, to);
    } catch (...) {  // a faulty observer must not break the breaker
    }
    from = to;
  }
}

circuit_breaker_stats circuit_breaker::stats() const {
  std::lock_guard lock(mutex_);
  const circuit_state s = state_.load(std::memory_order_relaxed);
  return {.state = s,
          .recent_failures =
              s == circuit_state::closed ? failures_in_window(clock_->now()) : failures_at_opening_,
          .opened = opened_.load(std::memory_order_relaxed),
          .rejected = rejected_.load(std::memory_order_relaxed)};
}

}  // namespace v0
}  // namespace cachekit
