#include <cachekit/error.hpp>
#include <cachekit/tenant_scope.hpp>

#include "cache/env_config.hpp"  // canonical_uuid: the same UUID grammar as CACHEKIT_DEPLOYMENT_UUID

#include <utility>

namespace cachekit {
inline namespace v0 {
namespace {

thread_local const tenant_scope* innermost = nullptr;

}  // namespace

namespace {

// Canonical, so that two spellings of one UUID are one tenant (one key derivation, one AAD).
std::string canonical_tenant(std::string_view tenant_id) {
  auto canonical = detail::canonical_uuid(tenant_id);
  if (!canonical) {
    throw error(errc::invalid_argument,
                "tenant_scope: the tenant id must be a UUID string (as cachekit-py's tenant "
                "extractors require), e.g. 6f1c2a3b-0000-4000-8000-000000000001");
  }
  return std::move(*canonical);
}

}  // namespace

tenant_scope::tenant_scope(std::string_view tenant_id)
    : tenant_(canonical_tenant(tenant_id)), outer_(innermost) {
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
