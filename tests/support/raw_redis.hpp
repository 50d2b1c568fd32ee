// A plain hiredis connection that issues raw commands: what redis-cli, or a service that is not a
// cachekit, sees on the same server, whatever the code under test did. Not thread-safe.
#pragma once

#include <hiredis/hiredis.h>

#include <cstddef>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace cachekit::testing {

class raw_redis {
 public:
  // Connects to 127.0.0.1:`port` (and AUTHs with `password` when given). Throws
  // std::runtime_error when the connection fails.
  explicit raw_redis(int port, const std::string& password = {})
      : context_(redisConnect("127.0.0.1", port)) {
    if (context_ == nullptr || context_->err != 0) {
      redisFree(context_);
      throw std::runtime_error("raw connect to port " + std::to_string(port) + " failed");
    }
    if (!password.empty()) command({"AUTH", password});
  }
  ~raw_redis() { redisFree(context_); }
  raw_redis(const raw_redis&) = delete;
  raw_redis& operator=(const raw_redis&) = delete;

  // The reply as text: a string's bytes, an integer's digits, "(nil)", "-ERROR text", or
  // "(array)". Throws std::runtime_error when the connection fails.
  std::string command(const std::vector<std::string>& argv) {
    reply r(send(argv));
    switch (r->type) {
      case REDIS_REPLY_STRING:
      case REDIS_REPLY_STATUS: return {r->str, r->len};
      case REDIS_REPLY_INTEGER: return std::to_string(r->integer);
      case REDIS_REPLY_NIL: return "(nil)";
      case REDIS_REPLY_ERROR: return "-" + std::string(r->str, r->len);
      default: return "(array)";
    }
  }
  // An integer reply; -1 for any other reply.
  long long integer(const std::vector<std::string>& argv) {
    reply r(send(argv));
    return r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
  }
  // An array reply's elements as text; empty for any other reply.
  std::vector<std::string> strings(const std::vector<std::string>& argv) {
    reply r(send(argv));
    std::vector<std::string> out;
    if (r->type != REDIS_REPLY_ARRAY) return out;
    for (std::size_t i = 0; i < r->elements; ++i) {
      out.emplace_back(r->element[i]->str, r->element[i]->len);
    }
    return out;
  }
  // `calls` of each command since the last CONFIG RESETSTAT (INFO commandstats).
  std::map<std::string, long long> command_calls() {
    std::map<std::string, long long> out;
    const std::string info = command({"INFO", "commandstats"});
    std::size_t pos = 0;
    while ((pos = info.find("cmdstat_", pos)) != std::string::npos) {
      const auto colon = info.find(':', pos);
      const auto calls = info.find("calls=", colon);
      const auto comma = info.find(',', calls);
      out[info.substr(pos + 8, colon - pos - 8)] =
          std::stoll(info.substr(calls + 6, comma - calls - 6));
      pos = comma;
    }
    return out;
  }

 private:
  // Owns a reply.
  struct reply {
    explicit reply(redisReply* r) : p(r) {}
    ~reply() { freeReplyObject(p); }
    reply(const reply&) = delete;
    reply& operator=(const reply&) = delete;
    redisReply* operator->() const { return p; }
    redisReply* p;
  };
  redisReply* send(const std::vector<std::string>& argv) {
    std::vector<const char*> args;
    std::vector<std::size_t> lens;
    for (const auto& a : argv) {
      args.push_back(a.data());
      lens.push_back(a.size());
    }
    auto* r = static_cast<redisReply*>(
        redisCommandArgv(context_, static_cast<int>(args.size()), args.data(), lens.data()));
    if (r == nullptr) throw std::runtime_error("raw command failed: the connection broke");
    return r;
  }
  redisContext* context_;
};

}  // namespace cachekit::testing
