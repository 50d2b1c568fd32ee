#include <cachekit/error.hpp>
#include <cachekit/tenant_scope.hpp>

#include "cache/env_config.hpp"  // canonical_uuid: the same UUID grammar as CACHEKIT_DEPLOYMENT_UUID

#include <utility>

namespace cachekit {
inline namespace v0 {
namespace {

thread_local const tenant_scope* innermost = nullptr;

}  // namespace

tenant_scope::tenant_scope(std::string tenant_id)
    : tenant_(std::move(tenant_id)), outer_(innermost) {
  if (!detail::canonical_uuid(tenant_)) {
    throw error(errc::invalid_argument,
                "tenant_scope: the tenant id must be a UUID string (as cachekit-py's tenant "
                "extractors require), e.g. 6f1c2a3b-0000-4000-8000-000000000001");
  }
  innermost = this;
}

tenant_scope::~tenant_scope() {
  innermost = outer_;
}

std::optional<std::string_view> tenant_scope::current() noexcept {
  if (innermost == nullptr) return std::nullopt;
  return std::string_view(innermost->tenant_);
}

}  // namespace v0
}  // namespace cachekit
