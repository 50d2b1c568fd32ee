// Where the CLI takes a master key from, so it need not appear on the command line (visible in
// `ps` and shell history): a file, stdin, or the CACHEKIT_MASTER_KEY environment variable.
#pragma once

#include <cachekit/result.hpp>

#include <iosfwd>
#include <optional>
#include <string>

namespace cachekit::cli {

// The key text of `path` ("-": `stdin`): its content with surrounding whitespace removed.
// Errors (errc::invalid_argument) name the path, never the content.
result<std::string> read_key_file(const std::string& path, std::istream& stdin_stream);

// The master key: `--master-key-hex`, else `--master-key-file`, else the environment's
// CACHEKIT_MASTER_KEY (`env_value`), else nullopt. Giving both options is an error.
result<std::optional<std::string>> choose_master_key(const std::optional<std::string>& hex_option,
                                                     const std::optional<std::string>& file_option,
                                                     const char* env_value,
                                                     std::istream& stdin_stream);

// `message` (a command-line parse error) with every argument that may be key material replaced
// by "<redacted>": the value after, or `=`-attached to, an option naming a key
// (`--master-key-hex`, `--previous-key-hex`, and misspellings containing "master" or "key-hex"),
// and any argument of 32 or more hex digits.
std::string redact_key_arguments(std::string message, int argc, const char* const* argv);

}  // namespace cachekit::cli
