/// @file
/// `footprint(value)`: an estimate of the bytes a value holds in memory, its own `sizeof` plus
/// the heap blocks it owns, for byte budgets over decoded objects (object-mode `memoize`
/// charges each entry this against `object_function_max_bytes`).
///
/// Counted: `std::basic_string` (its capacity when not held inline), `std::vector` (capacity
/// times the element size, plus what each element owns), `std::array`, `std::deque`,
/// `std::list`, `std::forward_list`, the ordered and unordered maps and sets (a node per element
/// with its links, plus the bucket array), `std::optional`, `std::variant`, `std::pair`,
/// `std::tuple`, `std::unique_ptr` and `std::shared_ptr` (the object they point to), and
/// `MSGPACK_DEFINE_MAP` / `MSGPACK_DEFINE` structs (member by member), all recursively.
/// Allocator headers and rounding are not counted, so the figure is a lower bound of what
/// malloc hands out (typically within 16 bytes per block).
///
/// Your own types: declare `std::size_t cachekit_footprint(const T&)` next to `T` (found by
/// argument-dependent lookup), returning the heap bytes the value owns, not counting
/// `sizeof(T)`; `cachekit::heap_footprint` of the members helps. It takes precedence over
/// everything above. A type none of this knows counts as `sizeof(T)` only.
///
///     struct blob { std::vector<std::byte> data; int tag; };
///     std::size_t cachekit_footprint(const blob& b) { return cachekit::heap_footprint(b.data); }
///
/// Thread safety: pure functions of the value; safe wherever reading the value is.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <forward_list>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <variant>
#include <vector>

