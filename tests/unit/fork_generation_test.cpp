// Fork safety of the state that must be unique per process: the fork generation itself and the
// encryptors' nonce sequences (issue 9). Children report through a pipe; the parent compares.
#include "process/fork_generation.hpp"

#include <gtest/gtest.h>

#include <cachekit/encryption.hpp>
#include <cachekit/l1_cache.hpp>

#include "support/forked_child.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace cachekit {
namespace {

using testing::child_outcome;
using testing::forked_child;
using testing::write_all;
using nonce = std::array<std::byte, aes_gcm_nonce_size>;

constexpr auto child_deadline = std::chrono::seconds(20);
constexpr std::string_view master_hex =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

nonce nonce_of(byte_view sealed) {
  nonce n{};
  std::memcpy(n.data(), sealed.data(), n.size());
  return n;
}

// Seals `count` messages and appends their nonces to `out`.
template <typename Sealer>
bool seal_nonces(Sealer& sealer, int count, std::vector<nonce>& out) {
  for (int i = 0; i < count; ++i) {
    auto sealed = sealer.encrypt(as_byte_view(std::to_string(i)), {});
    if (!sealed) return false;
    out.push_back(nonce_of(*sealed));
  }
  return true;
}

int send_nonces(int fd, const std::vector<nonce>& nonces) {
  return write_all(fd, nonces.data(), nonces.size() * sizeof(nonce)) ? 0 : 3;
}

std::vector<nonce> nonces_from(const std::string& bytes) {
  std::vector<nonce> out(bytes.size() / sizeof(nonce));
  std::memcpy(out.data(), bytes.data(), out.size() * sizeof(nonce));
  return out;
}

// Every nonce once: sorted, no neighbours equal.
std::size_t repeated(std::vector<nonce> all) {
  std::sort(all.begin(), all.end());
  std::size_t repeats = 0;
  for (std::size_t i = 1; i < all.size(); ++i) repeats += all[i] == all[i - 1] ? 1 : 0;
  return repeats;
}

TEST(fork_generation, a_forked_child_sees_a_generation_no_ancestor_had) {
  const std::uint64_t parent = detail::watch_forks();
  forked_child child([parent](int fd) {
    const std::uint64_t mine = detail::fork_generation();
    forked_child grandchild([mine](int) { return detail::fork_generation() == mine + 1 ? 0 : 1; });
    const child_outcome g = grandchild.finish(child_deadline);
    (void)fd;
    if (mine != parent + 1) return 1;
    return g.exit_code == 0 ? 0 : 2;
  });
  const child_outcome out = child.finish(child_deadline);
  EXPECT_FALSE(out.timed_out);
  EXPECT_EQ(out.exit_code, 0);
  EXPECT_EQ(detail::fork_generation(), parent);  // the parent's own generation never moves
}

TEST(fork_safety, encryptor_used_before_fork_never_repeats_a_nonce_in_parent_or_children) {
  constexpr int children = 4;
  constexpr int per_process = 2000;
  auto encryptor = aes_gcm_encryptor::create(byte_buffer(32, std::byte{7})).value();
  std::vector<nonce> all;
  ASSERT_TRUE(seal_nonces(encryptor, 1, all));  // used once: the counter is at 1 when forking
  const std::uint64_t parent_id = encryptor.instance_id();

  std::vector<std::unique_ptr<forked_child>> running;
  for (int c = 0; c < children; ++c) {
    running.push_back(std::make_unique<forked_child>([&encryptor](int fd) {
      std::vector<nonce> mine;
      if (!seal_nonces(encryptor, per_process, mine)) return 2;
      return send_nonces(fd, mine);
    }));
  }
  ASSERT_TRUE(seal_nonces(encryptor, per_process, all));
  for (auto& child : running) {
    const child_outcome out = child->finish(child_deadline);
    ASSERT_FALSE(out.timed_out);
    ASSERT_EQ(out.exit_code, 0);
    const auto theirs = nonces_from(out.output);
    ASSERT_EQ(theirs.size(), std::size_t{per_process});
    all.insert(all.end(), theirs.begin(), theirs.end());
  }
  ASSERT_EQ(all.size(), std::size_t{1 + (children + 1) * per_process});
  EXPECT_EQ(repeated(all), 0u);
  EXPECT_EQ(encryptor.instance_id(), parent_id);  // the parent keeps its own run
  EXPECT_EQ(encryptor.nonces_used(), std::uint64_t{1 + per_process});
}

TEST(fork_safety, keyrings_made_after_fork_in_sibling_children_never_share_a_nonce) {
  constexpr int children = 4;
  constexpr int per_process = 500;
  std::vector<std::unique_ptr<forked_child>> running;
  for (int c = 0; c < children; ++c) {
    running.push_back(std::make_unique<forked_child>([](int fd) {
      auto ring = keyring::from_hex(master_hex);
      if (!ring) return 2;
      auto tenant = ring->for_tenant("fork-tenant");
      if (!tenant) return 2;
      std::vector<nonce> mine;
      if (!seal_nonces(*tenant, per_process, mine)) return 2;
      return send_nonces(fd, mine);
    }));
  }
  std::vector<nonce> all;
  for (auto& child : running) {
    const child_outcome out = child->finish(child_deadline);
    ASSERT_FALSE(out.timed_out);
    ASSERT_EQ(out.exit_code, 0);
    const auto theirs = nonces_from(out.output);
    all.insert(all.end(), theirs.begin(), theirs.end());
  }
  ASSERT_EQ(all.size(), std::size_t{children * per_process});
  EXPECT_EQ(repeated(all), 0u);
}

TEST(fork_safety, keyring_used_before_fork_opens_what_children_seal_and_never_repeats_a_nonce) {
  constexpr int children = 3;
  constexpr int per_process = 500;
  auto ring = keyring::from_hex(master_hex).value();
  auto tenant = ring.for_tenant("fork-tenant").value();
  std::vector<nonce> all;
  ASSERT_TRUE(seal_nonces(tenant, 1, all));
  std::vector<std::unique_ptr<forked_child>> running;
  for (int c = 0; c < children; ++c) {
    running.push_back(std::make_unique<forked_child>([&ring](int fd) {
      auto mine_tenant = ring.for_tenant("fork-tenant");
      if (!mine_tenant) return 2;
      std::vector<nonce> mine;
      if (!seal_nonces(*mine_tenant, per_process, mine)) return 2;
      // One whole ciphertext last, for the parent to open.
      auto sealed = mine_tenant->encrypt(as_byte_view("from a child"), as_byte_view("aad"));
      if (!sealed || send_nonces(fd, mine) != 0) return 3;
      return write_all(fd, sealed->data(), sealed->size()) ? 0 : 3;
    }));
  }
  ASSERT_TRUE(seal_nonces(tenant, per_process, all));
  for (auto& child : running) {
    const child_outcome out = child->finish(child_deadline);
    ASSERT_FALSE(out.timed_out);
    ASSERT_EQ(out.exit_code, 0);
    const std::size_t nonce_bytes = per_process * sizeof(nonce);
    ASSERT_GT(out.output.size(), nonce_bytes);
    const auto theirs = nonces_from(out.output.substr(0, nonce_bytes));
    all.insert(all.end(), theirs.begin(), theirs.end());
    const std::string sealed = out.output.substr(nonce_bytes);
    auto opened = tenant.decrypt_sequential(as_byte_view(sealed), as_byte_view("aad"));
    ASSERT_TRUE(opened) << opened.error().detail;
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(opened->data()), opened->size()),
              "from a child");
    all.push_back(nonce_of(as_byte_view(sealed)));
  }
  EXPECT_EQ(repeated(all), 0u);
}

