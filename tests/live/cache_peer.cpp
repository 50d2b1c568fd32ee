// cachekit_cache_peer: the C++ side of the live cache interop checks (tests/live/cache_interop.py).
//
// Reads one JSON command per line on stdin and answers one JSON line on stdout:
//
//   {"cmd": "configure", "backend": "redis", "url": "redis://127.0.0.1:6380/0",
//    "layout": "plain" | "tenant_scoped"}
//   {"cmd": "configure", "backend": "memcached", "servers": ["127.0.0.1:11311"], "key_prefix": ""}
//   {"cmd": "configure", "backend": "file", "dir": "/tmp/..."}
//       optional on every configure: "integrity": bool (the cache's default),
//       "secure": {"master_key_hex": "...", "tenant": "default", "multi_tenant": false}
//           (intent::secure with encryption)
//     -> {"ok": true}                  a new cache: empty L1, no memoized functions
//
//   {"cmd": "call", "function": "module.qualname" | "interop": {"ns": "...", "op": "..."},
//    "args": ["shape", 3], "type": "value" | "record" | "typed", "fresh": <tagged JSON>,
//    "integrity": bool (optional, memoize_options), "ns": "..." (optional, frame mode),
//    "serializer": "default" | "orjson" | "auto" (optional, memoize_options),
//    "tenant": "uuid" (optional: the call runs inside a tenant_scope)}
//     -> {"ok": true, "value": <tagged JSON>, "ran": bool, "key": "...",
//         "info": {"hits", "misses", "l1_hits", "l2_hits"}, "stats": {...}}
//   A "value" function returns `fresh` when it runs; a "record" function returns the struct
//   `record` computed from its arguments (see `compute_record`, mirrored in cache_interop.py);
//   a "typed" function the struct `typed_sample` (`compute_typed`), whose doubles are the ones a
//   typed codec is most likely to store wrongly.
//   `ran` says whether the function ran during this call. Functions are memoized once per
//   (type, mode, name, ns, integrity) and kept until the next configure, so `info` accumulates.
//
//   {"cmd": "stats"} -> {"ok": true, "stats": {...}}
//
//   {"cmd": "fork_calls", "per_process": [[<call>, ...], [<call>, ...], ...]}
//     -> {"ok": true, "answers": [[<call answer>, ...], ...]}
//   Forks one child per list after the first, with the cache as configured (and used) so far;
//   the parent runs the first list while the children run theirs, all at once. Each answer is
//   what "call" answers; a child that fails or exits badly fails the command.
//
// Any failure answers {"ok": false, "error": "..."} and the peer goes on reading.
#include <cachekit/cache.hpp>
#include <cachekit/cache_options.hpp>
#include <cachekit/encryption.hpp>
#include <cachekit/file_backend.hpp>
#include <cachekit/memcached_backend.hpp>
#include <cachekit/redis_backend.hpp>
#include <cachekit/tenant_scope.hpp>
#include <cachekit/value.hpp>

#include <nlohmann/json.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <exception>
#include <functional>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "codec/tagged_json.hpp"

