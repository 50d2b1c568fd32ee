#include <cachekit/circuit_breaker.hpp>

#include <string>
#include <utility>

namespace cachekit {
inline namespace v0 {

circuit_breaker_backend::circuit_breaker_backend(std::shared_ptr<backend> inner,
                                                 circuit_breaker_options options,
                                                 const monotonic_clock& clock,
                                                 circuit_breaker::transition_handler on_transition)
    : backend_wrapper(std::move(inner)), breaker_(options, clock, std::move(on_transition)) {}

template <typename Operation>
auto circuit_breaker_backend::guarded(Operation&& operation) -> decltype(operation()) {
  auto permit = breaker_.admit();
  if (!permit) {
    return fail(errc::circuit_open,
                std::string(inner().type()) +
                    " backend skipped: the circuit breaker is open after repeated failures; "
                    "it probes again after recovery_timeout");
  }
  auto outcome = operation();
  breaker_.record(*permit, outcome ? std::nullopt : std::optional(outcome.code()));
  return outcome;
}

result<std::optional<byte_buffer>> circuit_breaker_backend::get(std::string_view key) {
  return guarded([&] { return inner().get(key); });
}

result<void> circuit_breaker_backend::set(std::string_view key, byte_view value, ttl_seconds ttl) {
  return guarded([&] { return inner().set(key, value, ttl); });
}

result<bool> circuit_breaker_backend::erase(std::string_view key) {
  return guarded([&] { return inner().erase(key); });
}

result<bool> circuit_breaker_backend::exists(std::string_view key) {
  return guarded([&] { return inner().exists(key); });
}

result<std::vector<std::optional<byte_buffer>>> circuit_breaker_backend::get_many(
    std::span<const std::string_view> keys) {
  return guarded([&] { return inner().get_many(keys); });
}

result<remaining_ttl> circuit_breaker_backend::ttl(std::string_view key) {
  return guarded([&] { return inner().ttl(key); });
}

result<std::optional<timed_value>> circuit_breaker_backend::get_with_ttl(std::string_view key) {
  return guarded([&] { return inner().get_with_ttl(key); });
}

result<bool> circuit_breaker_backend::touch(std::string_view key, ttl_seconds ttl) {
  return guarded([&] { return inner().touch(key, ttl); });
}

result<std::optional<lock_token>> circuit_breaker_backend::try_lock(
    std::string_view key, std::chrono::milliseconds timeout) {
  return guarded([&] { return inner().try_lock(key, timeout); });
}

result<bool> circuit_breaker_backend::release_lock(const lock_token& token) {
  return guarded([&] { return inner().release_lock(token); });
}

result<std::size_t> circuit_breaker_backend::erase_prefix(std::string_view prefix) {
  return guarded([&] { return inner().erase_prefix(prefix); });
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
