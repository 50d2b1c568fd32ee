/// @file
/// `call_result<R>`: the outcome of one memoized call that did not simply return or throw on
/// the caller's thread — one element of a batch (`memoized::many`) or a completed asynchronous
/// call (`memoized::async`). It holds the result or the exception the function threw (the cache
/// itself never fails a call), and says where the result came from.
///
///     for (auto& r : get_user.many(ids)) {
///       if (r) use(r.value());                // or r.take() to move it out
///       else report(r.error());               // the exception the function threw
///     }
///
/// Thread safety: thread-compatible (a value type).
#pragma once

#include <cstdint>
#include <exception>
#include <optional>
#include <utility>

namespace cachekit {
inline namespace v0 {

/// Where a memoized call's result came from.
enum class call_source : std::uint8_t {
  l1,  ///< the in-process cache (or another caller's concurrent run of the same key)
  l2,  ///< the shared backend (also inside its stale-grace window: refreshed in the background)
  function,  ///< the function ran (a miss); also when it threw
  stale,     ///< the function threw and a recently expired copy was served instead
};

/// The result of one memoized call, or the exception its function threw.
template <class R>
class call_result {
 public:
  /// A result.
  call_result(R value, call_source source) : value_(std::move(value)), source_(source) {}
  /// The function's exception (`error` must not be null).
  explicit call_result(std::exception_ptr error) noexcept
      : error_(std::move(error)), source_(call_source::function) {}

  /// Whether it holds a result.
  [[nodiscard]] bool has_value() const noexcept { return value_.has_value(); }
  explicit operator bool() const noexcept { return has_value(); }

  /// The result; rethrows the function's exception when there is none.
  [[nodiscard]] const R& value() const& {
    if (!value_) std::rethrow_exception(error_);
    return *value_;
  }
  /// Moves the result out; rethrows the function's exception when there is none.
  [[nodiscard]] R take() {
    if (!value_) std::rethrow_exception(error_);
    return std::move(*value_);
  }
  /// The function's exception; null when there is a result.
  [[nodiscard]] const std::exception_ptr& error() const noexcept { return error_; }
  /// Where the result came from (`function` for an exception).
  [[nodiscard]] call_source source() const noexcept { return source_; }

 private:
  std::optional<R> value_;
  std::exception_ptr error_;
  call_source source_;
};

}  // namespace v0
}  // namespace cachekit
