#include "support/backend_factories.hpp"

#include "support/redis_cluster_nodes.hpp"
#include "support/redis_sentinel_group.hpp"
#include "support/tls_certificates.hpp"

#include <cachekit/backend_wrapper.hpp>
#include <cachekit/reliability.hpp>

#include <cachekit/file_backend.hpp>
#include <cachekit/memcached_backend.hpp>
#include <cachekit/memory_backend.hpp>
#include <cachekit/monotonic_clock.hpp>

#if CACHEKIT_TEST_HAS_IO
#include "support/cachekitio_server.hpp"

#include <cachekit/cachekitio_backend.hpp>
#endif

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

// The reliability stack as a cache builds it, with a recovery timeout short enough for the
// outage test's restart to be seen.
reliability_options quick_recovery() {
  reliability_options options;
  options.circuit_breaker->recovery_timeout = std::chrono::milliseconds{500};
  return options;
}

backend_instance make_memory() {
  auto clock = std::make_shared<manual_clock>();
  backend_instance instance;
  instance.resources = clock;
  memory_backend_options options;
  options.clock = clock.get();
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

backend_instance make_redis_tls() {
  struct resources {
    std::unique_ptr<tls_certificates> certs = tls_certificates::make();
    std::unique_ptr<local_server> server;  // destroyed before the certificates it reads
  };
  auto held = std::make_shared<resources>();
  held->server = local_server::start_redis_tls({.cert = held->certs->server_cert(),
                                                .key = held->certs->server_key(),
                                                .ca = held->certs->ca_cert()});
  backend_instance instance;
  instance.resources = held;
  instance.server = held->server.get();
  redis_options options;
  options.url = held->server->address() + "?ssl_ca_certs=" + held->certs->ca_cert().string();
  options.pool_size = 4;
  options.connect_timeout = 500ms;
  options.command_timeout = 500ms;
  instance.store = std::make_unique<redis_backend>(std::move(options));
  instance.advance = sleep_for;
  return instance;
}

// One sentinel group for the whole test binary (starting one takes seconds), emptied before
// each test; stopped by its static destructor at exit.
backend_instance make_redis_sentinel() {
  static const std::unique_ptr<redis_sentinel_group> group =
      std::make_unique<redis_sentinel_group>();
  group->flush_master();
  backend_instance instance;
  redis_options options;
  options.url = group->url();
  options.pool_size = 4;
  options.connect_timeout = 500ms;
  options.command_timeout = 500ms;
  instance.store = std::make_unique<redis_backend>(std::move(options));
  instance.advance = sleep_for;
  return instance;
}

// On the process's shared cluster (support/redis_cluster_nodes.hpp), emptied first so each
// test starts from nothing, as with a server of its own. No `server`: the cluster's outages
// (a master killed, failover) are redis_cluster_test's.
backend_instance make_redis_cluster(redis_key_layout layout) {
  redis_cluster_nodes& cluster = shared_redis_cluster();
  cluster.flush_all();
  backend_instance instance;
  redis_options options;
  options.url = cluster.url();
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

#if CACHEKIT_TEST_HAS_IO
backend_instance make_cachekitio() {
  static const std::shared_ptr<tls_certificates> certificates = tls_certificates::make();
  std::shared_ptr<cachekitio_server> server = cachekitio_server::start(*certificates);
  cachekitio_options options;
  options.api_key = cachekitio_server::live_key;
  options.api_url = server->url();
  options.allow_custom_host = true;
  options.ca_file = certificates->ca_cert().string();
  options.resolve = {server->resolve_entry()};
  options.timeout = 2s;
  backend_instance instance;
  instance.resources = server;
  instance.store = std::make_unique<backend_wrapper>(cachekitio_backend::create(options).value());
  // The server's clock counts whole seconds: move it by the step rounded up.
  instance.advance = [raw = server.get()](std::chrono::milliseconds step) {
    raw->advance(std::chrono::ceil<std::chrono::seconds>(step));
  };
  return instance;
}
#endif

}  // namespace

backend_factory cachekitio_factory() {
  backend_capabilities caps;
  caps.type = "cachekitio";
  caps.has_erase_prefix = false;  // the API has no listing
  caps.any_key_bytes = false;     // the server accepts [A-Za-z0-9_.:-] only
  caps.key_charset = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:-";
  caps.erase_reports_existence = false;
  caps.erase_counts_expired_entries = true;  // erase is true whenever the DELETE is accepted
  caps.release_reports_ownership = false;
  caps.touch_clears_expiry = false;
#if CACHEKIT_TEST_HAS_IO
  return {.name = "cachekitio", .capabilities = std::move(caps), .make = make_cachekitio};
#else
  return {.name = "cachekitio", .capabilities = std::move(caps), .make = nullptr};
#endif
}

backend_factory wrap(const std::string& name, backend_factory inner, wrap_function wrapper) {
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

backend_factory redis_sentinel_factory() {
  backend_capabilities caps;
  caps.type = "redis";
  return {.name = "redis_sentinel", .capabilities = std::move(caps), .make = make_redis_sentinel};
}

backend_factory redis_tls_factory() {
  backend_capabilities caps;
  caps.type = "redis";
  return {.name = "redis_tls", .capabilities = std::move(caps), .make = make_redis_tls};
}

backend_factory redis_cluster_factory(redis_key_layout layout) {
  const bool scoped = layout == redis_key_layout::tenant_scoped;
  backend_capabilities caps;
  caps.type = "redis";
  if (scoped) caps.key_prefix = "t:default:";
  return {.name = scoped ? "redis_cluster_tenant_scoped" : "redis_cluster",
          .capabilities = std::move(caps),
          .make = [layout] { return make_redis_cluster(layout); }};
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

backend_factory forwarding(backend_factory inner) {
  return wrap("forwarding", std::move(inner), [](std::unique_ptr<backend> b) {
    return std::make_unique<cachekit::backend_wrapper>(std::move(b));
  });
}

backend_factory reliable(backend_factory inner) {
  backend_factory out = wrap("reliable", std::move(inner), [](std::unique_ptr<backend> b) {
    // make_reliable shares ownership; the suite holds the top of the stack.
    return std::unique_ptr<backend>(
        new cachekit::backend_wrapper(make_reliable(std::move(b), quick_recovery()).top));
  });
  // While the server is down the breaker opens, and operations then fail fast with
  // circuit_open; after a restart the first probe waits for the recovery timeout.
  out.capabilities.outage_errors.push_back(errc::circuit_open);
  out.capabilities.recovery_bound += std::chrono::milliseconds{1000};
  return out;
}

std::vector<backend_factory> conformance_backends() {
  std::vector<backend_factory> backends;
  backends.push_back(memory_factory());
  backends.push_back(file_factory());
  backends.push_back(redis_factory());
  backends.push_back(redis_factory(redis_key_layout::tenant_scoped));
  backends.push_back(redis_sentinel_factory());
  backends.push_back(redis_tls_factory());
  backends.push_back(redis_cluster_factory());
  backends.push_back(redis_cluster_factory(redis_key_layout::tenant_scoped));
  backends.push_back(memcached_factory());
  backends.push_back(memcached_factory("app:"));
  backends.push_back(forwarding(memory_factory()));
  backends.push_back(reliable(memory_factory()));
  backends.push_back(reliable(redis_factory()));
  backends.push_back(reliable(memcached_factory()));
#if CACHEKIT_TEST_HAS_IO
  backends.push_back(cachekitio_factory());
  backends.push_back(reliable(cachekitio_factory()));
#endif
  return backends;
}

}  // namespace cachekit::testing
