#include "cache/cache_engine.hpp"

#include "cache/env_config.hpp"  // canonical_uuid
#include "cache/swr_config.hpp"
#include "coherence/invalidation_event.hpp"
#include "protocol/crypto/master_key.hpp"
#include "protocol/msgpack_bounds.hpp"

#include <cachekit/logging.hpp>
#include <cachekit/tenant_scope.hpp>

#include <algorithm>
#include <chrono>
#include <string>
#include <utility>

namespace cachekit {
inline namespace v0 {
namespace detail {
namespace {

// An L2 that cannot say how long an entry has left (memcached) gets L1 copies this short, so a
// delete or overwrite by another process shows through soon (cachekit-rs backfills likewise).
constexpr std::chrono::seconds unknown_remaining_cap{30};

std::optional<tenant_keyring> tenant_keys(const cache_options& options) {
  if (!options.encryption) return std::nullopt;
  // A UUID is one tenant however it is spelled: derive from Python's str(uuid.UUID(x)) form, as
  // cachekit-py does with deployment_uuid. Other ids ("default") are used as given.
  const std::string& given = options.encryption->tenant;
  const std::string tenant = canonical_uuid(given).value_or(given);
  auto keys = options.encryption->keys.for_tenant(tenant);
  if (!keys) {
    throw error(errc::invalid_configuration, "encryption_options.tenant: " + keys.error().detail);
  }
  return std::move(*keys);
}

storage_format make_format(storage_mode mode, bool integrity, bool key_binding,
                           const std::optional<tenant_keyring>& keys, const keyring* ring,
                           std::size_t max_payload,
                           serializer_kind serializer = serializer_kind::standard) {
  return storage_format(storage_options{.mode = mode,
                                        .serializer = serializer,
                                        .integrity_checking = integrity,
                                        .key_binding = key_binding,
                                        .encryption = keys,
                                        .header_tenants = ring,
                                        .max_payload_bytes = max_payload});
}

cache_options checked(cache_options options) {
  if (options.preset == intent::secure) {
    if (!options.encryption) {
      throw error(errc::invalid_configuration,
                  "intent::secure needs a master key: set cache_options.encryption (or "
                  "CACHEKIT_MASTER_KEY for cache::from_env; generate one with: "
                  "openssl rand -hex 32)");
    }
    options.integrity_checking = true;  // secure forces integrity, as cachekit-py's preset
  }
  if (options.preset == intent::io && !options.l2) {
    throw error(errc::invalid_configuration,
                "intent::io caches through the cachekit.io backend and has none: build the "
                "options with cachekit::io_cache_options(api_key) from "
                "<cachekit/cachekitio_backend.hpp> (link cachekit::io), or with "
                "cache_options::from_env(intent::io) and CACHEKIT_API_KEY set");
  }
  if (options.encryption) {
    // The keyring itself takes the vectors' patterned keys; a cache seals real entries with it.
    if (auto ok = keyring_access::check_sealing_key(
            options.encryption->keys, "cache_options.encryption's current master key");
        !ok) {
      throw error(ok.error().code, ok.error().detail);
    }
  }
  if (options.max_value_bytes == 0) {
    throw error(errc::invalid_configuration,
                "cache_options.max_value_bytes is 0, so nothing could be stored; use a limit "
                "such as 100 MiB (the default)");
  }
  if (options.clock == nullptr) {
    throw error(errc::invalid_configuration,
                "cache_options.clock is null; leave the default (monotonic_clock::coarse())");
  }
  if (options.l1_default_ttl <= std::chrono::seconds{0}) {
    throw error(errc::invalid_configuration,
                "cache_options.l1_default_ttl must be positive (default 300 s)");
  }
  if (options.encryption && options.serializer != serializer_kind::standard) {
    throw error(errc::invalid_configuration,
                "cache_options.serializer \"" + std::string(serializer_name(options.serializer)) +
                    "\" cannot be combined with encryption in this release; use "
                    "serializer_kind::standard for encrypted caches");
  }
  check_swr_options(options);  // cache_engine_swr.cpp
  // cache_engine_async.cpp
  check_async_options(options.async);
  return options;
}

// Once per second per error class: a backend that is down fails every call, and the handler
// (a logger, usually) must see that it is down, not thousands of copies of it.
constexpr std::chrono::seconds report_interval{1};

std::unique_ptr<l1_cache> make_l1(const cache_options& options) {
  if (!options.l1_enabled || options.preset == intent::local) return nullptr;
  if (options.l1_max_bytes == 0) {
    throw error(errc::invalid_configuration,
                "cache_options.l1_max_bytes must be positive; set it to the L1's byte budget "
                "(default 100 MiB, CACHEKIT_L1_MAX_SIZE_MB), or set l1_enabled = false for no L1");
  }
  return std::make_unique<l1_cache>(l1_options{.max_bytes = options.l1_max_bytes,
                                               .default_ttl = options.l1_default_ttl,
                                               .keep_expired_for = kept_expired_for(options),
                                               .clock = options.clock});
}

// The formats of the format indices, sealing with `keys`. `header_tenants`: frame readers
// open another tenant's frame with that tenant's keys (interop entries carry no header).
// Reads decompress at most `max_payload` bytes: what this cache would have agreed to store.
// The json and auto serializers are plaintext only: left out when `keys` is set.
std::array<std::optional<storage_format>, format_count> make_format_set(
    const std::optional<tenant_keyring>& keys, const keyring* header_tenants,
    bool interop_integrity, bool key_binding, std::size_t max_payload) {
  std::array<std::optional<storage_format>, format_count> set;
  set[frame_with_integrity] =
      make_format(storage_mode::frame, true, key_binding, keys, header_tenants, max_payload);
  set[frame_without_integrity] =
      make_format(storage_mode::frame, false, key_binding, keys, header_tenants, max_payload);
  set[interop_format] = make_format(storage_mode::interop, interop_integrity, key_binding, keys,
                                    nullptr, max_payload);
  if (!keys) {
    for (serializer_kind kind : {serializer_kind::json, serializer_kind::auto_detect}) {
      for (bool integrity : {true, false}) {
        set[frame_format_index(kind, integrity)] = make_format(
            storage_mode::frame, integrity, key_binding, keys, header_tenants, max_payload, kind);
      }
    }
  }
  return set;
}

std::array<std::optional<storage_format>, format_count> make_formats(const cache_options& options) {
  // Single-tenant frame readers follow the header's tenant, as cachekit-py's do.
  return make_format_set(tenant_keys(options),
                         options.encryption ? &options.encryption->keys : nullptr,
                         options.integrity_checking, options.key_binding, options.max_value_bytes);
}

// Deepest nesting a stored value may have (msgpack-python's and cachekit-py's reader's limit).
constexpr std::size_t max_value_depth = 1024;

// Opens stored bytes, whatever they hold: an entry above what this cache stores is refused
// unread, and running out of memory (or any other exception) while opening is a corrupt entry,
// never an exception out of a cached call.
result<opened_entry> open_stored(const storage_format& fmt, byte_view stored, std::string_view aad,
                                 std::size_t max_bytes) {
  if (stored.size() > max_bytes) {
    return fail(errc::input_too_large, "stored entry of " + std::to_string(stored.size()) +
                                           " bytes is above max_value_bytes (" +
                                           std::to_string(max_bytes) +
                                           "), more than this cache ever writes");
  }
  try {
    return fmt.open(stored, aad);
  } catch (const std::bad_alloc&) {
    return fail(errc::length_limit, "opening the entry needed more memory than is available");
  } catch (const std::exception& e) {
    return fail(errc::malformed, std::string("opening the entry failed: ") + e.what());
  }
}

}  // namespace

cache_engine::cache_engine(cache_options options)
    : events_(options.observers),
      options_([&] {
        cache_options o = checked(std::move(options));
        if (o.l2) {
          circuit_breaker::transition_handler on_change = nullptr;
          if (o.reliability.circuit_breaker && (o.on_error || events_.active())) {
            // Holds copies, not the engine: the stack (`options().l2`) may outlive it.
            on_change = [hub = std::make_shared<const event_hub>(events_), on_error = o.on_error,
                         breaker = *o.reliability.circuit_breaker](circuit_state from,
                                                                   circuit_state to) {
              breaker_changed(*hub, on_error, breaker, from, to);
            };
          }
          auto stack =
              make_reliable(std::move(o.l2), o.reliability, *o.clock, std::move(on_change));
          breaker_ = stack.circuit_breaker;
          gate_ = stack.backpressure;
          o.l2 = std::move(stack.top);
        }
        return o;
      }()),
      l1_(make_l1(options_)),
      formats_(make_formats(options_)),
      fills_(options_.l2.get(), options_.fill_lock, *options_.clock),
      encrypted_(options_.encryption.has_value()),
      timed_reads_(l2() != nullptr && l2()->labels_stale_entries()),
      stale_refreshes_(std::max<std::size_t>(options_.swr.max_pending, 1)),
      refreshes_(make_refresh_executor(options_, l1_ != nullptr, l2() != nullptr)) {
  if (options_.write_back && l1_ && l2() != nullptr) {
    write_back_ = std::make_unique<write_back_queue>(
        *options_.write_back,
        [this](const std::string& key, const write_back_queue::waiting_key& entry) {
          return write_back(key, entry);
        });
  }
  start_async();  // cache_engine_async.cpp
  if (breaker_ != nullptr && events_.active()) {
    events_.breaker({.from = std::nullopt, .to = circuit_state::closed});
  }
  if (options_.coherence != l1_coherence::ttl_only) {
    if (l1_ && l2() != nullptr) {
      coherence_ = std::make_unique<coherence_state>();
      coherence_->track_keys = options_.coherence == l1_coherence::redis_tracking;
      ensure_listener();
    } else {
      emit_log(log_level::warning, "invalidation_listener",
               "cache_options::coherence is set, but the cache has no L1 or no L2: there is no "
               "L1 copy to keep coherent, so no listener runs");
    }
  }
}

void cache_engine::listener_slot::ensure(cache_engine& engine) {
  std::call_once(started, [&] {
    coherence_state& c = *engine.coherence_;
    if (c.stopped.load()) return;
    running = std::make_unique<invalidation_listener>(
        invalidation_listener::target{.l2 = engine.l2(),
                                      .l1 = engine.l1_.get(),
                                      .epochs = &c.epochs,
                                      .spaces = &c.spaces,
                                      .track_keys = c.track_keys});
  });
}

void cache_engine::register_function(std::string_view registry, std::string_view key_space) {
  if (coherence_ != nullptr) coherence_->spaces.add(registry, key_space);
}

void cache_engine::publish_invalidation(std::string_view registry,
                                        std::optional<std::string_view> key) {
  if (l2() == nullptr || registry.empty() || publish_unsupported_.load(std::memory_order_relaxed)) {
    return;
  }
  const auto event = encode_invalidation_event(registry, key);
  if (!event) {
    publish_failures_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  auto sent = l2()->publish(invalidation_channel, as_byte_view(*event));
  if (!sent) {
    if (sent.error().code == make_error_code(errc::not_supported)) {
      publish_unsupported_.store(true, std::memory_order_relaxed);  // memcached, file, memory
    } else {
      publish_failures_.fetch_add(1, std::memory_order_relaxed);
    }
  }
}

result<std::size_t> cache_engine::invalidate_function(std::string_view registry,
                                                      std::string_view key_space,
                                                      bool walk_prefix) {
  std::size_t removed = 0;
  std::optional<failure> failed;
  if (l2() != nullptr) {
    const bool drains = l2()->keeps_key_registry() && !registry.empty();
    if (drains) {
      auto drained = l2()->drain_registry(registry);
      if (drained) {
        removed += *drained;
      } else {
        failed = drained.error();
      }
    }
    if (!drains || walk_prefix || failed) {
      auto erased = l2()->erase_prefix(key_space);
      if (erased) {
        removed += *erased;
        // The walk reached every entry the drain would have (registry members are keys under
        // this key space): the invalidation happened, so it succeeds and is published. The
        // drain's failure still reaches stats and on_error.
        if (failed) {
          report_l2_error(*failed);
          failed.reset();
        }
      } else if (erased.error().code != make_error_code(errc::not_supported)) {
        failed = erased.error();
      }
    }
  }
  // L2 first (as erase_prefix): a backfill in between would re-copy what L2 is about to lose.
  if (coherence_ != nullptr) coherence_->epochs.bump_all();
  if (l1_) l1_->erase_prefix(key_space);
  if (failed) {
    report_l2_error(*failed);
    return *failed;
  }
  publish_invalidation(registry, std::nullopt);
  return removed;
}

cache_engine::~cache_engine() {
  if (breaker_ != nullptr && events_.active()) {
    events_.breaker({.from = breaker_->breaker().state(), .to = std::nullopt});
  }
}

void cache_engine::breaker_changed(const event_hub& hub,
                                   const std::function<void(const failure&)>& on_error,
                                   const circuit_breaker_options& b, circuit_state from,
                                   circuit_state to) {
  if (to == circuit_state::open && on_error) {
    try {
      on_error(fail(errc::circuit_open,
                    "L2 circuit breaker opened after " + std::to_string(b.failure_threshold) +
                        " failures within " + std::to_string(b.failure_window.count()) +
                        " ms; L2 is skipped (calls run without it) and probed again in " +
                        std::to_string(b.recovery_timeout.count()) + " ms"));
    } catch (...) {  // a faulty handler must not turn an absorbed fault into a failed call
    }
  }
  if (hub.active()) hub.breaker({.from = from, .to = to});
}

void cache_engine::emit_fault(fault_kind kind, cache_layer layer, const failure& why,
                              std::string_view key,
                              std::optional<std::string_view> ns) const noexcept {
  if (events_.active()) [[unlikely]] {
    events_.fault(fault_event{.kind = kind,
                              .layer = layer,
                              .what = why,
                              .key = key,
                              .ns = ns ? *ns : current_namespace()});
  }
}

void cache_engine::emit_operation(cache_op op, cache_layer layer, op_outcome outcome,
                                  std::size_t bytes,
                                  std::chrono::nanoseconds latency) const noexcept {
  events_.operation(
      operation_event{.operation = op,
                      .layer = layer,
                      .outcome = outcome,
                      .ns = current_namespace(),
                      .latency = events_.timed() ? latency : std::chrono::nanoseconds{-1},
                      .bytes = bytes,
                      .error = nullptr,
                      .error_kind = std::nullopt});
}

void cache_engine::emit_l2_failure(cache_op op, const failure& why,
                                   std::chrono::nanoseconds latency) const noexcept {
  if (!events_.active()) return;
  const error_class kind = classify(why.code);
  op_outcome outcome = op_outcome::failed;
  if (why.code == make_error_code(errc::circuit_open)) {
    outcome = op_outcome::skipped;
  } else if (kind == error_class::overload) {
    outcome = op_outcome::shed;
  }
  events_.operation(
      operation_event{.operation = op,
                      .layer = cache_layer::l2,
                      .outcome = outcome,
                      .ns = current_namespace(),
                      .latency = events_.timed() ? latency : std::chrono::nanoseconds{-1},
                      .error = &why,
                      .error_kind = kind});
}

result<std::shared_ptr<const storage_format>> cache_engine::format(int index) {
  const auto at = static_cast<std::size_t>(index);
  if (at >= format_count || !formats_[at]) {
    return fail(errc::invalid_configuration,
                "this serializer is not available with encryption; use serializer_kind::standard");
  }
  if (!options_.encryption || !options_.encryption->multi_tenant) {
    // Non-owning: the engine's own formats live as long as the engine.
    return std::shared_ptr<const storage_format>(std::shared_ptr<const void>(), &*formats_[at]);
  }
  const auto tenant = tenant_scope::current();
  if (!tenant) {
    return fail(errc::invalid_configuration,
                "multi-tenant encryption needs the caller's tenant: open a "
                "cachekit::tenant_scope on this thread");
  }
  tenant_format_table& table = tenant_formats_.get();
  std::lock_guard lock(table.mutex);
  std::shared_ptr<const format_set>* set = table.sets.find(*tenant);
  if (set == nullptr) {
    auto keys = options_.encryption->keys.derive_uncached(*tenant);
    if (!keys) return std::move(keys).error();
    // Readers decrypt as the caller's tenant (no header_tenants): another tenant's entry is a
    // mismatch and a miss, as in cachekit-py 0.24.1's multi-tenant reads.
    set = &table.sets.put(std::string(*tenant),
                          std::make_shared<const format_set>(make_format_set(
                              std::move(*keys), nullptr, options_.integrity_checking,
                              options_.key_binding, options_.max_value_bytes)));
  }
  // Shares ownership of the tenant's set, so dropping it from the table cannot pull it from
  // under us.
  return std::shared_ptr<const storage_format>(*set, &*(**set)[at]);
}

bool cache_engine::binds_key(int index) const noexcept {
  return encrypted_ || (options_.key_binding && index != interop_format);
}

std::string_view cache_engine::aad_key(std::string_view key, int index,
                                       std::string& storage) const {
  if (!binds_key(index)) return {};
  const std::string_view prefix = l2() != nullptr ? l2()->key_prefix() : std::string_view();
  if (prefix.empty()) return key;  // no copy: most backends store keys as given
  storage.reserve(prefix.size() + key.size());
  storage.assign(prefix);
  storage += key;
  return storage;
}

monotonic_clock::duration cache_engine::l1_lifetime(ttl_seconds ttl) const noexcept {
  return ttl ? *ttl : options_.l1_default_ttl;
}

std::optional<monotonic_clock::duration> cache_engine::backfill_lifetime(
    ttl_seconds entry_ttl, const std::optional<ttl_seconds>& l2_remaining) const noexcept {
  monotonic_clock::duration lifetime = l1_lifetime(entry_ttl);
  if (!l2_remaining) {
    lifetime = std::min<monotonic_clock::duration>(lifetime, unknown_remaining_cap);
  } else if (*l2_remaining) {  // the entry expires: never keep the copy longer
    lifetime = std::min<monotonic_clock::duration>(lifetime, **l2_remaining);
  }
  if (lifetime <= monotonic_clock::duration::zero()) return std::nullopt;
  return lifetime;
}

void cache_engine::notify(const failure& why) const noexcept {
  if (!options_.on_error) return;
  try {
    options_.on_error(why);
  } catch (...) {  // a faulty handler must not turn an absorbed fault into a failed call
  }
}

void cache_engine::report_l2_error(const failure& why) {
  switch (classify(why.code)) {
    case error_class::overload:
      if (why.code == make_error_code(errc::circuit_open)) {
        l2_skipped_.fetch_add(1, std::memory_order_relaxed);
        emit_fault(fault_kind::l2_skipped, cache_layer::l2, why);
        return;  // the opening was reported; each skipped operation is only counted
      }
      l2_shed_.fetch_add(1, std::memory_order_relaxed);
      emit_fault(fault_kind::l2_shed, cache_layer::l2, why);
      break;
    default:
      l2_errors_.fetch_add(1, std::memory_order_relaxed);
      emit_fault(fault_kind::l2_error, cache_layer::l2, why);
      if (!first_l2_error_logged_.load(std::memory_order_relaxed)) log_first_l2_error(why);
      break;
  }
  notify_rate_limited(why);
}

void cache_engine::notify_rate_limited(const failure& why) noexcept {
  report_window& window = report_windows_[static_cast<std::size_t>(classify(why.code))];
  const auto now = options_.clock->now().time_since_epoch().count();
  auto last = window.last.load(std::memory_order_relaxed);
  const auto interval =
      std::chrono::duration_cast<monotonic_clock::duration>(report_interval).count();
  if ((last != 0 && now - last < interval) ||
      !window.last.compare_exchange_strong(last, now, std::memory_order_relaxed)) {
    window.held_back.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  const auto held = window.held_back.exchange(0, std::memory_order_relaxed);
  try {
    failure summary = why;
    if (held != 0) {
      summary.detail += " (and " + std::to_string(held) +
                        " more like it since the last report, counted in cache::stats())";
    }
    {
      std::lock_guard lock(last_error_mutex_);
      last_error_ = summary.message();
    }
    notify(summary);
  } catch (...) {  // out of memory building the text: report the failure as it came
    notify(why);
  }
}

namespace {
// What to check first, by the failure's code.
std::string_view l2_error_fix(const failure& why) {
  const std::error_code& c = why.code;
  if (c == make_error_code(errc::backend_authentication)) {
    return "check the user name and password of the L2 (redis://user:password@host:6379/0 in "
           "CACHEKIT_REDIS_URL or REDIS_URL)";
  }
  if (c == make_error_code(errc::timeout)) {
    return "the server did not answer in time: check that it runs at the configured address "
           "and is reachable from here, or raise the backend's timeouts";
  }
  if (c == make_error_code(errc::transient)) {
    return "check that the server runs at the configured address (CACHEKIT_REDIS_URL, "
           "REDIS_URL, CACHEKIT_MEMCACHED_SERVERS, CACHEKIT_FILE_CACHE_DIR) and is reachable";
  }
  if (c == make_error_code(errc::backend_permanent) ||
      c == make_error_code(errc::invalid_configuration)) {
    return "the server refused the operation: check the URL's database index (Redis has 16 by "
           "default: /0 to /15), its permissions and the server's configuration";
  }
  return "check the L2 backend's configuration";
}
}  // namespace

void cache_engine::log_first_l2_error(const failure& why) noexcept {
  if (first_l2_error_logged_.exchange(true, std::memory_order_relaxed)) return;
  try {
    const std::string_view type = l2() != nullptr ? l2()->type() : std::string_view("none");
    cachekit::emit_log(log_level::warning, "first_l2_error",
                       "L2 (" + std::string(type) + ") failed: " + why.message() +
                           "; the cache runs without it (L1 only) until it answers. Fix: " +
                           std::string(l2_error_fix(why)) +
                           ". Further L2 errors are counted in cache::stats().l2_errors");
  } catch (...) {  // out of memory building the line: nothing to log with
  }
}

std::optional<std::string> cache_engine::last_l2_error() const {
  std::lock_guard lock(last_error_mutex_);
  if (last_error_.empty()) return std::nullopt;
  return last_error_;
}

void cache_engine::report_uncacheable(const failure& why) {
  uncacheable_calls_.fetch_add(1, std::memory_order_relaxed);
  emit_fault(fault_kind::uncacheable_call, cache_layer::function, why);
  notify(why);
}

void cache_engine::report_corrupt(std::string_view key, const failure& why, bool evict_l2,
                                  cache_layer layer) {
  corrupt_entries_.fetch_add(1, std::memory_order_relaxed);
  emit_fault(fault_kind::corrupt_entry, layer, why, key);
  if (l1_) l1_->erase(key);
  if (evict_l2 && l2() != nullptr) {
    if (auto erased = l2()->erase(key); !erased) report_l2_error(erased.error());
  }
  notify(why);
}

namespace {
// The failures cachekit-py's fail_closed raises: a tag that does not verify, and a key
// fingerprint the keyring does not hold.
bool fails_authentication(const std::error_code& code) {
  return code == make_error_code(errc::authentication_failed) ||
         code == make_error_code(errc::unknown_key_fingerprint);
}
}  // namespace

void cache_engine::report_unauthentic(std::string_view key, const failure& why, bool evict_l2) {
  security_failures_.fetch_add(1, std::memory_order_relaxed);
  emit_fault(fault_kind::security_failure, evict_l2 ? cache_layer::l2 : cache_layer::l1, why, key);
  if (options_.encryption && options_.encryption->fail_closed) {
    notify(why);
    throw error(why.code, why.detail +
                              " (encryption fail_closed: the entry was kept and the call refused; "
                              "check the master key and previous keys, or look for tampering)");
  }
  report_corrupt(key, why, evict_l2, evict_l2 ? cache_layer::l2 : cache_layer::l1);
}

void cache_engine::report_tenant_mismatch(const failure& why) {
  // Not evicted, not corrupt: the entry may be valid for the tenant that sealed it, and the key
  // has no tenant segment, so evicting (or overwriting) would let one tenant's reads destroy
  // another's entries. A planted header naming another tenant therefore also stays until its
  // TTL (SECURITY.md).
  tenant_mismatches_.fetch_add(1, std::memory_order_relaxed);
  emit_fault(fault_kind::tenant_mismatch, cache_layer::l2, why);
  notify(why);
}

void cache_engine::report_python_only(std::string_view key, const failure& why, cache_layer layer) {
  // Not corrupt, not evicted: the entry is valid for the Python services sharing the key.
  python_only_entries_.fetch_add(1, std::memory_order_relaxed);
  emit_fault(fault_kind::python_only_entry, layer, why, key);
  notify(why);
}

void cache_engine::reject(std::string_view key, const failure& why, std::string_view l1_key,
                          cache_layer layer) {
  if (l1_ && !l1_key.empty() && l1_key != key) l1_->erase(l1_key);
  report_corrupt(key, why, true, layer);
}

result<cache_engine::lookup> cache_engine::load(std::string_view key, int index,
                                                ttl_seconds entry_ttl,
                                                std::chrono::nanoseconds* l2_latency) {
  auto in_l1 = load_l1(key, index, nullptr, current_namespace());
  if (!in_l1 || in_l1->msgpack || in_l1->layer == served_by::left_in_place) return in_l1;
  return load_l2(key, key, index, entry_ttl, l2_latency);
}

result<cache_engine::lookup> cache_engine::load_l1(
    std::string_view l1_key, int index, std::optional<monotonic_clock::time_point>* refresh_from,
    std::string_view ns) {
  if (!l1_) return lookup{};
  // Clock reads only for an observer that asked for latencies.
  const auto started =
      events_.timed() ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
  auto chosen = format(index);
  if (!chosen) return std::move(chosen).error();
  const storage_format& fmt = **chosen;  // `chosen` keeps it alive for this call
  // Encrypted: the L1 key is the storage key, bound by the AAD. Plaintext: L1 copies are this
  // process's own writes or L2 reads whose "k" was checked then, and may sit under a pre-image
  // key, so the binding is not checked again (an empty key skips it).
  std::string aad_storage;
  const std::string_view aad =
      encrypted_ ? aad_key(l1_key, index, aad_storage) : std::string_view{};
  // Opened under the shard's read lock rather than through a handle: no per-entry reference
  // counting, so threads reading the same hot keys do not trade cache lines.
  std::optional<result<opened_entry>> opened;
  std::size_t stored_size = 0;
  if (refresh_from != nullptr && refreshes_ != nullptr) {
    l1_->visit_timed(l1_key, [&](const l1_visited& entry) {
      stored_size = entry.bytes().size();
      opened.emplace(open_stored(fmt, entry.bytes(), aad, options_.max_value_bytes));
      if (*opened) claim_refresh_if_due(entry, *refresh_from);  // cache_engine_swr.cpp
    });
  } else {
    l1_->visit(l1_key, [&](byte_view stored, monotonic_clock::time_point) {
      stored_size = stored.size();
      opened.emplace(open_stored(fmt, stored, aad, options_.max_value_bytes));
    });
  }
  if (!opened) return lookup{};
  if (*opened) {
    if (events_.active()) [[unlikely]] {
      events_.operation(operation_event{.operation = cache_op::get,
                                        .layer = cache_layer::l1,
                                        .outcome = op_outcome::hit,
                                        .ns = ns,
                                        .latency = events_.timed()
                                                       ? std::chrono::steady_clock::now() - started
                                                       : std::chrono::nanoseconds{-1},
                                        .bytes = stored_size,
                                        .error = nullptr,
                                        .error_kind = std::nullopt});
    }
    return lookup{std::move((*opened)->msgpack), served_by::l1};
  }
  if (opened->code() == errc::tenant_mismatch) {
    // Another tenant's entry, copied from L2 or written here: L2 holds the same.
    report_tenant_mismatch(opened->error());
    return lookup{std::nullopt, served_by::left_in_place};
  }
  if (opened->code() == errc::python_only_value) {  // an L1 copy of an L2 entry: L2 holds it too
    report_python_only(l1_key, opened->error(), cache_layer::l1);
    return lookup{std::nullopt, served_by::left_in_place};
  }
  if (fails_authentication(opened->code())) {  // encrypted: the L1 key is the storage key
    report_unauthentic(l1_key, opened->error(), false);
    return lookup{};
  }
  // L1 holds what we wrote or read from L2, so L2 gets its own check (load_l2).
  corrupt_entries_.fetch_add(1, std::memory_order_relaxed);
  emit_fault(fault_kind::corrupt_entry, cache_layer::l1, opened->error(), l1_key, ns);
  l1_->erase(l1_key);
  notify(opened->error());
  return lookup{};
}

result<cache_engine::lookup> cache_engine::load_l2(std::string_view key, std::string_view l1_key,
                                                   int index, ttl_seconds entry_ttl,
                                                   std::chrono::nanoseconds* l2_latency) {
  if (l2() == nullptr) return lookup{};
  auto chosen = format(index);
  if (!chosen) return std::move(chosen).error();
  const storage_format& fmt = **chosen;
  std::string aad_storage;  // built only when the AAD or the frame's "k" binds the key
  const std::string_view aad = aad_key(key, index, aad_storage);
  std::optional<coherence_epochs::snapshot> epoch;
  if (coherence_ != nullptr) epoch = coherence_->epochs.take(l1_key);
  const auto started = std::chrono::steady_clock::now();
  auto got = read_l2(key);
  const std::chrono::nanoseconds took = std::chrono::steady_clock::now() - started;
  if (l2_latency) *l2_latency = took;
  if (!got) {
    emit_l2_failure(cache_op::get, got.error(), took);
    return std::move(got).error();
  }
  return accept_l2(key, l1_key, fmt, aad, entry_ttl, *got, took, epoch);
}

cache_engine::lookup cache_engine::accept_l2(
    std::string_view key, std::string_view l1_key, const storage_format& fmt, std::string_view aad,
    ttl_seconds entry_ttl, std::optional<timed_value>& got, std::chrono::nanoseconds took,
    const std::optional<coherence_epochs::snapshot>& epoch) {
  if (!got) {
    if (events_.active()) emit_operation(cache_op::get, cache_layer::l2, op_outcome::miss, 0, took);
    return lookup{};
  }
  auto opened = open_stored(fmt, got->value, aad, options_.max_value_bytes);
  if (opened) {
    // Checked once here, so L1 (filled below or by this process's own writes) holds only
    // entries whose decode is bounded, and L1 hits skip the walk.
    if (auto bounded = detail::check_msgpack_bounds(opened->msgpack, max_value_depth,
                                                    options_.max_value_items);
        !bounded) {
      opened = std::move(bounded).error();
    }
  }
  if (!opened) {
    if (opened.code() == errc::tenant_mismatch) {
      report_tenant_mismatch(opened.error());
      return lookup{std::nullopt, served_by::left_in_place};
    }
    if (opened.code() == errc::python_only_value) {
      report_python_only(key, opened.error(), cache_layer::l2);
      return lookup{std::nullopt, served_by::left_in_place};
    }
    if (l1_ && l1_key != key) l1_->erase(l1_key);
    if (fails_authentication(opened.code())) {
      report_unauthentic(key, opened.error(), true);
    } else {
      report_corrupt(key, opened.error(), true);
    }
    return lookup{};
  }
  backfill(l1_key, *got, entry_ttl);
  // An invalidation that arrived during the read may name the value just copied: drop the copy
  // (coherence_epochs.hpp says why this order is safe). The caller still gets the value.
  if (epoch && !coherence_->epochs.unchanged(*epoch) && l1_) l1_->erase(l1_key);
  if (events_.active()) {
    emit_operation(cache_op::get, cache_layer::l2, op_outcome::hit, got->value.size(), took);
  }
  return lookup{std::move(opened->msgpack), got->stale ? served_by::l2_stale : served_by::l2};
}

result<void> cache_engine::store(std::string_view key, int index, byte_view msgpack,
                                 ttl_seconds ttl) {
  return store(key, key, index, msgpack, ttl);
}

result<void> cache_engine::store(std::string_view key, std::string_view l1_key, int index,
                                 byte_view msgpack, ttl_seconds ttl, bool write_l2,
                                 std::string_view registry) {
  std::string aad_storage;
  const std::string_view aad = aad_key(key, index, aad_storage);
  auto chosen = format(index);
  if (!chosen) {
    report_uncacheable(chosen.error());  // counted once per call: here, not on the read
    return std::move(chosen).error();
  }
  auto sealed = (*chosen)->seal(msgpack, aad);
  if (!sealed) {
    report_uncacheable(sealed.error());
    return std::move(sealed).error();
  }
  return store_bytes(key, l1_key, *sealed, ttl, write_l2, registry);
}

result<void> cache_engine::store_raw(std::string_view key, byte_view bytes, ttl_seconds ttl) {
  return store_bytes(key, key, bytes, ttl);
}

result<void> cache_engine::write_l2(std::string_view key, byte_view bytes, ttl_seconds ttl,
                                    std::string_view registry) {
  if (registry.empty() || !l2()->keeps_key_registry()) return l2()->set(key, bytes, ttl);
  // A refused registry write leaves the entry stored; cachekit-py logs it and goes on too.
  auto stored = l2()->set_tracked(key, bytes, ttl, registry);
  if (!stored) return std::move(stored).error();
  return {};
}

result<void> cache_engine::store_bytes(std::string_view key, std::string_view l1_key,
                                       byte_view bytes, ttl_seconds ttl, bool write_l2,
                                       std::string_view registry) {
  if (auto kept = keep_in_l1(key, l1_key, bytes, ttl); !kept) return kept;
  if (l2() == nullptr) return {};
  if (!write_l2) {
    if (write_back_) write_back_->record(key, l1_key, ttl.has_value());
    return {};
  }
  const auto started =
      events_.timed() ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
  auto written = this->write_l2(key, bytes, ttl, registry);
  const std::chrono::nanoseconds took =
      events_.timed() ? std::chrono::steady_clock::now() - started : std::chrono::nanoseconds{-1};
  if (!written) {
    l2_write_failed(written.error(), took);
    l2_write_waits(written.error(), key, l1_key, ttl);
    return std::move(written).error();
  }
  if (write_back_) write_back_->l2_answered();
  if (events_.active())
    emit_operation(cache_op::set, cache_layer::l2, op_outcome::stored, bytes.size(), took);
  return {};
}

void cache_engine::l2_write_failed(const failure& why, std::chrono::nanoseconds took) {
  report_l2_error(why);
  emit_l2_failure(cache_op::set, why, took);
}

void cache_engine::l2_write_waits(const failure& why, std::string_view key, std::string_view l1_key,
                                  ttl_seconds ttl) {
  // A write L2 may take later (down, slow, busy) waits for the write-back; one it refused
  // (too large, bad key) would be refused again.
  const error_class kind = classify(why.code);
  if (write_back_ && kind != error_class::permanent && kind != error_class::security) {
    write_back_->record(key, l1_key, ttl.has_value());
  }
}

result<void> cache_engine::keep_in_l1(std::string_view key, std::string_view l1_key,
                                      byte_view bytes, ttl_seconds ttl) {
  if (bytes.size() > options_.max_value_bytes) {
    oversize_values_.fetch_add(1, std::memory_order_relaxed);
    if (l1_) l1_->erase(l1_key);  // an older, smaller value must not stand in for this one
    auto why =
        fail(errc::value_too_large, "entry of " + std::to_string(bytes.size()) +
                                        " bytes is above max_value_bytes (" +
                                        std::to_string(options_.max_value_bytes) +
                                        "); it was not stored. Raise cache_options.max_value_bytes "
                                        "(CACHEKIT_MAX_VALUE_SIZE) or cache a smaller result");
    emit_fault(fault_kind::oversize_value, cache_layer::function, why, key);
    notify(why);
    return why;
  }
  // L1 first: when L2 is unreachable this process still serves the value it just computed.
  if (l1_) l1_->put(l1_key, bytes, l1_lifetime(ttl));
  return {};
}

write_back_queue::outcome cache_engine::write_back(const std::string& key,
                                                   const write_back_queue::waiting_key& entry) {
  using outcome = write_back_queue::outcome;
  auto held = l1_->get(entry.l1_key);
  if (!held) return outcome::skipped;  // invalidated, evicted or expired meanwhile
  ttl_seconds ttl;
  if (entry.expires) {
    // Whole seconds left on the L1 copy (its lifetime is the entry's TTL), rounded down so the
    // L2 entry never outlives what the caller asked for.
    const auto left = std::chrono::duration_cast<std::chrono::seconds>(held->expires_at() -
                                                                       options_.clock->now());
    if (left < std::chrono::seconds{1}) return outcome::skipped;
    ttl = left;
  }
  auto stored = l2()->set_if_absent(key, held->bytes(), ttl);
  if (stored) return *stored ? outcome::written : outcome::skipped;
  report_l2_error(stored.error());
  const error_class why = classify(stored.code());
  return why == error_class::permanent || why == error_class::security ? outcome::skipped
                                                                       : outcome::failed;
}

result<std::optional<byte_buffer>> cache_engine::load_raw(std::string_view key) {
  if (l1_) {
    if (auto held = l1_->get(key)) return std::optional<byte_buffer>{held->to_buffer()};
  }
  if (l2() == nullptr) return std::optional<byte_buffer>{};
  const auto started =
      events_.timed() ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
  auto got = read_l2(key);
  const std::chrono::nanoseconds took =
      events_.timed() ? std::chrono::steady_clock::now() - started : std::chrono::nanoseconds{-1};
  if (!got) {
    emit_l2_failure(cache_op::get, got.error(), took);
    return std::move(got).error();
  }
  if (events_.active()) {
    emit_operation(cache_op::get, cache_layer::l2, *got ? op_outcome::hit : op_outcome::miss,
                   *got ? (*got)->value.size() : 0, took);
  }
  if (!*got) return std::optional<byte_buffer>{};
  backfill(key, **got, std::nullopt);
  return std::optional<byte_buffer>{std::move((*got)->value)};
}

result<std::optional<timed_value>> cache_engine::read_l2(std::string_view key) {
  // The lifetime costs Redis a pipelined PTTL: asked only when an L1 copy will be made, or when
  // the answer may be labelled stale (free there) for SWR to refresh.
  if (l1_ || timed_reads_) {
    auto got = l2()->get_with_ttl(key);
    if (!got) {
      report_l2_error(got.error());
    } else if (write_back_) {
      write_back_->l2_answered();
    }
    return got;
  }
  auto got = l2()->get(key);
  if (!got) {
    report_l2_error(got.error());
    return std::move(got).error();
  }
  if (write_back_) write_back_->l2_answered();
  if (!*got) return std::optional<timed_value>{};
  return std::optional<timed_value>{timed_value{std::move(**got), std::nullopt, false}};
}

void cache_engine::backfill(std::string_view key, const timed_value& entry, ttl_seconds entry_ttl) {
  if (!l1_ || entry.value.size() > options_.max_value_bytes) return;
  if (auto lifetime = backfill_lifetime(entry_ttl, entry.remaining)) {
    l1_->put(key, entry.value, *lifetime);
  }
}

result<bool> cache_engine::erase(std::string_view key) {
  if (coherence_ != nullptr) coherence_->epochs.bump(key);  // an L2 read in flight may hold it
  const bool in_l1 = l1_ ? l1_->erase(key) : false;
  if (l2() == nullptr) return in_l1;
  auto erased = l2()->erase(key);
  if (!erased) {
    report_l2_error(erased.error());
    emit_l2_failure(cache_op::erase, erased.error(), std::chrono::nanoseconds{-1});
  } else if (events_.active()) {
    emit_operation(cache_op::erase, cache_layer::l2, op_outcome::stored, 0,
                   std::chrono::nanoseconds{-1});
  }
  return erased;
}

void cache_engine::erase_prefix(std::string_view prefix) {
  // L2 first: an L2 hit landing between the two would otherwise backfill L1 with an entry the
  // L2 walk is about to delete (cachekit-py orders its cache_clear the same way).
  if (l2() != nullptr) {
    auto erased = l2()->erase_prefix(prefix);
    if (!erased && erased.error().code != make_error_code(errc::not_supported)) {
      report_l2_error(erased.error());
    }
  }
  if (l1_) l1_->erase_prefix(prefix);
}

void cache_engine::reserve_object_bytes(std::size_t bytes) {
  const std::size_t limit = options_.object_max_bytes;
  std::size_t held = object_bytes_reserved_.load(std::memory_order_relaxed);
  do {
    if (bytes > limit || held > limit - bytes) {
      throw error(errc::invalid_configuration,
                  "object mode: the memoized functions alive already hold " + std::to_string(held) +
                      " of the cache's object_max_bytes (" + std::to_string(limit) +
                      "), and another needs object_function_max_bytes (" + std::to_string(bytes) +
                      "); raise cache_options.object_max_bytes, lower "
                      "object_function_max_bytes, or memoize fewer functions per cache");
    }
  } while (
      !object_bytes_reserved_.compare_exchange_weak(held, held + bytes, std::memory_order_relaxed));
}

void cache_engine::release_object_bytes(std::size_t bytes) noexcept {
  object_bytes_reserved_.fetch_sub(bytes, std::memory_order_relaxed);
}

cache_stats cache_engine::stats() const noexcept {
  invalidation_listener::counters heard;
  if (coherence_ != nullptr) {
    if (const auto& running = coherence_->listener.get().running) heard = running->stats();
  }
  return {.l2_errors = l2_errors_.load(std::memory_order_relaxed),
          .l2_skipped = l2_skipped_.load(std::memory_order_relaxed),
          .l2_shed = l2_shed_.load(std::memory_order_relaxed),
          .corrupt_entries = corrupt_entries_.load(std::memory_order_relaxed),
          .security_failures = security_failures_.load(std::memory_order_relaxed),
          .oversize_values = oversize_values_.load(std::memory_order_relaxed),
          .uncacheable_calls = uncacheable_calls_.load(std::memory_order_relaxed),
          .tenant_mismatches = tenant_mismatches_.load(std::memory_order_relaxed),
          .python_only_entries = python_only_entries_.load(std::memory_order_relaxed),
          .written_back = write_back_ ? write_back_->written() : 0,
          .write_backs_dropped = write_back_ ? write_back_->dropped() : 0,
          .stale_served = stale_served_.load(std::memory_order_relaxed),
          .invalidations_received = heard.events,
          .invalidations_dropped = heard.bad_events,
          .listener_subscriptions = heard.subscriptions,
          .listener_failures = heard.failures,
          .invalidations_unpublished = publish_failures_.load(std::memory_order_relaxed)};
}

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
