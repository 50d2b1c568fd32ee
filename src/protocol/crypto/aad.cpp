// AAD version 0x03: the context a ciphertext is bound to, length-prefixed so no two field
// combinations encode to the same bytes.
#include <cachekit/encryption.hpp>

#include <cstdint>
#include <limits>

namespace cachekit {
inline namespace v0 {
namespace {

constexpr std::byte aad_version{0x03};
// Python's str(bool): the spelling cachekit-py binds.
constexpr std::string_view python_true = "True";
constexpr std::string_view python_false = "False";

void append_component(byte_buffer& out, std::string_view component) {
  if (component.size() > std::numeric_limits<std::uint32_t>::max()) {
    throw error(errc::invalid_argument, "an AAD component is 4 GiB or longer");
  }
  const auto n = static_cast<std::uint32_t>(component.size());
  out.push_back(static_cast<std::byte>(n >> 24));
  out.push_back(static_cast<std::byte>(n >> 16));
  out.push_back(static_cast<std::byte>(n >> 8));
  out.push_back(static_cast<std::byte>(n));
  const byte_view bytes = as_byte_view(component);
  out.insert(out.end(), bytes.begin(), bytes.end());
}

}  // namespace

byte_buffer encode_aad(const aad_fields& fields) {
  const std::string_view compressed = fields.compressed ? python_true : python_false;
  // cachekit-py appends the fifth component only for a non-empty original_type.
  const bool fifth = fields.original_type && !fields.original_type->empty();
  const std::size_t components = fifth ? 5 : 4;
  byte_buffer out;
  out.reserve(1 + 4 * components + fields.tenant_id.size() + fields.cache_key.size() +
              fields.format.size() + compressed.size() +
              (fifth ? fields.original_type->size() : 0));
  out.push_back(aad_version);
  append_component(out, fields.tenant_id);
  append_component(out, fields.cache_key);
  append_component(out, fields.format);
  append_component(out, compressed);
  if (fifth) append_component(out, *fields.original_type);
  return out;
}

}  // namespace v0
}  // namespace cachekit
