#include "protocol/crypto/cipher_context_pool.hpp"

namespace cachekit {
inline namespace v0 {
namespace detail {

cipher_context_pool::~cipher_context_pool() {
  evp_cipher_ctx_ptr hot(hot_.exchange(nullptr, std::memory_order_acquire));  // freed, cleansed
}

cipher_context_pool::lease cipher_context_pool::borrow() {
  if (EVP_CIPHER_CTX* ctx = hot_.exchange(nullptr, std::memory_order_acquire)) {
    return lease(*this, evp_cipher_ctx_ptr(ctx));
  }
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      evp_cipher_ctx_ptr ctx = std::move(idle_.back());
      idle_.pop_back();
      return lease(*this, std::move(ctx));
    }
  }
  return lease(*this, make_context());
}

evp_cipher_ctx_ptr cipher_context_pool::make_context() const noexcept {
  evp_cipher_ctx_ptr ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return nullptr;
  // Key schedule once per context; each message then sets only its nonce and direction.
  if (EVP_CipherInit_ex2(ctx.get(), cipher_, reinterpret_cast<const unsigned char*>(key_.data()),
                         nullptr, 1, nullptr) != 1) {
    return nullptr;
  }
  return ctx;
}

void cipher_context_pool::give_back(evp_cipher_ctx_ptr ctx) noexcept {
  EVP_CIPHER_CTX* expected = nullptr;
  if (hot_.compare_exchange_strong(expected, ctx.get(), std::memory_order_release,
                                   std::memory_order_relaxed)) {
    (void)ctx.release();  // owned by hot_ now
    return;
  }
  std::lock_guard lock(mutex_);
  if (idle_.size() < max_idle) {
    try {
      idle_.push_back(std::move(ctx));
    } catch (...) {
      // Out of memory for the vector: the context is freed (and cleansed) by its handle.
    }
  }
}

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
