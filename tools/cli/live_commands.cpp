#include "live_commands.hpp"

#include "cli_io.hpp"
#include "codec/tagged_json.hpp"
#include "key_registry.hpp"
#include "redis_admin.hpp"
#include "server_stats.hpp"

#include <cachekit/error.hpp>

#include <algorithm>
#include <chrono>
#include <iomanip>
#include <ostream>
#include <set>

namespace cachekit::cli {
namespace {

int report(std::ostream& err, const failure& f) {
  err << "cachekit: " << f.message() << '\n';
  return exit_bad_input;
}

// The cache key and the key as the backend stores it. A key given with the backend's own
// prefix (copied from redis-cli) is taken without it.
std::pair<std::string, std::string> split_key(const live_backend& b, std::string key) {
  const std::string prefix(b.store->key_prefix());
  if (!prefix.empty() && key.starts_with(prefix)) key.erase(0, prefix.size());
  return {key, prefix + key};
}

int report_miss(std::ostream& err, const live_backend& b, const std::string& storage_key) {
  err << "cachekit: no entry under storage key \"" << storage_key << "\" on " << b.description
      << " (list a function's keys with: cachekit keys --function module.qualname)\n";
  return exit_bad_input;
}

// "name:" padded to a column (names longer than it get one space), then the text.
void print_field(std::ostream& out, std::string_view name, std::string_view text) {
  const std::string label = std::string(name) + ": ";
  out << std::left << std::setw(17) << label << text << '\n';
}

}  // namespace

int get_command(live_backend& b, entry_request req, std::ostream& out, std::ostream& err) {
  auto [key, storage_key] = split_key(b, req.key);
  auto hit = b.store->get(key);
  if (!hit) return report(err, hit.error());
  if (!*hit) return report_miss(err, b, storage_key);
  req.open.key = key;
  req.open.storage_key = storage_key;
  auto v = open_entry(**hit, req.open);
  if (!v) return report(err, v.error());
  out << detail::dump_tagged_json(*v) << '\n';
  return exit_ok;
}

int inspect_command(live_backend& b, entry_request req, std::ostream& out, std::ostream& err) {
  auto [key, storage_key] = split_key(b, req.key);
  auto hit = b.store->get_with_ttl(key);
  if (!hit) return report(err, hit.error());
  if (!*hit) return report_miss(err, b, storage_key);
  req.open.key = key;
  req.open.storage_key = storage_key;
  req.open.ttl = (*hit)->remaining;
  req.open.backend_type = std::string(b.store->type());
  auto found = inspect_entry((*hit)->value, req.open);
  print_field(out, "backend", b.description);
  for (const auto& [name, text] : found.fields) print_field(out, name, text);
  if (found.error) return report(err, *found.error);
  print_field(out, "value", detail::dump_tagged_json(*found.data));
  return exit_ok;
}

int set_command(live_backend& b, const set_request& req, std::ostream& out, std::ostream& err) {
  auto [key, storage_key] = split_key(b, req.key);
  if (req.ttl_seconds && *req.ttl_seconds <= 0) {
    return report(err, fail(errc::invalid_argument,
                            "--ttl must be a positive number of seconds (omit it for no expiry)"));
  }
  if (req.encrypt && !req.master_key_hex) {
    return report(err, fail(errc::invalid_master_key,
                            "--encrypt needs the master key: set CACHEKIT_MASTER_KEY or give "
                            "--master-key-file (generate one with: openssl rand -hex 32)"));
  }
  encode_request enc{.value_json = req.value_json,
                     .mode = req.interop ? stored_mode::interop : stored_mode::frame,
                     .integrity_checking = !req.no_integrity,
                     .bind_key = !req.interop};
  enc.encryption.cache_key = storage_key;
  if (req.encrypt) {
    enc.encryption.master_key_hex = req.master_key_hex;
    enc.encryption.tenant = req.tenant;
  }
  auto bytes = encode_command(enc);
  if (!bytes) {
    auto f = bytes.error();
    if (f.detail.starts_with("not valid JSON")) {
      f.detail +=
          " (VALUE is JSON: quote a string as '\"hello\"'; tags such as "
          "{\"$bytes\": \"00ff\"} write what JSON lacks)";
    }
    return report(err, f);
  }
  ttl_seconds ttl;
  if (req.ttl_seconds) ttl = std::chrono::seconds(*req.ttl_seconds);
  if (auto ok = b.store->set(key, *bytes, ttl); !ok) return report(err, ok.error());
  out << "stored " << bytes->size() << " bytes under \"" << storage_key << "\""
      << (ttl ? ", ttl " + std::to_string(ttl->count()) + " s" : ", no expiry") << '\n';
  return exit_ok;
}

int del_command(live_backend& b, const std::string& raw_key, std::ostream& out, std::ostream& err) {
  auto [key, storage_key] = split_key(b, raw_key);
  auto existed = b.store->erase(key);
  if (!existed) return report(err, existed.error());
  out << (*existed ? "deleted \"" : "no entry under \"") << storage_key << "\"\n";
  return exit_ok;
}

int ttl_command(live_backend& b, const std::string& raw_key, std::ostream& out, std::ostream& err) {
  auto [key, storage_key] = split_key(b, raw_key);
  auto left = b.store->ttl(key);
  if (!left) {
    if (left.error().code == make_error_code(errc::not_supported)) {
      return report(err, fail(errc::not_supported,
                              std::string(b.store->type()) +
                                  " cannot report a TTL (its protocol has no command for it)"));
    }
    return report(err, left.error());
  }
  if (!left->exists) return report_miss(err, b, storage_key);
  out << describe_ttl(left->ttl, b.store->type()) << '\n';
  return exit_ok;
}

int keys_command(live_backend& b, const key_selection& sel, std::ostream& out, std::ostream& err) {
  if (!b.redis_url) {
    return report(err, fail(errc::not_supported,
                            std::string(b.store->type()) +
                                " cannot list keys (memcached has no key listing; the file "
                                "backend stores hashed names): only Redis can"));
  }
  auto admin = redis_admin::connect(*b.redis_url, b.timeout);
  if (!admin) return report(err, admin.error());
  const std::string scope(b.store->key_prefix());
  std::set<std::string> keys;
  std::size_t from_registry = 0;
  std::string prefix;
  if (sel.function) {
    const std::string set_name = scope + registry_id(*sel.function, sel.ns);
    auto members = admin->set_members(set_name);
    if (!members) return report(err, members.error());
    for (auto& m : *members) {
      // Members outlive their entries (the set expires 7 days after the last write).
      if (auto live = b.store->exists(m); live && *live) keys.insert(std::move(m));
    }
    from_registry = keys.size();
    err << "# key registry " << set_name << " (cachekit-py): " << members->size() << " members, "
        << from_registry << " with a live entry\n";
    auto p = function_key_prefix(*sel.function, sel.ns);
    if (!p) return report(err, p.error());
    prefix = *p;
  }
  if (sel.prefix) prefix = *sel.prefix;
  auto scanned = admin->scan_prefix(scope + prefix, sel.limit);
  if (!scanned) return report(err, scanned.error());
  std::size_t added = 0;
  for (const auto& k : *scanned) {
    if (k.ends_with(":lock")) continue;  // fill locks, not entries
    added += keys.insert(k.substr(scope.size())).second ? 1 : 0;
  }
  err << "# SCAN " << scope << prefix << "*: " << scanned->size() << " keys";
  if (sel.function) err << ", " << added << " not in the registry (the C++ cache keeps none)";
  err << '\n';
  std::size_t n = 0;
  for (const auto& k : keys) {
    if (n++ == sel.limit) break;
    out << k << '\n';
  }
  return exit_ok;
}

int invalidate_command(live_backend& b, const key_selection& sel, std::ostream& out,
                       std::ostream& err) {
  std::string prefix;
  if (sel.function) {
    auto p = function_key_prefix(*sel.function, sel.ns);
    if (!p) return report(err, p.error());
    prefix = *p;
  }
  if (sel.prefix) prefix = *sel.prefix;
  std::size_t deleted = 0;
  if (b.redis_url && sel.function) {
    auto admin = redis_admin::connect(*b.redis_url, b.timeout);
    if (!admin) return report(err, admin.error());
    const std::string scope(b.store->key_prefix());
    const std::string id = registry_id(*sel.function, sel.ns);
    auto members = admin->set_members(scope + id);
    if (!members) return report(err, members.error());
    std::vector<std::string> wire;
    for (const auto& m : *members) wire.push_back(scope + m);
    auto removed = admin->unlink(wire);
    if (!removed) return report(err, removed.error());
    deleted += *removed;
    if (auto gone = admin->unlink({scope + id}); !gone) return report(err, gone.error());
    // cachekit-py processes with the invalidation listener drop their L1 copies on this.
    (void)admin->publish(invalidation_channel, invalidation_event(id));
  }
  auto erased = b.store->erase_prefix(prefix);
  if (!erased) {
    if (erased.error().code == make_error_code(errc::not_supported)) {
      return report(err, fail(errc::not_supported,
                              std::string(b.store->type()) +
                                  " cannot find keys by prefix (no key listing); delete single "
                                  "entries with: cachekit del KEY, or let them expire"));
    }
    return report(err, erased.error());
  }
  deleted += *erased;
  out << "invalidated " << deleted << " entries (prefix \"" << b.store->key_prefix() << prefix
      << "\"" << (sel.function && b.redis_url ? " and the cachekit-py key registry" : "") << ")\n";
  return exit_ok;
}

namespace {

// The probe's answer: one "healthy: ..." line, then (with `details`) what the backend reported.
int probe(live_backend& b, bool details, std::ostream& out, std::ostream& err) {
  auto h = b.store->health();
  if (!h.healthy) {
    const auto why = h.details.contains("error") ? h.details.at("error") : "no answer";
    err << "cachekit: not healthy: " << b.description << ": " << why
        << " (check --url or the REDIS_URL / CACHEKIT_* variables; raise --timeout-ms for a "
           "slow server)\n";
    return exit_bad_input;
  }
  out << "healthy: " << b.description << ", latency "
      << std::chrono::duration<double, std::milli>(h.latency).count() << " ms\n";
  if (details) {
    for (const auto& [name, text] : h.details) print_field(out, name, text);
  }
  return exit_ok;
}

}  // namespace

int health_command(live_backend& b, std::ostream& out, std::ostream& err) {
  return probe(b, true, out, err);
}

int stats_command(live_backend& b, std::ostream& out, std::ostream& err) {
  if (int status = probe(b, false, out, err); status != exit_ok) return status;
  auto figures = server_stats(b);
  if (!figures) return report(err, figures.error());
  for (const auto& [name, text] : *figures) print_field(out, name, text);
  return exit_ok;
}

}  // namespace cachekit::cli
