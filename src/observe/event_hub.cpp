#include "observe/event_hub.hpp"

#include "protocol/blake2b.hpp"

#include <array>
#include <utility>

namespace cachekit {
inline namespace v0 {

observer::~observer() = default;
void observer::on_operation(const operation_event&) {}
void observer::on_fault(const fault_event&) {}
void observer::on_breaker(const breaker_event&) {}

const char* to_string(cache_layer l) noexcept {
  switch (l) {
    case cache_layer::l1: return "l1";
    case cache_layer::l2: return "l2";
    case cache_layer::function: return "function";
  }
  return "unknown";
}

const char* to_string(cache_op o) noexcept {
  switch (o) {
    case cache_op::get: return "get";
    case cache_op::set: return "set";
    case cache_op::erase: return "erase";
    case cache_op::key: return "key";
  }
  return "unknown";
}

const char* to_string(op_outcome o) noexcept {
  switch (o) {
    case op_outcome::hit: return "hit";
    case op_outcome::miss: return "miss";
    case op_outcome::stored: return "stored";
    case op_outcome::failed: return "failed";
    case op_outcome::skipped: return "skipped";
    case op_outcome::shed: return "shed";
  }
  return "unknown";
}

const char* to_string(fault_kind k) noexcept {
  switch (k) {
    case fault_kind::l2_error: return "l2_errors";
    case fault_kind::l2_skipped: return "l2_skipped";
    case fault_kind::l2_shed: return "l2_shed";
    case fault_kind::corrupt_entry: return "corrupt_entries";
    case fault_kind::security_failure: return "security_failures";
    case fault_kind::oversize_value: return "oversize_values";
    case fault_kind::uncacheable_call: return "uncacheable_calls";
    case fault_kind::tenant_mismatch: return "tenant_mismatches";
    case fault_kind::python_only_entry: return "python_only_entries";
  }
  return "unknown";
}

std::string redact_key(std::string_view key) {
  std::array<std::byte, 8> digest{};
  detail::blake2b(byte_view(reinterpret_cast<const std::byte*>(key.data()), key.size()), digest);
  std::string out = "<redacted:";
  const std::size_t at = out.size();
  out.resize(at + 16 + 1);
  detail::append_hex_lower(digest, out.data() + at);
  out.back() = '>';
  return out;
}

namespace detail {

event_hub::event_hub(std::vector<std::shared_ptr<observer>> observers) {
  for (auto& o : observers) {
    if (!o) continue;
    timed_ = timed_ || o->wants_latency();
    observers_.push_back(std::move(o));
  }
  active_ = !observers_.empty();
}

void event_hub::operation(const operation_event& event) const noexcept {
  for (const auto& o : observers_) {
    try {
      o->on_operation(event);
    } catch (...) {  // a faulty observer must not fail the cached call (observer.hpp)
    }
  }
}

void event_hub::fault(const fault_event& event) const noexcept {
  for (const auto& o : observers_) {
    try {
      o->on_fault(event);
    } catch (...) {
    }
  }
}

void event_hub::breaker(const breaker_event& event) const noexcept {
  for (const auto& o : observers_) {
    try {
      o->on_breaker(event);
    } catch (...) {
    }
  }
}

namespace {
thread_local std::string_view this_thread_namespace;
}  // namespace

std::string_view current_namespace() noexcept {
  return this_thread_namespace;
}

namespace_scope::namespace_scope(std::string_view ns) noexcept
    : previous_(std::exchange(this_thread_namespace, ns)) {}

namespace_scope::~namespace_scope() {
  this_thread_namespace = previous_;
}

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
