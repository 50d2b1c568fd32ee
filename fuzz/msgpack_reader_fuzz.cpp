// Feeds arbitrary bytes to both value decoders (stored values come from a shared backend, so they
// are untrusted). Every input must end in a value or a clean error; a decoded value that the
// profile can write must encode, and decoding that encoding must give the same value back
// (floats compared bitwise, interop maps compared in canonical key order).
#include "support/allocation_budget.hpp"

#include <cachekit/value_codec.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

namespace {

using namespace cachekit;

bool same(const value& a, const value& b);

bool same_pairs(const value_map& a, const value_map& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!same(a[i].first, b[i].first) || !same(a[i].second, b[i].second)) return false;
  }
  return true;
}

// Structural equality with bitwise float comparison (so NaN payloads must survive too).
bool same(const value& a, const value& b) {
  if (a.kind() != b.kind()) return false;
  if (const auto* d = a.get_if<double>()) {
    return std::bit_cast<std::uint64_t>(*d) == std::bit_cast<std::uint64_t>(*b.get_if<double>());
  }
  if (const auto* x = a.get_if<value_array>()) {
    const auto* y = b.get_if<value_array>();
    if (x->size() != y->size()) return false;
    for (std::size_t i = 0; i < x->size(); ++i) {
      if (!same((*x)[i], (*y)[i])) return false;
    }
    return true;
  }
  if (const auto* m = a.get_if<value_map>()) return same_pairs(*m, *b.get_if<value_map>());
  return a == b;
}

// What an interop value reads back as after encoding: maps in UTF-8 key order.
value canonical(const value& v) {
  if (const auto* a = v.get_if<value_array>()) {
    value_array out;
    for (const auto& item : *a) out.push_back(canonical(item));
    return out;
  }
  if (const auto* m = v.get_if<value_map>()) {
    value_map out;
    for (const auto& [k, x] : *m) out.emplace_back(k, canonical(x));
    std::stable_sort(out.begin(), out.end(), [](const auto& x, const auto& y) {
      return *x.first.template get_if<std::string>() < *y.first.template get_if<std::string>();
    });
    return out;
  }
  return v;
}

// Interop can write a decoded value unless it holds a non-string key, a non-finite float or an
// extension item.
bool interop_encodable(const value& v) {
  if (v.kind() == value_kind::ext) return false;
  if (const auto* d = v.get_if<double>()) return std::isfinite(*d);
  if (const auto* a = v.get_if<value_array>()) {
    return std::all_of(a->begin(), a->end(), interop_encodable);
  }
  if (const auto* m = v.get_if<value_map>()) {
    return std::all_of(m->begin(), m->end(), [](const auto& p) {
      return p.first.kind() == value_kind::string && interop_encodable(p.second);
    });
  }
  return true;
}

void check_standard(byte_view input) {
  const auto decoded = decode_standard_value(input);
  if (!decoded) return;
  // Everything the standard reader produces (str/bin keys, any float) is writable.
  const auto encoded = encode_standard_value(*decoded);
  if (!encoded) std::abort();
  const auto again = decode_standard_value(*encoded);
  if (!again || !same(*again, *decoded)) std::abort();
  const auto re_encoded = encode_standard_value(*again);
  if (!re_encoded || *re_encoded != *encoded) std::abort();
}

void check_interop(byte_view input) {
  const auto decoded = decode_interop_value(input);
  if (!decoded) return;
  if (!interop_encodable(*decoded)) {
    if (encode_interop_value(*decoded)) std::abort();
    return;
  }
  const auto encoded = encode_interop_value(*decoded);
  if (!encoded) std::abort();
  const auto again = decode_interop_value(*encoded);
  if (!again || !same(*again, canonical(*decoded))) std::abort();
  const auto re_encoded = encode_interop_value(*again);
  if (!re_encoded || *re_encoded != *encoded) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Memory amplification bound: every declared item needs an input byte and becomes a value (40
  // bytes) plus its container frame; the checks re-encode.
  const cachekit_fuzz::allocation_budget budget(size, 600);
  const byte_view input(reinterpret_cast<const std::byte*>(data), size);
  check_standard(input);
  check_interop(input);
  return 0;
}
