/// @file
/// `backend_wrapper`: a `backend` that forwards every operation to another `backend`. The base
/// of the reliability layer's decorators (`circuit_breaker_backend`, `backpressure_backend`,
/// `retry_backend`) and of any a user writes: override the operations you change, the others
/// pass through untouched (the idea of leveldb's `EnvWrapper`).
///
///     class logging_backend : public cachekit::backend_wrapper {
///      public:
///       using backend_wrapper::backend_wrapper;
///       cachekit::result<std::optional<cachekit::byte_buffer>> get(std::string_view key) override
///       {
///         auto got = backend_wrapper::get(key);
///         if (!got) log(got.error().message());
///         return got;
///       }
///     };
///
/// Thread safety: as thread-safe as the wrapped backend (every backend is).
#pragma once

#include <cachekit/backend.hpp>
#include <cachekit/error.hpp>
#include <cachekit/export.hpp>

#include <memory>
#include <utility>

namespace cachekit {
inline namespace v0 {

/// Forwards everything to `inner()`. See the file comment.
class CACHEKIT_EXPORT backend_wrapper : public backend {
 public:
  /// Wraps `inner`, which must not be null (throws `cachekit::error`,
  /// errc::invalid_configuration, when it is).
  explicit backend_wrapper(std::shared_ptr<backend> inner) : inner_(std::move(inner)) {
    if (!inner_) throw error(errc::invalid_configuration, "backend_wrapper needs a backend");
  }

  /// The wrapped backend.
  [[nodiscard]] backend& inner() const noexcept { return *inner_; }
  [[nodiscard]] const std::shared_ptr<backend>& inner_ptr() const noexcept { return inner_; }

  result<std::optional<byte_buffer>> get(std::string_view key) override { return inner_->get(key); }
  result<void> set(std::string_view key, byte_view value, ttl_seconds ttl) override {
    return inner_->set(key, value, ttl);
  }
  result<bool> erase(std::string_view key) override { return inner_->erase(key); }
  result<bool> exists(std::string_view key) override { return inner_->exists(key); }
  result<std::vector<std::optional<byte_buffer>>> get_many(
      std::span<const std::string_view> keys) override {
    return inner_->get_many(keys);
  }
  result<remaining_ttl> ttl(std::string_view key) override { return inner_->ttl(key); }
  result<std::optional<timed_value>> get_with_ttl(std::string_view key) override {
    return inner_->get_with_ttl(key);
  }
  result<bool> touch(std::string_view key, ttl_seconds ttl) override {
    return inner_->touch(key, ttl);
  }
  result<std::optional<lock_token>> try_lock(std::string_view key,
                                             std::chrono::milliseconds timeout) override {
    return inner_->try_lock(key, timeout);
  }
  result<bool> release_lock(const lock_token& token) override {
    return inner_->release_lock(token);
  }
  result<std::size_t> erase_prefix(std::string_view prefix) override {
    return inner_->erase_prefix(prefix);
  }
  backend_health health() override { return inner_->health(); }
  std::string_view type() const noexcept override { return inner_->type(); }
  std::string_view key_prefix() const noexcept override { return inner_->key_prefix(); }

 private:
  std::shared_ptr<backend> inner_;
};

}  // namespace v0
}  // namespace cachekit
