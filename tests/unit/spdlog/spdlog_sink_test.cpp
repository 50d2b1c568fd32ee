// cachekit::spdlog: records reach an spdlog logger at their level, filtered by its level.
#include <gtest/gtest.h>
#include <cachekit/logging.hpp>
#include <cachekit/spdlog.hpp>

#include <spdlog/logger.h>
#include <spdlog/sinks/ostream_sink.h>

#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>

namespace cachekit {
namespace {

struct spdlog_sink_test : ::testing::Test {
  std::ostringstream out;
  std::shared_ptr<spdlog::logger> logger = [this] {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
    auto l = std::make_shared<spdlog::logger>("cachekit-test", sink);
    l->set_pattern("%l|%v");
    l->set_level(spdlog::level::info);
    return l;
  }();
};

TEST_F(spdlog_sink_test, records_are_written_at_their_level_as_event_and_message) {
  const log_sink sink = spdlog_sink(logger);
  sink({.level = log_level::warning, .event = "first_l2_error", .message = "L2 failed"});
  sink({.level = log_level::error, .event = "security_failures", .message = "tag mismatch"});
  sink({.level = log_level::debug, .event = "operation", .message = "below the logger's level"});
  logger->flush();
  EXPECT_EQ(out.str(),
            "warning|first_l2_error: L2 failed\nerror|security_failures: tag mismatch\n");
}

TEST_F(spdlog_sink_test, it_serves_as_the_process_wide_sink) {
  set_log_sink(spdlog_sink(logger));
  emit_log(log_level::warning, "unknown_env", "environment variable CACHEKIT_X is ignored");
  set_log_sink(stderr_log_sink());
  logger->flush();
  EXPECT_EQ(out.str(), "warning|unknown_env: environment variable CACHEKIT_X is ignored\n");
}

TEST_F(spdlog_sink_test, a_null_logger_is_refused) {
  EXPECT_THROW((void)spdlog_sink(nullptr), std::invalid_argument);
}

}  // namespace
}  // namespace cachekit
