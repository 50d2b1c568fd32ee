// Input and output for the cachekit CLI: stdin/stdout as raw bytes or hex text, and the
// exit-status contract (0 success, 1 bad input, 2 usage).
#pragma once

#include <cachekit/bytes.hpp>
#include <cachekit/result.hpp>

#include <iosfwd>
#include <optional>
#include <string>

namespace cachekit::cli {

inline constexpr int exit_ok = 0;
inline constexpr int exit_bad_input = 1;
inline constexpr int exit_usage = 2;

// Reads all of `in`; with `hex`, the text is hex (surrounding whitespace ignored).
result<byte_buffer> read_input(std::istream& in, bool hex);
// `bytes` without one trailing "\n" or "\r\n" (what `redis-cli --raw` and `echo` add);
// nullopt when it does not end with one.
std::optional<byte_buffer> without_trailing_newline(byte_view bytes);
// `f` with how to get the stored bytes without the trailing newline.
failure with_newline_hint(failure f);
// Writes `bytes` raw, or as hex followed by a newline.
void write_output(std::ostream& out, byte_view bytes, bool hex);

}  // namespace cachekit::cli
