#include "cli_io.hpp"

#include <istream>
#include <iterator>
#include <ostream>
#include <string>

namespace cachekit::cli {

result<byte_buffer> read_input(std::istream& in, bool hex) {
  std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (!hex) return to_byte_buffer(text);
  const auto first = text.find_first_not_of(" \t\r\n");
  const auto last = text.find_last_not_of(" \t\r\n");
  const std::string trimmed =
      first == std::string::npos ? std::string() : text.substr(first, last - first + 1);
  byte_buffer bytes;
  if (!from_hex(trimmed, bytes)) {
    return fail(errc::invalid_argument,
                "--hex input must be an even number of hex digits (drop --hex for raw bytes)");
  }
  return bytes;
}

std::optional<byte_buffer> without_trailing_newline(byte_view bytes) {
  if (bytes.empty() || bytes.back() != std::byte{'\n'}) return std::nullopt;
  std::size_t n = bytes.size() - 1;
  if (n > 0 && bytes[n - 1] == std::byte{'\r'}) --n;
  return byte_buffer(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n));
}

failure with_newline_hint(failure f) {
  f.detail +=
      " (the input ends with a newline, which is not part of any stored value and was also "
      "tried without; `redis-cli --raw` adds one: pipe through `head -c -1`, or read the entry "
      "with `cachekit get KEY` / `cachekit inspect KEY`)";
  return f;
}

void write_output(std::ostream& out, byte_view bytes, bool hex) {
  if (hex) {
    out << to_hex(bytes) << '\n';
  } else {
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
  }
}

}  // namespace cachekit::cli
