#include <cachekit/logging.hpp>

#include <unistd.h>

#include <memory>
#include <mutex>
#include <string>
#include <utility>

namespace cachekit {
inline namespace v0 {
namespace {

// The process-wide sink. Copied out under the lock and called outside it, so a slow sink does
// not serialize loggers and a sink that logs does not deadlock.
struct sink_slot {
  std::mutex mutex;
  std::shared_ptr<const log_sink> sink = std::make_shared<const log_sink>(stderr_log_sink());
};
sink_slot& slot() {
  static auto* s = new sink_slot;  // never destroyed: loggers may run during exit
  return *s;
}

// One line: newlines and other control characters become spaces.
void append_line(std::string& out, std::string_view text) {
  for (char c : text) out.push_back(static_cast<unsigned char>(c) < 0x20 ? ' ' : c);
}

void call_sink(const log_sink& sink, const log_record& record) noexcept {
  try {
    sink(record);
  } catch (...) {  // a faulty sink must not fail the call that logged
  }
}

}  // namespace

const char* to_string(log_level level) noexcept {
  switch (level) {
    case log_level::debug: return "debug";
    case log_level::info: return "info";
    case log_level::warning: return "warning";
    case log_level::error: return "error";
    case log_level::off: return "off";
  }
  return "unknown";
}

void set_log_sink(log_sink sink) {
  auto next = sink ? std::make_shared<const log_sink>(std::move(sink)) : nullptr;
  std::lock_guard lock(slot().mutex);
  slot().sink = std::move(next);
}

log_sink stderr_log_sink(log_level min_level) {
  return [min_level](const log_record& r) {
    if (r.level < min_level || r.level == log_level::off) return;
    std::string line = "cachekit: ";
    line += to_string(r.level);
    line += ": ";
    append_line(line, r.event);
    line += ": ";
    append_line(line, r.message);
    line += '\n';
    // One write(2): lines from several threads do not interleave.
    (void)!::write(STDERR_FILENO, line.data(), line.size());
  };
}

void emit_log(log_level level, std::string_view event, std::string_view message) {
  std::shared_ptr<const log_sink> sink;
  {
    std::lock_guard lock(slot().mutex);
    sink = slot().sink;
  }
  if (sink) call_sink(*sink, log_record{.level = level, .event = event, .message = message});
}

log_observer::log_observer(log_options options) : options_(std::move(options)) {
  if (options_.clock == nullptr) options_.clock = &monotonic_clock::coarse();
}

void log_observer::emit(log_level level, std::string_view event, std::string_view message) const {
  if (level < options_.min_level || options_.min_level == log_level::off) return;
  if (options_.sink) {
    call_sink(options_.sink, log_record{.level = level, .event = event, .message = message});
  } else {
    emit_log(level, event, message);
  }
}

void log_observer::on_operation(const operation_event& e) {
  if (options_.min_level > log_level::debug) return;
  std::string line =
      std::string(to_string(e.operation)) + ' ' + to_string(e.layer) + ' ' + to_string(e.outcome) +
      " namespace=" + std::string(e.ns.empty() ? std::string_view("default") : e.ns) +
      " bytes=" + std::to_string(e.bytes);
  if (e.latency.count() >= 0) line += " latency_us=" + std::to_string(e.latency.count() / 1000);
  if (e.error_kind) line += std::string(" class=") + to_string(*e.error_kind);
  emit(log_level::debug, "operation", line);
}

void log_observer::on_fault(const fault_event& e) {
  const log_level level = e.kind == fault_kind::security_failure ? log_level::error
                          : e.kind == fault_kind::l2_skipped     ? log_level::debug
                                                                 : log_level::warning;
  if (level < options_.min_level || options_.min_level == log_level::off) return;
  // Rate limit per kind and error class: the first at once, then one per interval.
  const auto cls = static_cast<std::size_t>(classify(e.what.code));
  window& w = windows_[static_cast<std::size_t>(e.kind)][cls < 5 ? cls : 5];
  const auto now = options_.clock->now().time_since_epoch().count();
  const auto interval =
      std::chrono::duration_cast<monotonic_clock::duration>(options_.rate_limit).count();
  std::uint64_t held = 0;
  if (w.used.exchange(true, std::memory_order_acq_rel)) {
    auto last = w.last.load(std::memory_order_relaxed);
    if (now - last < interval ||
        !w.last.compare_exchange_strong(last, now, std::memory_order_relaxed)) {
      w.held_back.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    held = w.held_back.exchange(0, std::memory_order_relaxed);
  } else {
    w.last.store(now, std::memory_order_relaxed);
  }
  std::string line =
      std::string(to_string(e.layer)) + ' ' + to_string(classify(e.what.code)) + ": ";
  append_line(line, e.what.detail);
  line += " (" + e.what.code.message() + ")";
  if (!e.key.empty()) line += " key=" + redact_key(e.key);
  if (!e.ns.empty()) {
    line += " namespace=";
    append_line(line, e.ns);
  }
  if (held > 0) line += "; " + std::to_string(held) + " more like it since the last line";
  emit(level, to_string(e.kind), line);
}

void log_observer::on_breaker(const breaker_event& e) {
  if (!e.from || !e.to) return;  // a cache built or destroyed
  if (*e.to == circuit_state::open) {
    emit(log_level::warning, "breaker_open",
         std::string("L2 circuit breaker opened (was ") + to_string(*e.from) +
             "): L2 is skipped, calls run without it until a probe succeeds");
  } else {
    emit(log_level::info, *e.to == circuit_state::closed ? "breaker_closed" : "breaker_half_open",
         std::string("L2 circuit breaker ") + to_string(*e.from) + " -> " + to_string(*e.to));
  }
}

}  // namespace v0
}  // namespace cachekit
