#include <cachekit/reliability.hpp>

#include <utility>

namespace cachekit {
inline namespace v0 {

reliability_stack make_reliable(std::shared_ptr<backend> inner, const reliability_options& options,
                                const monotonic_clock& clock,
                                circuit_breaker::transition_handler on_transition) {
  if (!inner) throw error(errc::invalid_configuration, "make_reliable needs a backend");
  reliability_stack stack;
  stack.top = std::move(inner);
  if (options.retry) {
    auto layer = std::make_shared<retry_backend>(std::move(stack.top), *options.retry, clock);
    stack.retry = layer.get();
    stack.top = std::move(layer);
  }
  if (options.circuit_breaker) {
    auto layer = std::make_shared<circuit_breaker_backend>(
        std::move(stack.top), *options.circuit_breaker, clock, std::move(on_transition));
    stack.circuit_breaker = layer.get();
    stack.top = std::move(layer);
  }
  if (options.backpressure) {
    auto layer =
        std::make_shared<backpressure_backend>(std::move(stack.top), *options.backpressure);
    stack.backpressure = layer.get();
    stack.top = std::move(layer);
  }
  return stack;
}

}  // namespace v0
}  // namespace cachekit