namespace {

using json = nlohmann::ordered_json;

// A typed result, stored as a MessagePack map {"computed_by", "n", "tags", "score"}: what a
// Python function returning that dict stores.
struct record {
  std::string computed_by;
  std::int64_t n = 0;
  std::vector<std::string> tags;
  double score = 0;
  MSGPACK_DEFINE_MAP(computed_by, n, tags, score);
};

// Mirrors `record_value(shape, n, "cpp")` in cache_interop.py.
record compute_record(const std::string& shape, std::int64_t n) {
  return {"cpp", n, {shape, "cpp"}, static_cast<double>(n) + 0.25};
}

cachekit::value record_to_value(const record& r) {
  cachekit::value_array tags(r.tags.begin(), r.tags.end());
  return cachekit::value_map{
      {"computed_by", r.computed_by}, {"n", r.n}, {"tags", std::move(tags)}, {"score", r.score}};
}

// Doubles and floats a typed codec must store as float64 whatever their value (msgpack-cxx alone
// stores whole numbers as integers and floats as float32); the live "typed" shapes pick them by n.
// Mirrored by AWKWARD_DOUBLES / AWKWARD_FLOATS in cache_interop.py.
constexpr std::array<double, 10> awkward_doubles = {
    3.0,   -0.0, 9223372036854775808.0,  18446744073709551616.0, 5e-324, -7.0, 0.0,
    1e300, 2.5,  2.2250738585072014e-309};
constexpr std::array<float, 8> awkward_floats = {
    3.0F, -0.0F, 9223372036854775808.0F, 0.5F, 16777216.0F, 1.401298464324817e-45F, -2.0F, 1e30F};

struct typed_inner {
  double weight = 0;
  std::optional<double> maybe;
  MSGPACK_DEFINE_MAP(weight, maybe);
};

// A typed result covering what the typed packer decides (float64 doubles, widened floats, bin,
// nested structs, maps); fields out of key order, so interop mode must reorder them.
struct typed_sample {
  std::string zeta;
  double whole = 0;
  float ratio = 0;
  std::vector<double> all;
  std::map<std::string, double> by_name;
  typed_inner alpha;
  std::int64_t count = 0;
  std::vector<std::byte> raw;
  bool flag = false;
  MSGPACK_DEFINE_MAP(zeta, whole, ratio, all, by_name, alpha, count, raw, flag);
};

// Mirrors `typed_value(n, side)` in cache_interop.py ("typed_nonfinite" adds NaN and infinities,
// which interop mode refuses).
typed_sample compute_typed(const std::string& shape, std::int64_t n) {
  const auto at = [n](std::size_t size, std::int64_t shift) {
    return static_cast<std::size_t>((n + shift) % static_cast<std::int64_t>(size));
  };
  typed_sample t;
  t.zeta = "cpp";
  t.whole = awkward_doubles[at(awkward_doubles.size(), 0)];
  t.ratio = awkward_floats[at(awkward_floats.size(), 1)];
  t.all.assign(awkward_doubles.begin(), awkward_doubles.end());
  if (shape == "typed_nonfinite") {
    t.all.push_back(std::numeric_limits<double>::quiet_NaN());
    t.all.push_back(std::numeric_limits<double>::infinity());
    t.all.push_back(-std::numeric_limits<double>::infinity());
  }
  t.by_name = {{"b", 2.0}, {"a", -0.0}};
  t.alpha = {static_cast<double>(n), n % 2 == 0 ? std::optional<double>(n * 2.0) : std::nullopt};
  t.count = n;
  t.raw = {std::byte{0}, std::byte{0xff}, static_cast<std::byte>(n % 256)};
  t.flag = n % 2 == 1;
  return t;
}

cachekit::value typed_to_value(const typed_sample& t) {
  cachekit::value_array all(t.all.begin(), t.all.end());
  cachekit::value_map by_name;
  for (const auto& [k, v] : t.by_name) by_name.emplace_back(k, v);
  cachekit::value maybe = t.alpha.maybe ? cachekit::value(*t.alpha.maybe) : cachekit::value();
  return cachekit::value_map{
      {"zeta", t.zeta},
      {"whole", t.whole},
      {"ratio", static_cast<double>(t.ratio)},
      {"all", std::move(all)},
      {"by_name", std::move(by_name)},
      {"alpha", cachekit::value_map{{"weight", t.alpha.weight}, {"maybe", std::move(maybe)}}},
      {"count", t.count},
      {"raw", cachekit::value::binary(t.raw)},
      {"flag", t.flag}};
}

json info_json(const cachekit::cache_info& info) {
  return {{"hits", info.hits},
          {"misses", info.misses},
          {"l1_hits", info.l1_hits},
          {"l2_hits", info.l2_hits}};
}

json stats_json(const cachekit::cache_stats& s) {
  return {{"l2_errors", s.l2_errors},
          {"corrupt_entries", s.corrupt_entries},
          {"oversize_values", s.oversize_values},
          {"uncacheable_calls", s.uncacheable_calls},
          {"tenant_mismatches", s.tenant_mismatches},
          {"python_only_entries", s.python_only_entries}};
}

// One memoized function, type-erased so functions of both result types live in one table.
struct function_entry {
  // Calls through the cache; returns the result as a value.
  std::function<cachekit::value(const json& call, const std::string& shape, std::int64_t n)> call;
  std::function<cachekit::cache_info()> info;
  std::function<std::string(const std::string& shape, std::int64_t n)> key;
  std::shared_ptr<std::uint64_t> runs;
};

template <class Memo>
std::function<std::string(const std::string&, std::int64_t)> key_of(Memo memo) {
  return [memo](const std::string& shape, std::int64_t n) {
    auto key = memo.key(shape, n);
    if (!key) throw std::runtime_error("key: " + key.error().message());
    return *key;
  };
}

// A memoized function whose result is a struct computed from its arguments ("record", "typed"),
// returned to the harness as a value.
template <class Compute, class ToValue>
function_entry struct_function(cachekit::cache& cache, bool interop, const std::string& ns,
                               const std::string& op, const std::string& name,
                               const cachekit::memoize_options& options,
                               const std::shared_ptr<std::uint64_t>& runs, Compute compute,
                               ToValue to_value) {
  auto fn = [runs, compute](std::string shape, std::int64_t n) {
    ++*runs;
    return compute(shape, n);
  };
  auto memo =
      interop ? cache.memoize_interop(ns, op, fn, options) : cache.memoize(name, fn, options);
  function_entry entry;
  entry.runs = runs;
  entry.call = [memo, to_value](const json& /*call*/, const std::string& shape, std::int64_t n) {
    return to_value(memo(shape, n));
  };
  entry.info = [memo] { return memo.info(); };
  entry.key = key_of(memo);
  return entry;
}

class peer {
 public:
  json handle(const json& command) {
    const std::string cmd = command.at("cmd").get<std::string>();
    if (cmd == "configure") return configure(command);
    if (cmd == "call") return call(command);
    if (cmd == "stats") return {{"ok", true}, {"stats", stats_json(require_cache().stats())}};
    if (cmd == "fork_calls") return fork_calls(command);
    throw std::invalid_argument("unknown cmd '" + cmd + "'");
  }

