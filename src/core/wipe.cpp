#include "core/wipe.hpp"

#include <openssl/crypto.h>

namespace cachekit {
inline namespace v0 {
namespace detail {

void wipe(std::string& text) noexcept {
  if (!text.empty()) OPENSSL_cleanse(text.data(), text.size());
  text.clear();
}

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
