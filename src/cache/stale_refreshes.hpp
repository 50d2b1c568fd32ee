// The background refreshes of entries an L2 served stale (a backend's stale-grace window:
// cachekit.io's `X-CacheKit-Freshness: stale`, timed_value::stale). Unlike an L1 refresh
// (l1_visited::claim_refresh), there is no L1 copy to hold the claim, so the keys being
// refreshed are kept here: at most one refresh per key in this process, and at most `limit` at
// once (cachekit-py's L2 SWR pool: one per key, 32 per function), so a burst of stale reads
// runs the function once per key, not once per read.
//
// A claim is a token: the key is released when its last copy goes, whether the refresh ran or
// was dropped unrun (queue full, cache shutting down). Tokens keep the table alive, so a job
// that outlives the cache releases into a table that still exists.
//
// Per process: a forked child starts with no claims (the parent's refreshing threads do not
// exist there, and their keys would otherwise never be refreshed again).
//
// Thread-safe.
#pragma once

#include "process/per_process.hpp"

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>

namespace cachekit {
inline namespace v0 {
namespace detail {

class stale_refreshes {
 public:
  // `limit` must be positive.
  explicit stale_refreshes(std::size_t limit) : limit_(limit) {}

  // Claims the refresh of `key`: a token to hold until the refresh ends, or null when this
  // process already refreshes `key` or `limit` refreshes run. Allocation failures give null.
  [[nodiscard]] std::shared_ptr<const void> try_claim(std::string_view key) noexcept;

  // Claims held in this process (for tests).
  [[nodiscard]] std::size_t running();

 private:
  struct table {
    std::mutex mutex;
    std::unordered_set<std::string> keys;  // guarded by mutex
  };
  struct claim;  // the token
  struct process_table {
    std::shared_ptr<table> shared = std::make_shared<table>();
  };
  const std::size_t limit_;
  per_process<process_table> tables_;
};

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