 private:
  json configure(const json& command) {
    functions_.clear();
    cache_.reset();
    const bool secure = command.contains("secure") && !command.at("secure").is_null();
    auto options = cachekit::cache_options::for_intent(secure ? cachekit::intent::secure
                                                              : cachekit::intent::standard);
    options.integrity_checking = command.value("integrity", true);
    const std::string backend = command.at("backend").get<std::string>();
    if (backend == "redis") {
      const std::string layout = command.value("layout", std::string("plain"));
      if (layout != "plain" && layout != "tenant_scoped") {
        throw std::invalid_argument("layout must be plain or tenant_scoped");
      }
      options.l2 = std::make_shared<cachekit::redis_backend>(cachekit::redis_options{
          .url = command.at("url").get<std::string>(),
          .key_layout = layout == "plain" ? cachekit::redis_key_layout::plain
                                          : cachekit::redis_key_layout::tenant_scoped});
    } else if (backend == "memcached") {
      options.l2 = std::make_shared<cachekit::memcached_backend>(cachekit::memcached_options{
          .servers = command.at("servers").get<std::vector<std::string>>(),
          .key_prefix = command.value("key_prefix", std::string())});
    } else if (backend == "file") {
      options.l2 = std::make_shared<cachekit::file_backend>(
          cachekit::file_backend_options{.cache_dir = command.at("dir").get<std::string>()});
    } else {
      throw std::invalid_argument("backend must be redis, memcached or file");
    }
    if (secure) {
      const json& s = command.at("secure");
      auto ring = cachekit::keyring::from_hex(s.at("master_key_hex").get<std::string>());
      if (!ring) throw std::invalid_argument("master key: " + ring.error().message());
      options.encryption =
          cachekit::encryption_options{.keys = std::move(*ring),
                                       .tenant = s.value("tenant", std::string("default")),
                                       .multi_tenant = s.value("multi_tenant", false)};
    }
    cache_.emplace(std::move(options));
    return {{"ok", true}};
  }

  json call(const json& command) {
    cachekit::cache& cache = require_cache();
    const json& args = command.at("args");
    if (!args.is_array() || args.size() != 2) {
      throw std::invalid_argument("args must be [shape, n]");
    }
    const auto shape = args.at(0).get<std::string>();
    const auto n = args.at(1).get<std::int64_t>();
    function_entry& fn = function_for(cache, command);
    const std::uint64_t runs_before = *fn.runs;
    // Multi-tenant caches take the tenant from the calling thread's scope.
    std::optional<cachekit::tenant_scope> tenant;
    if (command.contains("tenant")) tenant.emplace(command.at("tenant").get<std::string>());
    cachekit::value result = fn.call(command, shape, n);
    return {{"ok", true},
            {"value", cachekit::detail::value_to_tagged_json(result)},
            {"ran", *fn.runs != runs_before},
            {"key", fn.key(shape, n)},
            {"info", info_json(fn.info())},
            {"stats", stats_json(cache.stats())}};
  }

  json run_calls(const json& calls) {
    json answers = json::array();
    for (const json& c : calls) answers.push_back(handle(c));
    return answers;
  }