TEST(fork_safety, fork_while_other_threads_encrypt_never_hangs_the_child) {
  if (CACHEKIT_TESTS_FORK_WITH_THREADS_UNSUPPORTED) {
    GTEST_SKIP() << "the sanitizer runtime is not fork-safe while other threads run "
                    "(tests/support/forked_child.hpp)";
  }
  auto ring = keyring::from_hex(master_hex).value();
  auto tenant = ring.for_tenant("busy").value();
  auto encryptor = aes_gcm_encryptor::create(byte_buffer(32, std::byte{9})).value();
  std::atomic<bool> stop{false};
  std::vector<std::thread> busy;
  for (int t = 0; t < 2; ++t) {
    busy.emplace_back([&, t] {
      // New tenants keep the keyring's exclusive lock busy; encryptions keep the cipher
      // context pools' locks busy.
      for (int i = 0; !stop.load(std::memory_order_relaxed); ++i) {
        (void)encryptor.encrypt(as_byte_view("x"), {});
        (void)tenant.encrypt(as_byte_view("y"), {});
        (void)ring.for_tenant("t" + std::to_string(t) + "-" + std::to_string(i % 64));
      }
    });
  }
  int finished = 0;
  for (int round = 0; round < 40; ++round) {
    forked_child child([&](int) {
      for (int i = 0; i < 50; ++i) {
        if (!encryptor.encrypt(as_byte_view("child"), {})) return 2;
        if (!tenant.encrypt(as_byte_view("child"), {})) return 2;
        if (!ring.for_tenant("child-" + std::to_string(i % 4))) return 2;
        if (!ring.for_tenant("t0-" + std::to_string(i % 64))) return 2;
      }
      return 0;
    });
    const child_outcome out = child.finish(std::chrono::seconds(10));
    EXPECT_FALSE(out.timed_out) << "child of round " << round << " hung";
    EXPECT_EQ(out.exit_code, 0) << "round " << round;
    finished += out.exit_code == 0 ? 1 : 0;
  }
  stop = true;
  for (auto& t : busy) t.join();
  EXPECT_EQ(finished, 40);
}

TEST(fork_safety, l1_shard_read_locked_by_a_parent_thread_keeps_its_entries_and_takes_writes) {
  if (CACHEKIT_TESTS_FORK_WITH_THREADS_UNSUPPORTED) {
    GTEST_SKIP() << "the sanitizer runtime is not fork-safe while other threads run "
                    "(tests/support/forked_child.hpp)";
  }
  l1_cache l1({.max_bytes = 1 << 20, .shards = 1});
  ASSERT_TRUE(l1.put("a", as_byte_view("parent"), std::nullopt));
  std::atomic<bool> inside{false};
  std::atomic<bool> release{false};
  // Parked inside visit(): the only shard's lock is read-held across the fork, for good in the
  // child. Without fork handling the child's put would wait for that reader forever.
  std::thread reader([&] {
    (void)l1.visit("a", [&](byte_view, monotonic_clock::time_point) {
      inside = true;
      while (!release) std::this_thread::yield();
    });
  });
  while (!inside) std::this_thread::yield();
  forked_child child([&](int) {
    auto a = l1.get("a");
    if (!a || std::string(reinterpret_cast<const char*>(a->data()), a->size()) != "parent") {
      return 2;
    }
    if (!l1.put("b", as_byte_view("child"), std::nullopt)) return 3;
    return l1.get("b") ? 0 : 4;
  });
  const child_outcome out = child.finish(std::chrono::seconds(10));
  release = true;
  reader.join();
  EXPECT_FALSE(out.timed_out) << "the child waited on its parent's reader";
  EXPECT_EQ(out.exit_code, 0);
  EXPECT_FALSE(l1.get("b"));  // the child's write stayed in the child
}

}  // namespace
}  // namespace cachekit
