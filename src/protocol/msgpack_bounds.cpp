#include "protocol/msgpack_bounds.hpp"

#include "protocol/big_endian.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace cachekit {
inline namespace v0 {
namespace detail {

namespace {

// What one item's header says: bytes of header, bytes of payload that follow it (str, bin, ext
// data, scalars' value bytes) and child items it opens (array elements, map keys and values).
struct item_shape {
  std::size_t header = 1;
  std::uint64_t payload = 0;
  std::uint64_t children = 0;
  bool declares_payload = false;  // str/bin/ext lengths count as declared slots; fixext and
                                  // scalars do not
  bool container = false;         // an array or map, even an empty one (it still nests)
  bool invalid = false;
};

// Reads the header at `p` (with `left` bytes available, at least 1). `header` beyond `left`
// means the header itself is cut short.
item_shape shape_at(const std::byte* p, std::size_t left) {
  const auto b = static_cast<std::uint8_t>(p[0]);
  item_shape s;
  const auto sized = [&](std::size_t width, bool is_container, std::uint64_t per_count) {
    s.header = 1 + width;
    if (left < s.header) return;
    std::uint64_t n = 0;
    if (width == 1) n = static_cast<std::uint8_t>(p[1]);
    if (width == 2) n = load_be<std::uint16_t>(p + 1);
    if (width == 4) n = load_be<std::uint32_t>(p + 1);
    if (is_container) {
      s.container = true;
      s.children = n * per_count;
    } else {
      s.payload = n;
      s.declares_payload = true;
    }
  };
  if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3) return s;
  if (b >= 0x80 && b <= 0x8f) {
    s.container = true;
    s.children = 2ULL * (b & 0x0f);
    return s;
  }
  if (b >= 0x90 && b <= 0x9f) {
    s.container = true;
    s.children = b & 0x0f;
    return s;
  }
  if (b >= 0xa0 && b <= 0xbf) {
    s.payload = b & 0x1f;
    s.declares_payload = true;
    return s;
  }
  switch (b) {
    case 0xc4:
    case 0xd9: sized(1, false, 0); return s;
    case 0xc5:
    case 0xda: sized(2, false, 0); return s;
    case 0xc6:
    case 0xdb: sized(4, false, 0); return s;
    case 0xc7:
      sized(1, false, 0);
      ++s.header;
      return s;  // ext8: length, then the type byte
    case 0xc8:
      sized(2, false, 0);
      ++s.header;
      return s;
    case 0xc9:
      sized(4, false, 0);
      ++s.header;
      return s;
    case 0xca: s.payload = 4; return s;
    case 0xcb: s.payload = 8; return s;
    case 0xcc:
    case 0xd0: s.payload = 1; return s;
    case 0xcd:
    case 0xd1: s.payload = 2; return s;
    case 0xce:
    case 0xd2: s.payload = 4; return s;
    case 0xcf:
    case 0xd3: s.payload = 8; return s;
    case 0xd4: s.payload = 2; return s;  // fixext: type byte + data, declares nothing
    case 0xd5: s.payload = 3; return s;
    case 0xd6: s.payload = 5; return s;
    case 0xd7: s.payload = 9; return s;
    case 0xd8: s.payload = 17; return s;
    case 0xdc: sized(2, true, 1); return s;
    case 0xdd: sized(4, true, 1); return s;
    case 0xde: sized(2, true, 2); return s;
    case 0xdf: sized(4, true, 2); return s;
    default: s.invalid = true; return s;  // 0xc1
  }
}

// Items left in each open container, outermost first. The first levels live inline: a typed
// decode runs this check on every call, and a heap allocation would be most of its cost.
class open_containers {
 public:
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] std::uint64_t& back() noexcept {
    return size_ <= inline_levels ? inline_[size_ - 1] : deeper_.back();
  }
  void push_back(std::uint64_t items) {
    if (size_ < inline_levels) {
      inline_[size_] = items;
    } else {
      deeper_.push_back(items);
    }
    ++size_;
  }
  void pop_back() noexcept {
    if (size_ > inline_levels) deeper_.pop_back();
    --size_;
  }

 private:
  static constexpr std::size_t inline_levels = 32;
  std::uint64_t inline_[inline_levels];
  std::vector<std::uint64_t> deeper_;
  std::size_t size_ = 0;
};

failure truncated() {
  return fail(errc::truncated, "input ends before the MessagePack document is complete");
}

}  // namespace

result<void> check_msgpack_bounds(byte_view document, std::size_t max_depth,
                                  std::size_t max_items) {
  const std::size_t n = document.size();
  if (n == 0) return truncated();
  // Items still to read in each open container, outermost first; the root is a container of 1.
  open_containers open;
  open.push_back(1);
  const std::uint64_t budget = n - 1;  // the root header is the one byte that is not a slot
  std::uint64_t declared = 0;
  std::size_t pos = 0;
  std::size_t items = 0;
  while (!open.empty()) {
    if (open.back() == 0) {
      open.pop_back();
      continue;
    }
    --open.back();
    if (++items > max_items) {
      return fail(errc::length_limit, "the MessagePack document holds more than " +
                                          std::to_string(max_items) +
                                          " items, the limit for this read");
    }
    if (pos >= n) return truncated();
    const item_shape s = shape_at(document.data() + pos, n - pos);
    if (s.invalid) {
      return fail(errc::malformed,
                  "byte 0xc1 at offset " + std::to_string(pos) + " is not a MessagePack type");
    }
    if (s.header > n - pos) return truncated();
    const std::uint64_t claimed = s.children + (s.declares_payload ? s.payload : 0);
    if (claimed > budget - declared) {  // declared <= budget always holds here
      return fail(errc::length_limit,
                  "item at offset " + std::to_string(pos) + " brings the declared elements and " +
                      "bytes to more than the " + std::to_string(n) + "-byte input can hold");
    }
    declared += claimed;
    pos += s.header;
    if (s.payload > n - pos) return truncated();
    pos += static_cast<std::size_t>(s.payload);
    if (s.container) {
      if (open.size() > max_depth) {  // `open` holds the root's pseudo-container too
        return fail(errc::length_limit, "containers nest deeper than " + std::to_string(max_depth) +
                                            " levels at offset " + std::to_string(pos - s.header));
      }
      open.push_back(s.children);
    }
  }
  if (pos != n) {
    return fail(errc::trailing_bytes, std::to_string(n - pos) +
                                          " bytes follow the MessagePack document (exactly one "
                                          "is expected)");
  }
  return {};
}

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
