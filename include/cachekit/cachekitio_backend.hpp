/// @file
/// The cachekit.io backend: cachekit's L2 on the managed cachekit.io service, over its HTTPS API
/// (protocol spec/saas-api.md), through libcurl. Part of the `cachekit::io` library (target
/// `cachekit_io`, built with CACHEKIT_WITH_IO when libcurl is found); the core `cachekit`
/// library does not link curl.
///
///     auto options = cachekit::cachekitio_options::from_env().value();  // CACHEKIT_API_KEY ...
///     auto l2 = cachekit::cachekitio_backend::create(options).value();
///     auto stored = l2->set("ns:app:k", bytes, std::chrono::minutes(5));
///
/// What it sends (as cachekit-py 0.24.1's `CachekitIOBackend`):
/// - every request carries `Authorization: Bearer <api key>`, `X-CacheKit-L1-Status: disabled`
///   (a backend sees no L1 statistics; the header is required for `ck_sdk_` keys), and the
///   process's `X-CacheKit-Session-ID` / `X-CacheKit-Session-Start`;
/// - the key is one percent-encoded path segment (`cache_key_path_segment`); the reserved keys
///   (empty, `.`, `..`, `health`, `ttl`, `lock`) and keys that are not UTF-8 fail with
///   `errc::backend_permanent` (as a key the server refuses) before any URL is built;
/// - `set` is `PUT` with `X-CacheKit-TTL` (no header: no expiry); `ttl` is `GET .../ttl` (`{"ttl":
///   null}` is "exists, no expiry"); `touch` is `PATCH .../ttl`; `try_lock` / `release_lock` are
///   the lock endpoints, the lock id travelling in `X-CacheKit-Lock-Id`.
///
/// Freshness (`get_with_ttl`, `get_many_with_ttl`): `remaining` is the L1 backfill bound. A
/// `fresh` (or unlabelled) response with `X-CacheKit-Fresh-For: n` gives `n` seconds; without
/// the header, "no expiry" (the L1 keeps its configured TTL: a no-expiry entry or a pre-signal
/// server); a `stale` (or unrecognised) label gives 0 s and `timed_value::stale`, so the cache
/// serves the bytes, never copies them to its L1, and refreshes the entry in the background.
///
/// Errors (backend.hpp's contract): 401 and 403 `errc::backend_authentication`; 429, 500, 502,
/// 503, a refused, reset or truncated connection, a TLS failure or a malformed response
/// `errc::transient`; no answer within `timeout` `errc::timeout`; other 4xx (400, 405, 409, 413
/// "value too large") and redirects `errc::backend_permanent`. 404 is a miss. A 503 to a `PUT` or
/// `DELETE` with `Retry-After` of at most 2 s is sent again after that delay (cachekit-py), and a
/// 429 with a delta-seconds `Retry-After` is waited out when the wait ends within `timeout` of
/// the first attempt; at most `max_retries` retries per request. Nothing else is retried here:
/// the reliability layer (`make_reliable`) retries transient failures with backoff.
///
/// Differences from the other backends, forced by the API:
/// - `erase` returns true whenever the server accepted the `DELETE`: the API does not say
///   whether the key existed.
/// - `touch(key, std::nullopt)` fails with `errc::not_supported` (the API cannot remove an
///   expiry); `touch` with a positive TTL returns whether the key exists after the `PATCH` (a
///   `HEAD` follows it). A `PATCH` on a stale entry is `409` (`errc::backend_permanent`).
/// - TTLs above 2,592,000 s (30 days) fail with `errc::backend_permanent` before any request.
/// - `erase_prefix`, the key registry, `publish` and `subscribe` are `errc::not_supported`.
///
/// Security: the API key is sent only in the `Authorization` header. It never appears in a URL,
/// an error detail, a health detail or a log record; `cachekitio_options` never prints it.
/// The URL must be `https://`, must not carry credentials, must not name a private or loopback
/// address (127.0.0.0/8, 10/8, 172.16/12, 192.168/16, 169.254/16, 0/8, ::1, fe80::/10, fc00::/7,
/// `localhost`), and its host must be `api.cachekit.io` or `api.staging.cachekit.io` unless
/// `allow_custom_host` is set. Tests reach a local server through a public-looking name and
/// `resolve` (curl's `--resolve`), with `ca_file` naming their throwaway CA.
///
/// Thread safety: thread-safe; one instance serves every thread. Connections are pooled (a curl
/// share of connections, TLS sessions and DNS) and reused across requests and threads;
/// `get_many`, `get_many_with_ttl` and `set_many` send their requests concurrently (curl multi),
/// at most `connection_pool_size` at a time: a batch up to that size takes one round trip of
/// wall-clock time, a larger one a round trip per `connection_pool_size` requests (raise the pool
/// size for wider batches; a batch wider than the pool would set up and tear down a TLS
/// connection per extra request). Fork-safe: a forked child never uses its parent's
/// connections; it opens its own on its first request (the parent's are abandoned in the
/// child, never closed, so nothing is written on the parent's TLS sessions).
#pragma once

