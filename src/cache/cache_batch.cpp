// cache::get_many / set_many (include/cachekit/cache.hpp): the typed API's batch calls, L1
// first and one L2 round trip each, through the engine code single get / set use.
#include "cache/cache_engine.hpp"

#include <cachekit/cache.hpp>

#include <string>
#include <utility>
#include <vector>

namespace cachekit {
inline namespace v0 {
namespace {

// As cache.cpp's: `ns:{ns}:{key}` with a namespace, else the key.
std::string stored_key_of(std::string_view key, const entry_options& options) {
  if (!options.ns || options.ns->empty()) return std::string(key);
  std::string out;
  out.reserve(4 + options.ns->size() + key.size());
  out.append("ns:").append(*options.ns).append(":").append(key);
  return out;
}

std::string_view namespace_of(const entry_options& options) {
  return options.ns ? std::string_view(*options.ns) : std::string_view();
}

}  // namespace

result<std::vector<std::optional<byte_buffer>>> cache::load_values(
    std::span<const std::string_view> keys, const entry_options& options) const {
  detail::namespace_scope scope(namespace_of(options));
  const int index = format_index(options.interop, engine_->options().integrity_checking,
                                 options.serializer.value_or(engine_->options().serializer));
  const ttl_seconds ttl = options.ttl ? options.ttl : engine_->options().default_ttl;
  std::vector<std::optional<byte_buffer>> out(keys.size());
  std::vector<std::string> stored(keys.size());
  std::vector<std::string_view> missed;
  std::vector<std::size_t> missed_at;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    stored[i] = stored_key_of(keys[i], options);
    auto in_l1 = engine_->load_l1(stored[i], index, nullptr, namespace_of(options));
    if (!in_l1) return std::move(in_l1).error();
    if (in_l1->msgpack) {
      out[i] = std::move(in_l1->msgpack);
    } else if (in_l1->layer != detail::served_by::left_in_place) {
      missed.push_back(stored[i]);
      missed_at.push_back(i);
    }
  }
  if (missed.empty()) return out;
  auto in_l2 = engine_->load_l2_many(missed, missed, index, ttl, nullptr);
  if (!in_l2) return std::move(in_l2).error();
  for (std::size_t j = 0; j < missed.size(); ++j) {
    out[missed_at[j]] = std::move((*in_l2)[j].msgpack);
  }
  return out;
}

result<void> cache::store_values(std::span<const std::string_view> keys,
                                 std::span<const byte_buffer> msgpack,
                                 const entry_options& options) {
  detail::namespace_scope scope(namespace_of(options));
  std::vector<std::string> stored;
  stored.reserve(keys.size());
  for (auto key : keys) stored.push_back(stored_key_of(key, options));
  std::vector<detail::cache_engine::pending_store> items;
  items.reserve(keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    items.push_back({.key = stored[i], .l1_key = stored[i], .msgpack = msgpack[i]});
  }
  return engine_->store_many(
      items,
      format_index(options.interop, engine_->options().integrity_checking,
                   options.serializer.value_or(engine_->options().serializer)),
      options.ttl ? options.ttl : engine_->options().default_ttl, true, {});
}

}  // namespace v0
}  // namespace cachekit
