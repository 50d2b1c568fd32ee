#include "cache/io_backend_hook.hpp"

#include <atomic>

namespace cachekit {
inline namespace v0 {
namespace detail {
namespace {

std::atomic<io_backend_factory> installed{nullptr};

}  // namespace

void set_io_backend_factory(io_backend_factory factory) noexcept {
  installed.store(factory, std::memory_order_release);
}

io_backend_factory installed_io_backend_factory() noexcept {
  return installed.load(std::memory_order_acquire);
}

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
