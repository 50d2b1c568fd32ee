// The intent presets of cachekit-py 0.24.1 (`DecoratorConfig.minimal() / dev() / test() /
// production() / secure() / io()` in config/decorator.py, the bare `DecoratorConfig()`, and
// `create_local_wrapper` in decorators/local_wrapper.py for `@cache.local`).
#include <cachekit/cache_options.hpp>

#include "protocol/untrusted_text.hpp"

#include <array>
#include <chrono>
#include <string>

namespace cachekit {
inline namespace v0 {
namespace {

struct intent_name {
  intent value;
  std::string_view name;
};

// cachekit-py's spelling of each preset; `standard` is the bare `@cache`.
constexpr std::array<intent_name, 8> intent_names{{
    {intent::standard, "cache"},
    {intent::minimal, "minimal"},
    {intent::dev, "dev"},
    {intent::test, "test"},
    {intent::production, "production"},
    {intent::secure, "secure"},
    {intent::local, "local"},
    {intent::io, "io"},
}};

constexpr std::string_view valid_names =
    "cache (or standard), minimal, dev, test, production, secure, local, io";

}  // namespace

std::string_view to_string(intent i) noexcept {
  for (const auto& entry : intent_names) {
    if (entry.value == i) return entry.name;
  }
  return "unknown";
}

result<intent> parse_intent(std::string_view name) {
  if (name == "standard") return intent::standard;
  for (const auto& entry : intent_names) {
    if (entry.name == name) return entry.value;
  }
  return fail(errc::invalid_configuration, "unknown cache preset '" +
                                               detail::quote_untrusted(name) + "'; use one of " +
                                               std::string(valid_names));
}

cache_options cache_options::for_intent(intent i) {
  using std::chrono::seconds;
  cache_options options;
  options.preset = i;
  switch (i) {
    case intent::standard:
      // DecoratorConfig(): no TTL, integrity and stats on.
      options.integrity_checking = true;
      options.collect_stats = true;
      options.default_ttl = std::nullopt;
      break;
    case intent::minimal:
      options.integrity_checking = false;
      options.collect_stats = false;
      options.reliability.circuit_breaker = std::nullopt;  // CircuitBreakerConfig(enabled=False)
      options.swr.enabled = false;                         // L1CacheConfig(swr_enabled=False)
      options.default_ttl = seconds{300};
      break;
    case intent::dev:
      options.integrity_checking = true;
      options.collect_stats = true;
      options.default_ttl = seconds{300};
      break;
    case intent::test:
      options.integrity_checking = false;
      options.collect_stats = false;
      // Tests see the backend's own failures: no breaker, no shedding, no retries.
      options.reliability = {
          .backpressure = std::nullopt, .circuit_breaker = std::nullopt, .retry = std::nullopt};
      options.write_back = std::nullopt;  // and no background writes after a failure
      options.swr.enabled = false;        // L1CacheConfig(swr_enabled=False): no background calls
      options.default_ttl = seconds{300};
      break;
    case intent::production:
    case intent::secure:
      // Integrity is forced on for secure: cachekit-py refuses integrity_checking=False there.
      options.integrity_checking = true;
      options.collect_stats = true;
      options.default_ttl = seconds{600};
      break;
    case intent::io:
      // DecoratorConfig.io(): production-grade, an hour by default (intent-presets.md).
      options.integrity_checking = true;
      options.collect_stats = true;
      options.default_ttl = seconds{3600};
      break;
    case intent::local:
      // Object mode: no envelope and keys flagged `0l`, so integrity is off; cache_info() counts.
      options.integrity_checking = false;
      options.collect_stats = true;
      options.default_ttl = seconds{300};
      options.object_max_entries = 256;
      break;
  }
  return options;
}

}  // namespace v0
}  // namespace cachekit
