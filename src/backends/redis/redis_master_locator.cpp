#include "backends/redis/redis_master_locator.hpp"

#include "backends/redis/redis_switch_listener.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <numeric>
#include <utility>

namespace cachekit {
inline namespace v0 {
namespace detail {
namespace {

std::vector<redis_connect_settings> sentinel_settings(const redis_sentinel_settings& s,
                                                      std::chrono::milliseconds connect_timeout,
                                                      std::chrono::milliseconds command_timeout) {
  std::vector<redis_connect_settings> out;
  out.reserve(s.sentinels.size());
  for (const auto& address : s.sentinels) {
    redis_connect_settings settings;
    settings.endpoint.host = address.host;
    settings.endpoint.port = address.port;
    settings.endpoint.user = s.user;
    settings.endpoint.password = s.password;
    settings.endpoint.has_password = s.has_password;
    settings.where = "sentinel " + settings.endpoint.describe();
    settings.where.resize(settings.where.size() - 2);  // a sentinel has no database: no "/0"
    settings.connect_timeout = connect_timeout;
    settings.command_timeout = command_timeout;
    out.push_back(std::move(settings));
  }
  return out;
}

std::string address_text(const std::string& host, int port) {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

}  // namespace

redis_master_locator::process_state::process_state() = default;
redis_master_locator::process_state::~process_state() = default;

redis_master_locator::redis_master_locator(redis_sentinel_settings settings,
                                           std::chrono::milliseconds connect_timeout,
                                           std::chrono::milliseconds command_timeout, bool listen)
    : settings_(std::move(settings)),
      sentinel_connects_(sentinel_settings(settings_, connect_timeout, command_timeout)),
      listen_(listen) {}

redis_master_locator::~redis_master_locator() = default;

std::vector<std::size_t> redis_master_locator::order_of(process_state& state) {
  std::lock_guard lock(state.mutex);
  if (state.order.empty()) {
    state.order.resize(sentinel_connects_.size());
    std::iota(state.order.begin(), state.order.end(), std::size_t{0});
  }
  return state.order;
}

std::vector<std::size_t> redis_master_locator::sentinel_order() {
  return order_of(state_.get());
}

void redis_master_locator::ensure_listener(process_state& state) {
  if (!listen_) return;
  std::call_once(state.listener_started,
                 [&] { state.listener = std::make_unique<redis_switch_listener>(*this); });
}

result<redis_master_locator::master> redis_master_locator::locate(std::string_view operation) {
  process_state& state = state_.get();
  ensure_listener(state);
  // The known master unless it was reported unusable; then also, until the interval has
  // passed, the sentinels' last answer (asking again sooner would most likely get it again).
  auto usable = [&]() -> std::optional<master> {
    std::lock_guard lock(state.mutex);
    if (!state.known) return std::nullopt;
    if (state.suspect &&
        std::chrono::steady_clock::now() - state.last_discovery >= rediscovery_interval) {
      return std::nullopt;
    }
    return state.known;
  };
  if (auto m = usable()) return *m;
  // One discovery at a time; whoever waited for it takes its answer.
  std::lock_guard discovering(state.discovery);
  if (auto m = usable()) return *m;
  return discover(state, operation);
}

result<redis_master_locator::master> redis_master_locator::discover(process_state& state,
                                                                    std::string_view operation) {
  discoveries_.fetch_add(1, std::memory_order_relaxed);
  {
    std::lock_guard lock(state.mutex);
    state.last_discovery = std::chrono::steady_clock::now();
  }
  const std::array<std::string_view, 3> argv = {"SENTINEL", "get-master-addr-by-name",
                                                settings_.service};
  std::optional<failure> last;
  std::string tried;
  bool unknown_service = false;
  for (const std::size_t index : order_of(state)) {
    const redis_connect_settings& sentinel = sentinel_connects_[index];
    if (!tried.empty()) tried += ", ";
    tried += sentinel.where.substr(sizeof("sentinel ") - 1);
    auto connection = redis_connection::open(sentinel, "SENTINEL get-master-addr-by-name");
    if (!connection) {
      last = std::move(connection).error();
      continue;
    }
    auto reply = (*connection)->run("SENTINEL get-master-addr-by-name", argv);
    if (!reply) {
      last = std::move(reply).error();
      continue;
    }
    const redisReply& r = **reply;
    if (r.type == REDIS_REPLY_NIL) {  // this sentinel monitors no master of that name
      unknown_service = true;
      continue;
    }
    int port = 0;
    if (r.type != REDIS_REPLY_ARRAY || r.elements != 2 ||
        r.element[0]->type != REDIS_REPLY_STRING || r.element[1]->type != REDIS_REPLY_STRING ||
        std::from_chars(r.element[1]->str, r.element[1]->str + r.element[1]->len, port).ec !=
            std::errc{} ||
        port <= 0 || port > 65535) {
      last = fail(errc::backend_permanent,
                  "redis " + sentinel.where +
                      ": unexpected reply to SENTINEL get-master-addr-by-name (is it a sentinel?)");
      continue;
    }
    std::string host(r.element[0]->str, r.element[0]->len);
    std::lock_guard lock(state.mutex);
    // The sentinel that answered is asked first next time.
    std::stable_partition(state.order.begin(), state.order.end(),
                          [&](std::size_t i) { return i == index; });
    const std::string now = address_text(host, port);
    if (now != state.last_address) {
      // A new master (or the first): connections to the former one must go.
      if (!state.last_address.empty()) master_changes_.fetch_add(1, std::memory_order_relaxed);
      state.last_address = now;
      const std::uint64_t next = generation_.fetch_add(1, std::memory_order_acq_rel) + 1;
      state.known = master{.host = std::move(host), .port = port, .generation = next};
    }
    // Same address: connections opened since the report (under its generation) stay good.
    state.suspect = false;
    return *state.known;
  }

  const std::string what = "redis " + std::string(operation) + ": " + settings_.describe();
  if (unknown_service) {
    return fail(errc::backend_permanent,
                what + ": the sentinels that answered monitor no master named '" +
                    settings_.service +
                    "'; use the name of a `sentinel monitor <name> ...` line of their "
                    "configuration (SENTINEL MASTERS lists them)");
  }
  failure f = last ? std::move(*last) : fail(errc::transient, "no sentinel listed");
  if (f.code == make_error_code(errc::backend_authentication)) {
    return fail(errc::backend_authentication,
                what + ": a sentinel refused the sentinel credentials (" + f.detail +
                    "); the sentinels log in with ?sentinel_username=..&sentinel_password=.. of "
                    "the URL, the master with its user:password@");
  }
  const errc code = f.code == make_error_code(errc::timeout) ? errc::timeout : errc::transient;
  return fail(code, what + ": no sentinel answered (tried " + tried + "; last: " + f.detail + ")");
}

void redis_master_locator::report_unusable(std::uint64_t generation) noexcept {
  process_state& state = state_.get();
  std::lock_guard lock(state.mutex);
  if (!state.known || state.suspect || state.known->generation != generation) return;
  unusable_reports_.fetch_add(1, std::memory_order_relaxed);
  state.suspect = true;
  // Connections opened before the report are not handed out again, even if the sentinels name
  // the same server once more; those opened after it carry the new generation.
  state.known->generation = generation_.fetch_add(1, std::memory_order_acq_rel) + 1;
}

void redis_master_locator::adopt(std::string host, int port) {
  switch_messages_.fetch_add(1, std::memory_order_relaxed);
  process_state& state = state_.get();
  std::lock_guard lock(state.mutex);
  const std::string now = address_text(host, port);
  if (state.known && !state.suspect && state.last_address == now) return;  // following it
  if (state.known && state.last_address == now) {
    state.suspect = false;  // the address a report made suspect is confirmed
    return;
  }
  if (!state.last_address.empty()) master_changes_.fetch_add(1, std::memory_order_relaxed);
  state.last_address = now;
  state.suspect = false;
  const std::uint64_t next = generation_.fetch_add(1, std::memory_order_acq_rel) + 1;
  state.known = master{.host = std::move(host), .port = port, .generation = next};
}

redis_sentinel_stats redis_master_locator::stats() const {
  redis_sentinel_stats out{.discoveries = discoveries_.load(std::memory_order_relaxed),
                           .master_changes = master_changes_.load(std::memory_order_relaxed),
                           .switch_messages = switch_messages_.load(std::memory_order_relaxed),
                           .unusable_reports = unusable_reports_.load(std::memory_order_relaxed),
                           .master = {}};
  auto& state = const_cast<per_process<process_state>&>(state_).get();
  std::lock_guard lock(state.mutex);
  if (state.known) out.master = address_text(state.known->host, state.known->port);
  return out;
}

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