#include <cachekit/backend.hpp>
#include <cachekit/cache_options.hpp>
#include <cachekit/export.hpp>
#include <cachekit/result.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cachekit {
inline namespace v0 {

/// How to reach cachekit.io. The defaults are the spec's (`CACHEKIT_*` variables).
struct cachekitio_options {
  /// The API key (`ck_live_`, `ck_sdk_` or `ck_api_` ...): required. Must be an RFC 6750 bearer
  /// token (A-Z a-z 0-9 - . _ ~ + / then any `=`); a trailing newline or space is refused, not
  /// stripped. CACHEKIT_API_KEY.
  std::string api_key;
  /// The API endpoint; a path on it prefixes every request path. CACHEKIT_API_URL.
  std::string api_url = "https://api.cachekit.io";
  /// Let `api_url` name a host outside the allowlist (the private-address and https rules
  /// still apply). CACHEKIT_ALLOW_CUSTOM_HOST.
  bool allow_custom_host = false;
  /// How long one request may take, connecting included. CACHEKIT_TIMEOUT (seconds, may be
  /// fractional).
  std::chrono::milliseconds timeout{5000};
  /// At most this many retries of one request (see the file comment for which).
  /// CACHEKIT_MAX_RETRIES.
  int max_retries = 3;
  /// Idle connections kept for reuse, and the requests of one batch in flight at once; more
  /// concurrent requests open extra connections, closed when done. 32 as cachekit-py 0.24.1.
  /// CACHEKIT_CONNECTION_POOL_SIZE.
  std::size_t connection_pool_size = 32;
  /// A PEM file of CA certificates to trust instead of the system's (tests, private CAs).
  /// Empty: the system trust store.
  std::string ca_file;
  /// curl `--resolve` entries, `"host:port:address"`: connect to `address` for `host:port`
  /// without DNS. For tests (a local server under a public-looking name); the private-address
  /// rule reads `api_url`'s host, not these addresses.
  std::vector<std::string> resolve;
  /// Sent as `User-Agent` before cachekit's own product token; empty: only cachekit's.
  std::string user_agent_prefix;
  /// Server-side stale-while-revalidate (spec "Stale-While-Revalidate"): every write with a TTL
  /// also sends `X-CacheKit-Stale-TTL`, a grace window as long as the TTL, capped so that TTL
  /// plus window stay within the API's 30 days (cachekit-py's `io` preset, `swr_by_default`).
  /// Past its TTL an entry is then still served for that window, labelled stale: the cache
  /// returns it at once (never copying it to L1) and, with `cache_options::swr` on, a memoized
  /// function's stale hit runs the function again in the background, at most once per key per
  /// process and under the API's lock lease (another client holding it revalidates instead),
  /// and writes the fresh value (with its own window). A caller past the TTL thus never
  /// waits for the function while the window lasts. Off (the default outside the `io` preset):
  /// entries vanish at their TTL, and the next call runs the function in the foreground.
  bool stale_while_revalidate = false;

  /// The options from CACHEKIT_API_KEY, CACHEKIT_API_URL, CACHEKIT_ALLOW_CUSTOM_HOST
  /// (true/false/1/0/yes/no/on/off), CACHEKIT_TIMEOUT, CACHEKIT_MAX_RETRIES and
  /// CACHEKIT_CONNECTION_POOL_SIZE; unset variables keep the defaults. Errors:
  /// errc::invalid_configuration naming the variable whose value is not valid (never quoting
  /// the API key). The key's presence is checked by `create`, not here.
  [[nodiscard]] CACHEKIT_EXPORT static result<cachekitio_options> from_env();
  /// As `from_env()`, reading each variable through `lookup` (nullopt: unset), as
  /// `cache_options::from_env(intent, lookup)` does.
  [[nodiscard]] CACHEKIT_EXPORT static result<cachekitio_options> from_env(
      const std::function<std::optional<std::string>(std::string_view name)>& lookup);
};

/// The cachekit.io backend (see the file comment).
class CACHEKIT_EXPORT cachekitio_backend final : public backend {
 public:
  /// Checks `options` and makes the backend; opens no connection (the first request does).
  /// Errors: errc::invalid_configuration saying what to fix: a missing or malformed API key
  /// (never quoted), a URL that is not https, carries credentials, names a private address or a
  /// host outside the allowlist, a timeout or pool size of zero, negative `max_retries`.
  [[nodiscard]] static result<std::shared_ptr<cachekitio_backend>> create(
      const cachekitio_options& options);

  ~cachekitio_backend() override;
  cachekitio_backend(const cachekitio_backend&) = delete;
  cachekitio_backend& operator=(const cachekitio_backend&) = delete;

  [[nodiscard]] result<std::optional<byte_buffer>> get(std::string_view key) override;
  [[nodiscard]] result<void> set(std::string_view key, byte_view value, ttl_seconds ttl) override;
  /// True whenever the server accepted the DELETE (it does not say whether the key existed).
  [[nodiscard]] result<bool> erase(std::string_view key) override;
  [[nodiscard]] result<bool> exists(std::string_view key) override;
  [[nodiscard]] result<std::vector<std::optional<byte_buffer>>> get_many(
      std::span<const std::string_view> keys) override;
  [[nodiscard]] result<std::vector<std::optional<timed_value>>> get_many_with_ttl(
      std::span<const std::string_view> keys) override;
  [[nodiscard]] result<void> set_many(std::span<const write_request> writes) override;
  [[nodiscard]] result<remaining_ttl> ttl(std::string_view key) override;
  [[nodiscard]] result<std::optional<timed_value>> get_with_ttl(std::string_view key) override;
  /// True: every read carries `X-CacheKit-Freshness` (`get` is `get_with_ttl`).
  [[nodiscard]] bool labels_stale_entries() const noexcept override { return true; }
  [[nodiscard]] result<bool> touch(std::string_view key, ttl_seconds ttl) override;
  /// `POST {key}/lock` with `{"timeout_ms": timeout}`; the token's `key` is the cache key and
  /// its `value` the server's lock id. nullopt when another client holds the lock (or the body
  /// is not the expected JSON: held, as cachekit-py).
  [[nodiscard]] result<std::optional<lock_token>> try_lock(
      std::string_view key, std::chrono::milliseconds timeout) override;
  [[nodiscard]] result<bool> release_lock(const lock_token& token) override;
  /// `GET /v1/cache/health`: details `status`, `cache_entries`, `active_locks` as the server
  /// reports them, `api_host`, and `error` (the failure's detail) when unhealthy.
  [[nodiscard]] backend_health health() override;
  [[nodiscard]] std::string_view type() const noexcept override { return "cachekitio"; }

  /// Requests sent so far by this instance, retries included (for tests and diagnostics).
  [[nodiscard]] std::uint64_t requests_sent() const noexcept;
  /// Retries sent so far by this instance (503 on writes, 429 with Retry-After).
  [[nodiscard]] std::uint64_t retries_sent() const noexcept;
  /// Whether writes carry the stale-grace window (`cachekitio_options::stale_while_revalidate`;
  /// on for the `io` preset).
  [[nodiscard]] bool writes_stale_window() const noexcept;

  struct impl;

 private:
  explicit cachekitio_backend(std::unique_ptr<impl> state);
  std::unique_ptr<impl> impl_;
};

/// `cachekitio_backend::create` as a plain `backend` (the `io` preset's factory).
CACHEKIT_EXPORT result<std::shared_ptr<backend>> make_cachekitio_backend(
    const cachekitio_options& options);

/// The `io` intent preset (protocol intent-presets.md; cachekit-py's `DecoratorConfig.io()`):
/// `cache_options::for_intent(intent::io)` (TTL 3600 s, L1, SWR and the reliability stack on, no
/// encryption) with the cachekit.io backend as its L2, writing the stale-grace window
/// (`stale_while_revalidate`). The API key is `api_key` when given, else `CACHEKIT_API_KEY`; the
/// other connection settings come from `cachekitio_options::from_env()` (CACHEKIT_API_URL,
/// CACHEKIT_TIMEOUT, ...). Opens no connection. Errors: errc::invalid_configuration when neither
/// key is present or either is malformed (never quoted), or a variable is not valid.
///
///     cachekit::cache cache(cachekit::io_cache_options(key).value());
///     auto get_user = cache.memoize("myapp.users.get_user", fetch_user);  // an hour, L1 + io
[[nodiscard]] CACHEKIT_EXPORT result<cache_options> io_cache_options(std::string_view api_key = {});

namespace detail {
/// Lets `cache_options::from_env` build this backend (for `CACHEKIT_API_KEY` and `intent::io`)
/// without the core library linking curl: every program that includes this header installs it
/// before `main` (the inline variable below). Returns true.
CACHEKIT_EXPORT bool install_io_backend_factory() noexcept;
inline const bool io_backend_factory_installed = install_io_backend_factory();
}  // namespace detail

}  // namespace v0
}  // namespace cachekit
