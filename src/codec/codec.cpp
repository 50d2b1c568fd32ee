#include <cachekit/codec.hpp>

#include "protocol/msgpack_bounds.hpp"
#include "protocol/utf8_check.hpp"

#include <msgpack.hpp>  // unpack: cachekit's headers carry only the packing side
#include <string>

namespace cachekit {
inline namespace v0 {
namespace detail {

namespace {

struct thread_zone {
  msgpack::zone zone;
  bool in_use = false;
};
thread_local thread_zone tls_zone;

// Nesting accepted by typed decoding (the protocol allows 32..1024; a C++ type nests statically).
constexpr std::size_t max_typed_depth = 512;

// Strings, binaries and extensions point into the input instead of being copied into the zone:
// the caller converts them before the input goes away.
bool reference_input(msgpack::type::object_type, std::size_t, void*) {
  return true;
}

}  // namespace

unpacked_document::unpacked_document(byte_view bytes) {
  // msgpack-cxx's limits are per container: nested headers could each reserve up to the input
  // size. The protocol's whole-document budget is checked first, without allocating.
  if (auto bounded = check_msgpack_bounds(bytes, max_typed_depth); !bounded) {
    throw msgpack_bounds_error(std::move(bounded).error());
  }
  if (!tls_zone.in_use) {
    tls_zone.in_use = true;
    zone_ = &tls_zone.zone;
  } else {
    own_ = std::make_unique<msgpack::zone>();
    zone_ = own_.get();
  }
  const std::size_t n = bytes.size();
  // Every element of an array or map, and every byte of a str/bin/ext, needs at least one input
  // byte, so the input size bounds them all.
  const msgpack::unpack_limit limit(n, n / 2, n, n, n, max_typed_depth);
  std::size_t offset = 0;
  bool referenced = false;
  try {
    object_ = msgpack::unpack(*zone_, reinterpret_cast<const char*>(bytes.data()), n, offset,
                              referenced, reference_input, nullptr, limit);
    if (offset != n) throw msgpack::unpack_error("trailing bytes after the MessagePack document");
  } catch (...) {
    if (!own_) {
      tls_zone.zone.clear();
      tls_zone.in_use = false;
    }
    throw;
  }
}

unpacked_document::~unpacked_document() {
  if (own_) return;
  tls_zone.zone.clear();  // keeps its first chunk: the next decode on this thread allocates nothing
  tls_zone.in_use = false;
}

namespace {
struct thread_scratch {
  byte_buffer buffer;
  bool in_use = false;
};
thread_local thread_scratch tls_scratch;
}  // namespace

packing_scratch::packing_scratch() : buffer_(&own_), shared_(!tls_scratch.in_use) {
  if (shared_) {
    tls_scratch.in_use = true;
    buffer_ = &tls_scratch.buffer;
  }
}

packing_scratch::~packing_scratch() {
  if (!shared_) return;
  // A value that needed more than 64 KiB does not pin that much memory to the thread.
  if (tls_scratch.buffer.size() > 65536) byte_buffer().swap(tls_scratch.buffer);
  tls_scratch.in_use = false;
}

bool is_utf8_text(std::string_view text) noexcept {
  return is_valid_utf8(text);
}

failure msgpack_failure(const char* what, const char* type_name) {
  const std::string kind(what);
  if (kind == "type") {
    return fail(errc::type_mismatch,
                std::string("stored MessagePack does not convert to ") + type_name);
  }
  if (kind == "encode") {
    return fail(errc::unsupported_type, std::string("msgpack-cxx could not pack ") + type_name);
  }
  return fail(errc::malformed,
              std::string("not a single valid MessagePack document for ") + type_name);
}

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
