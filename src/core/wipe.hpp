// Wiping text that held key material (a master key's hex) before its buffer is freed, so no
// copy of the key is left in freed heap. `secret_bytes` does this for decoded keys; this is for
// the text on its way there.
#pragma once

#include <optional>
#include <string>

namespace cachekit {
inline namespace v0 {
namespace detail {

// Overwrites `text`'s characters in place (a write the optimiser cannot drop), then empties
// it. The buffer stays allocated until `text` is destroyed.
void wipe(std::string& text) noexcept;

// Wipes the text it watches when the scope ends.
class wipe_on_exit {
 public:
  explicit wipe_on_exit(std::optional<std::string>& text) noexcept : text_(text) {}
  ~wipe_on_exit() {
    if (text_) wipe(*text_);
  }
  wipe_on_exit(const wipe_on_exit&) = delete;
  wipe_on_exit& operator=(const wipe_on_exit&) = delete;

 private:
  std::optional<std::string>& text_;
};

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
