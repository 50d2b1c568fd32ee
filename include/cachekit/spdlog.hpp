/// @file
/// `cachekit::spdlog_sink` (component `cachekit::spdlog`, spdlog 1.10): cachekit's log records
/// (logging.hpp) written to an spdlog logger, at the matching level (debug, info, warn, err),
/// as `"{event}: {message}"`.
///
///     cachekit::set_log_sink(cachekit::spdlog_sink(spdlog::default_logger()));
///     options.observers.push_back(std::make_shared<cachekit::log_observer>(
///         cachekit::log_options{.sink = cachekit::spdlog_sink(my_logger)}));
///
/// The logger's own level and sinks decide what is written; it must be thread-safe (the
/// `_mt` loggers) since cachekit logs from any thread. Thread-safe.
#pragma once

#include <cachekit/export.hpp>
#include <cachekit/logging.hpp>

#include <memory>

namespace spdlog {
class logger;
}  // namespace spdlog

namespace cachekit {
inline namespace v0 {

/// A sink writing to `logger` (kept alive by the sink). Throws std::invalid_argument for null.
[[nodiscard]] CACHEKIT_EXPORT log_sink spdlog_sink(std::shared_ptr<spdlog::logger> logger);

}  // namespace v0
}  // namespace cachekit
