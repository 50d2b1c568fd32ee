/// @file
/// `backend_wrapper`: a `backend` that forwards every operation to another `backend`. The base
/// of the reliability layer's decorators (`circuit_breaker_backend`, `backpressure_backend`,
/// `retry_backend`) and of any a user writes: override the operations you change, the others
/// pass through untouched (the idea of leveldb's `EnvWrapper`). `guarding_wrapper` is for the
/// other kind of wrapper, one policy around every operation (a breaker, a gate, retries).
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
/// Writes of memoized functions reach a backend that keeps cachekit-py's key registry
/// (`keeps_key_registry()`, tenant-scoped Redis) through `set_tracked`, not `set`: a wrapper
/// that changes writes overrides both.
///
/// Thread safety: as thread-safe as the wrapped backend (every backend is).
#pragma once

#include <cachekit/backend.hpp>
#include <cachekit/error.hpp>
#include <cachekit/export.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <system_error>
#include <type_traits>
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
  result<bool> set_if_absent(std::string_view key, byte_view value, ttl_seconds ttl) override {
    return inner_->set_if_absent(key, value, ttl);
  }
  result<bool> erase(std::string_view key) override { return inner_->erase(key); }
  result<bool> exists(std::string_view key) override { return inner_->exists(key); }
  result<std::vector<std::optional<byte_buffer>>> get_many(
      std::span<const std::string_view> keys) override {
    return inner_->get_many(keys);
  }
  result<std::vector<std::optional<timed_value>>> get_many_with_ttl(
      std::span<const std::string_view> keys) override {
    return inner_->get_many_with_ttl(keys);
  }
  result<void> set_many(std::span<const write_request> writes) override {
    return inner_->set_many(writes);
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
  bool keeps_key_registry() const noexcept override { return inner_->keeps_key_registry(); }
  bool labels_stale_entries() const noexcept override { return inner_->labels_stale_entries(); }
  result<bool> set_tracked(std::string_view key, byte_view value, ttl_seconds ttl,
                           std::string_view registry) override {
    return inner_->set_tracked(key, value, ttl, registry);
  }
  result<std::size_t> drain_registry(std::string_view registry) override {
    return inner_->drain_registry(registry);
  }
  result<std::size_t> publish(std::string_view channel, byte_view message) override {
    return inner_->publish(channel, message);
  }
  result<std::unique_ptr<backend_subscription>> subscribe(
      const subscription_options& options) override {
    return inner_->subscribe(options);
  }
  backend_health health() override { return inner_->health(); }
  std::string_view type() const noexcept override { return inner_->type(); }
  std::string_view key_prefix() const noexcept override { return inner_->key_prefix(); }

 private:
  std::shared_ptr<backend> inner_;
};

/// The data operations of a `backend`, for wrappers whose policy depends on the operation.
enum class backend_operation : std::uint8_t {
  get,
  set,
  set_if_absent,
  erase,
  exists,
  get_many,
  ttl,
  get_with_ttl,
  touch,
  try_lock,
  release_lock,
  erase_prefix,
  set_tracked,  ///< a `set` that also records the key in the key registry
  drain_registry,
  get_many_with_ttl,
  set_many,  ///< several writes (some may be tracked) in one round trip
};

/// One attempt of a backend operation, as a `guarding_wrapper`'s policy sees it: calling it
/// runs the operation once on the wrapped backend, keeps its result for the caller, and returns
/// its error code (empty on success). A non-owning reference (no allocation per operation),
/// valid only during the `guard` call it is given to.
class attempt_ref {
 public:
  template <class F>
  requires(!std::is_same_v<std::remove_cvref_t<F>, attempt_ref> &&
           std::is_invocable_r_v<std::error_code, F&>) attempt_ref(F& f)
  noexcept  // NOLINT(google-explicit-constructor): only built by the wrapper
      : object_(static_cast<void*>(std::addressof(f))), call_([](void* object) {
          return static_cast<std::error_code>((*static_cast<F*>(object))());
        }) {}

  std::error_code operator()() const { return call_(object_); }

 private:
  void* object_;
  std::error_code (*call_)(void*);
};

/// A `backend_wrapper` that runs every data operation (`backend_operation`) through one
/// policy, `guard`; `health`, `type`, `key_prefix`, `keeps_key_registry`,
/// `labels_stale_entries`, `publish` and `subscribe` pass through (override `health` to add
/// the policy's state). The policy sees each attempt's error code and decides whether to run,
/// rerun or refuse it, without repeating itself for each operation's signature:
///
///     class counting_backend final : public cachekit::guarding_wrapper {
///      public:
///       using guarding_wrapper::guarding_wrapper;
///      protected:
///       std::optional<cachekit::failure> guard(cachekit::backend_operation,
///                                              cachekit::attempt_ref run) override {
///         if (run()) ++failures_;  // an error code: the attempt failed
///         return std::nullopt;     // the operation ran: its own result is returned
///       }
///      private:
///       std::atomic<int> failures_{0};
///     };
///
/// Thread safety: `guard` is called concurrently from every thread using the backend.
class CACHEKIT_EXPORT guarding_wrapper : public backend_wrapper {
 public:
  using backend_wrapper::backend_wrapper;

  result<std::optional<byte_buffer>> get(std::string_view key) final;
  result<void> set(std::string_view key, byte_view value, ttl_seconds ttl) final;
  result<bool> set_if_absent(std::string_view key, byte_view value, ttl_seconds ttl) final;
  result<bool> erase(std::string_view key) final;
  result<bool> exists(std::string_view key) final;
  result<std::vector<std::optional<byte_buffer>>> get_many(
      std::span<const std::string_view> keys) final;
  result<std::vector<std::optional<timed_value>>> get_many_with_ttl(
      std::span<const std::string_view> keys) final;
  result<void> set_many(std::span<const write_request> writes) final;
  result<remaining_ttl> ttl(std::string_view key) final;
  result<std::optional<timed_value>> get_with_ttl(std::string_view key) final;
  result<bool> touch(std::string_view key, ttl_seconds ttl) final;
  result<std::optional<lock_token>> try_lock(std::string_view key,
                                             std::chrono::milliseconds timeout) final;
  result<bool> release_lock(const lock_token& token) final;
  result<std::size_t> erase_prefix(std::string_view prefix) final;
  result<bool> set_tracked(std::string_view key, byte_view value, ttl_seconds ttl,
                           std::string_view registry) final;
  result<std::size_t> drain_registry(std::string_view registry) final;

 protected:
  /// The policy around one operation. `run` may be called more than once (retries). Returns
  /// nullopt once `run` has run (the caller gets its last result), or the failure to give the
  /// caller instead of running it (refused). A policy that returns nullopt without having run
  /// it fails the operation with errc::invalid_configuration (a defect of that wrapper).
  virtual std::optional<failure> guard(backend_operation operation, attempt_ref run) = 0;

 private:
  template <class R, class Call>
  R guarded(backend_operation operation, Call&& call);
};

}  // namespace v0
}  // namespace cachekit
