#include <cachekit/memcached_backend.hpp>

#include "backends/memcached/connection_pool.hpp"
#include "backends/memcached/memcached_outcome.hpp"
#include "backends/memcached/memcached_wire.hpp"
#include "backends/memcached/rendezvous_hash.hpp"

#include <libmemcached-1.0/memcached.h>

#include <array>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <system_error>
#include <unordered_map>
#include <utility>

namespace cachekit {
inline namespace v0 {
namespace {

using detail::memcached_connection_pool;
using detail::memcached_outcome;
using lease = memcached_connection_pool::lease;

// cachekit-py's health probe key (prefixed like every other key).
constexpr std::string_view health_probe_key = "__cachekit_health__";

// `prefix + key` in a fixed buffer: checked keys are at most 250 bytes, so no allocation.
class wire_key {
 public:
  wire_key(std::string_view prefix, std::string_view key) noexcept
      : size_(prefix.size() + key.size()) {
    std::memcpy(bytes_.data(), prefix.data(), prefix.size());
    std::memcpy(bytes_.data() + prefix.size(), key.data(), key.size());
  }
  [[nodiscard]] const char* data() const noexcept { return bytes_.data(); }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] std::string_view view() const noexcept { return {bytes_.data(), size_}; }

 private:
  std::array<char, detail::memcached_max_key_size> bytes_;
  std::size_t size_;
};

struct free_deleter {
  // libmemcached hands values back from malloc.
  void operator()(char* p) const noexcept { std::free(p); }  // NOLINT(cppcoreguidelines-no-malloc)
};
using malloced_value = std::unique_ptr<char, free_deleter>;

byte_buffer copy_bytes(const char* data, std::size_t size) {
  const auto* begin = reinterpret_cast<const std::byte*>(data);
  return byte_buffer(begin, begin + size);
}

std::string ms_text(std::chrono::milliseconds ms) {
  return std::to_string(ms.count()) + " ms";
}

[[noreturn]] void config_error(const std::string& message) {
  throw error(errc::invalid_configuration, message);
}

void check_duration(std::chrono::milliseconds value, const char* field) {
  if (value < std::chrono::milliseconds(1) ||
      value.count() > std::numeric_limits<std::int32_t>::max()) {
    config_error(std::string("memcached_options::") + field + " is " + ms_text(value) +
                 "; use at least 1 ms (libmemcached counts whole milliseconds)");
  }
}

std::vector<detail::memcached_server_address> checked_servers(const memcached_options& options) {
  if (options.servers.empty()) {
    config_error(
        "memcached_options::servers is empty; list at least one \"host:port\", e.g. "
        "{\"127.0.0.1:11211\"}");
  }
  check_duration(options.connect_timeout, "connect_timeout");
  check_duration(options.timeout, "timeout");
  if (options.pool_size == 0) {
    config_error("memcached_options::pool_size is 0; use at least 1 (cachekit-py's default is 10)");
  }
  if (options.retry_attempts < 0) {
    config_error(
        "memcached_options::retry_attempts is negative; use 0 (never skip a failing "
        "server) or more (cachekit-py's default is 2)");
  }
  if (options.retry_attempts > 0) check_duration(options.retry_timeout, "retry_timeout");
  if (options.clock == nullptr) {
    config_error(
        "memcached_options::clock is null; leave it unset for the coarse monotonic clock, or "
        "pass a manual_clock in tests");
  }
  if (auto ok = detail::check_memcached_key_prefix(options.key_prefix); !ok) {
    config_error(ok.error().detail);
  }

  std::vector<detail::memcached_server_address> servers;
  servers.reserve(options.servers.size());
  for (std::size_t i = 0; i < options.servers.size(); ++i) {
    auto parsed = detail::parse_memcached_server(options.servers[i], i);
    if (!parsed) config_error(parsed.error().detail);
    for (std::size_t j = 0; j < servers.size(); ++j) {
      if (servers[j].node_name == parsed->node_name) {
        config_error("memcached_options::servers[" + std::to_string(j) + "] and servers[" +
                     std::to_string(i) + "] name the same server; list each server once");
      }
    }
    servers.push_back(std::move(*parsed));
  }
  return servers;
}

// The message for a failed operation: what, where, why, and what to do.
failure describe(memcached_outcome outcome, const char* operation,
                 const memcached_connection_pool& pool, memcached_return_t rc, memcached_st* handle,
                 const memcached_options& options) {
  const std::string where = std::string("memcached ") + operation + " on " + pool.address();
  std::string reason = memcached_strerror(handle, rc);
  if (const int saved_errno = memcached_last_error_errno(handle); saved_errno != 0) {
    reason += " (" + std::generic_category().message(saved_errno) + ")";
  }
  switch (outcome) {
    case memcached_outcome::timeout:
      return fail(errc::timeout, where + " timed out: " + reason + " (memcached_options::timeout " +
                                     ms_text(options.timeout) + ", connect_timeout " +
                                     ms_text(options.connect_timeout) + ")");
    case memcached_outcome::rejected:
      if (rc == MEMCACHED_E2BIG) {
        return fail(errc::backend_permanent,
                    where +
                        ": the server refused the value as too large; its item size limit "
                        "(memcached -I, 1 MiB by default, counting key and item header) is "
                        "lower: compress the value, raise -I, or lower "
                        "memcached_options::max_item_size to catch this before sending");
      }
      return fail(errc::backend_permanent, where + " was refused: " + reason);
    case memcached_outcome::authentication:
      return fail(errc::backend_authentication, where + ": authentication failed: " + reason);
    case memcached_outcome::server_error:
      return fail(errc::transient, where + ": the server reported an error: " + reason);
    case memcached_outcome::answer:
    case memcached_outcome::unreachable: break;
  }
  return fail(errc::transient,
              where + " failed: " + reason + "; is the server running and reachable?");
}

bool is_success(memcached_return_t rc) noexcept {
  return rc == MEMCACHED_SUCCESS;
}
bool is_found_or_not(memcached_return_t rc) noexcept {
  return rc == MEMCACHED_SUCCESS || rc == MEMCACHED_NOTFOUND;
}
// The end of a multi-get: END after some hits, NOTFOUND after none.
bool is_fetch_end(memcached_return_t rc) noexcept {
  return rc == MEMCACHED_END || rc == MEMCACHED_NOTFOUND;
}

}  // namespace

struct memcached_backend::impl {
  memcached_options options;
  std::vector<std::string> node_names;  // pymemcache's names, for rendezvous hashing
  std::vector<std::unique_ptr<memcached_connection_pool>> pools;

