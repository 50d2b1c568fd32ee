// How cache_options::swr and serve_stale_for shape the engine (cache_engine_swr.cpp): their
// checks, the L1's keep window, and the refresh threads.
#pragma once

#include <cachekit/cache_options.hpp>
#include <cachekit/monotonic_clock.hpp>

#include "cache/refresh_executor.hpp"

#include <memory>
#include <optional>

namespace cachekit {
inline namespace v0 {
namespace detail {

// Throws cachekit::error (errc::invalid_configuration) naming the field and a valid value.
void check_swr_options(const cache_options& options);

// The L1's l1_options::keep_expired_for: serve_stale_for, when set.
[[nodiscard]] std::optional<monotonic_clock::duration> kept_expired_for(
    const cache_options& options) noexcept;

// The refresh threads of a cache; null when SWR is off or there is nothing to refresh: no L1
// (copies past the refresh threshold) and no L2 (entries it serves stale).
[[nodiscard]] std::unique_ptr<refresh_executor> make_refresh_executor(const cache_options& options,
                                                                      bool has_l1, bool has_l2);

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
