#include "core/secret_arena.hpp"

#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <mutex>
#include <new>

namespace cachekit {
inline namespace v0 {
namespace detail {
namespace {

std::size_t page_size() noexcept {
  static const auto size = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  return size;
}

std::size_t whole_pages(std::size_t size) noexcept {
  const std::size_t page = page_size();
  return (size + page - 1) / page * page;
}

// Maps `bytes` (a multiple of the page size) and applies the advice. MADV_DONTDUMP failing
// (a kernel without it) leaves the page usable; so does mlock failing (over RLIMIT_MEMLOCK).
std::byte* map_secret_pages(std::size_t bytes) {
  void* pages = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (pages == MAP_FAILED) throw std::bad_alloc();
#ifdef MADV_DONTDUMP
  (void)::madvise(pages, bytes, MADV_DONTDUMP);
#endif
  (void)::mlock(pages, bytes);
  return static_cast<std::byte*>(pages);
}

// Free slots of the shared pages, linked through their first bytes (a freed slot has been
// wiped by its owner, so the link is the only thing in it).
struct slot_pool {
  std::mutex mutex;
  std::byte* free_list = nullptr;  // guarded by mutex

  std::byte* take() {
    const std::lock_guard guard(mutex);
    if (free_list == nullptr) carve_page();
    std::byte* slot = free_list;
    std::memcpy(&free_list, slot, sizeof free_list);
    std::memset(slot, 0, secret_slot_size);
    return slot;
  }

  void give_back(std::byte* slot) noexcept {
    const std::lock_guard guard(mutex);
    std::memcpy(slot, &free_list, sizeof free_list);
    free_list = slot;
  }

 private:
  void carve_page() {
    const std::size_t page = page_size();
    std::byte* fresh = map_secret_pages(page);
    for (std::size_t offset = page; offset >= secret_slot_size; offset -= secret_slot_size) {
      std::byte* slot = fresh + offset - secret_slot_size;
      std::memcpy(slot, &free_list, sizeof free_list);
      free_list = slot;
    }
  }
};

slot_pool& pool() {
  // Never destroyed: secret_bytes in other static objects may be freed after this one would be.
  static slot_pool* const instance = [] {
    auto* p = new slot_pool();
    (void)::pthread_atfork([] { pool().mutex.lock(); }, [] { pool().mutex.unlock(); },
                           [] { pool().mutex.unlock(); });
    return p;
  }();
  return *instance;
}

}  // namespace

std::byte* secret_allocate(std::size_t size) {
  if (size <= secret_slot_size) return pool().take();
  return map_secret_pages(whole_pages(size));  // fresh anonymous pages are zero
}

void secret_deallocate(std::byte* block, std::size_t size) noexcept {
  if (block == nullptr) return;
  if (size <= secret_slot_size) {
    pool().give_back(block);
    return;
  }
  const std::size_t bytes = whole_pages(size);
  (void)::munlock(block, bytes);
  (void)::munmap(block, bytes);
}

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
