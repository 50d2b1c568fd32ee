// A pool of OpenSSL cipher contexts that all hold the same key schedule, so concurrent
// encrypt/decrypt calls on one key neither share a context under a lock nor pay for a fresh
// context and key expansion per message (research/limits.md: 294 ns reused vs 608 ns fresh at
// 64 B). A thread borrows a context for one message and gives it back; the pool grows to the
// number of threads that ever used it at once, up to a cap.
#pragma once

#include "protocol/crypto/evp_handles.hpp"

#include <cachekit/bytes.hpp>

#include <atomic>
#include <cstddef>
#include <mutex>
#include <vector>

namespace cachekit {
inline namespace v0 {
namespace detail {

class cipher_context_pool {
 public:
  // A borrowed context; returns it to the pool when destroyed. Empty when OpenSSL could not
  // make a context.
  class lease {
   public:
    lease(lease&& other) noexcept : pool_(other.pool_), ctx_(std::move(other.ctx_)) {}
    lease(const lease&) = delete;
    lease& operator=(const lease&) = delete;
    lease& operator=(lease&&) = delete;
    ~lease() {
      if (ctx_) pool_.give_back(std::move(ctx_));
    }
    [[nodiscard]] EVP_CIPHER_CTX* get() const noexcept { return ctx_.get(); }
    explicit operator bool() const noexcept { return ctx_ != nullptr; }

   private:
    friend class cipher_context_pool;
    lease(cipher_context_pool& pool, evp_cipher_ctx_ptr ctx) noexcept
        : pool_(pool), ctx_(std::move(ctx)) {}
    cipher_context_pool& pool_;
    evp_cipher_ctx_ptr ctx_;
  };

  // `cipher` and `key` must outlive the pool: new contexts are keyed from them on demand.
  cipher_context_pool(const EVP_CIPHER* cipher, byte_view key) noexcept
      : cipher_(cipher), key_(key) {}
  cipher_context_pool(const cipher_context_pool&) = delete;
  cipher_context_pool& operator=(const cipher_context_pool&) = delete;

  // An idle context, or a newly keyed one when all are busy.
  [[nodiscard]] lease borrow();

  cipher_context_pool(cipher_context_pool&&) = delete;
  ~cipher_context_pool();

 private:
  // Beyond this many idle contexts, returned ones are freed (bounded memory after a burst).
  static constexpr std::size_t max_idle = 32;

  [[nodiscard]] evp_cipher_ctx_ptr make_context() const noexcept;
  void give_back(evp_cipher_ctx_ptr ctx) noexcept;

  const EVP_CIPHER* cipher_;
  byte_view key_;
  // One idle context taken and returned with a single atomic exchange each way: the common
  // case (one message at a time per thread, no contention) takes no lock. The rest wait in
  // `idle_`.
  std::atomic<EVP_CIPHER_CTX*> hot_{nullptr};
  std::mutex mutex_;
  std::vector<evp_cipher_ctx_ptr> idle_;  // guarded by mutex_
};

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
