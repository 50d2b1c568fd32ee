#include <cachekit/codec.hpp>

#include <string>

namespace cachekit {
inline namespace v0 {
namespace detail {

msgpack::object_handle unpack_bounded(byte_view bytes) {
  const std::size_t n = bytes.size();
  // Every element of an array or map, and every byte of a str/bin/ext, needs at least one input
  // byte, so the input size bounds them all.
  const msgpack::unpack_limit limit(n, n / 2, n, n, n, 512);
  std::size_t offset = 0;
  auto handle = msgpack::unpack(reinterpret_cast<const char*>(bytes.data()), n, offset, nullptr,
                                nullptr, limit);
  if (offset != n) throw msgpack::unpack_error("trailing bytes after the MessagePack document");
  return handle;
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
