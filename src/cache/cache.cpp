#include <cachekit/cache.hpp>

#include "cache/cache_engine.hpp"
#include "coherence/invalidation_event.hpp"

#include <string>
#include <utility>

namespace cachekit {
inline namespace v0 {
namespace {

// The namespace observers see for a typed call.
std::string_view event_namespace(const entry_options& options) {
  return options.ns ? std::string_view(*options.ns) : std::string_view();
}

std::string full_key(std::string_view key, const entry_options& options) {
  if (!options.ns || options.ns->empty()) return std::string(key);
  std::string out;
  out.reserve(4 + options.ns->size() + key.size());
  out.append("ns:").append(*options.ns).append(":").append(key);
  return out;
}

}  // namespace

namespace {

// cache_options::verify_l2_on_start: one read on the bare backend, below the reliability
// layers, so the check neither waits on nor trips the circuit breaker.
void verify_l2(backend& l2) {
  auto probe = l2.exists("cachekit:verify_l2_on_start");
  if (probe) return;
  const failure& why = probe.error();
  const char* fix =
      why.code == errc::backend_authentication
          ? "check the password (and user) in the URL, e.g. REDIS_URL=redis://:PASSWORD@host:6379/0"
      : why.code == errc::backend_permanent
          ? "check the URL's database index and the server's settings"
          : "check that the server runs and that the URL (REDIS_URL, CACHEKIT_REDIS_URL, "
            "CACHEKIT_MEMCACHED_SERVERS or CACHEKIT_FILE_CACHE_DIR) names it";
  throw error(why.code, "verify_l2_on_start: the " + std::string(l2.type()) +
                            " backend failed its first read (" + why.detail + "); " + fix +
                            "; or unset verify_l2_on_start to start without the L2");
}

}  // namespace

cache::cache(cache_options options) {
  if (options.verify_l2_on_start && options.l2) verify_l2(*options.l2);
  engine_ = std::make_shared<detail::cache_engine>(std::move(options));
}

cache cache::from_env(intent i) {
  auto options = cache_options::from_env(i);
  if (!options) throw error(options.error().code, options.error().detail);
  return cache(std::move(*options));
}

cache::cache(cache&&) noexcept = default;
cache& cache::operator=(cache&& other) noexcept {
  if (this != &other) {
    if (engine_) engine_->stop_background();
    engine_ = std::move(other.engine_);
  }
  return *this;
}
cache::~cache() {
  if (engine_) engine_->stop_background();
}

int cache::format_index(bool interop, bool integrity_checking,
                        serializer_kind serializer) const noexcept {
  if (interop) return detail::interop_format;
  return detail::frame_format_index(serializer, integrity_checking);
}

serializer_kind cache::memoize_serializer(const memoize_options& options) const {
  const serializer_kind kind = options.serializer.value_or(engine_->options().serializer);
  if (kind != serializer_kind::standard && engine_->options().encryption) {
    throw error(errc::invalid_configuration,
                "memoize_options.serializer \"" + std::string(serializer_name(kind)) +
                    "\" cannot be combined with encryption in this release; use "
                    "serializer_kind::standard on an encrypted cache");
  }
  return kind;
}

std::shared_ptr<detail::memo_binding> cache::bind(bool interop, const memoize_options& options,
                                                  std::string key_space,
                                                  std::string_view function) const {
  const cache_options& base = engine_->options();
  const bool integrity = options.integrity_checking.value_or(base.integrity_checking);
  const serializer_kind kind = interop ? serializer_kind::standard : memoize_serializer(options);
  auto binding = std::make_shared<detail::memo_binding>(
      engine_, format_index(interop, integrity, kind), interop,
      options.ttl ? options.ttl : base.default_ttl, base.collect_stats, std::move(key_space));
  if (options.ns) binding->ns = *options.ns;
  if (engine_->l2() != nullptr) {
    // cachekit-py: namespace=None names the registry with an empty segment. Interop functions
    // always have their namespace, the key space's first segment (`{ns}:{operation}:`).
    std::optional<std::string> ns = options.ns;
    if (interop) ns = binding->key_space.substr(0, binding->key_space.find(':'));
    binding->registry = detail::registry_id(function, ns);
    engine_->register_function(binding->registry, binding->key_space);
  }
  return binding;
}

bool cache::wait_for_refreshes(std::chrono::milliseconds timeout) {
  return engine_->wait_refreshes_idle(timeout);
}

std::size_t cache::object_max_entries() const noexcept {
  return engine_->options().object_max_entries;
}

bool cache::object_mode() const noexcept {
  return engine_->options().preset == intent::local;
}

const monotonic_clock* cache::clock() const noexcept {
  return engine_->options().clock;
}

void cache::require_unprefixed_l2_for_interop() const {
  const backend* l2 = engine_->l2();
  if (l2 == nullptr || l2->key_prefix().empty()) return;
  throw error(
      errc::invalid_configuration,
      "interop mode shares entries with other SDKs under their bare keys, but this " +
          std::string(l2->type()) + " backend stores every key under the prefix '" +
          std::string(l2->key_prefix()) +
          "'; use redis_key_layout::plain (with from_env: CACHEKIT_REDIS_KEY_LAYOUT=plain), "
          "or no memcached key_prefix, for interop");
}

void cache::require_function_name(std::string_view name) {
  if (!name.empty()) return;
  // Every unnamed function would share one key space: one function's entries answered for
  // another's, and clear() of one emptying all of them.
  throw error(errc::invalid_argument,
              "memoize needs a non-empty function name, the key space its entries live in; pass "
              "a name unique to the function, such as \"myapp.users.get_user\" (cachekit-py "
              "names a function by its module and qualified name)");
}

result<std::optional<byte_buffer>> cache::load_value(std::string_view key,
                                                     const entry_options& options) const {
  detail::namespace_scope scope(event_namespace(options));
  const std::string stored_key = full_key(key, options);
  auto found =
      engine_->load(stored_key,
                    format_index(options.interop, engine_->options().integrity_checking,
                                 options.serializer.value_or(engine_->options().serializer)),
                    options.ttl ? options.ttl : engine_->options().default_ttl, nullptr);
  if (!found) return std::move(found).error();
  return std::move(found->msgpack);
}

result<void> cache::store_value(std::string_view key, byte_view msgpack,
                                const entry_options& options) {
  detail::namespace_scope scope(event_namespace(options));
  return engine_->store(full_key(key, options),
                        format_index(options.interop, engine_->options().integrity_checking,
                                     options.serializer.value_or(engine_->options().serializer)),
                        msgpack, options.ttl ? options.ttl : engine_->options().default_ttl);
}

void cache::load_value_async(std::string_view key, const entry_options& options,
                             stored_value_use use) const {
  const std::string ns(event_namespace(options));
  detail::namespace_scope scope(ns);
  std::string stored_key = full_key(key, options);
  const int index = format_index(options.interop, engine_->options().integrity_checking,
                                 options.serializer.value_or(engine_->options().serializer));
  engine_->load_async(stored_key, index, options.ttl ? options.ttl : engine_->options().default_ttl,
                      ns,
                      [engine = engine_, stored_key, ns, use = std::move(use)](
                          result<detail::cache_engine::lookup> found, std::chrono::nanoseconds) {
                        std::optional<failure> rejected;
                        if (!found) {
                          rejected = use(std::move(found).error());
                        } else {
                          rejected = use(std::move(found->msgpack));
                        }
                        if (rejected) {
                          detail::namespace_scope inner(ns);
                          engine->reject(stored_key, *rejected);
                        }
                      });
}

std::future<result<void>> cache::store_value_async(std::string_view key, byte_view msgpack,
                                                   const entry_options& options) {
  detail::namespace_scope scope(event_namespace(options));
  auto promise = std::make_shared<std::promise<result<void>>>();
  auto out = promise->get_future();
  engine_->store_async(full_key(key, options), full_key(key, options),
                       format_index(options.interop, engine_->options().integrity_checking,
                                    options.serializer.value_or(engine_->options().serializer)),
                       msgpack, options.ttl ? options.ttl : engine_->options().default_ttl, true,
                       {}, [promise](const result<void>& written) { promise->set_value(written); });
  return out;
}

void cache::reject_value(std::string_view key, const entry_options& options,
                         const failure& why) const {
  detail::namespace_scope scope(event_namespace(options));
  engine_->reject(full_key(key, options), why);
}

result<bool> cache::erase(std::string_view key, const entry_options& options) {
  detail::namespace_scope scope(event_namespace(options));
  return engine_->erase(full_key(key, options));
}

result<std::size_t> cache::invalidate_function(std::string_view function_name,
                                               const memoize_options& options) {
  auto builder = default_key_builder::make(function_name, {.ns = options.ns});
  if (!builder) return std::move(builder).error();
  const std::string ns = options.ns.value_or(std::string{});  // outlives the scope's view
  detail::namespace_scope scope(ns);
  return engine_->invalidate_function(detail::registry_id(function_name, options.ns),
                                      builder->key_space_prefix(), false);
}

result<bool> cache::exists(std::string_view key, const entry_options& options) {
  const std::string stored_key = full_key(key, options);
  if (auto* l1 = engine_->l1(); l1 != nullptr && l1->contains(stored_key)) return true;
  if (engine_->l2() == nullptr) return false;
  auto found = engine_->l2()->exists(stored_key);
  if (!found) engine_->report_l2_error(found.error());
  return found;
}

result<remaining_ttl> cache::ttl(std::string_view key, const entry_options& options) {
  const std::string stored_key = full_key(key, options);
  if (engine_->l2() == nullptr) {
    remaining_ttl out;
    if (auto* l1 = engine_->l1(); l1 != nullptr) {
      if (auto left = l1->ttl(stored_key)) {
        out.exists = true;
        out.ttl = std::chrono::ceil<std::chrono::seconds>(*left);
      }
    }
    return out;
  }
  auto left = engine_->l2()->ttl(stored_key);
  if (!left && left.error().code != make_error_code(errc::not_supported)) {
    engine_->report_l2_error(left.error());
  }
  return left;
}

result<bool> cache::touch(std::string_view key, ttl_seconds ttl, const entry_options& options) {
  const std::string stored_key = full_key(key, options);
  if (auto* l1 = engine_->l1(); l1 != nullptr) l1->erase(stored_key);
  if (engine_->l2() == nullptr) return false;
  auto touched = engine_->l2()->touch(stored_key, ttl);
  if (!touched && touched.error().code != make_error_code(errc::not_supported)) {
    engine_->report_l2_error(touched.error());
  }
  return touched;
}

result<std::optional<byte_buffer>> cache::get_bytes(std::string_view key) {
  return engine_->load_raw(key);
}

result<void> cache::set_bytes(std::string_view key, byte_view bytes, ttl_seconds ttl) {
  return engine_->store_raw(key, bytes, ttl ? ttl : engine_->options().default_ttl);
}

backend_health cache::health() const {
  backend_health report = engine_->l2() == nullptr
                              ? backend_health{.healthy = true,
                                               .latency = std::chrono::microseconds{0},
                                               .backend_type = "none",
                                               .details = {}}
                              : engine_->l2()->health();  // the reliability layers add their state
  const cache_stats s = engine_->stats();
  report.details["l2_errors"] = std::to_string(s.l2_errors);
  report.details["l2_skipped"] = std::to_string(s.l2_skipped);
  report.details["l2_shed"] = std::to_string(s.l2_shed);
  report.details["corrupt_entries"] = std::to_string(s.corrupt_entries);
  report.details["write_back_pending"] = std::to_string(engine_->write_back_pending());
  report.details["written_back"] = std::to_string(s.written_back);
  if (auto last = engine_->last_l2_error()) report.details["last_l2_error"] = std::move(*last);
  if (auto* l1 = engine_->l1(); l1 != nullptr) {
    const l1_stats l = l1->stats();
    report.details["l1_entries"] = std::to_string(l.entries);
    report.details["l1_bytes"] = std::to_string(l.bytes);
  }
  return report;
}

cache_stats cache::stats() const {
  return engine_->stats();
}

l1_stats cache::l1() const {
  if (auto* l1 = engine_->l1(); l1 != nullptr) return l1->stats();
  return {};
}

backend* cache::l2() const noexcept {
  return engine_->l2();
}

const cache_options& cache::options() const noexcept {
  return engine_->options();
}

}  // namespace v0
}  // namespace cachekit
