// The backends the backend conformance suite (tests/integration/backend_conformance_test.cpp)
// runs against, as a list of factories, each with the capabilities its header documents.
//
// A new backend is one more factory in `conformance_backends()`. A backend that wraps another
// (circuit breaker, retry, backpressure: DESIGN §3b "stackable backends") is one line that wraps
// an existing factory, and then passes every test the inner backend passes:
//
//     backend_factory with_retry(backend_factory inner) {
//       return wrap("retry", std::move(inner), [](std::unique_ptr<backend> b) {
//         return std::make_unique<retry_backend>(std::move(b), retry_options{});
//       });
//     }
//     // in conformance_backends(); the tests run as ".../retry_redis":
//     backends.push_back(with_retry(redis_factory()));
//
// `reliable(...)` below is the whole stack a cache builds, run over memory, Redis and memcached.
//
// A wrapper that legitimately changes an outcome (a breaker answers `errc::circuit_open` while
// the server is down) says so by adjusting the capabilities of the factory `wrap` returns.
//
// Not thread-safe: make instances from the test's own thread.
#pragma once

#include "support/local_server.hpp"

#include <cachekit/backend.hpp>
#include <cachekit/error.hpp>
#include <cachekit/redis_backend.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace cachekit::testing {

/// Where backends legitimately differ, each flag as the backend's header documents it. The
/// suite asserts the documented outcome on both sides of every flag, so a flag is never a way
/// to skip a check.
struct backend_capabilities {
  /// What `type()` and `health().backend_type` report.
  std::string type;
  /// What `key_prefix()` reports.
  std::string key_prefix;
  /// `ttl()` reports the time left; false: it fails with `errc::not_supported` and
  /// `get_with_ttl` reports the lifetime as unknown (memcached).
  bool reports_ttl = true;
  /// `try_lock` / `release_lock` work; false: both fail with `errc::not_supported`.
  bool has_locks = true;
  /// `erase_prefix` works; false: it fails with `errc::not_supported` and deletes nothing.
  bool has_erase_prefix = true;
  /// Keys may be any bytes (NUL, spaces, control and high bytes, the empty key); false: only
  /// printable ASCII 0x21-0x7E, anything else fails with `errc::backend_permanent` before any
  /// I/O (memcached).
  bool any_key_bytes = true;
  /// Keys longer than this (key prefix included) fail with `errc::backend_permanent`; nullopt:
  /// no limit the suite reaches.
  std::optional<std::size_t> max_key_bytes;
  /// A value of exactly 1 MiB round-trips; false: `set` fails with `errc::backend_permanent`
  /// (memcached: the server's `-I 1m` item limit also counts the key and the item header).
  bool stores_one_mebibyte = true;
  /// Values longer than this fail with `errc::backend_permanent` and are not stored; nullopt:
  /// no limit the suite reaches. The limits: memory none (unless `max_bytes` is set); Redis the
  /// server's `proto-max-bulk-len` (512 MiB); memcached `max_item_size` (1 MiB, checked before
  /// any I/O), and below it the server's `-I` (1 MiB including key and item header, so exactly
  /// 1 MiB is refused by the server); file `max_value_mb` (100 MiB by default, 1 MiB here).
  std::optional<std::size_t> max_value_bytes;
  /// `erase` of an entry that expired but whose data is still there returns true (file: it
  /// deletes the file, expired or not, as cachekit-py does); false: it returns false.
  bool erase_counts_expired_entries = false;
  /// `erase` returns whether the key existed; false: it returns true whenever the backend
  /// accepted the delete (cachekit.io's DELETE does not say).
  bool erase_reports_existence = true;
  /// `release_lock` returns whether the token still held the lock; false: true whenever the
  /// backend accepted the release (cachekit.io).
  bool release_reports_ownership = true;
  /// `touch(key, std::nullopt)` removes the expiry; false: it fails with `errc::not_supported`
  /// (cachekit.io's PATCH takes a positive TTL only).
  bool touch_clears_expiry = true;
  /// The only characters keys may hold (others fail with `errc::backend_permanent`); nullopt:
  /// every printable ASCII character (cachekit.io's server accepts `[A-Za-z0-9_.:-]`).
  std::optional<std::string> key_charset;
  /// The codes every operation fails with while the server is stopped.
  std::vector<errc> outage_errors = {errc::transient};
  /// The longest one operation may take while the server is stopped.
  std::chrono::milliseconds outage_bound{2000};
  /// How long after a restart operations may keep failing (memcached skips a failed server
  /// for `retry_timeout`).
  std::chrono::milliseconds recovery_bound{5000};
};

