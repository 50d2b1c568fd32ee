// Asynchronous calls: the engine's side (cache_engine.hpp, "asynchronous calls"). Reads and
// writes go through the async_dispatcher's batches; misses run on a refresh_executor used as a
// bounded function pool; single-flight per (function, key) in a per-process table.
#include "cache/cache_engine.hpp"

#include <cstring>
#include <future>
#include <string>
#include <utility>

namespace cachekit {
inline namespace v0 {
namespace detail {

void check_async_options(const async_options& options) {
  auto positive = [](std::size_t value, const char* field, const char* fix) {
    if (value == 0) {
      throw error(errc::invalid_configuration,
                  std::string("cache_options.async.") + field + " is 0; " + fix);
    }
  };
  positive(options.threads, "threads", "use at least 1 dispatcher thread (default 2)");
  positive(options.batch, "batch", "use at least 1 request per batch (default 256)");
  positive(options.max_pending, "max_pending", "allow at least 1 waiting request (default 100000)");
  positive(options.function_threads, "function_threads",
           "use at least 1 thread for asynchronous misses (default 8)");
}

void cache_engine::start_async() {
  const async_options& a = options_.async;
  if (l2() != nullptr) {
    async_ = std::make_unique<async_dispatcher>(
        options_.l2, async_dispatcher::settings{.threads = a.threads,
                                                .batch = a.batch,
                                                .max_pending = a.max_pending,
                                                .with_ttl = l1_ != nullptr || timed_reads_});
  }
  async_functions_ = std::make_unique<refresh_executor>(a.max_pending, a.function_threads);
}

void cache_engine::stop_async() {
  // The pool first: a batch completing meanwhile then runs its misses on the dispatcher thread
  // (the pool refuses them), so work in progress completes; queued work is dropped.
  if (async_functions_) async_functions_->stop();
  if (async_) async_->stop();
}

void cache_engine::load_async(std::string_view key, int index, ttl_seconds entry_ttl,
                              std::string ns, lookup_done done) {
  auto in_l1 = load_l1(key, index, nullptr, ns);
  if (!in_l1 || in_l1->msgpack || in_l1->layer == served_by::left_in_place) {
    done(std::move(in_l1), std::chrono::nanoseconds{-1});
    return;
  }
  load_l2_async(key, key, index, entry_ttl, std::move(ns), std::move(done));
}

void cache_engine::load_l2_async(std::string_view key, std::string_view l1_key, int index,
                                 ttl_seconds entry_ttl, std::string ns, lookup_done done) {
  if (l2() == nullptr) {
    done(lookup{}, std::chrono::nanoseconds{-1});
    return;
  }
  // The format (multi-tenant: this thread's tenant's) and the AAD are taken here, on the
  // caller's thread, as `load_l2` takes them.
  auto chosen = format(index);
  if (!chosen) {
    done(std::move(chosen).error(), std::chrono::nanoseconds{-1});
    return;
  }
  std::string aad_storage;
  std::string aad(aad_key(key, index, aad_storage));
  std::optional<coherence_epochs::snapshot> epoch;
  if (coherence_ != nullptr) epoch = coherence_->epochs.take(l1_key);
  // Shared so the callback stays copyable and the caller's `done` survives a refused queue.
  auto state = std::make_shared<lookup_done>(std::move(done));
  const bool queued = async_->read(
      std::string(key),
      [this, state, fmt = std::move(*chosen), aad = std::move(aad), key = std::string(key),
       l1_key = std::string(l1_key), entry_ttl, epoch,
       ns](result<std::optional<timed_value>> got, std::chrono::nanoseconds took) {
        namespace_scope scope(ns);
        if (!got) {
          report_l2_error(got.error());
          emit_l2_failure(cache_op::get, got.error(), took);
          (*state)(std::move(got).error(), took);
          return;
        }
        if (write_back_) write_back_->l2_answered();
        (*state)(accept_l2(key, l1_key, *fmt, aad, entry_ttl, *got, took, epoch), took);
      });
  if (queued) return;
  namespace_scope scope(ns);
  auto why = fail(errc::backpressure,
                  "asynchronous L2 read not queued: cache_options.async.max_pending (" +
                      std::to_string(options_.async.max_pending) +
                      ") requests already wait, or the cache is shutting down; the call runs "
                      "without L2. Raise max_pending or add dispatcher threads");
  report_l2_error(why);
  emit_l2_failure(cache_op::get, why, std::chrono::nanoseconds{-1});
  (*state)(std::move(why), std::chrono::nanoseconds{-1});
}

void cache_engine::store_async(std::string_view key, std::string_view l1_key, int index,
                               byte_view msgpack, ttl_seconds ttl, bool write_l2,
                               std::string_view registry, store_done done) {
  auto finish = [&done](const result<void>& outcome) {
    if (done) done(outcome);
  };
  std::string aad_storage;
  const std::string_view aad = aad_key(key, index, aad_storage);
  auto chosen = format(index);
  if (!chosen) {
    report_uncacheable(chosen.error());
    finish(std::move(chosen).error());
    return;
  }
  auto sealed = (*chosen)->seal(msgpack, aad);
  if (!sealed) {
    report_uncacheable(sealed.error());
    finish(std::move(sealed).error());
    return;
  }
  if (auto kept = keep_in_l1(key, l1_key, *sealed, ttl); !kept) {
    finish(kept);
    return;
  }
  if (l2() == nullptr) {
    finish({});
    return;
  }
  if (!write_l2) {
    if (write_back_) write_back_->record(key, l1_key, ttl.has_value());
    finish({});
    return;
  }
  const std::size_t size = sealed->size();
  const bool tracked = !registry.empty() && l2()->keeps_key_registry();
  auto shared_done = std::make_shared<store_done>(std::move(done));
  const bool queued =
      async_->write(std::string(key), *sealed, ttl, tracked ? std::string(registry) : std::string(),
                    [this, shared_done, key = std::string(key), l1_key = std::string(l1_key), ttl,
                     size, ns = std::string(current_namespace())](const result<void>& written,
                                                                  std::chrono::nanoseconds took) {
                      namespace_scope scope(ns);
                      l2_written(key, l1_key, ttl, written, size, took);
                      if (*shared_done) (*shared_done)(written);
                    });
  if (queued) return;
  // Beyond the queue's bound the write happens here, as the blocking `store` does.
  const auto started =
      events_.timed() ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
  const result<void> written = this->write_l2(key, *sealed, ttl, registry);
  const std::chrono::nanoseconds took =
      events_.timed() ? std::chrono::steady_clock::now() - started : std::chrono::nanoseconds{-1};
  l2_written(key, l1_key, ttl, written, size, took);
  if (*shared_done) (*shared_done)(written);
}

void cache_engine::l2_written(std::string_view key, std::string_view l1_key, ttl_seconds ttl,
                              const result<void>& written, std::size_t size,
                              std::chrono::nanoseconds took) {
  if (!written) {
    l2_write_failed(written.error(), took);
    l2_write_waits(written.error(), key, l1_key, ttl);
    return;
  }
  if (write_back_) write_back_->l2_answered();
  if (events_.active())
    emit_operation(cache_op::set, cache_layer::l2, op_outcome::stored, size, took);
}

bool cache_engine::run_async(std::function<void()> job) {
  return async_functions_->submit(std::move(job));
}

namespace {
std::string flight_key(const void* owner, std::string_view key) {
  std::string out(sizeof owner, '\0');
  std::memcpy(out.data(), static_cast<const void*>(&owner), sizeof owner);
  out.append(key);
  return out;
}
}  // namespace

bool cache_engine::join_async_flight(const void* owner, std::string_view key, flight_outcome then) {
  async_flight_table& table = async_flight_table_.get();
  std::lock_guard lock(table.mutex);
  auto [it, fresh] = table.flights.try_emplace(flight_key(owner, key));
  it->second.push_back(std::move(then));
  return fresh;
}

void cache_engine::finish_async_flight(const void* owner, std::string_view key,
                                       const std::shared_ptr<const void>& value,
                                       const std::exception_ptr& error) noexcept {
  std::vector<flight_outcome> waiting;
  try {
    async_flight_table& table = async_flight_table_.get();
    std::lock_guard lock(table.mutex);
    auto it = table.flights.find(flight_key(owner, key));
    if (it == table.flights.end()) return;
    waiting.swap(it->second);
    table.flights.erase(it);
  } catch (...) {  // out of memory building the key: the flight's callers are left waiting
    return;
  }
  bool leader = true;  // the leader joined first
  for (flight_outcome& then : waiting) {
    try {
      then(value, error, leader);
    } catch (...) {  // a caller's callback: nothing escapes into the next caller's
    }
    leader = false;
  }
}

std::size_t cache_engine::async_threads() {
  return async_ ? async_->threads_started() : 0;
}

std::size_t cache_engine::async_pending() {
  return async_ ? async_->pending() : 0;
}

std::size_t cache_engine::async_flights() {
  async_flight_table& table = async_flight_table_.get();
  std::lock_guard lock(table.mutex);
  return table.flights.size();
}

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
