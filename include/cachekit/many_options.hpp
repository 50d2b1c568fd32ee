/// @file
/// `many_options`: how `memoized::many` runs a batch of calls.
///
/// Thread safety: thread-compatible (a value type).
#pragma once

#include <cstddef>

namespace cachekit {
inline namespace v0 {

/// Options of one `memoized::many` batch.
struct many_options {
  /// How many of the batch's misses may run the function at the same time. 1 (the default):
  /// one after the other on the calling thread. Above 1: on up to that many threads started
  /// for the batch (the calling thread among them; each with the caller's `tenant_scope`), so
  /// the function must be safe to call concurrently, as it already is for concurrent callers.
  /// Lookups and the L2 round trips stay one each whatever the value.
  std::size_t parallelism = 1;
};

}  // namespace v0
}  // namespace cachekit
