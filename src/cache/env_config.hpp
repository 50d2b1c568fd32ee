// How `cache_options::from_env` reads the process environment: one pass over `environ` into a
// case-insensitive table (pydantic-settings' `case_sensitive=False`), and the pieces of that
// reading the unit tests drive with a fake environment block.
//
// Thread safety: `env_snapshot` is immutable once built. Building one reads `environ`, so it
// must not run while another thread calls setenv/putenv/unsetenv (a POSIX rule, not ours).
#pragma once

#include <cachekit/cache_options.hpp>
#include <cachekit/file_backend.hpp>
#include <cachekit/memcached_backend.hpp>
#include <cachekit/redis_backend.hpp>
#include <cachekit/result.hpp>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace cachekit {
inline namespace v0 {
namespace detail {

/// The variables cachekit reads (`CACHEKIT_*` and `REDIS_URL`, in any case), copied from an
/// environment block once.
class env_snapshot {
 public:
  /// Reads `envp` (a null-terminated array of "NAME=value", like `environ`). Entries without
  /// '=' are skipped. When two names differ only in case, the later entry wins, as it does for
  /// pydantic-settings (a dict built in `os.environ` order).
  explicit env_snapshot(const char* const* envp);
  /// Wipes the copied values (master keys among them) before freeing them.
  ~env_snapshot();
  env_snapshot(const env_snapshot&) = delete;
  env_snapshot& operator=(const env_snapshot&) = delete;

  /// The value of `name`, matched case-insensitively; nullopt when unset.
  [[nodiscard]] std::optional<std::string> get(std::string_view name) const;

  /// Whether `name` is set to a non-empty value under exactly this spelling. cachekit-py picks
  /// its backend by the exact upper-case selector names (`os.environ.get`), not through
  /// pydantic-settings.
  [[nodiscard]] bool has_exact(std::string_view name) const;

 private:
  std::map<std::string, std::string, std::less<>> by_lower_name_;
  std::set<std::string, std::less<>> exact_non_empty_;
};

/// `cache_options::from_env(i, lookup)`. With `spelling` (the real environment), a backend
/// selector other than CACHEKIT_REDIS_URL that is set only under another case is refused:
/// cachekit-py would not see it as a selector and would fall back to Redis.
[[nodiscard]] result<cache_options> options_from_env(intent i,
                                                     const cache_options::env_lookup& lookup,
                                                     const env_snapshot* spelling);

/// The warnings `from_env` logs (logging.hpp, event `unknown_env`) for `envp`: one per
/// `CACHEKIT_*` variable neither cachekit-py 0.24.1 nor this SDK reads, and per variable spelt
/// like `REDIS_URL` but not quite (`REDIS_ULR`), each naming the closest known variable. Names
/// only, never values.
[[nodiscard]] std::vector<std::string> unknown_variable_warnings(const char* const* envp);

/// `cache_options::from_env(i)` over the environment block `envp` instead of `environ`. Logs
/// `unknown_variable_warnings(envp)` first.
[[nodiscard]] result<cache_options> options_from_environ(intent i, const char* const* envp);

/// The options of the Redis backend `from_env` builds for `url`: tenant-scoped, tenant
/// "default", pool 50 and 5 s timeouts unless CACHEKIT_CONNECTION_POOL_SIZE,
/// CACHEKIT_SOCKET_TIMEOUT or CACHEKIT_SOCKET_CONNECT_TIMEOUT say otherwise.
[[nodiscard]] result<redis_options> redis_options_from_env(const cache_options::env_lookup& lookup,
                                                           std::string url);

/// The options of the memcached backend for CACHEKIT_MEMCACHED_SERVERS = `servers_json` and
/// the other CACHEKIT_MEMCACHED_* variables.
[[nodiscard]] result<memcached_options> memcached_options_from_env(
    const cache_options::env_lookup& lookup, std::string_view servers_json);

/// The options of the file backend for CACHEKIT_FILE_CACHE_DIR = `cache_dir` and the other
/// CACHEKIT_FILE_* variables (the backend checks their ranges when it is built).
[[nodiscard]] result<file_backend_options> file_options_from_env(
    const cache_options::env_lookup& lookup, std::string cache_dir);

/// Python's `str(uuid.UUID(text))`: the canonical lowercase 8-4-4-4-12 form of a UUID written
/// with or without hyphens, braces or a `urn:uuid:` prefix, in either case; nullopt when `text`
/// is not a UUID. Stricter than Python on nonsense it tolerates through `int(text, 16)`
/// (whitespace, a sign, `_` or `0x` inside the 32 digits).
[[nodiscard]] std::optional<std::string> canonical_uuid(std::string_view text);

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
