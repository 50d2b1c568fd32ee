/// @file
/// The reliability layer as one stack: `make_reliable(redis, options)` returns
/// `backpressure(circuit_breaker(retry(redis)))`, each layer a `backend_wrapper` (see
/// backpressure.hpp, circuit_breaker.hpp, retry_backend.hpp). `cachekit::cache` builds this
/// stack around its L2 from `cache_options::reliability`; compose your own from the same parts
/// when you need another order or another layer.
///
/// Why this order: backpressure outermost bounds everything in flight, fast rejections
/// included; the breaker sees one outcome per operation after its retries, so a short blip
/// absorbed by a retry does not count against the backend; retries innermost never run while
/// the breaker is open.
///
/// Timeouts are not a layer: a wrapper cannot interrupt a blocking socket read, so they live in
/// the backend where the I/O happens (`redis_options::connect_timeout` and `command_timeout`,
/// memcached's and the file store's own), and the retry budget bounds the attempts above them.
///
/// Thread safety: the stack is thread-safe, as every backend.
#pragma once

#include <cachekit/backend.hpp>
#include <cachekit/backpressure.hpp>
#include <cachekit/circuit_breaker.hpp>
#include <cachekit/export.hpp>
#include <cachekit/monotonic_clock.hpp>
#include <cachekit/retry_backend.hpp>

#include <memory>
#include <optional>

namespace cachekit {
inline namespace v0 {

/// Which reliability layers wrap a cache's L2, and their settings; nullopt leaves a layer out.
/// Defaults are cachekit-py 0.24.1's (breaker and backpressure on) plus the retry layer.
struct reliability_options {
  std::optional<backpressure_options> backpressure = backpressure_options{};
  std::optional<circuit_breaker_options> circuit_breaker = circuit_breaker_options{};
  std::optional<retry_options> retry = retry_options{};
};

/// The layers `make_reliable` built, for health reports and tests (null where left out).
struct reliability_stack {
  std::shared_ptr<backend> top;  ///< what to call: the outermost layer (or `inner` itself)
  const backpressure_backend* backpressure = nullptr;
  const circuit_breaker_backend* circuit_breaker = nullptr;
  const retry_backend* retry = nullptr;
};

/// Wraps `inner` as `options` says (see the file comment for the order). `clock` drives the
/// breaker's timing and the retry back-off and must outlive the stack; `on_transition` is told
/// of every breaker state change. Errors: throws `cachekit::error`
/// (errc::invalid_configuration) for invalid layer options or a null `inner`.
[[nodiscard]] CACHEKIT_EXPORT reliability_stack
make_reliable(std::shared_ptr<backend> inner, const reliability_options& options,
              const monotonic_clock& clock = monotonic_clock::coarse(),
              circuit_breaker::transition_handler on_transition = nullptr);

}  // namespace v0
}  // namespace cachekit
