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

void write_output(std::ostream& out, byte_view bytes, bool hex) {
  if (hex) {
    out << to_hex(bytes) << '\n';
  } else {
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
  }
}

}  // namespace cachekit::cli
