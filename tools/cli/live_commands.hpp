// The live commands: operations on the entries of a real backend (live_backend, built by
// backend_from_flags). Each writes its answer to `out`, one-line failures to `err`
// ("cachekit: ..."), and returns the exit status of cli_io.hpp (0 ok, 1 bad input or a
// backend failure). Single-threaded.
#pragma once

#include "backend_from_flags.hpp"
#include "inspect.hpp"

#include <cstddef>
#include <iosfwd>
#include <optional>
#include <string>

namespace cachekit::cli {

/// The entry a command works on, and how to open it.
struct entry_request {
  std::string key;     ///< a cache key; a leading backend prefix (`t:default:`) is accepted too
  entry_context open;  ///< master key and tenant (key, storage key and TTL are filled in)
};

/// `get KEY`: the value as tagged JSON. A miss is exit 1 naming the storage key looked at.
int get_command(live_backend& b, entry_request req, std::ostream& out, std::ostream& err);

/// `inspect KEY`: every layer of the entry, its TTL and its value ("field: value" lines).
int inspect_command(live_backend& b, entry_request req, std::ostream& out, std::ostream& err);

/// What `set` stores.
struct set_request {
  std::string key;
  std::string value_json;                ///< tagged JSON (plain JSON is tagged JSON)
  std::optional<long long> ttl_seconds;  ///< nullopt: no expiry
  bool interop = false;                  ///< plain canonical MessagePack instead of a frame
  bool no_integrity = false;             ///< frame without the ByteStorage envelope
  bool encrypt = false;                  ///< seal with the master key for `tenant`
  std::optional<std::string> master_key_hex;
  std::string tenant = "default";
};
/// `set KEY VALUE`: stores the value as the cache does (frame, envelope, key binding "k").
int set_command(live_backend& b, const set_request& req, std::ostream& out, std::ostream& err);

/// `del KEY`: "deleted" or "no entry" (both exit 0).
int del_command(live_backend& b, const std::string& key, std::ostream& out, std::ostream& err);

/// `ttl KEY`: "59 s" or "no expiry"; a missing key is exit 1.
int ttl_command(live_backend& b, const std::string& key, std::ostream& out, std::ostream& err);

/// Which keys `keys` and `invalidate` mean: a function's (by registry and key prefix) or a
/// key prefix.
struct key_selection {
  std::optional<std::string> function;  ///< `module.qualname`, as cachekit-py names it
  std::optional<std::string> ns;        ///< the function's namespace
  std::optional<std::string> prefix;    ///< a cache-key prefix (without the backend's prefix)
  std::size_t limit = 10'000;
};
/// `keys`: one cache key per line on `out`; where they came from on `err`.
int keys_command(live_backend& b, const key_selection& sel, std::ostream& out, std::ostream& err);
/// `invalidate`: deletes the selected entries, says how many.
int invalidate_command(live_backend& b, const key_selection& sel, std::ostream& out,
                       std::ostream& err);

/// `health`: ping and latency; exit 1 when the backend does not answer.
int health_command(live_backend& b, std::ostream& out, std::ostream& err);
/// `stats`: health plus server figures (Redis INFO, memcached stats, the file directory).
int stats_command(live_backend& b, std::ostream& out, std::ostream& err);

}  // namespace cachekit::cli
