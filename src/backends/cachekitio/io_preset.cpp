// The `io` intent preset and the factory through which the core's `cache_options::from_env`
// builds this backend (src/cache/io_backend_hook.hpp: the core never links this library).
#include <cachekit/cachekitio_backend.hpp>

#include "cache/io_backend_hook.hpp"

#include <utility>

namespace cachekit {
inline namespace v0 {
namespace {

constexpr std::string_view missing_key =
    "the io preset needs a cachekit.io API key: pass it to cachekit::io_cache_options(api_key), "
    "or set CACHEKIT_API_KEY";

result<std::shared_ptr<backend>> io_backend(cachekitio_options options, bool io_preset) {
  if (options.api_key.empty()) return fail(errc::invalid_configuration, std::string(missing_key));
  // DecoratorConfig.io() writes a stale-grace window as long as the TTL (swr_by_default); the
  // other presets reaching cachekit.io through CACHEKIT_API_KEY do not.
  options.stale_while_revalidate = io_preset;
  return make_cachekitio_backend(options);
}

result<std::shared_ptr<backend>> backend_from_lookup(const cache_options::env_lookup& lookup,
                                                     bool io_preset) {
  auto options = cachekitio_options::from_env(lookup);
  if (!options) return std::move(options).error();
  return io_backend(std::move(*options), io_preset);
}

}  // namespace

result<cache_options> io_cache_options(std::string_view api_key) {
  auto connection = cachekitio_options::from_env();
  if (!connection) return std::move(connection).error();
  if (!api_key.empty()) connection->api_key = std::string(api_key);  // the argument wins
  auto l2 = io_backend(std::move(*connection), true);
  if (!l2) return std::move(l2).error();
  cache_options options = cache_options::for_intent(intent::io);
  options.l2 = std::move(*l2);
  return options;
}

namespace detail {

bool install_io_backend_factory() noexcept {
  set_io_backend_factory(&backend_from_lookup);
  return true;
}

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
