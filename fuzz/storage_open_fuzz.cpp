// libFuzzer target: `storage_format::open` of untrusted stored entries, in every configuration
// the cache uses, and the typed codec (msgpack-cxx, unpacked into the per-thread zone) on what
// opens and on the raw input. Half of the inputs are put behind the exact frame header the format
// writes, so the fast path (no header parse) sees hostile payloads too. Never crashes; whatever
// opens through the fast path must open to the same bytes through the parsing path (`explain`).
#include "support/allocation_budget.hpp"

#include <cachekit/codec.hpp>
#include <cachekit/encryption.hpp>
#include <cachekit/storage_format.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace {

// A struct the way users write them: every msgpack-cxx adaptor kind a cached result tends to use.
struct record {
  std::int64_t id = 0;
  std::string name;
  std::vector<double> scores;
  std::map<std::string, std::int64_t> counts;
  std::optional<std::string> note;
  MSGPACK_DEFINE_MAP(id, name, scores, counts, note);
};

using cachekit::storage_format;
using cachekit::storage_mode;

storage_format make(storage_mode mode, bool integrity, bool encrypted) {
  std::optional<cachekit::tenant_keyring> keys;
  if (encrypted) {
    static const auto ring = cachekit::keyring::from_hex(std::string(64, 'a')).value();
    keys = ring.for_tenant("default").value();
  }
  return storage_format({.mode = mode, .integrity_checking = integrity, .encryption = keys});
}

const std::array<storage_format, 6>& formats() {
  static const std::array<storage_format, 6> all = {
      make(storage_mode::frame, true, false),   make(storage_mode::frame, false, false),
      make(storage_mode::frame, true, true),    make(storage_mode::frame, false, true),
      make(storage_mode::interop, true, false), make(storage_mode::interop, true, true)};
  return all;
}

// The bytes a format writes in front of any payload: what it seals an empty value into, up
// to where the payload starts (frame formats only).
cachekit::byte_buffer own_prefix(const storage_format& f) {
  const auto sealed = f.seal(cachekit::byte_view{}, "k").value();
  const std::size_t header = (std::to_integer<std::size_t>(sealed[3]) << 24) |
                             (std::to_integer<std::size_t>(sealed[4]) << 16) |
                             (std::to_integer<std::size_t>(sealed[5]) << 8) |
                             std::to_integer<std::size_t>(sealed[6]);
  return {sealed.begin(), sealed.begin() + static_cast<std::ptrdiff_t>(7 + header)};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Memory amplification bound: opening decompresses up to 255x, then typed decoding holds a
  // msgpack object per item.
  const cachekit_fuzz::allocation_budget budget(size, 8192);
  if (size == 0) return 0;
  const bool behind_own_header = (data[0] & 1) != 0;
  const cachekit::byte_view input(reinterpret_cast<const std::byte*>(data + 1), size - 1);
  (void)cachekit::codec<record>::decode(input);
  (void)cachekit::codec<std::vector<std::string>>::decode(input);
  for (const auto& f : formats()) {
    cachekit::byte_buffer stored;
    if (behind_own_header && f.options().mode == storage_mode::frame) {
      stored = own_prefix(f);
    }
    stored.insert(stored.end(), input.begin(), input.end());
    auto fast = f.open(stored, "k");
    auto parsed = f.open(stored, "k", /*explain=*/true);
    if (fast.has_value() != parsed.has_value()) std::abort();
    if (fast && fast->msgpack != parsed->msgpack) std::abort();
    // Behind the format's own header (plaintext: with "k" for "k"; encrypted: the AAD binds
    // "k"), nothing opens under another key, on either path.
    auto other = f.open(stored, "another key");
    auto other_parsed = f.open(stored, "another key", /*explain=*/true);
    if (other.has_value() != other_parsed.has_value()) std::abort();
    if (behind_own_header && f.options().mode == storage_mode::frame && other) std::abort();
    if (fast) (void)cachekit::codec<record>::decode(fast->msgpack);
  }
  return 0;
}
