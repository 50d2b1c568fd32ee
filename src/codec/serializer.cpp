#include <cachekit/serializer.hpp>

#include <string>

namespace cachekit {
inline namespace v0 {

std::string_view serializer_name(serializer_kind kind) noexcept {
  switch (kind) {
    case serializer_kind::standard: return "default";
    case serializer_kind::json: return "orjson";
    case serializer_kind::auto_detect: return "auto";
  }
  return "default";
}

result<serializer_kind> parse_serializer(std::string_view name) {
  if (name == "default" || name == "std" || name == "standard") return serializer_kind::standard;
  if (name == "orjson" || name == "json") return serializer_kind::json;
  if (name == "auto" || name == "pythonic") return serializer_kind::auto_detect;
  if (name == "arrow") {
    return fail(errc::not_supported,
                "serializer \"arrow\" is not available in the C++ SDK (no Arrow C++ library "
                "ships with it; see docs/serializers.md); use \"default\", \"orjson\" or \"auto\"");
  }
  return fail(errc::invalid_configuration,
              "unknown serializer \"" + std::string(name) +
                  "\"; use \"default\" (MessagePack), \"orjson\" (JSON) or \"auto\"");
}

}  // namespace v0
}  // namespace cachekit
