#include "backends/redis/redis_cluster_router.hpp"

#include "backends/redis/cluster_map.hpp"
#include "backends/redis/cluster_slot.hpp"
#include "backends/redis/redis_error.hpp"
#include "process/fork_generation.hpp"

#include <algorithm>
#include <charconv>
#include <functional>
#include <optional>
#include <thread>
#include <utility>

namespace cachekit {
inline namespace v0 {
namespace detail {
namespace {

std::int64_t now_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string_view error_text(const redisReply& reply) noexcept {
  if (reply.type != REDIS_REPLY_ERROR) return {};
  return {reply.str, reply.len};
}

// `MOVED 3999 127.0.0.1:6381` / `ASK 3999 127.0.0.1:6381`: the target's host and port.
struct redirect {
  bool ask = false;
  std::uint16_t slot = 0;
  std::string host;
  int port = 0;
};

std::optional<redirect> parse_redirect(std::string_view text) {
  redirect out;
  if (text.starts_with("MOVED ")) {
    text.remove_prefix(6);
  } else if (text.starts_with("ASK ")) {
    out.ask = true;
    text.remove_prefix(4);
  } else {
    return std::nullopt;
  }
  const auto space = text.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  unsigned slot = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + space, slot);
  if (ec != std::errc{} || slot >= cluster_slot_count) return std::nullopt;
  out.slot = static_cast<std::uint16_t>(slot);
  const auto address = text.substr(space + 1);
  const auto colon = address.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  auto [pend, pec] =
      std::from_chars(address.data() + colon + 1, address.data() + address.size(), out.port);
  if (pec != std::errc{} || out.port <= 0 || out.port > 65535) return std::nullopt;
  out.host = std::string(address.substr(0, colon));
  if (out.host.size() > 2 && out.host.front() == '[') out.host = out.host.substr(1, colon - 2);
  return out;
}

bool is_busy_cluster(std::string_view text) noexcept {
  return text.starts_with("TRYAGAIN") || text.starts_with("CLUSTERDOWN");
}

}  // namespace

redis_cluster_router::node::node(std::string h, int p, redis_connect_settings settings,
                                 std::size_t capacity)
    : host(std::move(h)), port(p), pool(std::move(settings), capacity) {}

redis_cluster_router::redis_cluster_router(redis_connect_settings base, std::size_t pool_size)
    : base_(std::move(base)), pool_size_(pool_size) {
  for (const auto& seed : base_.endpoint.seeds) (void)node_at(seed.host, seed.port);
}

redis_cluster_router::~redis_cluster_router() {
  for (auto& n : nodes_) delete n.load(std::memory_order_acquire);
}

result<redis_cluster_router::node*> redis_cluster_router::node_at(std::string_view host, int port) {
  std::unique_ptr<node> fresh;
  for (;;) {
    std::size_t free = 0;
    for (; free < nodes_.size(); ++free) {
      node* n = nodes_[free].load(std::memory_order_acquire);
      if (n == nullptr) break;
      if (n->port == port && n->host == host) return n;
    }
    if (free == nodes_.size()) {
      return fail(errc::backend_permanent,
                  "redis cluster " + base_.where + " has more than " + std::to_string(max_nodes) +
                      " nodes; cachekit's router addresses at most that many");
    }
    if (!fresh) {
      redis_connect_settings settings = base_;
      settings.endpoint.cluster = false;
      settings.endpoint.seeds.clear();
      settings.endpoint.host = std::string(host);
      settings.endpoint.port = port;
      settings.endpoint.db = 0;
      settings.where = settings.endpoint.describe();
      fresh = std::make_unique<node>(std::string(host), port, std::move(settings), pool_size_);
    }
    // Appended without a lock: a thread that took this place first may have added this very
    // node, which the next scan finds.
    node* expected = nullptr;
    if (nodes_[free].compare_exchange_strong(expected, fresh.get(), std::memory_order_acq_rel)) {
      return fresh.release();
    }
  }
}

std::optional<failure> redis_cluster_router::refresh_if_due(std::string_view operation) {
  const std::int64_t now = now_ns();
  const std::int64_t last = last_refresh_ns_.load(std::memory_order_relaxed);
  const bool wanted = refresh_wanted_.load(std::memory_order_relaxed);
  const auto since = std::chrono::nanoseconds(now - last);
  if (last != 0 && !(wanted && since >= min_refresh_interval) && since < refresh_period) {
    return std::nullopt;
  }
  // One refresher at a time; the others keep routing with the map they have. The guard holds
  // the holder's fork generation + 1: a child's first refresh takes over a guard its parent
  // held at the fork (that thread does not exist here).
  const std::uint64_t mine = fork_generation() + 1;
  std::uint64_t holder = refresher_.load(std::memory_order_acquire);
  if (holder == mine) return std::nullopt;
  if (!refresher_.compare_exchange_strong(holder, mine, std::memory_order_acq_rel)) {
    return std::nullopt;
  }
  // Stamped before the attempt: a cluster that does not answer is asked again only after
  // min_refresh_interval, not by every command.
  last_refresh_ns_.store(now, std::memory_order_relaxed);
  refresh_wanted_.store(false, std::memory_order_relaxed);
  std::optional<failure> failed;
  if (auto r = refresh(operation); !r) {
    failed = std::move(r).error();
    want_refresh();
  }
  refresher_.store(0, std::memory_order_release);
  return failed;
}

result<void> redis_cluster_router::refresh(std::string_view operation) {
  // The masters in the map first (they know the newest map), then every other known node.
  std::vector<node*> order;
  for (auto& slot : slots_) {
    node* n = slot.load(std::memory_order_relaxed);
    if (n != nullptr && std::find(order.begin(), order.end(), n) == order.end()) {
      order.push_back(n);
    }
  }
  for (const auto& slot : nodes_) {
    node* n = slot.load(std::memory_order_acquire);
    if (n == nullptr) break;
    if (std::find(order.begin(), order.end(), n) == order.end()) order.push_back(n);
  }
  std::optional<failure> last;
  for (node* n : order) {
    auto r = refresh_from(*n, operation);
    if (r) return r;
    last = std::move(r).error();
  }
  if (last) return *std::move(last);
  return fail(errc::invalid_configuration,
              "redis cluster: the URL names no seed node; write "
              "redis+cluster://host1:port1[,host2:port2,...]");
}

result<void> redis_cluster_router::refresh_from(node& source, std::string_view operation) {
  auto connection = source.pool.acquire(operation);
  if (!connection) return std::move(connection).error();
  std::vector<cluster_slot_range> ranges;
  const std::array<std::string_view, 2> shards = {"CLUSTER", "SHARDS"};
  auto reply = (*connection)->run("CLUSTER SHARDS", shards);
  bool parsed = false;
  if (reply) {
    parsed = parse_cluster_shards(**reply, source.host, base_.endpoint.tls.has_value(), ranges);
  } else if (reply.error().detail.find("nknown") != std::string::npos) {
    // Redis 6 and older: CLUSTER SLOTS (deprecated in 7, so only as the fallback).
    const std::array<std::string_view, 2> slots = {"CLUSTER", "SLOTS"};
    auto old = (*connection)->run("CLUSTER SLOTS", slots);
    if (!old) return std::move(old).error();
    parsed = parse_cluster_slots(**old, source.host, ranges);
  } else {
    return std::move(reply).error();
  }
  if (!parsed || ranges.empty()) {
    return fail(errc::backend_permanent,
                "redis cluster map from " + source.pool.settings().where +
                    " is empty or malformed; check that the URL names Redis Cluster nodes "
                    "(cluster-enabled yes) whose slots are all assigned");
  }
  for (const auto& range : ranges) {
    if (range.first < 0 || range.last >= cluster_slot_count || range.first > range.last) continue;
    auto master = node_at(range.host, range.port);
    if (!master) return std::move(master).error();
    for (auto s = range.first; s <= range.last; ++s) {
      slots_[static_cast<std::size_t>(s)].store(*master, std::memory_order_release);
    }
  }
  refreshes_.fetch_add(1, std::memory_order_relaxed);
  return {};
}

result<redis_cluster_router::node*> redis_cluster_router::master_of(std::string_view operation,
                                                                    std::uint16_t slot) {
  auto failed = refresh_if_due(operation);
  node* n = slots_[slot].load(std::memory_order_acquire);
  if (n != nullptr) return n;
  if (failed) return *std::move(failed);
  // No map yet (the first command, or every refresh so far failed): ask now, past the
  // interval, so the command reports why the cluster cannot be reached.
  if (auto r = refresh(operation); !r) {
    want_refresh();
    return std::move(r).error();
  }
  last_refresh_ns_.store(now_ns(), std::memory_order_relaxed);
  n = slots_[slot].load(std::memory_order_acquire);
  if (n != nullptr) return n;
  return fail(errc::transient, "redis " + std::string(operation) + " on " + base_.where +
                                   ": no master serves slot " + std::to_string(slot) +
                                   " (the cluster is incomplete or resharding); retry later");
}

result<void> redis_cluster_router::execute(
    std::string_view operation, std::uint16_t slot,
    std::span<const std::span<const std::string_view>> commands,
    std::span<redis_reply_ptr> replies) {
  auto target = master_of(operation, slot);
  if (!target) return std::move(target).error();
  node* n = *target;
  bool asking = false;
  int redirects = 0;
  auto backoff = std::chrono::milliseconds(5);
  const auto deadline = std::chrono::steady_clock::now() + base_.command_timeout;
  static constexpr std::array<std::string_view, 1> asking_argv = {"ASKING"};
  for (;;) {
    {  // the lease goes back to the pool before any backoff
      auto connection = n->pool.acquire(operation);
      if (!connection) {
        if (connection.error().code == errc::transient) want_refresh();
        return std::move(connection).error();
      }
      for (const auto& command : commands) {
        if (asking) (*connection)->append(asking_argv);
        (*connection)->append(command);
      }
      for (std::size_t i = 0; i < commands.size(); ++i) {
        if (asking) {
          auto ok = (*connection)->read_reply("ASKING");
          if (!ok) {
            want_refresh();
            return std::move(ok).error();
          }
        }
        auto reply = (*connection)->read_reply(operation);
        if (!reply) {
          if (reply.error().code == errc::transient) want_refresh();
          return std::move(reply).error();
        }
        replies[i] = std::move(*reply);
      }
    }
    // The first redirect or busy answer decides; all commands share the slot, so they share
    // the answer (a MOVED for one is a MOVED for all).
    std::optional<redirect> to;
    std::string_view busy;
    for (std::size_t i = 0; i < commands.size() && !to && busy.empty(); ++i) {
      const auto text = error_text(*replies[i]);
      if (text.empty()) continue;
      to = parse_redirect(text);
      if (!to && is_busy_cluster(text)) busy = text;
    }
    if (!to && busy.empty()) return {};
    if (to) {
      if (++redirects > max_redirects) {
        return fail(errc::transient,
                    "redis " + std::string(operation) + " on " + base_.where + ": more than " +
                        std::to_string(max_redirects) +
                        " MOVED/ASK redirects for one command (the cluster is resharding); "
                        "retry later");
      }
      auto next = node_at(to->host, to->port);
      if (!next) return std::move(next).error();
      if (to->ask) {
        ask_.fetch_add(1, std::memory_order_relaxed);
        asking = true;
      } else {
        moved_.fetch_add(1, std::memory_order_relaxed);
        slots_[to->slot].store(*next, std::memory_order_release);
        want_refresh();
        asking = false;
      }
      n = *next;
      continue;
    }
    // TRYAGAIN (keys of a migrating slot split between nodes) or CLUSTERDOWN (a failover in
    // progress): both pass on their own; wait while the operation's budget lasts.
    if (busy.starts_with("CLUSTERDOWN")) want_refresh();
    if (std::chrono::steady_clock::now() + backoff > deadline) {
      return error_reply_failure(operation, n->pool.settings().where, busy);
    }
    retries_.fetch_add(1, std::memory_order_relaxed);
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(100));
    asking = false;
    auto again = master_of(operation, slot);
    if (!again) return std::move(again).error();
    n = *again;
  }
}

result<redis_reply_ptr> redis_cluster_router::run(std::string_view operation, std::uint16_t slot,
                                                  std::span<const std::string_view> argv) {
  std::array<redis_reply_ptr, 1> reply;
  const std::array<std::span<const std::string_view>, 1> commands = {argv};
  auto sent = execute(operation, slot, commands, reply);
  if (!sent) return std::move(sent).error();
  if (const auto text = error_text(*reply[0]); !text.empty()) {
    node* n = slots_[slot].load(std::memory_order_acquire);
    return error_reply_failure(operation, n != nullptr ? n->pool.settings().where : base_.where,
                               text);
  }
  return std::move(reply[0]);
}

result<std::vector<redis_reply_ptr>> redis_cluster_router::run_each(
    std::string_view operation, std::span<const routed_command> commands) {
  std::vector<redis_reply_ptr> replies(commands.size());
  // Group by master: each node gets its commands in one pipelined round trip.
  std::vector<std::pair<node*, std::vector<std::size_t>>> by_node;
  for (std::size_t i = 0; i < commands.size(); ++i) {
    auto target = master_of(operation, commands[i].slot);
    if (!target) return std::move(target).error();
    auto it = std::find_if(by_node.begin(), by_node.end(),
                           [&](const auto& entry) { return entry.first == *target; });
    if (it == by_node.end()) {
      by_node.emplace_back(*target, std::vector<std::size_t>{});
      it = std::prev(by_node.end());
    }
    it->second.push_back(i);
  }
  // Connections are taken in one global order (by node address): a batch holds one master's
  // while it waits for the next's, and two batches taking them in opposite orders from
  // exhausted pools would each wait for the other until command_timeout.
  std::sort(by_node.begin(), by_node.end(),
            [](const auto& a, const auto& b) { return std::less<node*>{}(a.first, b.first); });
  // Every master's pipeline goes out before any reply is read: the masters answer in parallel,
  // so the batch costs about the slowest master's round trip, not the sum of them all. A
  // connection whose replies were not all read owes replies: on an early return it is
  // abandoned (its pool closes it), never handed out again out of step.
  std::vector<redis_pool::lease> leases;
  leases.reserve(by_node.size());
  std::size_t read_through = 0;  // leases before this one have had every reply read
  struct abandon_unread {
    std::vector<redis_pool::lease>& leases;
    const std::size_t& from;
    ~abandon_unread() {
      for (std::size_t g = from; g < leases.size(); ++g) leases[g]->abandon();
    }
  } guard{leases, read_through};
  for (auto& [n, indices] : by_node) {
    auto connection = n->pool.acquire(operation);
    if (!connection) {
      if (connection.error().code == errc::transient) want_refresh();
      return std::move(connection).error();
    }
    for (const auto i : indices) (*connection)->append(commands[i].argv);
    if (auto sent = (*connection)->send_queued(operation); !sent) {
      if (sent.error().code == errc::transient) want_refresh();
      return std::move(sent).error();
    }
    leases.push_back(std::move(*connection));
  }
  for (std::size_t g = 0; g < by_node.size(); ++g) {
    for (const auto i : by_node[g].second) {
      auto reply = leases[g]->read_reply(operation);
      if (!reply) {
        if (reply.error().code == errc::transient) want_refresh();
        return std::move(reply).error();
      }
      replies[i] = std::move(*reply);
    }
    read_through = g + 1;
  }
  leases.clear();  // back to their pools before any redirect below takes a connection
  for (auto& [n, indices] : by_node) {
    for (const auto i : indices) {
      const auto text = error_text(*replies[i]);
      if (text.empty()) continue;
      if (parse_redirect(text) || is_busy_cluster(text)) {
        // Moved or migrating since the map was read: this one alone, with redirects.
        auto again = run(operation, commands[i].slot, commands[i].argv);
        if (!again) return std::move(again).error();
        replies[i] = std::move(*again);
        continue;
      }
      return error_reply_failure(operation, n->pool.settings().where, text);
    }
  }
  return replies;
}

result<std::vector<redis_pool*>> redis_cluster_router::masters(std::string_view operation) {
  auto any = master_of(operation, 0);
  if (!any) return std::move(any).error();
  std::vector<redis_pool*> out;
  for (auto& slot : slots_) {
    node* n = slot.load(std::memory_order_acquire);
    if (n == nullptr) continue;
    if (std::find(out.begin(), out.end(), &n->pool) == out.end()) out.push_back(&n->pool);
  }
  return out;
}

redis_cluster_stats redis_cluster_router::stats() const {
  std::vector<const node*> seen;
  for (const auto& slot : slots_) {
    const node* n = slot.load(std::memory_order_acquire);
    if (n != nullptr && std::find(seen.begin(), seen.end(), n) == seen.end()) seen.push_back(n);
  }
  return {.moved = moved_.load(std::memory_order_relaxed),
          .ask = ask_.load(std::memory_order_relaxed),
          .refreshes = refreshes_.load(std::memory_order_relaxed),
          .retries = retries_.load(std::memory_order_relaxed),
          .masters = seen.size()};
}

redis_pool_stats redis_cluster_router::pool_stats() const {
  redis_pool_stats total;
  for (const auto& slot : nodes_) {
    const node* n = slot.load(std::memory_order_acquire);
    if (n == nullptr) break;
    const auto s = n->pool.stats();
    total.open += s.open;
    total.idle += s.idle;
    total.connects += s.connects;
    total.discarded += s.discarded;
  }
  return total;
}

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
