#include <cachekit/spdlog.hpp>

#include <spdlog/logger.h>

#include <stdexcept>
#include <utility>

namespace cachekit {
inline namespace v0 {
namespace {

spdlog::level::level_enum to_spdlog(log_level level) {
  switch (level) {
    case log_level::debug: return spdlog::level::debug;
    case log_level::info: return spdlog::level::info;
    case log_level::warning: return spdlog::level::warn;
    case log_level::error: return spdlog::level::err;
    case log_level::off: return spdlog::level::off;
  }
  return spdlog::level::info;
}

}  // namespace

log_sink spdlog_sink(std::shared_ptr<spdlog::logger> logger) {
  if (!logger) throw std::invalid_argument("cachekit::spdlog_sink: the logger is null");
  return [logger = std::move(logger)](const log_record& r) {
    const auto level = to_spdlog(r.level);
    if (level == spdlog::level::off || !logger->should_log(level)) return;
    logger->log(level, "{}: {}", r.event, r.message);
  };
}

}  // namespace v0
}  // namespace cachekit
