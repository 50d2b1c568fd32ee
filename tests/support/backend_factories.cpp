#include "support/backend_factories.hpp"

#include <cachekit/file_backend.hpp>
#include <cachekit/memcached_backend.hpp>
#include <cachekit/memory_backend.hpp>

#include <stdlib.h>  // mkdtemp

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <span>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>

namespace cachekit::testing {
namespace {

using namespace std::chrono_literals;

// A directory of its own under the system temp dir (mode 0700), removed with everything in it.
class temp_directory {
 public:
  temp_directory() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "cachekit-conformance-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      throw std::system_error(errno, std::generic_category(), "mkdtemp");
    }
    path_ = pattern;
  }
  ~temp_directory() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  temp_directory(const temp_directory&) = delete;
  temp_directory& operator=(const temp_directory&) = delete;

  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
};

// A clock of `Clock`'s kind that moves only when advanced; starts at the real time.
template <typename Clock>
class fake_clock {
 public:
  fake_clock() : now_(Clock::now().time_since_epoch().count()) {}
  [[nodiscard]] typename Clock::time_point now() const noexcept {
    return typename Clock::time_point{typename Clock::duration{now_.load()}};
  }
  void advance(std::chrono::milliseconds step) noexcept {
    now_.fetch_add(std::chrono::duration_cast<typename Clock::duration>(step).count());
  }

 private:
  std::atomic<typename Clock::rep> now_;
};

void sleep_for(std::chrono::milliseconds step) {
  std::this_thread::sleep_for(step);
}

// A wrapper that forwards every call to the backend it owns, as a decorator backend does around
// its own policy. In the suite it proves that `wrap` hands a wrapper everything it needs.
class forwarding_backend final : public backend {
 public:
  explicit forwarding_backend(std::unique_ptr<backend> inner) : inner_(std::move(inner)) {}

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
  std::unique_ptr<backend> inner_;
};

backend_factory forwarding(backend_factory inner) {
  return wrap("forwarding", std::move(inner), [](std::unique_ptr<backend> b) {
    return std::make_unique<forwarding_backend>(std::move(b));
  });
}

backend_instance make_memory() {
  auto clock = std::make_shared<fake_clock<std::chrono::steady_clock>>();
  backend_instance instance;
  instance.resources = clock;
  memory_backend_options options;
  options.clock = [clock] { return clock->now(); };
  instance.store = std::make_unique<memory_backend>(std::move(options));
  instance.advance = [clock](std::chrono::milliseconds step) { clock->advance(step); };
  return instance;
}

backend_instance make_file() {
  struct resources {
    temp_directory dir;
    fake_clock<std::chrono::system_clock> clock;
  };
  auto held = std::make_shared<resources>();
  backend_instance instance;
  instance.resources = held;
  file_backend_options options;
  options.cache_dir = held->dir.path() / "cache";
  options.max_size_mb = 4;
  options.max_value_mb = 1;
  options.clock = [held] { return held->clock.now(); };
  instance.store = std::make_unique<file_backend>(std::move(options));
  instance.advance = [held](std::chrono::milliseconds step) { held->clock.advance(step); };
  return instance;
}

backend_instance make_redis(redis_key_layout layout) {
  std::shared_ptr<local_server> server = local_server::start_redis();
  backend_instance instance;
  instance.resources = server;
  instance.server = server.get();
  redis_options options;
  options.url = server->address();
  options.pool_size = 4;
  options.connect_timeout = 500ms;
  options.command_timeout = 500ms;
  options.key_layout = layout;
  instance.store = std::make_unique<redis_backend>(std::move(options));
  instance.advance = sleep_for;
  return instance;
}

backend_instance make_memcached(const std::string& key_prefix) {
  std::shared_ptr<local_server> server = local_server::start_memcached();
  backend_instance instance;
  instance.resources = server;
  instance.server = server.get();
  memcached_options options;
  options.servers = {server->address()};
  options.connect_timeout = 500ms;
  options.timeout = 500ms;
  options.pool_size = 4;
  options.key_prefix = key_prefix;
  options.retry_timeout = 200ms;
  instance.store = std::make_unique<memcached_backend>(std::move(options));
  // memcached's clock ticks once a second: an entry expires up to a second before or after
  // its TTL.
  instance.advance = [](std::chrono::milliseconds step) { sleep_for(step + 1s); };
  return instance;
}

}  // namespace

backend_factory wrap(const std::string& name, backend_factory inner, backend_wrapper wrapper) {
  backend_factory out;
  out.name = name + "_" + inner.name;
  out.capabilities = inner.capabilities;
  out.make = [make_inner = std::move(inner.make), wrapper = std::move(wrapper)] {
    backend_instance instance = make_inner();
    instance.store = wrapper(std::move(instance.store));
    return instance;
  };
  return out;
}

backend_factory memory_factory() {
  backend_capabilities caps;
  caps.type = "memory";
  return {.name = "memory", .capabilities = std::move(caps), .make = make_memory};
}

backend_factory file_factory() {
  backend_capabilities caps;
  caps.type = "file";
  caps.has_locks = false;
  caps.has_erase_prefix = false;                    // entries are stored under hashed names
  caps.max_value_bytes = std::size_t{1024 * 1024};  // max_value_mb = 1
  caps.erase_counts_expired_entries = true;
  return {.name = "file", .capabilities = std::move(caps), .make = make_file};
}

backend_factory redis_factory(redis_key_layout layout) {
  const bool scoped = layout == redis_key_layout::tenant_scoped;
  backend_capabilities caps;
  caps.type = "redis";
  if (scoped) caps.key_prefix = "t:default:";
  return {.name = scoped ? "redis_tenant_scoped" : "redis",
          .capabilities = std::move(caps),
          .make = [layout] { return make_redis(layout); }};
}

backend_factory memcached_factory(const std::string& key_prefix) {
  backend_capabilities caps;
  caps.type = "memcached";
  caps.key_prefix = key_prefix;
  caps.reports_ttl = false;
  caps.has_locks = false;
  caps.has_erase_prefix = false;  // memcached cannot list keys
  caps.any_key_bytes = false;
  caps.max_key_bytes = std::size_t{250};
  caps.stores_one_mebibyte = false;                 // -I 1m counts the key and item header
  caps.max_value_bytes = std::size_t{1024 * 1024};  // max_item_size
  return {.name = key_prefix.empty() ? "memcached" : "memcached_prefixed",
          .capabilities = std::move(caps),
          .make = [key_prefix] { return make_memcached(key_prefix); }};
}

std::vector<backend_factory> conformance_backends() {
  std::vector<backend_factory> backends;
  backends.push_back(memory_factory());
  backends.push_back(file_factory());
  backends.push_back(redis_factory());
  backends.push_back(redis_factory(redis_key_layout::tenant_scoped));
  backends.push_back(memcached_factory());
  backends.push_back(memcached_factory("app:"));
  backends.push_back(forwarding(memory_factory()));
  backends.push_back(forwarding(redis_factory()));
  return backends;
}

}  // namespace cachekit::testing