  memcached_connection_pool& pool_for(std::string_view wire) const {
    const std::size_t index = pools.size() == 1 ? 0 : detail::rendezvous_pick(node_names, wire);
    return *pools[index];
  }

  // Settles `rc` from an operation on `held`: updates the server's failure record and the
  // connection's fate. Returns nothing for an answer; else the failure, or nothing with
  // `retry` set when a reused connection turned out dead and a fresh one deserves a try.
  std::optional<failure> settle(memcached_connection_pool& pool, lease& held, memcached_return_t rc,
                                bool is_answer, const char* operation, bool& retry) const {
    retry = false;
    if (is_answer) {
      pool.record_success();
      return std::nullopt;
    }
    const memcached_outcome outcome =
        detail::classify_memcached_return(rc, false, memcached_last_error_errno(held.handle()));
    held.discard();
    if (outcome == memcached_outcome::unreachable) {
      // A server restart kills every pooled connection at once; drop them all, and retry once
      // on a new connection, so the restart costs no failed operation.
      pool.close_idle();
      if (held.reused()) {
        retry = true;
        return std::nullopt;
      }
    }
    if (detail::counts_as_server_failure(outcome)) {
      pool.record_failure();
    } else {
      pool.record_success();  // it answered, if only to refuse
    }
    return describe(outcome, operation, pool, rc, held.handle(), options);
  }

