// A memory_backend whose operations can be made to fail with a chosen code, or to block, on
// demand: the fault shapes the reliability layer's unit tests need without a server (the fault
// tests use real servers). Counts the operations that reached it.
#pragma once

#include <cachekit/backend_wrapper.hpp>
#include <cachekit/memory_backend.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <system_error>
#include <thread>

namespace cachekit::testing {

class faulty_backend final : public backend_wrapper {
 public:
  faulty_backend() : backend_wrapper(std::make_shared<memory_backend>()) {}

  // Every operation from now on fails with `code` (nullopt: none fails).
  void fail_with(std::optional<errc> code) { failing_.store(code ? static_cast<int>(*code) : 0); }
  // Only the next `n` operations fail with `code`, then they succeed again.
  void fail_next(std::size_t n, errc code) {
    fail_next_code_.store(static_cast<int>(code));
    fail_next_.store(n);
  }
  // Every operation sleeps this long first (a slow server).
  void delay(std::chrono::milliseconds d) { delay_ms_.store(d.count()); }
  [[nodiscard]] std::size_t calls() const { return calls_.load(); }
  [[nodiscard]] std::size_t in_flight_peak() const { return peak_.load(); }

  result<std::optional<byte_buffer>> get(std::string_view key) override {
    return run([&] { return backend_wrapper::get(key); });
  }
  result<void> set(std::string_view key, byte_view value, ttl_seconds ttl) override {
    return run([&] { return backend_wrapper::set(key, value, ttl); });
  }
  result<bool> set_if_absent(std::string_view key, byte_view value, ttl_seconds ttl) override {
    return run([&] { return backend_wrapper::set_if_absent(key, value, ttl); });
  }
  result<bool> erase(std::string_view key) override {
    return run([&] { return backend_wrapper::erase(key); });
  }
  result<bool> exists(std::string_view key) override {
    return run([&] { return backend_wrapper::exists(key); });
  }
  result<std::optional<timed_value>> get_with_ttl(std::string_view key) override {
    return run([&] { return backend_wrapper::get_with_ttl(key); });
  }
  // One call (one fault decision, one count) for the whole batch, as one round trip would be.
  result<std::vector<std::optional<timed_value>>> get_many_with_ttl(
      std::span<const std::string_view> keys) override {
    return run([&] { return backend_wrapper::get_many_with_ttl(keys); });
  }
  result<void> set_many(std::span<const write_request> writes) override {
    return run([&] { return backend_wrapper::set_many(writes); });
  }
  result<std::optional<lock_token>> try_lock(std::string_view key,
                                             std::chrono::milliseconds timeout) override {
    return run([&] { return backend_wrapper::try_lock(key, timeout); });
  }
  result<bool> release_lock(const lock_token& token) override {
    return run([&] { return backend_wrapper::release_lock(token); });
  }

 private:
  template <typename F>
  auto run(F&& operation) -> decltype(operation()) {
    calls_.fetch_add(1);
    const auto now_in = in_flight_.fetch_add(1) + 1;
    auto peak = peak_.load();
    while (now_in > peak && !peak_.compare_exchange_weak(peak, now_in)) {
    }
    struct leave {
      std::atomic<std::size_t>& n;
      ~leave() { n.fetch_sub(1); }
    } left{in_flight_};
    if (auto d = delay_ms_.load(); d > 0) std::this_thread::sleep_for(std::chrono::milliseconds(d));
    std::size_t pending = fail_next_.load();
    while (pending > 0) {
      if (fail_next_.compare_exchange_weak(pending, pending - 1)) {
        return fail(static_cast<errc>(fail_next_code_.load()), "scripted failure");
      }
    }
    if (int code = failing_.load(); code != 0) {
      return fail(static_cast<errc>(code), "scripted failure");
    }
    return operation();
  }

  std::atomic<int> failing_{0};
  std::atomic<std::size_t> fail_next_{0};
  std::atomic<int> fail_next_code_{0};
  std::atomic<std::int64_t> delay_ms_{0};
  std::atomic<std::size_t> calls_{0};
  std::atomic<std::size_t> in_flight_{0};
  std::atomic<std::size_t> peak_{0};
};

}  // namespace cachekit::testing
