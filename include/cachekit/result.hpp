/// @file
/// `result<T>`: a value or a failure (an `std::error_code` plus a one-line detail).
///
/// Decoders of untrusted bytes and network operations return `result<T>` instead of throwing,
/// so hot paths stay exception-free. `value()` throws `cachekit::error` when there is none.
///
///     cachekit::result<byte_buffer> r = envelope_decode(bytes);
///     if (!r) { log(r.error().message()); return std::nullopt; }
///     use(*r);
///
/// Thread safety: thread-compatible (like any value type).
#pragma once

#include <cachekit/error.hpp>

#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace cachekit {
inline namespace v0 {

/// A failure: the code says what kind, `detail` says exactly what (and how to fix it).
struct failure {
  std::error_code code;
  std::string detail;

  /// "<category message>: <detail>".
  [[nodiscard]] std::string message() const {
    return detail.empty() ? code.message() : code.message() + ": " + detail;
  }
};

/// Makes a failure; `return fail(errc::truncated, "envelope ends inside the checksum");`.
[[nodiscard]] inline failure fail(errc code, std::string detail) {
  return failure{make_error_code(code), std::move(detail)};
}

/// Holds either a `T` or a `failure`.
template <typename T>
class [[nodiscard]] result {
  static_assert(!std::is_same_v<std::remove_cv_t<T>, failure>, "result<failure> is ambiguous");

 public:
  result(T value) : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit
  result(failure f) : state_(std::in_place_index<1>, std::move(f)) {}    // NOLINT: implicit

  [[nodiscard]] bool has_value() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  /// The value; throws `cachekit::error` with the failure's code and detail when there is none.
  T& value() & {
    throw_if_failed();
    return std::get<0>(state_);
  }
  const T& value() const& {
    throw_if_failed();
    return std::get<0>(state_);
  }
  T&& value() && {
    throw_if_failed();
    return std::get<0>(std::move(state_));
  }

  /// Unchecked access: only after `has_value()`.
  T& operator*() & noexcept { return *std::get_if<0>(&state_); }
  const T& operator*() const& noexcept { return *std::get_if<0>(&state_); }
  T&& operator*() && noexcept { return std::move(*std::get_if<0>(&state_)); }
  T* operator->() noexcept { return std::get_if<0>(&state_); }
  const T* operator->() const noexcept { return std::get_if<0>(&state_); }

  /// The failure: only when `!has_value()`.
  [[nodiscard]] const failure& error() const& noexcept { return *std::get_if<1>(&state_); }
  [[nodiscard]] failure&& error() && noexcept { return std::move(*std::get_if<1>(&state_)); }
  [[nodiscard]] std::error_code code() const noexcept {
    return has_value() ? std::error_code{} : error().code;
  }

 private:
  void throw_if_failed() const {
    if (!has_value()) throw cachekit::error(error().code, error().detail);
  }
  std::variant<T, failure> state_;
};

/// `result<void>`: success or a failure.
template <>
class [[nodiscard]] result<void> {
 public:
  result() = default;
  result(failure f) : failure_(std::move(f)), failed_(true) {}  // NOLINT: implicit

  [[nodiscard]] bool has_value() const noexcept { return !failed_; }
  explicit operator bool() const noexcept { return !failed_; }
  void value() const {
    if (failed_) throw cachekit::error(failure_.code, failure_.detail);
  }
  [[nodiscard]] const failure& error() const& noexcept { return failure_; }
  [[nodiscard]] std::error_code code() const noexcept { return failure_.code; }

 private:
  failure failure_{};
  bool failed_ = false;
};

}  // namespace v0
}  // namespace cachekit
