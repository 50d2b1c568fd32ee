// The shared state behind `cachekit::cache` and every `memoized` function it made: the L1, the
// L2, the storage formats, and the fault counters. Held by shared_ptr so memoized functions
// keep it alive after the `cache` object is gone.
#pragma once

#include <cachekit/backend.hpp>
#include <cachekit/cache_options.hpp>
#include <cachekit/l1_cache.hpp>
#include <cachekit/memoized.hpp>
#include <cachekit/reliability.hpp>
#include <cachekit/storage_format.hpp>

#include "cache/async_dispatcher.hpp"
#include "cache/fill_coordinator.hpp"
#include "cache/lru_map.hpp"
#include "cache/refresh_executor.hpp"
#include "cache/stale_refreshes.hpp"
#include "cache/write_back_queue.hpp"
#include "coherence/coherence_epochs.hpp"
#include "coherence/function_spaces.hpp"
#include "coherence/invalidation_listener.hpp"
#include "observe/event_hub.hpp"
#include "process/per_process.hpp"

#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace cachekit {
inline namespace v0 {
namespace detail {

// Storage-format indices (`cache::format_index`): the default serializer's frames, interop,
// then the other serializers' frames, with and without integrity checking.
inline constexpr int frame_with_integrity = 0;
inline constexpr int frame_without_integrity = 1;
inline constexpr int interop_format = 2;
inline constexpr int json_with_integrity = 3;
inline constexpr int json_without_integrity = 4;
inline constexpr int auto_with_integrity = 5;
inline constexpr int auto_without_integrity = 6;
inline constexpr std::size_t format_count = 7;
// The frame format index of `serializer` with or without integrity checking.
[[nodiscard]] constexpr int frame_format_index(serializer_kind serializer, bool integrity) {
  switch (serializer) {
    case serializer_kind::json: return integrity ? json_with_integrity : json_without_integrity;
    case serializer_kind::auto_detect:
      return integrity ? auto_with_integrity : auto_without_integrity;
    case serializer_kind::standard: break;
  }
  return integrity ? frame_with_integrity : frame_without_integrity;
}

// Multi-tenant mode keeps at most this many tenants' formats (each holds derived keys and AES
// contexts); past it the least recently used tenant's are dropped, costing that tenant one
// derivation (and one fresh nonce instance id) when it comes back.
inline constexpr std::size_t max_tenant_formats = 1024;

class cache_engine {
 public:
  // Throws cachekit::error (errc::invalid_configuration) as `cache::cache` documents.
  explicit cache_engine(cache_options options);
  // Tells observers the breaker is gone (its state leaves their gauges).
  ~cache_engine();
  cache_engine(const cache_engine&) = delete;
  cache_engine& operator=(const cache_engine&) = delete;

  // The observers of cache_options::observers (observer.hpp).
  [[nodiscard]] const event_hub& events() const noexcept { return events_; }

  [[nodiscard]] const cache_options& options() const noexcept { return options_; }
  [[nodiscard]] l1_cache* l1() const noexcept { return l1_.get(); }
  [[nodiscard]] backend* l2() const noexcept { return options_.l2.get(); }
  // The storage format `index` for this call: the cache's own, or in multi-tenant mode the
  // calling thread's tenant's. Errors: errc::invalid_configuration when multi-tenant and the
  // thread has no tenant_scope.
  [[nodiscard]] result<std::shared_ptr<const storage_format>> format(int index);

  // L1, then L2: the opened MessagePack of `key` in format `index`, or nullopt on a miss.
  // `l2_latency` receives the L2 read time when L2 was asked. Corrupt entries are evicted and
  // counted; an L2 failure is returned (callers that must not fail treat it as a miss).
  // Multi-tenant: an entry sealed for another tenant is a miss that stays where it is (counted
  // in tenant_mismatches), and this thread's next `store` of `key` is skipped, so the caller's
  // fresh result does not overwrite the other tenant's entry.
  struct lookup {
    std::optional<byte_buffer> msgpack;
    served_by layer = served_by::nothing;
  };
  [[nodiscard]] result<lookup> load(std::string_view key, int index, ttl_seconds entry_ttl,
                                    std::chrono::nanoseconds* l2_latency);
  // `load` in two halves, for callers whose L1 copies live under a key of their own (memoized
  // functions key L1 by the call's pre-image, so a hit needs no hash; `l1_key` may equal `key`).
  // The L1 half: the opened entry, a miss (a corrupt copy is evicted from L1 and counted) or
  // another tenant's entry. With encryption on `l1_key` must be the protocol key: the AAD binds
  // the key L1 is looked up under. Errors: as `format`.
  // `refresh_from`: when given and SWR is on, a hit on a copy past swr.threshold_ratio of its
  // lifetime claims the copy's refresh (l1_visited::claim_refresh) and receives its
  // written_at; the caller must then `submit_refresh` or `end_refresh` it.
  // `ns`: the caller's namespace, for observers.
  [[nodiscard]] result<lookup> load_l1(
      std::string_view l1_key, int index,
      std::optional<monotonic_clock::time_point>* refresh_from = nullptr, std::string_view ns = {});
  // The L2 half: reads `key`, backfills L1 under `l1_key`. Errors: as `load`.
  [[nodiscard]] result<lookup> load_l2(std::string_view key, std::string_view l1_key, int index,
                                       ttl_seconds entry_ttl, std::chrono::nanoseconds* l2_latency);

  // `registry`: the memoized function's key registry id (invalidation_event.hpp); the L2 write
  // records the key there when the backend keeps a registry. Empty: no registry.
  // Seals `msgpack` in format `index` and writes it to L1 and L2. Errors: sealing failures,
  // errc::value_too_large, the L2's (each counted and reported before returning);
  // errc::tenant_mismatch, not reported again, when this thread's last `load` of `key` found
  // another tenant's entry there.
  [[nodiscard]] result<void> store(std::string_view key, int index, byte_view msgpack,
                                   ttl_seconds ttl);
  // As `store`, keeping the L1 copy under `l1_key` (see `load_l1`). `write_l2` false: L1 only
  // (the caller's L2 read just failed; a write would most likely wait and fail the same way).
  [[nodiscard]] result<void> store(std::string_view key, std::string_view l1_key, int index,
                                   byte_view msgpack, ttl_seconds ttl, bool write_l2 = true,
                                   std::string_view registry = {});

  // ---- batch calls (cache_engine_batch.cpp): one L2 round trip for many keys ---------------
  // `load_l2` of every key with ONE L2 read (backend::get_many_with_ttl); each answer is then
  // handled as `load_l2` handles its own (opened, evicted when it does not open, L1 backfilled
  // under `l1_keys[i]` for no longer than the entry has left). `l2_latency`: the read's time.
  // Errors: the L2's, counted and reported once for the batch.
  [[nodiscard]] result<std::vector<lookup>> load_l2_many(std::span<const std::string_view> keys,
                                                         std::span<const std::string_view> l1_keys,
                                                         int index, ttl_seconds entry_ttl,
                                                         std::chrono::nanoseconds* l2_latency);
  // One entry of `store_many`.
  struct pending_store {
    std::string_view key;
    std::string_view l1_key;
    byte_view msgpack;
  };
  // `store` of several entries: each sealed and kept in L1 (failures counted and reported per
  // entry, as `store`), then ONE L2 write of all (backend::set_many, recorded in `registry`
  // when the backend keeps one). `write_l2` false: L1 only, as `store`. An L2
  // failure is counted and reported once, and its keys wait for the write-back. Returns the
  // first failure (sealing, size, the L2's) after trying every entry.
  [[nodiscard]] result<void> store_many(std::span<const pending_store> items, int index,
                                        ttl_seconds ttl, bool write_l2, std::string_view registry);

  // Raw bytes, no format: L1 then L2 (backfilling L1), and the write of both.
  [[nodiscard]] result<std::optional<byte_buffer>> load_raw(std::string_view key);
  [[nodiscard]] result<void> store_raw(std::string_view key, byte_view bytes, ttl_seconds ttl);

  // Drops `key` from L1 and L2; returns whether L2 held it (L1 when there is no L2).
  [[nodiscard]] result<bool> erase(std::string_view key);

  // ---- one cache, many processes (coherence/) ----------------------------------------------
  // Whether cache_options::coherence asks for a listener (and there is an L2 and an L1).
  [[nodiscard]] bool coherent() const noexcept { return coherence_ != nullptr; }
  // Starts this process's listener if it is not running (a forked child's first call). One
  // acquire load and a compare when it runs.
  void ensure_listener() {
    if (coherence_ != nullptr) coherence_->listener.get().ensure(*this);
  }
  // Whole-function invalidation events for `registry` drop L1 copies under `key_space`.
  void register_function(std::string_view registry, std::string_view key_space);
  // Drops every entry of one memoized function, from every process: drains its key registry
  // when the L2 keeps one, else (or also, with `walk_prefix`) erases L2 by `key_space`; then
  // L1 by `key_space`; then publishes the whole-function event. Returns how many L2 entries
  // went (registry members plus the walk's). Errors: the L2's, counted and reported; L1 is
  // emptied and nothing is published then (a peer would re-read what stayed in L2).
  [[nodiscard]] result<std::size_t> invalidate_function(std::string_view registry,
                                                        std::string_view key_space,
                                                        bool walk_prefix);
  // Tells other processes' listeners that `key` of `registry` (nullopt: every key) changed.
  // Never fails: a failed publish is counted (cache_stats::coherence_publish_failures).
  void publish_invalidation(std::string_view registry, std::optional<std::string_view> key);
  // The listener of this process, for tests and stats; null when none runs.
  [[nodiscard]] const invalidation_listener* listener() noexcept {
    return coherence_ != nullptr ? coherence_->listener.get().running.get() : nullptr;
  }

  // Drops every entry whose key starts with `prefix`: from L2 when the backend can erase by
  // prefix (other backends' entries live out their TTL; an L2 failure is counted and
  // reported), then from L1.
  void erase_prefix(std::string_view prefix);

  // An entry that opened but did not decode as the caller's type: evicted from both layers
  // (from L1 under `key` and, when it differs, `l1_key`).
  // `layer`: where the entry was read from (for observers).
  void reject(std::string_view key, const failure& why, std::string_view l1_key = {},
              cache_layer layer = cache_layer::l2);

  // Fault accounting: each counts, then tells `options.on_error`.
  void report_l2_error(const failure& why);
  void report_uncacheable(const failure& why);

  [[nodiscard]] cache_stats stats() const noexcept;
  // Keys this process kept in L1 only during an outage, waiting to be written back to L2.
  [[nodiscard]] std::size_t write_back_pending() {
    return write_back_ ? write_back_->pending() : 0;
  }

  // The distributed fill lock of memoized misses (cache_options::fill_lock).
  [[nodiscard]] fill_coordinator& fills() noexcept { return fills_; }

  // The latest L2 failure reported (at most one per class per second), for health reports.
  [[nodiscard]] std::optional<std::string> last_l2_error() const;

  // The reliability layers around L2 (null when left out or when there is no L2).
  [[nodiscard]] const circuit_breaker_backend* l2_breaker() const noexcept { return breaker_; }
  [[nodiscard]] const backpressure_backend* l2_gate() const noexcept { return gate_; }

  // ---- stale-while-revalidate and fail-safe stale (cache_engine_swr.cpp) -----------------
  // Claims the refresh of a hit's copy when it is past swr.threshold_ratio of its lifetime
  // (with cachekit-py's ±10 % jitter); sets `claimed` to its written_at then.
  void claim_refresh_if_due(const l1_visited& entry,
                            std::optional<monotonic_clock::time_point>& claimed) const;
  // Whether memoized functions refresh in the background (swr.enabled, and an L1 or an L2).
  [[nodiscard]] bool swr_enabled() const noexcept { return refreshes_ != nullptr; }
  // After L2 served `key` stale (served_by::l2_stale: inside the stale-grace window its writer
  // asked for, timed_value::stale): claims the key's background refresh. A token to hold until
  // the refresh ends (it is queued with `submit_refresh`), or null when SWR is off, this
  // process already refreshes `key`, or swr.max_pending such refreshes run (stale_refreshes.hpp).
  [[nodiscard]] std::shared_ptr<const void> claim_stale_refresh(std::string_view key) noexcept;
  // Queues a refresh job (see refresh_executor); false when it was not queued (destroyed).
  bool submit_refresh(std::function<void()> job);
  // Ends the refresh claimed on the L1 copy of `l1_key` written at `from`: at once, or after a
  // failure with swr.retry_interval of back-off.
  void end_refresh(std::string_view l1_key, monotonic_clock::time_point from, bool failed);
  // Stores a refresh's result, unless the L1 copy it refreshes (written at `from`) was erased
  // or replaced meanwhile: seals, replaces that copy in L1, writes L2, then checks that the L1
  // copy is still its own; if a newer write or an invalidation came in between, erases its L2
  // write again. Returns whether the result stands. Errors: as `store` (counted, reported).
  [[nodiscard]] result<bool> land_refresh(std::string_view key, std::string_view l1_key, int index,
                                          byte_view msgpack, ttl_seconds ttl,
                                          monotonic_clock::time_point from,
                                          std::string_view registry = {});
  // Before a refresh runs the function: when L2 holds an entry of `key` that is still younger
  // than the refresh threshold (`ttl` x (1 - threshold_ratio) or more left: another process
  // refreshed or wrote it since this copy was made), copies it over the L1 copy written at
  // `from` and returns true, so the function need not run. False when L2 cannot tell an
  // entry's age (no TTL, or a backend that does not report it), has none, fails, or its entry
  // does not open.
  [[nodiscard]] bool adopt_fresh_l2(std::string_view key, std::string_view l1_key, int index,
                                    ttl_seconds ttl, monotonic_clock::time_point from);
  // The L1 copy of `l1_key`, opened, if it is live or expired within serve_stale_for; nullopt
  // otherwise (a copy that fails to open is left to the normal read to count and evict).
  [[nodiscard]] std::optional<byte_buffer> load_l1_kept(std::string_view l1_key, int index);
  void count_stale_served() noexcept { stale_served_.fetch_add(1, std::memory_order_relaxed); }
  // Ends the background work (SWR refreshes, the write-back): queued work is dropped, running
  // work is waited for, nothing starts afterwards. Called when the `cache` object goes, so a
  // program that destroys its cache before exiting has no cachekit thread left running;
  // memoized functions that outlive it keep working, without refreshes or write-back.
  void stop_background();
  // For tests: waits (real time, bounded) until no refresh waits or runs.
  bool wait_refreshes_idle(std::chrono::milliseconds timeout);

  // ---- asynchronous calls (cache_engine_async.cpp, async_dispatcher.hpp) -----------------
  // A lookup's outcome and its L2 read time (-1 when L2 was not read).
  using lookup_done = std::function<void(result<lookup>, std::chrono::nanoseconds l2_latency)>;
  // `load_l2` without a thread waiting: the read is queued on the dispatcher; `done` runs on a
  // dispatcher thread with what `load_l2` would return (L1 backfilled, corrupt entries evicted
  // and counted, observers told). Runs `done` on this thread when there is no L2, when the
  // format fails, or when the read could not be queued (queue full, stopped: then with
  // errc::backpressure, counted as shed). `ns`: the caller's namespace, for observers.
  void load_l2_async(std::string_view key, std::string_view l1_key, int index,
                     ttl_seconds entry_ttl, std::string ns, lookup_done done);
  // `load` without a thread waiting: L1 on this thread (a hit runs `done` here), then as
  // `load_l2_async`.
  void load_async(std::string_view key, int index, ttl_seconds entry_ttl, std::string ns,
                  lookup_done done);
  // `store`, with the L2 write queued on the dispatcher (written with others in one
  // `set_many`); `done` (may be empty) gets the write's outcome, on a dispatcher thread, or on
  // this thread when nothing is queued: sealing failed, no L2, `write_l2` false, or the queue
  // refused the write (then it is written here, as `store` writes).
  using store_done = std::function<void(const result<void>&)>;
  void store_async(std::string_view key, std::string_view l1_key, int index, byte_view msgpack,
                   ttl_seconds ttl, bool write_l2, std::string_view registry, store_done done);
  // Queues `job` on the function pool of asynchronous misses; false (job destroyed unrun) when
  // full or stopped.
  bool run_async(std::function<void()> job);
  // In-process single-flight of asynchronous calls, per (owner, key): the first `join` of a key
  // leads (true) and must `finish` it; later joins attach `then` and return false. `finish`
  // ends the flight and runs every attached `then` on this thread (the leader's with
  // `leader` true). Per process: a forked child starts with no flights.
  using flight_outcome =
      std::function<void(std::shared_ptr<const void> value, std::exception_ptr error, bool leader)>;
  [[nodiscard]] bool join_async_flight(const void* owner, std::string_view key,
                                       flight_outcome then);
  void finish_async_flight(const void* owner, std::string_view key,
                           const std::shared_ptr<const void>& value,
                           const std::exception_ptr& error) noexcept;
  // Builds the dispatcher and the function pool (no thread starts before the first call).
  void start_async();
  // Drops queued asynchronous work (its callers complete with std::future_error
  // broken_promise), waits for the running work, refuses new work (calls then run on their
  // caller's thread). Part of `stop_background`.
  void stop_async();
  // For tests: dispatcher threads started, requests waiting, flights in progress.
  [[nodiscard]] std::size_t async_threads();
  [[nodiscard]] std::size_t async_pending();
  [[nodiscard]] std::size_t async_flights();

  // Object mode: each memoized function holds `object_function_max_bytes` of the cache's
  // `object_max_bytes` while it lives, so their sum is bounded. Throws cachekit::error
  // (errc::invalid_configuration) when `bytes` more would exceed it.
  void reserve_object_bytes(std::size_t bytes);
  void release_object_bytes(std::size_t bytes) noexcept;

 private:
  // The AAD's cache_key: what the backend really stores under (its prefix + our key), as
  // cachekit-py binds ciphertext to the storage key. Plaintext frames' "k" binds the same key.
  // Empty when format `index` binds nothing; views `key` or `storage` (built only for a prefix).
  [[nodiscard]] std::string_view aad_key(std::string_view key, int index,
                                         std::string& storage) const;
  // Whether format `index` binds entries to aad_key (AAD or "k"), so reads and writes need it.
  [[nodiscard]] bool binds_key(int index) const noexcept;
  // Size check, then L1 under `l1_key` and L2 under `key`.
  [[nodiscard]] result<void> store_bytes(std::string_view key, std::string_view l1_key,
                                         byte_view bytes, ttl_seconds ttl, bool write_l2 = true,
                                         std::string_view registry = {});
  // The size check, then the L1 copy under `l1_key` (store_bytes' first half, store_many's).
  [[nodiscard]] result<void> keep_in_l1(std::string_view key, std::string_view l1_key,
                                        byte_view bytes, ttl_seconds ttl);
  // A failed L2 write: counted, reported, told to observers.
  void l2_write_failed(const failure& why, std::chrono::nanoseconds took);
  // After a failed L2 write of `key`: it waits for the write-back unless L2 refused it.
  void l2_write_waits(const failure& why, std::string_view key, std::string_view l1_key,
                      ttl_seconds ttl);
  // load_l2 past its read (load_l2_many's too): opens what L2 answered for `key` (`aad` bound
  // as `aad_key` makes it), evicts an entry that does not open, backfills L1 under `l1_key`,
  // and drops that copy again when an invalidation came in since `epoch`.
  [[nodiscard]] lookup accept_l2(std::string_view key, std::string_view l1_key,
                                 const storage_format& fmt, std::string_view aad,
                                 ttl_seconds entry_ttl, std::optional<timed_value>& got,
                                 std::chrono::nanoseconds took,
                                 const std::optional<coherence_epochs::snapshot>& epoch);
  // One L2 write, recorded in `registry` when given and the backend keeps one.
  [[nodiscard]] result<void> write_l2(std::string_view key, byte_view bytes, ttl_seconds ttl,
                                      std::string_view registry);
  [[nodiscard]] monotonic_clock::duration l1_lifetime(ttl_seconds ttl) const noexcept;
  [[nodiscard]] std::optional<monotonic_clock::duration> backfill_lifetime(
      ttl_seconds entry_ttl, const std::optional<ttl_seconds>& l2_remaining) const noexcept;
  void report_corrupt(std::string_view key, const failure& why, bool evict_l2,
                      cache_layer layer = cache_layer::l2);
  // An entry that failed authentication: counted; under fail_closed, thrown to the caller with
  // the entry left in place, else reported as corrupt and evicted like any other.
  void report_unauthentic(std::string_view key, const failure& why, bool evict_l2);
  // Multi-tenant: the key holds an entry sealed for another tenant; counted, left in place.
  void report_tenant_mismatch(const failure& why);
  // Serializer "auto": a Python-only value (errc::python_only_value); counted, left in place.
  void report_python_only(std::string_view key, const failure& why, cache_layer layer);
  // One L2 read (with the entry's lifetime when an L1 copy will be made); failures reported.
  [[nodiscard]] result<std::optional<timed_value>> read_l2(std::string_view key);
  // The write-back of one key after an outage (write_back_queue's writer).
  [[nodiscard]] write_back_queue::outcome write_back(const std::string& key,
                                                     const write_back_queue::waiting_key& entry);
  // Keeps an L1 copy of an L2 entry for no longer than it has left.
  void backfill(std::string_view key, const timed_value& entry, ttl_seconds entry_ttl);
  void notify(const failure& why) const noexcept;
  // The one place a fault is told: observers (the counter was already bumped by the caller),
  // then on_error (`rate_limited`: L2 failures, at most one per class per second).
  // `ns`: the caller's namespace when known, else this thread's namespace_scope.
  void emit_fault(fault_kind kind, cache_layer layer, const failure& why, std::string_view key = {},
                  std::optional<std::string_view> ns = std::nullopt) const noexcept;
  // An L2 operation that failed, was skipped or shed (observers only; counting is
  // report_l2_error's).
  void emit_l2_failure(cache_op op, const failure& why,
                       std::chrono::nanoseconds latency) const noexcept;
  void emit_operation(cache_op op, cache_layer layer, op_outcome outcome, std::size_t bytes,
                      std::chrono::nanoseconds latency) const noexcept;
  // Breaker state changes: on_error hears of an opening, observers of every change.
  static void breaker_changed(const event_hub& hub,
                              const std::function<void(const failure&)>& on_error,
                              const circuit_breaker_options& breaker, circuit_state from,
                              circuit_state to);
  // L2 failures go through here: at most one report per error class per second.
  void notify_rate_limited(const failure& why) noexcept;

  // Before options_: the breaker built with it reports state changes here.
  event_hub events_;
  // Set while options_ is built (the reliability stack replaces options.l2): declared first.
  const circuit_breaker_backend* breaker_ = nullptr;
  const backpressure_backend* gate_ = nullptr;
  cache_options options_;
  std::unique_ptr<l1_cache> l1_;
  // Formats by index; the json and auto ones are absent when encrypted (not offered there).
  using format_set = std::array<std::optional<storage_format>, format_count>;
  format_set formats_;
  fill_coordinator fills_;
  // Multi-tenant mode: the formats of each tenant seen, built on first use (keys derived
  // without growing the keyring), the least recently used dropped past `max_tenant_formats`.
  // Per process (a forked child builds its own table, never taking its parent's lock).
  struct tenant_format_table {
    std::mutex mutex;
    lru_map<std::shared_ptr<const format_set>> sets{max_tenant_formats};  // guarded by mutex
  };
  per_process<tenant_format_table> tenant_formats_;
  bool encrypted_ = false;
  // L2 reads go through get_with_ttl without an L1 too: the backend labels stale entries.
  bool timed_reads_ = false;
  // Names this engine in the thread-local record of keys held by another tenant (an address
  // could be reused by a later engine).
  std::atomic<std::uint64_t> l2_errors_{0};
  std::atomic<std::uint64_t> l2_skipped_{0};
  std::atomic<std::uint64_t> l2_shed_{0};
  // Per error_class: when the last report went out (clock ticks), and how many were held back.
  struct report_window {
    std::atomic<monotonic_clock::duration::rep> last{0};
    std::atomic<std::uint64_t> held_back{0};
  };
  std::array<report_window, 5> report_windows_{};
  // The first L2 error of this cache goes to the process-wide log sink (logging.hpp), with its
  // fix: a misconfigured L2 must not fail silently.
  std::atomic<bool> first_l2_error_logged_{false};
  void log_first_l2_error(const failure& why) noexcept;
  mutable std::mutex last_error_mutex_;
  std::string last_error_;  // guarded by last_error_mutex_
  std::atomic<std::uint64_t> corrupt_entries_{0};
  std::atomic<std::uint64_t> security_failures_{0};
  std::atomic<std::uint64_t> oversize_values_{0};
  std::atomic<std::uint64_t> uncacheable_calls_{0};
  std::atomic<std::size_t> object_bytes_reserved_{0};
  std::atomic<std::uint64_t> tenant_mismatches_{0};
  std::atomic<std::uint64_t> python_only_entries_{0};
  // After an outage, writes L1-only keys to L2 (null when off, or without L1 or L2). Late: its
  // thread uses the members above and is joined before them.
  std::unique_ptr<write_back_queue> write_back_;
  // Coherence (null when cache_options::coherence is ttl_only, or without L1 or L2). The
  // listener is per process: a forked child starts its own at its first call; the parent's is
  // abandoned there (its thread does not exist in the child).
  struct listener_slot {
    std::once_flag started;
    std::unique_ptr<invalidation_listener> running;
    void ensure(cache_engine& engine);
  };
  struct coherence_state {
    coherence_epochs epochs;
    function_spaces spaces;
    bool track_keys = false;
    std::atomic<bool> stopped{false};
    per_process<listener_slot> listener;
  };
  std::unique_ptr<coherence_state> coherence_;
  std::atomic<bool> publish_unsupported_{false};
  std::atomic<std::uint64_t> publish_failures_{0};
  // SWR (cache_engine_swr.cpp): stale serving, and the refresh threads (null when off), last:
  // destroyed (threads joined) first, as they use everything above.
  std::atomic<std::uint64_t> stale_served_{0};
  stale_refreshes stale_refreshes_;  // the keys L2 served stale that are being refreshed
  std::unique_ptr<refresh_executor> refreshes_;
  // After an asynchronous call's L2 write: as store_bytes after its write (failures counted,
  // reported, left to the write-back; observers told).
  void l2_written(std::string_view key, std::string_view l1_key, ttl_seconds ttl,
                  const result<void>& written, std::size_t size, std::chrono::nanoseconds took);
  // Asynchronous calls (cache_engine_async.cpp), last: stopped and destroyed first. Flights are
  // per process; the dispatcher and the function pool start their threads on first use.
  struct async_flight_table {
    std::mutex mutex;
    std::unordered_map<std::string, std::vector<flight_outcome>> flights;  // guarded by mutex
  };
  per_process<async_flight_table> async_flight_table_;
  std::unique_ptr<async_dispatcher> async_;
  std::unique_ptr<refresh_executor> async_functions_;
};

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
