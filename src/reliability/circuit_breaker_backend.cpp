#include <cachekit/circuit_breaker.hpp>

#include <string>
#include <utility>

namespace cachekit {
inline namespace v0 {

circuit_breaker_backend::circuit_breaker_backend(std::shared_ptr<backend> inner,
                                                 circuit_breaker_options options,
                                                 const monotonic_clock& clock,
                                                 circuit_breaker::transition_handler on_transition)
    : guarding_wrapper(std::move(inner)), breaker_(options, clock, std::move(on_transition)) {}

std::optional<failure> circuit_breaker_backend::guard(backend_operation operation,
                                                      attempt_ref run) {
  // A lock release ends a fill the breaker admitted. Refused while half-open (its probe slots
  // taken by other calls) the lock would stay for its whole lease, and every miss of that key
  // in every process would wait out its fill wait. It is not a probe: its outcome is not
  // counted. While open it is refused like the rest (the backend is presumed down).
  if (operation == backend_operation::release_lock &&
      breaker_.state() == circuit_state::half_open) {
    run();
    return std::nullopt;
  }
  auto permit = breaker_.admit();
  if (!permit) {
    return fail(errc::circuit_open,
                std::string(inner().type()) +
                    " backend skipped: the circuit breaker is open after repeated failures; "
                    "it probes again after recovery_timeout");
  }
  const std::error_code outcome = run();
  breaker_.record(*permit, outcome ? std::optional(outcome) : std::nullopt);
  return std::nullopt;
}

backend_health circuit_breaker_backend::health() {
  backend_health report = inner().health();
  const circuit_breaker_stats s = breaker_.stats();
  report.details["circuit_breaker"] = to_string(s.state);
  report.details["circuit_breaker_opened"] = std::to_string(s.opened);
  report.details["circuit_breaker_rejected"] = std::to_string(s.rejected);
  return report;
}

}  // namespace v0
}  // namespace cachekit