/// One backend under test and what the suite needs around it.
struct backend_instance {
  /// What `store` depends on (its clock, its directory, its server); destroyed after it.
  std::shared_ptr<void> resources;
  std::unique_ptr<backend> store;
  /// Lets at least `step` pass for the backend's expiry: a jump of its injected clock, or a
  /// real sleep (a little longer where the server's clock is coarse).
  std::function<void(std::chrono::milliseconds)> advance;
  /// The server behind `store`, for the outage tests; null for in-process backends.
  local_server* server = nullptr;
};

/// How to make one kind of backend.
struct backend_factory {
  /// The suffix of the test names: letters, digits and underscores only.
  std::string name;
  backend_capabilities capabilities;
  std::function<backend_instance()> make;
};

/// Builds a wrapper around the backend it is given, taking ownership of it.
using wrap_function = std::function<std::unique_ptr<backend>(std::unique_ptr<backend>)>;

/// `inner` with every backend it makes wrapped by `wrapper`; named `{name}_{inner.name}`, with
/// `inner`'s capabilities, clock and server.
backend_factory wrap(const std::string& name, backend_factory inner, wrap_function wrapper);

/// `inner` behind `cachekit::backend_wrapper`, which only forwards: the seam every decorator
/// stands on.
backend_factory forwarding(backend_factory inner);
/// `inner` behind the whole reliability stack (`make_reliable`: backpressure, circuit breaker,
/// retry), with a 500 ms recovery timeout; an outage may also answer `errc::circuit_open`.
backend_factory reliable(backend_factory inner);

/// `memory_backend` with an injected clock (`advance` moves it; nothing sleeps).
backend_factory memory_factory();
/// `file_backend` in a fresh temporary directory, with an injected clock, `max_value_mb` 1
/// (so the value limit is reachable) and `max_size_mb` 4.
backend_factory file_factory();
/// `redis_backend` on its own redis-server, with the given key layout.
backend_factory redis_factory(redis_key_layout layout = redis_key_layout::plain);
/// `redis_backend` over TLS (`rediss://`, the test CA of support/tls_certificates, hostname
/// checked) on its own TLS-only redis-server; named "redis_tls".
backend_factory redis_tls_factory();
/// `redis_backend` on the process's shared Redis Cluster (3 masters, 3 replicas; started on
/// first use by support/redis_cluster_nodes), flushed first, with the given key layout.
backend_factory redis_cluster_factory(redis_key_layout layout = redis_key_layout::plain);
/// `redis_backend` with a `redis+sentinel://` URL: every operation finds its master through
/// Sentinel discovery. One sentinel group (support/redis_sentinel_group) serves the whole test
/// binary and is flushed before each instance; `server` is null (stopping the master would
/// start a failover, which redis_sentinel_test covers, not an outage).
backend_factory redis_sentinel_factory();
/// `memcached_backend` on its own memcached (default `-I 1m`), with the given key prefix.
backend_factory memcached_factory(const std::string& key_prefix = {});

/// `cachekitio_backend` against its own support/cachekitio_server (TLS, the test CA), with the
/// server's clock advanced by `advance`; named "cachekitio". Only when cachekit::io is built
/// (CACHEKIT_TEST_HAS_IO).
backend_factory cachekitio_factory();

/// Every backend the conformance suite runs against.
std::vector<backend_factory> conformance_backends();

}  // namespace cachekit::testing
