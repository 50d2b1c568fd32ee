#include <cachekit/backpressure.hpp>

#include <string>
#include <utility>

namespace cachekit {
inline namespace v0 {
namespace {

backpressure_options checked(backpressure_options o) {
  if (o.max_in_flight == 0) {
    throw error(errc::invalid_configuration,
                "backpressure_options.max_in_flight must be at least 1 (default 100); to switch "
                "backpressure off, leave it out of reliability_options");
  }
  return o;
}

}  // namespace

backpressure_gate::backpressure_gate(backpressure_options options) : options_(checked(options)) {}

// Sequentially consistent on purpose, here and in `leave`/`enter`: a waiter publishes itself
// in waiting_ and then reads in_flight_; a leaver lowers in_flight_ and then reads waiting_.
// With both orders total, either the waiter sees the free slot or the leaver sees the waiter
// and wakes it: no lost wake-up without taking the lock on the fast path.
bool backpressure_gate::try_take() noexcept {
  std::size_t current = in_flight_.load();
  while (current < options_.max_in_flight) {
    if (in_flight_.compare_exchange_weak(current, current + 1)) return true;
  }
  return false;
}

bool backpressure_gate::enter() {
  if (try_take()) [[likely]] {
    return true;
  }
  if (options_.max_waiting > 0 && options_.max_wait > std::chrono::milliseconds::zero()) {
    std::unique_lock lock(mutex_);
    if (waiting_.load() < options_.max_waiting) {
      waiting_.fetch_add(1);
      const bool taken = freed_.wait_for(lock, options_.max_wait, [this] { return try_take(); });
      waiting_.fetch_sub(1);
      if (taken) return true;
    }
  }
  rejected_.fetch_add(1, std::memory_order_relaxed);
  return false;
}

void backpressure_gate::leave() noexcept {
  in_flight_.fetch_sub(1);
  if (waiting_.load() > 0) {
    std::lock_guard lock(mutex_);
    freed_.notify_one();
  }
}

backpressure_stats backpressure_gate::stats() const noexcept {
  return {.in_flight = in_flight_.load(std::memory_order_relaxed),
          .waiting = waiting_.load(std::memory_order_relaxed),
          .rejected = rejected_.load(std::memory_order_relaxed)};
}

backpressure_backend::backpressure_backend(std::shared_ptr<backend> inner,
                                           backpressure_options options)
    : guarding_wrapper(std::move(inner)), gate_(options) {}

std::optional<failure> backpressure_backend::guard(backend_operation, attempt_ref run) {
  if (!gate_.enter()) {
    const auto& o = gate_.options();
    return fail(errc::backpressure,
                std::string(inner().type()) + " backend busy: " + std::to_string(o.max_in_flight) +
                    " operations in flight and no slot within " +
                    std::to_string(o.max_wait.count()) +
                    " ms; the call went on without it (raise backpressure_options.max_in_flight "
                    "if the backend can take more)");
  }
  struct slot {
    backpressure_gate& gate;
    ~slot() { gate.leave(); }
  } held{gate_};
  run();
  return std::nullopt;
}

backend_health backpressure_backend::health() {
  backend_health report = inner().health();
  const backpressure_stats s = gate_.stats();
  report.details["backpressure_in_flight"] = std::to_string(s.in_flight);
  report.details["backpressure_waiting"] = std::to_string(s.waiting);
  report.details["backpressure_rejected"] = std::to_string(s.rejected);
  return report;
}

}  // namespace v0
}  // namespace cachekit
