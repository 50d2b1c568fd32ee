// Where the core library finds the cachekit.io HTTP backend, which lives in the optional
// component `cachekit::io` (it links libcurl; the core does not). The component installs its
// factory when a translation unit includes <cachekit/cachekitio_backend.hpp> (an inline variable
// there calls `install_io_backend_factory`), so `cache_options::from_env` can build the backend
// for `CACHEKIT_API_KEY` and `intent::io` without the core depending on the component. Without
// it, those fail with errc::not_supported saying how to link it.
//
// Thread safety: installing and reading the factory are atomic.
#pragma once

#include <cachekit/backend.hpp>
#include <cachekit/cache_options.hpp>
#include <cachekit/export.hpp>
#include <cachekit/result.hpp>

#include <memory>
#include <string_view>

namespace cachekit {
inline namespace v0 {
namespace detail {

/// Builds the cachekit.io backend from the variables `lookup` returns (CACHEKIT_API_KEY,
/// CACHEKIT_API_URL, ...); `io_preset`: as the `io` preset builds it (with its stale-grace
/// window). Errors: errc::invalid_configuration naming the variable to fix.
using io_backend_factory =
    result<std::shared_ptr<backend>> (*)(const cache_options::env_lookup& lookup, bool io_preset);

/// Installs the factory (the `cachekit::io` component does; a second call replaces it).
CACHEKIT_EXPORT void set_io_backend_factory(io_backend_factory factory) noexcept;
/// The installed factory, or nullptr when the component is not linked in.
[[nodiscard]] CACHEKIT_EXPORT io_backend_factory installed_io_backend_factory() noexcept;

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
