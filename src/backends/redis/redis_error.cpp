#include "backends/redis/redis_error.hpp"

#include <hiredis/hiredis.h>

#include <array>
#include <cerrno>

namespace cachekit {
inline namespace v0 {
namespace detail {
namespace {

std::string_view first_word(std::string_view reply) noexcept {
  const auto space = reply.find(' ');
  return space == std::string_view::npos ? reply : reply.substr(0, space);
}

std::string prefix(std::string_view operation, std::string_view where) {
  std::string out = "redis ";
  out.append(operation).append(" on ").append(where).append(": ");
  return out;
}

}  // namespace

errc classify_error_reply(std::string_view reply) noexcept {
  static constexpr std::array<std::string_view, 3> authentication = {"NOAUTH", "WRONGPASS",
                                                                     "NOPERM"};
  static constexpr std::array<std::string_view, 6> transient = {
      "LOADING", "READONLY", "BUSY", "CLUSTERDOWN", "MASTERDOWN", "TRYAGAIN"};
  const auto word = first_word(reply);
  for (auto w : authentication) {
    if (word == w) return errc::backend_authentication;
  }
  for (auto w : transient) {
    if (word == w) return errc::transient;
  }
  // Redis before 6 answers a wrong password with a generic ERR.
  if (reply.starts_with("ERR invalid password")) return errc::backend_authentication;
  return errc::backend_permanent;
}

failure error_reply_failure(std::string_view operation, std::string_view where,
                            std::string_view reply) {
  const errc code = classify_error_reply(reply);
  std::string detail = prefix(operation, where);
  detail.append("the server replied \"").append(reply).append("\"");
  if (code == errc::backend_authentication) {
    detail.append(
        "; check the user and password of the URL (redis://user:password@host) and the "
        "user's ACL");
  }
  return fail(code, std::move(detail));
}

errc classify_io_error(const io_error& error) noexcept {
  if (error.hiredis_err == REDIS_ERR_PROTOCOL) return errc::backend_permanent;
  if (error.hiredis_err == REDIS_ERR_IO &&
      (error.saved_errno == EAGAIN || error.saved_errno == EWOULDBLOCK ||
       error.saved_errno == ETIMEDOUT || error.saved_errno == EINPROGRESS)) {
    return errc::timeout;
  }
  return errc::transient;
}

failure io_failure(std::string_view operation, std::string_view where, const io_error& error,
                   std::chrono::milliseconds budget, std::string_view budget_name) {
  const errc code = classify_io_error(error);
  std::string detail = prefix(operation, where);
  if (code == errc::timeout) {
    detail.append("no answer within ")
        .append(std::to_string(budget.count()))
        .append(" ms (")
        .append(budget_name)
        .append(")");
  } else if (code == errc::backend_permanent) {
    detail.append("protocol error (is this a Redis server?): ").append(error.text);
  } else {
    detail.append(error.text.empty() ? "connection failed" : error.text);
  }
  return fail(code, std::move(detail));
}

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
