// The fan-out behind `cache_options::observers`: one per cache engine. Built once, never changed,
// so reading it needs no lock. `active()` is the one branch the hot path takes when nothing is
// attached; `timed()` says whether any observer wants latencies (clock reads).
#pragma once

#include <cachekit/observer.hpp>

#include <memory>
#include <string_view>
#include <vector>

namespace cachekit {
inline namespace v0 {
namespace detail {

class event_hub {
 public:
  event_hub() = default;
  explicit event_hub(std::vector<std::shared_ptr<observer>> observers);

  [[nodiscard]] bool active() const noexcept { return active_; }
  [[nodiscard]] bool timed() const noexcept { return timed_; }

  // Each calls every observer in attachment order; an exception from one is dropped.
  void operation(const operation_event& event) const noexcept;
  void fault(const fault_event& event) const noexcept;
  void breaker(const breaker_event& event) const noexcept;

 private:
  std::vector<std::shared_ptr<observer>> observers_;
  bool active_ = false;
  bool timed_ = false;
};

// The namespace of the memoized function or typed call running on this thread, for events
// raised below it (L2 reads and writes, faults): set by `namespace_scope` around those calls.
[[nodiscard]] std::string_view current_namespace() noexcept;
class namespace_scope {
 public:
  explicit namespace_scope(std::string_view ns) noexcept;
  ~namespace_scope();
  namespace_scope(const namespace_scope&) = delete;
  namespace_scope& operator=(const namespace_scope&) = delete;

 private:
  std::string_view previous_;
};

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