namespace cachekit {
inline namespace v0 {

template <class T>
[[nodiscard]] std::size_t heap_footprint(const T& value);

namespace detail {

// Bookkeeping a node-based container adds to each element (libstdc++): an rb-tree node's
// colour and three links, a list node's two links, a hash node's link and cached hash.
inline constexpr std::size_t tree_node_links = 4 * sizeof(void*);
inline constexpr std::size_t list_node_links = 2 * sizeof(void*);
inline constexpr std::size_t hash_node_links = 2 * sizeof(void*);

template <class T>
concept has_footprint_hook = requires(const T& value) {
  { cachekit_footprint(value) } -> std::convertible_to<std::size_t>;
};

// Walks the members a MSGPACK_DEFINE_MAP / MSGPACK_DEFINE struct packs: msgpack-cxx hands each
// one, by reference, to the packer's `pack`, so this "packer" sums their heap footprints. The
// other packer members exist so hand-written `msgpack_pack` functions compile; what they are
// given is not owned by the value, or is counted through `pack`.
struct footprint_packer {
  std::size_t bytes = 0;

  template <class U>
  footprint_packer& pack(const U& member) {
    bytes += heap_footprint(member);
    return *this;
  }
  footprint_packer& pack_map(std::uint32_t) { return *this; }
  footprint_packer& pack_array(std::uint32_t) { return *this; }
  footprint_packer& pack_nil() { return *this; }
  footprint_packer& pack_true() { return *this; }
  footprint_packer& pack_false() { return *this; }
  footprint_packer& pack_str(std::uint32_t) { return *this; }
  footprint_packer& pack_str_body(const char*, std::uint32_t) { return *this; }
  footprint_packer& pack_bin(std::uint32_t) { return *this; }
  footprint_packer& pack_bin_body(const char*, std::uint32_t) { return *this; }
};

template <class T>
concept msgpack_defined = requires(const T& value, footprint_packer& packer) {
  value.msgpack_pack(packer);
};

template <class T>
struct is_pair_or_tuple : std::false_type {};
template <class A, class B>
struct is_pair_or_tuple<std::pair<A, B>> : std::true_type {};
template <class... Ts>
struct is_pair_or_tuple<std::tuple<Ts...>> : std::true_type {};

template <class Range>
std::size_t elements_footprint(const Range& range) {
  std::size_t bytes = 0;
  for (const auto& element : range) bytes += heap_footprint(element);
  return bytes;
}

template <class C, class T, class A>
std::size_t string_footprint(const std::basic_string<C, T, A>& text) {
  // Held inline (the small-string buffer inside the object): nothing on the heap.
  const auto* data = reinterpret_cast<const unsigned char*>(text.data());
  const auto* self = reinterpret_cast<const unsigned char*>(&text);
  if (data >= self && data < self + sizeof(text)) return 0;
  return (text.capacity() + 1) * sizeof(C);
}

template <class T>
struct footprint_of {
  static std::size_t heap(const T& value) {
    if constexpr (has_footprint_hook<T>) {
      return static_cast<std::size_t>(cachekit_footprint(value));
    } else if constexpr (is_pair_or_tuple<T>::value) {
      return std::apply(
          [](const auto&... parts) { return (std::size_t{0} + ... + heap_footprint(parts)); },
          value);
    } else if constexpr (msgpack_defined<T>) {
      footprint_packer packer;
      value.msgpack_pack(packer);
      return packer.bytes;
    } else {
      return 0;  // arithmetic, enums, and types nothing here knows
    }
  }
};

template <class C, class Tr, class A>
struct footprint_of<std::basic_string<C, Tr, A>> {
  static std::size_t heap(const std::basic_string<C, Tr, A>& text) {
    return string_footprint(text);
  }
};

template <class T, class A>
struct footprint_of<std::vector<T, A>> {
  static std::size_t heap(const std::vector<T, A>& items) {
    if constexpr (std::is_same_v<T, bool>) {
      return (items.capacity() + 7) / 8;
    } else {
      return items.capacity() * sizeof(T) + elements_footprint(items);
    }
  }
};

template <class T, std::size_t N>
struct footprint_of<std::array<T, N>> {
  static std::size_t heap(const std::array<T, N>& items) { return elements_footprint(items); }
};

template <class T, class A>
struct footprint_of<std::deque<T, A>> {
  static std::size_t heap(const std::deque<T, A>& items) {
    return items.size() * sizeof(T) + elements_footprint(items);
  }
};

template <class T, class A>
struct footprint_of<std::list<T, A>> {
  static std::size_t heap(const std::list<T, A>& items) {
    return items.size() * (sizeof(T) + list_node_links) + elements_footprint(items);
  }
};

template <class T, class A>
struct footprint_of<std::forward_list<T, A>> {
  static std::size_t heap(const std::forward_list<T, A>& items) {
    std::size_t bytes = 0;
    for (const auto& item : items) bytes += sizeof(T) + sizeof(void*) + heap_footprint(item);
    return bytes;
  }
};

template <class Tree>
std::size_t tree_footprint(const Tree& tree) {
  using node_value = typename Tree::value_type;
  return tree.size() * (sizeof(node_value) + tree_node_links) + elements_footprint(tree);
}

template <class K, class V, class C, class A>
struct footprint_of<std::map<K, V, C, A>> {
  static std::size_t heap(const std::map<K, V, C, A>& m) { return tree_footprint(m); }
};
template <class K, class V, class C, class A>
struct footprint_of<std::multimap<K, V, C, A>> {
  static std::size_t heap(const std::multimap<K, V, C, A>& m) { return tree_footprint(m); }
};
template <class K, class C, class A>
struct footprint_of<std::set<K, C, A>> {
  static std::size_t heap(const std::set<K, C, A>& s) { return tree_footprint(s); }
};
template <class K, class C, class A>
struct footprint_of<std::multiset<K, C, A>> {
  static std::size_t heap(const std::multiset<K, C, A>& s) { return tree_footprint(s); }
};

template <class Table>
std::size_t hash_footprint(const Table& table) {
  using node_value = typename Table::value_type;
  return table.bucket_count() * sizeof(void*) +
         table.size() * (sizeof(node_value) + hash_node_links) + elements_footprint(table);
}

template <class K, class V, class H, class E, class A>
struct footprint_of<std::unordered_map<K, V, H, E, A>> {
  static std::size_t heap(const std::unordered_map<K, V, H, E, A>& m) { return hash_footprint(m); }
};
template <class K, class V, class H, class E, class A>
struct footprint_of<std::unordered_multimap<K, V, H, E, A>> {
  static std::size_t heap(const std::unordered_multimap<K, V, H, E, A>& m) {
    return hash_footprint(m);
  }
};
template <class K, class H, class E, class A>
struct footprint_of<std::unordered_set<K, H, E, A>> {
  static std::size_t heap(const std::unordered_set<K, H, E, A>& s) { return hash_footprint(s); }
};
template <class K, class H, class E, class A>
struct footprint_of<std::unordered_multiset<K, H, E, A>> {
  static std::size_t heap(const std::unordered_multiset<K, H, E, A>& s) {
    return hash_footprint(s);
  }
};

template <class T>
struct footprint_of<std::optional<T>> {
  static std::size_t heap(const std::optional<T>& maybe) {
    return maybe ? heap_footprint(*maybe) : 0;
  }
};

template <class... Ts>
struct footprint_of<std::variant<Ts...>> {
  static std::size_t heap(const std::variant<Ts...>& v) {
    return std::visit([](const auto& held) { return heap_footprint(held); }, v);
  }
};

template <class T, class D>
struct footprint_of<std::unique_ptr<T, D>> {
  static std::size_t heap(const std::unique_ptr<T, D>& p) {
    if constexpr (std::is_array_v<T>) {
      return 0;  // the length is not known
    } else {
      return p ? sizeof(T) + heap_footprint(*p) : 0;
    }
  }
};

template <class T>
struct footprint_of<std::shared_ptr<T>> {
  // The object and its control block, counted in full by every owner (an upper bound when
  // owners share it).
  static std::size_t heap(const std::shared_ptr<T>& p) {
    if constexpr (std::is_array_v<T> || std::is_void_v<T>) {
      return 0;
    } else {
      return p ? sizeof(T) + 2 * sizeof(void*) + heap_footprint(*p) : 0;
    }
  }
};

}  // namespace detail

/// The heap bytes `value` owns, not counting `sizeof(T)` (see the file comment for what is
/// counted). A user's `cachekit_footprint(const T&)` found by ADL answers for `T`.
template <class T>
[[nodiscard]] std::size_t heap_footprint(const T& value) {
  return detail::footprint_of<std::remove_cv_t<T>>::heap(value);
}

/// `sizeof(T) + heap_footprint(value)`: what `value` holds in memory.
///     cachekit::footprint(std::string(1000, 'x'));  // 32 + 1001 with libstdc++
template <class T>
[[nodiscard]] std::size_t footprint(const T& value) {
  return sizeof(T) + heap_footprint(value);
}

}  // namespace v0
}  // namespace cachekit
