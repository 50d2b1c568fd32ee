#include <cachekit/backend_wrapper.hpp>

#include <optional>
#include <utility>

namespace cachekit {
inline namespace v0 {

template <class R, class Call>
R guarding_wrapper::guarded(backend_operation operation, Call&& call) {
  std::optional<R> outcome;
  auto run = [&]() -> std::error_code {
    outcome.emplace(call());
    return *outcome ? std::error_code{} : outcome->code();
  };
  if (auto refused = guard(operation, attempt_ref(run))) return std::move(*refused);
  if (!outcome) {
    return fail(errc::invalid_configuration,
                std::string(type()) +
                    " backend wrapper: its guard neither ran nor refused the "
                    "operation (a defect of that wrapper)");
  }
  return std::move(*outcome);
}

result<std::optional<byte_buffer>> guarding_wrapper::get(std::string_view key) {
  return guarded<result<std::optional<byte_buffer>>>(backend_operation::get,
                                                     [&] { return inner().get(key); });
}

result<void> guarding_wrapper::set(std::string_view key, byte_view value, ttl_seconds ttl) {
  return guarded<result<void>>(backend_operation::set,
                               [&] { return inner().set(key, value, ttl); });
}

result<bool> guarding_wrapper::set_if_absent(std::string_view key, byte_view value,
                                             ttl_seconds ttl) {
  return guarded<result<bool>>(backend_operation::set_if_absent,
                               [&] { return inner().set_if_absent(key, value, ttl); });
}

result<bool> guarding_wrapper::erase(std::string_view key) {
  return guarded<result<bool>>(backend_operation::erase, [&] { return inner().erase(key); });
}

result<bool> guarding_wrapper::exists(std::string_view key) {
  return guarded<result<bool>>(backend_operation::exists, [&] { return inner().exists(key); });
}

result<std::vector<std::optional<byte_buffer>>> guarding_wrapper::get_many(
    std::span<const std::string_view> keys) {
  return guarded<result<std::vector<std::optional<byte_buffer>>>>(
      backend_operation::get_many, [&] { return inner().get_many(keys); });
}

result<std::vector<std::optional<timed_value>>> guarding_wrapper::get_many_with_ttl(
    std::span<const std::string_view> keys) {
  return guarded<result<std::vector<std::optional<timed_value>>>>(
      backend_operation::get_many_with_ttl, [&] { return inner().get_many_with_ttl(keys); });
}

result<void> guarding_wrapper::set_many(std::span<const write_request> writes) {
  return guarded<result<void>>(backend_operation::set_many,
                               [&] { return inner().set_many(writes); });
}

result<remaining_ttl> guarding_wrapper::ttl(std::string_view key) {
  return guarded<result<remaining_ttl>>(backend_operation::ttl, [&] { return inner().ttl(key); });
}

result<std::optional<timed_value>> guarding_wrapper::get_with_ttl(std::string_view key) {
  return guarded<result<std::optional<timed_value>>>(backend_operation::get_with_ttl,
                                                     [&] { return inner().get_with_ttl(key); });
}

result<bool> guarding_wrapper::touch(std::string_view key, ttl_seconds ttl) {
  return guarded<result<bool>>(backend_operation::touch, [&] { return inner().touch(key, ttl); });
}

result<std::optional<lock_token>> guarding_wrapper::try_lock(std::string_view key,
                                                             std::chrono::milliseconds timeout) {
  return guarded<result<std::optional<lock_token>>>(backend_operation::try_lock,
                                                    [&] { return inner().try_lock(key, timeout); });
}

result<bool> guarding_wrapper::release_lock(const lock_token& token) {
  return guarded<result<bool>>(backend_operation::release_lock,
                               [&] { return inner().release_lock(token); });
}

result<std::size_t> guarding_wrapper::erase_prefix(std::string_view prefix) {
  return guarded<result<std::size_t>>(backend_operation::erase_prefix,
                                      [&] { return inner().erase_prefix(prefix); });
}

result<bool> guarding_wrapper::set_tracked(std::string_view key, byte_view value, ttl_seconds ttl,
                                           std::string_view registry) {
  return guarded<result<bool>>(backend_operation::set_tracked,
                               [&] { return inner().set_tracked(key, value, ttl, registry); });
}

result<std::size_t> guarding_wrapper::drain_registry(std::string_view registry) {
  return guarded<result<std::size_t>>(backend_operation::drain_registry,
                                      [&] { return inner().drain_registry(registry); });
}

}  // namespace v0
}  // namespace cachekit
