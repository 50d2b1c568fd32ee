// The Redis commands the live CLI needs beyond the `backend` interface: INFO and DBSIZE for
// `stats`, SSCAN of cachekit-py's key registry sets and SCAN of a key prefix for `keys`, and
// deleting a registry set for `invalidate`. One blocking hiredis connection, opened per command
// run; not thread-safe (the CLI is single-threaded here).
#pragma once

#include <cachekit/result.hpp>

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace cachekit::cli {

class redis_admin {
 public:
  struct connection;  // the hiredis context (redis_admin.cpp)

  /// Connects (and AUTHs, SELECTs) to the server of `url` (redis_options::url syntax).
  /// Errors: errc::invalid_configuration for a bad URL; errc::transient / errc::timeout when the
  /// server cannot be reached; errc::backend_authentication when AUTH is refused.
  [[nodiscard]] static result<redis_admin> connect(std::string_view url,
                                                   std::chrono::milliseconds timeout);
  redis_admin(redis_admin&&) noexcept;
  redis_admin& operator=(redis_admin&&) noexcept;
  ~redis_admin();

  /// `INFO` as field -> value (section headers and blank lines dropped).
  [[nodiscard]] result<std::map<std::string, std::string>> info();
  /// `DBSIZE`.
  [[nodiscard]] result<long long> dbsize();
  /// Every member of the set `key` (SSCAN, COUNT 1000), in the server's order.
  [[nodiscard]] result<std::vector<std::string>> set_members(std::string_view key);
  /// Every key matching `prefix` + `*` (glob characters of `prefix` escaped), at most `limit`.
  [[nodiscard]] result<std::vector<std::string>> scan_prefix(std::string_view prefix,
                                                             std::size_t limit);
  /// `PUBLISH channel payload`; how many subscribers received it.
  [[nodiscard]] result<long long> publish(std::string_view channel, std::string_view payload);
  /// `UNLINK` of `keys` (in batches); how many existed.
  [[nodiscard]] result<std::size_t> unlink(const std::vector<std::string>& keys);

 private:
  explicit redis_admin(std::unique_ptr<connection> c);
  std::unique_ptr<connection> conn_;
};

}  // namespace cachekit::cli
