#include "backends/redis/redis_batch.hpp"

#include "backends/redis/redis_error.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <utility>

namespace cachekit {
inline namespace v0 {
namespace detail {
namespace {

// cachekit-py's registry set lives 7 days past its last write (redis_backend.cpp).
constexpr std::string_view registry_ttl = "604800";

failure unexpected(std::string_view operation, std::string_view where, const redisReply& reply) {
  return fail(errc::backend_permanent, "redis " + std::string(operation) + " on " +
                                           std::string(where) + ": unexpected reply type " +
                                           std::to_string(reply.type));
}

}  // namespace

std::string_view redis_batch::keep(std::string text) {
  return storage_.emplace_back(std::move(text));
}

void redis_batch::add(std::vector<std::string_view> argv, bool registry) {
  argv_.push_back(std::move(argv));
  registry_.push_back(registry);
}

redis_batch redis_batch::reads_with_ttl(const redis_key_layout_rules& layout,
                                        std::span<const std::string_view> keys) {
  redis_batch batch;
  batch.argv_.reserve(keys.size() * 2);
  for (auto key : keys) {
    const auto wire = layout.is_plain() ? key : batch.keep(layout.wire_key(key));
    batch.add({"GET", wire});
    batch.add({"PTTL", wire});
  }
  return batch;
}

redis_batch redis_batch::writes(const redis_key_layout_rules& layout,
                                std::span<const write_request> writes) {
  redis_batch batch;
  // Registry ⇒ the keys to record in it: one SADD (and one EXPIRE) per registry after the
  // writes, the same set cachekit-py's SADD per key leaves.
  std::map<std::string_view, std::vector<std::string_view>> tracked;
  for (const auto& w : writes) {
    const auto wire = layout.is_plain() ? w.key : batch.keep(layout.wire_key(w.key));
    if (w.ttl && w.ttl->count() <= 0) {
      batch.add({"DEL", wire});  // already expired (backend.hpp); nothing to record
      continue;
    }
    if (w.ttl) {
      batch.add(
          {"SET", wire, as_string_view(w.value), "EX", batch.keep(std::to_string(w.ttl->count()))});
    } else {
      batch.add({"SET", wire, as_string_view(w.value)});
    }
    if (!w.registry.empty() && !layout.is_plain()) tracked[w.registry].push_back(w.key);
  }
  for (auto& [registry, keys] : tracked) {
    const auto set_name = batch.keep(layout.wire_key(registry));
    std::vector<std::string_view> sadd = {"SADD", set_name};
    sadd.insert(sadd.end(), keys.begin(), keys.end());
    batch.add(std::move(sadd), true);
    batch.add({"EXPIRE", set_name, registry_ttl}, true);
  }
  return batch;
}

result<std::vector<redis_reply_ptr>> send_pipelined(redis_connection& connection,
                                                    const redis_batch& batch) {
  for (std::size_t i = 0; i < batch.size(); ++i) connection.append(batch.argv(i));
  std::vector<redis_reply_ptr> replies;
  replies.reserve(batch.size());
  for (std::size_t i = 0; i < batch.size(); ++i) {
    auto reply = connection.read_reply(batch.name(i));
    if (!reply) return std::move(reply).error();
    replies.push_back(std::move(*reply));
  }
  return replies;
}

result<std::vector<std::optional<timed_value>>> timed_values_from(
    std::span<const redis_reply_ptr> replies, std::string_view where) {
  std::vector<std::optional<timed_value>> out;
  out.reserve(replies.size() / 2);
  for (std::size_t i = 0; i + 1 < replies.size(); i += 2) {
    const redisReply& value = *replies[i];
    const redisReply& left = *replies[i + 1];
    for (const auto& [name, reply] : {std::pair{"GET", &value}, std::pair{"PTTL", &left}}) {
      if (reply->type == REDIS_REPLY_ERROR) {
        return error_reply_failure(name, where, {reply->str, reply->len});
      }
    }
    if (value.type == REDIS_REPLY_NIL) {
      out.emplace_back();
      continue;
    }
    if (value.type != REDIS_REPLY_STRING) return unexpected("GET", where, value);
    if (left.type != REDIS_REPLY_INTEGER) return unexpected("PTTL", where, left);
    const auto* begin = reinterpret_cast<const std::byte*>(value.str);
    timed_value entry{byte_buffer(begin, begin + value.len), std::nullopt};
    if (left.integer == -1) {
      entry.remaining.emplace(std::nullopt);  // the entry never expires
    } else {
      // Rounded down as get_with_ttl does, so a copy kept this long never outlives the entry.
      entry.remaining.emplace(std::chrono::seconds(std::max<long long>(left.integer, 0) / 1000));
    }
    out.emplace_back(std::move(entry));
  }
  return out;
}

result<void> writes_outcome(const redis_batch& batch, std::span<const redis_reply_ptr> replies,
                            std::string_view where) {
  for (std::size_t i = 0; i < replies.size(); ++i) {
    const redisReply& r = *replies[i];
    if (batch.is_registry(i)) continue;  // the entry is stored all the same (set_tracked)
    if (r.type == REDIS_REPLY_ERROR)
      return error_reply_failure(batch.name(i), where, {r.str, r.len});
    const bool expected =
        batch.name(i) == "DEL" ? r.type == REDIS_REPLY_INTEGER : r.type == REDIS_REPLY_STATUS;
    if (!expected) return unexpected(batch.name(i), where, r);
  }
  return {};
}

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
