// cachekit_coherence_peer: the C++ side of the live one-cache-many-processes checks
// (tests/live/coherence_interop.py). One JSON command per line on stdin, one JSON line out:
//
//   {"cmd": "configure", "url": "redis://127.0.0.1:PORT/0", "coherence": "ttl"|"events"|"tracking"}
//     -> {"ok": true}    a new cache (tenant-scoped Redis, as cachekit-py's REDIS_URL), empty L1
//   {"cmd": "call", "function": "module.qualname", "ns": "..."|null, "arg": 3, "fresh": "text"}
//     -> {"ok": true, "value": "...", "ran": bool}   the function returns `fresh` when it runs
//   {"cmd": "invalidate", "function", "ns", "arg"}  -> {"ok": true}
//   {"cmd": "invalidate_all", "function", "ns"}     -> {"ok": true, "ok_l2": bool}
//   {"cmd": "clear", "function", "ns"}              -> {"ok": true}
//   {"cmd": "stats"} -> {"ok": true, "subscriptions": n, "received": n, "dropped": n}
//
// Functions are memoized once per (function, ns) and kept until the next configure. Any failure
// answers {"ok": false, "error": "..."}.
#include <cachekit/cache.hpp>
#include <cachekit/redis_backend.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>

namespace {

using json = nlohmann::json;
using memo = cachekit::memoized<std::function<std::string(std::int64_t)>>;

struct peer {
  std::unique_ptr<cachekit::cache> cache;
  std::map<std::pair<std::string, std::string>, memo> functions;
  std::string fresh;  // what a function returns when it runs
  bool ran = false;

  memo& function(const json& command) {
    const std::string name = command.at("function").get<std::string>();
    std::optional<std::string> ns;
    if (command.contains("ns") && !command.at("ns").is_null())
      ns = command.at("ns").get<std::string>();
    const auto id = std::make_pair(name, ns.value_or(std::string("\x01none")));
    auto found = functions.find(id);
    if (found != functions.end()) return found->second;
    std::function<std::string(std::int64_t)> fn = [this](std::int64_t) {
      ran = true;
      return fresh;
    };
    auto made = cache->memoize(name, std::move(fn), {.ttl = std::chrono::seconds(3600), .ns = ns});
    return functions.emplace(id, std::move(made)).first->second;
  }

  json handle(const json& command) {
    const std::string cmd = command.at("cmd").get<std::string>();
    if (cmd == "configure") {
      functions.clear();
      cache.reset();
      cachekit::cache_options options =
          cachekit::cache_options::for_intent(cachekit::intent::production);
      options.l2 = std::make_shared<cachekit::redis_backend>(
          cachekit::redis_options{.url = command.at("url").get<std::string>(),
                                  .key_layout = cachekit::redis_key_layout::tenant_scoped});
      const std::string mode = command.value("coherence", "ttl");
      options.coherence = mode == "events"     ? cachekit::l1_coherence::invalidation_events
                          : mode == "tracking" ? cachekit::l1_coherence::redis_tracking
                                               : cachekit::l1_coherence::ttl_only;
      options.swr.enabled = false;  // a background refresh would blur what "ran" means
      cache = std::make_unique<cachekit::cache>(std::move(options));
      return {{"ok", true}};
    }
    if (!cache) throw std::runtime_error("configure first");
    if (cmd == "call") {
      auto& fn = function(command);
      fresh = command.at("fresh").get<std::string>();
      ran = false;
      const std::string value = fn(command.at("arg").get<std::int64_t>());
      return {{"ok", true}, {"value", value}, {"ran", ran}};
    }
    if (cmd == "invalidate") {
      function(command).invalidate(command.at("arg").get<std::int64_t>());
      return {{"ok", true}};
    }
    if (cmd == "clear") {
      function(command).clear();
      return {{"ok", true}};
    }
    if (cmd == "invalidate_all") {
      return {{"ok", true}, {"ok_l2", function(command).invalidate_all()}};
    }
    if (cmd == "stats") {
      const auto s = cache->stats();
      return {{"ok", true},
              {"subscriptions", s.listener_subscriptions},
              {"received", s.invalidations_received},
              {"dropped", s.invalidations_dropped}};
    }
    throw std::runtime_error("unknown command " + cmd);
  }
};

}  // namespace

int main() {
  peer p;
  std::string line;
  while (std::getline(std::cin, line)) {
    json answer;
    try {
      answer = p.handle(json::parse(line));
    } catch (const std::exception& e) {
      answer = {{"ok", false}, {"error", e.what()}};
    }
    std::cout << answer.dump() << std::endl;
  }
  return 0;
}
