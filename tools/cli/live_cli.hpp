// The live subcommands on the command line: get, inspect, set, del, ttl, keys, invalidate,
// stats, health, bench. Registers them (and their backend and key flags) on the CLI11 app, and
// after parsing runs the one chosen. Single-threaded.
#pragma once

#include <CLI/CLI.hpp>

#include <iosfwd>
#include <memory>

namespace cachekit::cli {

class live_subcommands {
 public:
  /// Adds the live subcommands to `app`.
  explicit live_subcommands(CLI::App& app);
  ~live_subcommands();
  live_subcommands(const live_subcommands&) = delete;
  live_subcommands& operator=(const live_subcommands&) = delete;

  /// Whether the parsed command line chose one of them.
  [[nodiscard]] bool selected() const;

  /// Runs the chosen one; returns its exit status (cli_io.hpp).
  int run(std::ostream& out, std::ostream& err);

 private:
  struct state;
  std::unique_ptr<state> state_;
};

}  // namespace cachekit::cli
