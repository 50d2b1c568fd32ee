/// @file
/// In-process single-flight: concurrent callers of one key share one computation. The first
/// caller of a key leads (runs the work); callers that arrive while it runs wait and receive
/// the leader's result, or its exception, and nothing runs twice. `memoize` puts one table in
/// front of each function's misses, so 64 threads missing one cold key run the function once.
///
/// The result travels as `std::shared_ptr<const void>` so the table is not a template; the
/// typed wrapper in memoized.hpp casts it back.
///
/// Fork: a forked child gets a fresh table (a thread of the parent may hold a lock of the
/// parent's); flights the parent had in progress do not exist in the child.
///
/// Thread safety: thread-safe.
#pragma once

#include <cachekit/export.hpp>

#include <exception>
#include <memory>
#include <string_view>

namespace cachekit {
inline namespace v0 {
namespace detail {

class CACHEKIT_EXPORT flight_table {
 public:
  struct flight;

  /// A caller's place in a flight: `leader` must call `finish` exactly once (a destructor
  /// finishes with an exception if it did not, so waiters are never stranded).
  class ticket {
   public:
    ticket(ticket&&) noexcept = default;
    ticket& operator=(ticket&&) = delete;
    ~ticket();

    [[nodiscard]] bool leader() const noexcept { return leader_; }

   private:
    friend class flight_table;
    ticket(flight_table* table, std::shared_ptr<flight> f, bool leader) noexcept
        : table_(table), flight_(std::move(f)), leader_(leader) {}

    flight_table* table_;
    std::shared_ptr<flight> flight_;
    bool leader_;
    bool finished_ = false;
  };

  flight_table();
  ~flight_table();
  flight_table(const flight_table&) = delete;
  flight_table& operator=(const flight_table&) = delete;

  /// Joins the flight of `key`, starting it (and leading it) when there is none.
  [[nodiscard]] ticket join(std::string_view key);

  /// The leader's outcome: a value, or the exception its work threw (then `value` is null).
  /// Wakes every waiter and ends the flight: a later `join` of the key starts a new one.
  void finish(ticket& t, std::shared_ptr<const void> value, std::exception_ptr error) noexcept;

  /// A waiter's wait for the leader's outcome: its value, or rethrows its exception.
  [[nodiscard]] std::shared_ptr<const void> wait(ticket& t) const;

  /// Flights in progress (for tests and health reports).
  [[nodiscard]] std::size_t in_flight() const;

 private:
  struct shards;
  std::unique_ptr<shards> shards_;
};

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
