#include "key_source.hpp"

#include <openssl/crypto.h>

#include <fstream>
#include <istream>
#include <iterator>
#include <string_view>
#include <vector>

namespace cachekit::cli {
namespace {

std::string trimmed(std::string text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  const auto last = text.find_last_not_of(" \t\r\n");
  std::string out =
      first == std::string::npos ? std::string() : text.substr(first, last - first + 1);
  OPENSSL_cleanse(text.data(), text.size());  // the untrimmed copy held the key too
  return out;
}

bool names_a_key(std::string_view option) {
  if (option.size() < 2 || option[0] != '-') return false;
  return option.find("master") != std::string_view::npos ||
         option.find("key-hex") != std::string_view::npos ||
         option.find("previous") != std::string_view::npos;
}

bool looks_like_key(std::string_view arg) {
  if (arg.size() < 32) return false;
  for (char c : arg) {
    const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (!hex) return false;
  }
  return true;
}

void replace_all(std::string& text, std::string_view secret) {
  if (secret.empty()) return;
  for (auto at = text.find(secret); at != std::string::npos;
       at = text.find(secret, at + std::string_view("<redacted>").size())) {
    text.replace(at, secret.size(), "<redacted>");
  }
}

}  // namespace

result<std::string> read_key_file(const std::string& path, std::istream& stdin_stream) {
  if (path == "-") {
    std::string text{std::istreambuf_iterator<char>(stdin_stream),
                     std::istreambuf_iterator<char>()};
    return trimmed(std::move(text));
  }
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return fail(
        errc::invalid_argument,
        "--master-key-file " + path + " cannot be read (does it exist, and may you read it?)");
  }
  std::string text{std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
  return trimmed(std::move(text));
}

result<std::optional<std::string>> choose_master_key(const std::optional<std::string>& hex_option,
                                                     const std::optional<std::string>& file_option,
                                                     const char* env_value,
                                                     std::istream& stdin_stream) {
  if (hex_option && file_option) {
    return fail(errc::invalid_argument,
                "give the master key once: --master-key-hex or --master-key-file, not both");
  }
  if (hex_option) return std::optional<std::string>(*hex_option);
  if (file_option) {
    auto key = read_key_file(*file_option, stdin_stream);
    if (!key) return std::move(key).error();
    return std::optional<std::string>(std::move(*key));
  }
  if (env_value != nullptr && *env_value != '\0') {
    return std::optional<std::string>(trimmed(env_value));
  }
  return std::optional<std::string>();
}

std::string redact_key_arguments(std::string message, int argc, const char* const* argv) {
  std::vector<std::string_view> secrets;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const auto eq = arg.find('=');
    const std::string_view name = arg.substr(0, eq);
    if (names_a_key(name)) {
      if (eq != std::string_view::npos) {
        secrets.push_back(arg.substr(eq + 1));
      } else if (i + 1 < argc) {
        secrets.emplace_back(argv[i + 1]);
      }
    }
    if (looks_like_key(arg)) secrets.push_back(arg);
  }
  for (const auto secret : secrets) replace_all(message, secret);
  return message;
}

}  // namespace cachekit::cli