  // Runs `op(handle)` on a pooled connection to `pool`'s server; `is_answer(rc)` says which
  // return codes are replies. Returns the reply's code or the failure.
  template <typename Op, typename IsAnswer>
  result<memcached_return_t> run(memcached_connection_pool& pool, const char* operation, Op&& op,
                                 IsAnswer&& is_answer) const {
    bool fresh = false;
    for (;;) {
      auto held = pool.acquire(fresh);
      if (!held) return std::move(held).error();
      const memcached_return_t rc = op(held->handle());
      bool retry = false;
      if (auto failed = settle(pool, *held, rc, is_answer(rc), operation, retry)) {
        return std::move(*failed);
      }
      if (!retry) return rc;
      fresh = true;
    }
  }
};

memcached_backend::memcached_backend(memcached_options options) : impl_(std::make_unique<impl>()) {
  const auto servers = checked_servers(options);
  const detail::memcached_pool_settings settings{
      .connect_timeout = options.connect_timeout,
      .timeout = options.timeout,
      .max_connections = options.pool_size,
      .retry_attempts = options.retry_attempts,
      .retry_timeout = options.retry_timeout,
      .clock = options.clock,
  };
  for (const auto& server : servers) {
    impl_->node_names.push_back(server.node_name);
    impl_->pools.push_back(std::make_unique<memcached_connection_pool>(server, settings));
  }
  impl_->options = std::move(options);
}

memcached_backend::~memcached_backend() = default;
memcached_backend::memcached_backend(memcached_backend&&) noexcept = default;
memcached_backend& memcached_backend::operator=(memcached_backend&&) noexcept = default;

std::string_view memcached_backend::key_prefix() const noexcept {
  return impl_ ? std::string_view(impl_->options.key_prefix) : std::string_view();
}

result<std::optional<byte_buffer>> memcached_backend::get(std::string_view key) {
  const std::string_view prefix = impl_->options.key_prefix;
  if (auto ok = detail::check_memcached_key(prefix, key); !ok) return ok.error();
  const wire_key wire(prefix, key);
  std::optional<byte_buffer> value;
  auto rc = impl_->run(
      impl_->pool_for(wire.view()), "get",
      [&](memcached_st* handle) {
        std::size_t length = 0;
        std::uint32_t flags = 0;  // pymemcache writes 0 and ignores them on reads; so do we
        memcached_return_t code = MEMCACHED_FAILURE;
        const malloced_value data(
            memcached_get(handle, wire.data(), wire.size(), &length, &flags, &code));
        // An empty value comes back as a null pointer with SUCCESS.
        if (code == MEMCACHED_SUCCESS) value = copy_bytes(data.get(), length);
        return code;
      },
      is_found_or_not);
  if (!rc) return std::move(rc).error();
  return value;
}

result<void> memcached_backend::set(std::string_view key, byte_view value, ttl_seconds ttl) {
  const std::string_view prefix = impl_->options.key_prefix;
  if (auto ok = detail::check_memcached_key(prefix, key); !ok) return ok.error();
  if (ttl && ttl->count() <= 0) {  // already expired (backend.hpp); cachekit-py: no expiry
    auto erased = erase(key);
    if (!erased) return std::move(erased).error();
    return {};
  }
  const std::size_t max_size = impl_->options.max_item_size;
  if (max_size != 0 && value.size() > max_size) {
    return fail(errc::backend_permanent,
                "value is " + std::to_string(value.size()) +
                    " bytes, which exceeds the memcached max item size of " +
                    std::to_string(max_size) +
                    " bytes (memcached_options::max_item_size); memcached cannot store it. "
                    "Enable compression, use a backend for larger payloads (Redis, file), or "
                    "raise both the server's -I limit and max_item_size");
  }
  const wire_key wire(prefix, key);
  const auto expiration = static_cast<time_t>(detail::memcached_expiration(ttl));
  auto rc = impl_->run(
      impl_->pool_for(wire.view()), "set",
      [&](memcached_st* handle) {
        return memcached_set(handle, wire.data(), wire.size(),
                             reinterpret_cast<const char*>(value.data()), value.size(), expiration,
                             0);
      },
      is_success);
  if (!rc) return std::move(rc).error();
  return {};
}

result<bool> memcached_backend::erase(std::string_view key) {
  const std::string_view prefix = impl_->options.key_prefix;
  if (auto ok = detail::check_memcached_key(prefix, key); !ok) return ok.error();
  const wire_key wire(prefix, key);
  auto rc = impl_->run(
      impl_->pool_for(wire.view()), "delete",
      [&](memcached_st* handle) { return memcached_delete(handle, wire.data(), wire.size(), 0); },
      is_found_or_not);
  if (!rc) return std::move(rc).error();
  return *rc == MEMCACHED_SUCCESS;
}

result<bool> memcached_backend::exists(std::string_view key) {
  auto value = get(key);
  if (!value) return std::move(value).error();
  return value->has_value();
}

result<bool> memcached_backend::touch(std::string_view key, ttl_seconds ttl) {
  const std::string_view prefix = impl_->options.key_prefix;
  if (auto ok = detail::check_memcached_key(prefix, key); !ok) return ok.error();
  if (ttl && ttl->count() <= 0) return erase(key);  // it expires now (backend.hpp)
  const wire_key wire(prefix, key);
  const auto expiration = static_cast<time_t>(detail::memcached_expiration(ttl));
  auto rc = impl_->run(
      impl_->pool_for(wire.view()), "touch",
      [&](memcached_st* handle) {
        return memcached_touch(handle, wire.data(), wire.size(), expiration);
      },
      is_found_or_not);
  if (!rc) return std::move(rc).error();
  return *rc == MEMCACHED_SUCCESS;
}

result<std::vector<std::optional<timed_value>>> memcached_backend::get_many_with_ttl(
    std::span<const std::string_view> keys) {
  auto found = get_many(keys);
  if (!found) return std::move(found).error();
  std::vector<std::optional<timed_value>> out;
  out.reserve(found->size());
  for (auto& value : *found) {
    if (value) {
      out.emplace_back(timed_value{std::move(*value), std::nullopt, false});
    } else {
      out.emplace_back();
    }
  }
  return out;
}

result<remaining_ttl> memcached_backend::ttl(std::string_view) {
  return fail(errc::not_supported,
              "memcached cannot report a key's remaining TTL (its protocol has no such "
              "command; cachekit-py's memcached backend has no get_ttl either)");
}

result<std::vector<std::optional<byte_buffer>>> memcached_backend::get_many(
    std::span<const std::string_view> keys) {
  const std::string_view prefix = impl_->options.key_prefix;
  for (std::string_view key : keys) {
    if (auto ok = detail::check_memcached_key(prefix, key); !ok) return ok.error();
  }

  // Each distinct wire key is asked for once, from the server that holds it.
  std::vector<wire_key> wires;
  wires.reserve(keys.size());
  for (std::string_view key : keys) wires.emplace_back(prefix, key);
  std::vector<std::size_t> first_of(keys.size());  // index of the first equal key
  std::unordered_map<std::string_view, std::size_t> first_index;
  first_index.reserve(keys.size());

  struct batch {
    memcached_connection_pool* pool = nullptr;
    std::vector<const char*> key_data;
    std::vector<std::size_t> key_size;
    std::optional<lease> held;
    bool redo = false;  // a reused connection died: run it again on a new one
  };
  std::vector<batch> batches(impl_->pools.size());
  for (std::size_t i = 0; i < impl_->pools.size(); ++i) batches[i].pool = impl_->pools[i].get();
  for (std::size_t i = 0; i < wires.size(); ++i) {
    const auto [it, inserted] = first_index.try_emplace(wires[i].view(), i);
    first_of[i] = it->second;
    if (!inserted) continue;
    const std::size_t server =
        batches.size() == 1 ? 0 : detail::rendezvous_pick(impl_->node_names, wires[i].view());
    batches[server].key_data.push_back(wires[i].data());
    batches[server].key_size.push_back(wires[i].size());
  }

  std::vector<std::optional<byte_buffer>> out(keys.size());
  // Reads every reply of the multi-get sent on `handle` into `out`.
  const auto receive = [&](memcached_st* handle) {
    memcached_result_st result_storage;
    memcached_result_st* result = memcached_result_create(handle, &result_storage);
    if (result == nullptr) return MEMCACHED_MEMORY_ALLOCATION_FAILURE;
    memcached_return_t code = MEMCACHED_SUCCESS;
    while (memcached_fetch_result(handle, result, &code) != nullptr) {
      const std::string_view key(memcached_result_key_value(result),
                                 memcached_result_key_length(result));
      if (const auto it = first_index.find(key); it != first_index.end()) {
        out[it->second] =
            copy_bytes(memcached_result_value(result), memcached_result_length(result));
      }
    }
    memcached_result_free(result);
    return code;
  };
  const auto send = [](memcached_st* handle, const batch& b) {
    return memcached_mget(handle, b.key_data.data(), b.key_size.data(), b.key_data.size());
  };

  // On a failure, connections that still have replies coming must not go back to the pool.
  const auto abandon = [&](failure f) {
    for (batch& b : batches) {
      if (b.held) b.held->discard();
    }
    return f;
  };

  // Send to every server first, then read: the round trips overlap.
  for (batch& b : batches) {
    if (b.key_data.empty()) continue;
    auto held = b.pool->acquire();
    if (!held) return abandon(std::move(held).error());
    const memcached_return_t rc = send(held->handle(), b);
    bool retry = false;
    if (auto failed = impl_->settle(*b.pool, *held, rc, is_success(rc), "get_many", retry)) {
      return abandon(std::move(*failed));
    }
    if (retry) {
      b.redo = true;
    } else {
      b.held.emplace(std::move(*held));
    }
  }
  for (batch& b : batches) {
    if (!b.held) continue;
    const memcached_return_t rc = receive(b.held->handle());
    bool retry = false;
    auto failed = impl_->settle(*b.pool, *b.held, rc, is_fetch_end(rc), "get_many", retry);
    b.held.reset();
    if (failed) return abandon(std::move(*failed));
    b.redo = retry;
  }
  for (batch& b : batches) {
    if (!b.redo) continue;
    auto rc = impl_->run(
        *b.pool, "get_many",
        [&](memcached_st* handle) {
          const memcached_return_t sent = send(handle, b);
          return sent == MEMCACHED_SUCCESS ? receive(handle) : sent;
        },
        is_fetch_end);
    if (!rc) return std::move(rc).error();
  }

  for (std::size_t i = 0; i < out.size(); ++i) {
    if (first_of[i] != i) out[i] = out[first_of[i]];
  }
  return out;
}

backend_health memcached_backend::health() {
  backend_health report;
  report.backend_type = "memcached";
  report.details["configured_servers"] = std::to_string(impl_->pools.size());
  std::string servers;
  for (const auto& pool : impl_->pools) {
    servers += (servers.empty() ? "" : ",") + pool->address();
  }
  report.details["servers"] = servers;

  const wire_key wire(impl_->options.key_prefix, health_probe_key);
  const auto start = std::chrono::steady_clock::now();
  bool healthy = true;
  for (const auto& pool : impl_->pools) {
    std::string version;
    auto rc = impl_->run(
        *pool, "health check",
        [&](memcached_st* handle) {
          std::size_t length = 0;
          std::uint32_t flags = 0;
          memcached_return_t code = MEMCACHED_FAILURE;
          const malloced_value data(
              memcached_get(handle, wire.data(), wire.size(), &length, &flags, &code));
          if (!is_found_or_not(code)) return code;
          code = memcached_version(handle);
          if (code != MEMCACHED_SUCCESS) return code;
          const memcached_instance_st* server = memcached_server_instance_by_position(handle, 0);
          version = std::to_string(memcached_server_major_version(server)) + "." +
                    std::to_string(memcached_server_minor_version(server)) + "." +
                    std::to_string(memcached_server_micro_version(server));
          return MEMCACHED_SUCCESS;
        },
        is_success);
    if (rc) {
      report.details["server." + pool->address()] = "up";
      report.details["version." + pool->address()] = version;
    } else {
      healthy = false;
      report.details["server." + pool->address()] = rc.error().message();
      report.details.try_emplace("error", rc.error().message());
    }
  }
  report.healthy = healthy;
  if (healthy) {
    report.latency = std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::steady_clock::now() - start);
  }
  return report;
}

}  // namespace v0
}  // namespace cachekit
