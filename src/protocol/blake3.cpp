#include "protocol/blake3.hpp"

#include <algorithm>
#include <cstddef>
#include <vector>

namespace cachekit {
inline namespace v0 {
namespace detail {
namespace {

using words8 = std::array<std::uint32_t, 8>;
using words16 = std::array<std::uint32_t, 16>;

constexpr words8 iv{0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A,
                    0x510E527F, 0x9B05688C, 0x1F83D9AB, 0x5BE0CD19};
constexpr std::array<std::size_t, 16> permutation{2, 6,  3,  10, 7, 0,  4,  13,
                                                  1, 11, 12, 5,  9, 14, 15, 8};
constexpr std::uint32_t chunk_start = 1;
constexpr std::uint32_t chunk_end = 2;
constexpr std::uint32_t parent = 4;
constexpr std::uint32_t root = 8;
constexpr std::size_t block_len = 64;
constexpr std::size_t chunk_len = 1024;

constexpr std::uint32_t rotr(std::uint32_t x, int n) {
  return (x >> n) | (x << (32 - n));
}

void mix(words16& s, std::size_t a, std::size_t b, std::size_t c, std::size_t d, std::uint32_t x,
         std::uint32_t y) {
  s[a] = s[a] + s[b] + x;
  s[d] = rotr(s[d] ^ s[a], 16);
  s[c] = s[c] + s[d];
  s[b] = rotr(s[b] ^ s[c], 12);
  s[a] = s[a] + s[b] + y;
  s[d] = rotr(s[d] ^ s[a], 8);
  s[c] = s[c] + s[d];
  s[b] = rotr(s[b] ^ s[c], 7);
}

words16 compress(const words8& cv, words16 m, std::uint64_t counter, std::uint32_t len,
                 std::uint32_t flags) {
  words16 s{cv[0],
            cv[1],
            cv[2],
            cv[3],
            cv[4],
            cv[5],
            cv[6],
            cv[7],
            iv[0],
            iv[1],
            iv[2],
            iv[3],
            static_cast<std::uint32_t>(counter),
            static_cast<std::uint32_t>(counter >> 32),
            len,
            flags};
  for (int round = 0; round < 7; ++round) {
    mix(s, 0, 4, 8, 12, m[0], m[1]);
    mix(s, 1, 5, 9, 13, m[2], m[3]);
    mix(s, 2, 6, 10, 14, m[4], m[5]);
    mix(s, 3, 7, 11, 15, m[6], m[7]);
    mix(s, 0, 5, 10, 15, m[8], m[9]);
    mix(s, 1, 6, 11, 12, m[10], m[11]);
    mix(s, 2, 7, 8, 13, m[12], m[13]);
    mix(s, 3, 4, 9, 14, m[14], m[15]);
    words16 next{};
    for (std::size_t i = 0; i < 16; ++i) next[i] = m[permutation[i]];
    m = next;
  }
  for (std::size_t i = 0; i < 8; ++i) {
    s[i] ^= s[i + 8];
    s[i + 8] ^= cv[i];
  }
  return s;
}

words8 first8(const words16& w) {
  words8 out{};
  std::copy_n(w.begin(), 8, out.begin());
  return out;
}

words16 load_block(const std::uint8_t* bytes, std::size_t n) {
  std::array<std::uint8_t, block_len> padded{};
  std::copy_n(bytes, n, padded.begin());
  words16 m{};
  for (std::size_t i = 0; i < 16; ++i) {
    m[i] = static_cast<std::uint32_t>(padded[4 * i]) |
           static_cast<std::uint32_t>(padded[4 * i + 1]) << 8 |
           static_cast<std::uint32_t>(padded[4 * i + 2]) << 16 |
           static_cast<std::uint32_t>(padded[4 * i + 3]) << 24;
  }
  return m;
}

// What the last compression of a node takes; the root flag is added when it is the root.
struct node_output {
  words8 cv;
  words16 block;
  std::uint64_t counter;
  std::uint32_t len;
  std::uint32_t flags;

  [[nodiscard]] words8 chaining_value() const {
    return first8(compress(cv, block, counter, len, flags));
  }
};

node_output parent_output(const words8& left, const words8& right) {
  words16 block{};
  std::copy(left.begin(), left.end(), block.begin());
  std::copy(right.begin(), right.end(), block.begin() + 8);
  return {iv, block, 0, block_len, parent};
}

// The last block of a chunk of at most 1024 bytes (earlier blocks compressed into its cv).
node_output chunk_output(const std::uint8_t* data, std::size_t n, std::uint64_t counter) {
  words8 cv = iv;
  std::size_t done = 0;
  std::uint32_t start = chunk_start;
  while (n - done > block_len) {
    cv = first8(compress(cv, load_block(data + done, block_len), counter, block_len, start));
    start = 0;
    done += block_len;
  }
  const auto last = static_cast<std::uint32_t>(n - done);
  return {cv, load_block(data + done, last), counter, last, start | chunk_end};
}

}  // namespace

std::array<std::uint8_t, 32> blake3_256(std::string_view data) {
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(data.data());
  std::vector<words8> stack;  // chaining values of complete subtrees, as the spec's hasher
  std::uint64_t chunk = 0;
  std::size_t at = 0;
  while (data.size() - at > chunk_len) {
    words8 cv = chunk_output(bytes + at, chunk_len, chunk).chaining_value();
    ++chunk;
    for (std::uint64_t total = chunk; (total & 1) == 0; total >>= 1) {
      cv = parent_output(stack.back(), cv).chaining_value();
      stack.pop_back();
    }
    stack.push_back(cv);
    at += chunk_len;
  }
  node_output out = chunk_output(bytes + at, data.size() - at, chunk);
  while (!stack.empty()) {
    out = parent_output(stack.back(), out.chaining_value());
    stack.pop_back();
  }
  const words16 words = compress(out.cv, out.block, 0, out.len, out.flags | root);
  std::array<std::uint8_t, 32> digest{};
  for (std::size_t i = 0; i < 8; ++i) {
    for (std::size_t b = 0; b < 4; ++b) {
      digest[4 * i + b] = static_cast<std::uint8_t>(words[i] >> (8 * b));
    }
  }
  return digest;
}

std::string blake3_hex(std::string_view data, std::size_t bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  const auto digest = blake3_256(data);
  std::string out;
  for (std::size_t i = 0; i < std::min<std::size_t>(bytes, digest.size()); ++i) {
    out += digits[digest[i] >> 4];
    out += digits[digest[i] & 15];
  }
  return out;
}

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
