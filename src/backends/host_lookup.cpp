#include "backends/host_lookup.hpp"

#include "process/per_process.hpp"

#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>
#include <utility>

namespace cachekit {
inline namespace v0 {
namespace detail {
namespace {

struct addrinfo_deleter {
  void operator()(addrinfo* list) const noexcept { freeaddrinfo(list); }
};
using addrinfo_ptr = std::unique_ptr<addrinfo, addrinfo_deleter>;

// Never destroyed: a lookup thread abandoned by its caller may decrement its count after
// static destructors have run.
per_process<std::atomic<std::size_t>>& running_counts() {
  static auto* counts = new per_process<std::atomic<std::size_t>>();
  return *counts;
}

// One lookup, shared by the caller and the lookup thread; whichever lets go last frees it.
struct lookup_state {
  explicit lookup_state(std::string name) : host(std::move(name)) {}

  const std::string host;
  std::mutex mutex;
  std::condition_variable finished;
  bool done = false;    // guarded by mutex
  int status = 0;       // guarded by mutex: getaddrinfo's return value
  int saved_errno = 0;  // guarded by mutex: errno after an EAI_SYSTEM
  addrinfo_ptr answer;  // guarded by mutex
};

std::vector<std::string> numeric_addresses(const addrinfo* list) {
  std::vector<std::string> out;
  for (const addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
    char text[NI_MAXHOST];
    if (getnameinfo(ai->ai_addr, ai->ai_addrlen, text, sizeof text, nullptr, 0, NI_NUMERICHOST) !=
        0) {
      continue;
    }
    if (std::find(out.begin(), out.end(), text) == out.end()) out.emplace_back(text);
  }
  return out;
}

addrinfo tcp_hints(int flags) noexcept {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = flags;
  return hints;
}

std::string quoted(const std::string& host) {
  return "host name \"" + host + "\"";
}

}  // namespace

std::optional<std::string> numeric_host(const std::string& host) {
  const addrinfo hints = tcp_hints(AI_NUMERICHOST);
  addrinfo* raw = nullptr;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &raw) != 0) return std::nullopt;
  const addrinfo_ptr list(raw);
  auto addresses = numeric_addresses(list.get());
  if (addresses.empty()) return std::nullopt;
  return std::move(addresses.front());
}

std::size_t running_lookups() noexcept {
  return running_counts().get().load(std::memory_order_relaxed);
}

result<std::vector<std::string>> lookup_host(const std::string& host,
                                             std::chrono::milliseconds budget,
                                             std::string_view budget_name) {
  if (auto numeric = numeric_host(host)) return std::vector<std::string>{std::move(*numeric)};

  const std::string budget_text =
      std::to_string(budget.count()) + " ms (" + std::string(budget_name) + ")";
  std::atomic<std::size_t>& running = running_counts().get();
  if (running.fetch_add(1, std::memory_order_relaxed) >= max_running_lookups) {
    running.fetch_sub(1, std::memory_order_relaxed);
    return fail(errc::timeout,
                "cannot resolve " + quoted(host) + ": " + std::to_string(max_running_lookups) +
                    " earlier lookups are still waiting for the DNS server; check the name "
                    "servers in /etc/resolv.conf, or use an IP address instead of the name");
  }

  auto state = std::make_shared<lookup_state>(host);
  try {
    std::thread([state, &running] {
      // No AI_ADDRCONFIG (hiredis and libmemcached do not ask for it either): it would drop
      // ::1 on a host whose only IPv6 address is loopback.
      const addrinfo hints = tcp_hints(0);
      addrinfo* raw = nullptr;
      const int status = getaddrinfo(state->host.c_str(), nullptr, &hints, &raw);
      const int saved_errno = errno;
      {
        std::lock_guard lock(state->mutex);
        state->status = status;
        state->saved_errno = saved_errno;
        state->answer.reset(raw);
        state->done = true;
      }
      state->finished.notify_one();
      running.fetch_sub(1, std::memory_order_relaxed);
    }).detach();
  } catch (const std::system_error& e) {
    running.fetch_sub(1, std::memory_order_relaxed);
    return fail(errc::transient,
                "cannot resolve " + quoted(host) + ": no thread for the lookup (" + e.what() + ")");
  }

  std::unique_lock lock(state->mutex);
  if (!state->finished.wait_for(lock, budget, [&] { return state->done; })) {
    return fail(errc::timeout, "cannot resolve " + quoted(host) + " within " + budget_text +
                                   ": the DNS server did not answer in time; check the name "
                                   "servers in /etc/resolv.conf, use an IP address instead of "
                                   "the name, or raise the timeout");
  }
  if (state->status == 0) {
    auto addresses = numeric_addresses(state->answer.get());
    // IPv4 first, as hiredis 0.14 resolves on its own (it asks for IPv6 only when a name has no
    // IPv4 address): a server listening on 127.0.0.1 alone, as Debian configures Redis and
    // memcached, is reached at the first try through "localhost".
    std::stable_partition(addresses.begin(), addresses.end(),
                          [](const std::string& a) { return a.find(':') == std::string::npos; });
    if (!addresses.empty()) return addresses;
    return fail(errc::transient, quoted(host) + " resolved to no usable address");
  }
  if (state->status == EAI_NONAME || state->status == EAI_NODATA) {
    return fail(errc::transient, quoted(host) +
                                     " does not resolve (no such name in /etc/hosts or DNS); "
                                     "check the spelling, or wait until its DNS record exists");
  }
  if (state->status == EAI_AGAIN) {
    return fail(errc::transient, "cannot resolve " + quoted(host) +
                                     ": the DNS server reported a temporary failure (" +
                                     gai_strerror(state->status) + ")");
  }
  const std::string reason = state->status == EAI_SYSTEM
                                 ? std::system_category().message(state->saved_errno)
                                 : std::string(gai_strerror(state->status));
  return fail(errc::transient, "cannot resolve " + quoted(host) + ": " + reason);
}

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