  json fork_calls(const json& command) {
    const json& lists = command.at("per_process");
    std::vector<std::pair<pid_t, int>> children;  // pid, read end of its answer pipe
    for (std::size_t i = 1; i < lists.size(); ++i) {
      int fds[2];
      if (::pipe(fds) != 0) throw std::runtime_error("pipe failed");
      const pid_t pid = ::fork();
      if (pid < 0) throw std::runtime_error("fork failed");
      if (pid == 0) {
        ::close(fds[0]);
        int code = 0;
        try {
          const std::string text = run_calls(lists.at(i)).dump();
          for (std::size_t sent = 0; sent < text.size();) {
            const ssize_t n = ::write(fds[1], text.data() + sent, text.size() - sent);
            if (n <= 0) {
              code = 3;
              break;
            }
            sent += static_cast<std::size_t>(n);
          }
        } catch (...) {
          code = 2;
        }
        ::_exit(code);  // no atexit handlers, no flushing of the parent's stdout buffer
      }
      ::close(fds[1]);
      children.emplace_back(pid, fds[0]);
    }
    json answers = json::array();
    answers.push_back(run_calls(lists.at(0)));
    std::string failures;
    for (auto [pid, fd] : children) {
      std::string text;
      char buffer[4096];
      for (ssize_t n; (n = ::read(fd, buffer, sizeof buffer)) > 0;) {
        text.append(buffer, static_cast<std::size_t>(n));
      }
      ::close(fd);
      int status = 0;
      ::waitpid(pid, &status, 0);
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        failures +=
            " child " + std::to_string(pid) + " exited with status " + std::to_string(status);
        continue;
      }
      answers.push_back(json::parse(text));
    }
    if (!failures.empty()) throw std::runtime_error("fork_calls:" + failures);
    return {{"ok", true}, {"answers", answers}};
  }

  function_entry& function_for(cachekit::cache& cache, const json& command) {
    const std::string type = command.value("type", std::string("value"));
    const bool interop = command.contains("interop");
    cachekit::memoize_options options;
    if (command.contains("integrity"))
      options.integrity_checking = command.at("integrity").get<bool>();
    if (command.contains("ns")) options.ns = command.at("ns").get<std::string>();
    if (command.contains("serializer")) {
      auto kind = cachekit::parse_serializer(command.at("serializer").get<std::string>());
      if (!kind) throw std::invalid_argument("serializer: " + kind.error().detail);
      options.serializer = *kind;
    }
    std::string name;
    std::string ns;
    std::string op;
    if (interop) {
      ns = command.at("interop").at("ns").get<std::string>();
      op = command.at("interop").at("op").get<std::string>();
      name = ns + "/" + op;
    } else {
      name = command.at("function").get<std::string>();
    }
    const std::string id =
        type + "|" + (interop ? "interop" : "frame") + "|" + name + "|" + options.ns.value_or("-") +
        "|" + (options.integrity_checking ? (*options.integrity_checking ? "1" : "0") : "default") +
        "|" +
        std::string(cachekit::serializer_name(
            options.serializer.value_or(cachekit::serializer_kind::standard)));
    if (auto it = functions_.find(id); it != functions_.end()) return it->second;

    auto runs = std::make_shared<std::uint64_t>(0);
    function_entry entry;
    entry.runs = runs;
    if (type == "value") {
      // The value the function returns when it runs: set by each call before invoking.
      auto fresh = std::make_shared<cachekit::value>();
      auto fn = [runs, fresh](std::string /*shape*/, std::int64_t /*n*/) -> cachekit::value {
        ++*runs;
        return *fresh;
      };
      auto memo =
          interop ? cache.memoize_interop(ns, op, fn, options) : cache.memoize(name, fn, options);
      entry.call = [memo, fresh](const json& call, const std::string& shape, std::int64_t n) {
        auto parsed = cachekit::detail::value_from_tagged_json(call.at("fresh"));
        if (!parsed) throw std::invalid_argument("fresh: " + parsed.error().message());
        *fresh = std::move(*parsed);
        return memo(shape, n);
      };
      entry.info = [memo] { return memo.info(); };
      entry.key = key_of(memo);
    } else if (type == "record") {
      entry = struct_function(cache, interop, ns, op, name, options, runs, compute_record,
                              record_to_value);
    } else if (type == "typed") {
      entry = struct_function(cache, interop, ns, op, name, options, runs, compute_typed,
                              typed_to_value);
    } else {
      throw std::invalid_argument("type must be value, record or typed");
    }
    return functions_.emplace(id, std::move(entry)).first->second;
  }

  cachekit::cache& require_cache() {
    if (!cache_) throw std::logic_error("no cache: send a configure command first");
    return *cache_;
  }

  std::optional<cachekit::cache> cache_;
  std::map<std::string, function_entry> functions_;
};

}  // namespace

int main() {
  std::ios::sync_with_stdio(false);
  peer p;
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.empty()) continue;
    json answer;
    try {
      answer = p.handle(json::parse(line));
    } catch (const std::exception& e) {
      answer = {{"ok", false}, {"error", e.what()}};
    }
    std::cout << answer.dump(-1, ' ', false, json::error_handler_t::strict) << '\n' << std::flush;
  }
  return 0;
}
