// redis_connection (internal) against a real redis-server: the faults that the pool hides from
// redis_backend's tests because it checks idle connections before use.
#include "backends/redis/redis_connection.hpp"
#include "backends/redis/redis_url.hpp"
#include "support/local_server.hpp"

#include <hiredis/hiredis.h>

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <string>
#include <thread>

namespace cachekit::detail {
namespace {

using namespace std::chrono_literals;
using testing::local_server;

redis_connect_settings settings_for(const local_server& server) {
  auto endpoint = parse_redis_url(server.address());
  EXPECT_TRUE(endpoint.has_value());
  redis_connect_settings settings{.endpoint = *endpoint, .where = endpoint->describe()};
  settings.command_timeout = 2s;
  return settings;
}

// The server drops every client except the admin connection that asks it to.
void kill_other_clients(const local_server& server) {
  redisContext* admin = redisConnect("127.0.0.1", server.port());
  ASSERT_TRUE(admin != nullptr && admin->err == 0);
  freeReplyObject(redisCommand(admin, "CLIENT KILL TYPE normal SKIPME yes"));
  redisFree(admin);
  std::this_thread::sleep_for(50ms);  // let the FIN arrive
}

// hiredis 0.14 writes with write(2): this exchange kills a process that has not ignored
// SIGPIPE (exit status 141). Ours sends with MSG_NOSIGNAL and reports a transient failure.
TEST(redis_connection, writing_to_a_connection_the_server_closed_is_transient_not_sigpipe) {
  auto server = local_server::start_redis();
  const auto settings = settings_for(*server);
  auto connection = redis_connection::open(settings, "test");
  ASSERT_TRUE(connection.has_value()) << connection.error().message();
  const std::array<std::string_view, 1> ping = {"PING"};
  ASSERT_TRUE((*connection)->run("PING", ping));

  kill_other_clients(*server);
  EXPECT_TRUE((*connection)->peer_closed());

  const std::string big(4 << 20, 'x');  // more than the socket buffers: several sends
  const std::array<std::string_view, 3> set = {"SET", "k", big};
  const auto r = (*connection)->run("SET", set);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.code(), errc::transient) << r.error().message();
  EXPECT_NE(r.error().detail.find("redis SET on " + settings.where), std::string::npos)
      << r.error().detail;
  EXPECT_TRUE((*connection)->broken());
}

TEST(redis_connection, idle_connection_is_not_peer_closed_while_the_server_keeps_it) {
  auto server = local_server::start_redis();
  const auto settings = settings_for(*server);
  auto connection = redis_connection::open(settings, "test");
  ASSERT_TRUE(connection.has_value());
  EXPECT_FALSE((*connection)->peer_closed());
  const std::array<std::string_view, 3> set = {"SET", "k", "v"};
  ASSERT_TRUE((*connection)->run("SET", set));
  EXPECT_FALSE((*connection)->peer_closed());
  EXPECT_FALSE((*connection)->broken());
}

TEST(redis_connection, pipelined_replies_come_back_in_order_with_error_replies_in_place) {
  auto server = local_server::start_redis();
  const auto settings = settings_for(*server);
  auto opened = redis_connection::open(settings, "test");
  ASSERT_TRUE(opened.has_value());
  auto& connection = **opened;
  const std::array<std::string_view, 3> set = {"SET", "k", std::string_view("a\0b", 3)};
  const std::array<std::string_view, 3> bad = {"INCRBY", "k", "x"};
  const std::array<std::string_view, 2> get = {"GET", "k"};
  connection.append(set);
  connection.append(bad);
  connection.append(get);
  auto first = connection.read_reply("SET");
  auto second = connection.read_reply("INCRBY");
  auto third = connection.read_reply("GET");
  ASSERT_TRUE(first && second && third);
  EXPECT_EQ((*first)->type, REDIS_REPLY_STATUS);
  EXPECT_EQ(connection.check("INCRBY", **second).code(), errc::backend_permanent);
  ASSERT_EQ((*third)->type, REDIS_REPLY_STRING);
  EXPECT_EQ(std::string_view((*third)->str, (*third)->len), std::string_view("a\0b", 3));
  EXPECT_FALSE(connection.broken());
}

}  // namespace
}  // namespace cachekit::detail
