/// @file
/// `tenant_scope`: the tenant of this thread's cache operations, for caches whose encryption is
/// multi-tenant (`encryption_options::multi_tenant`), as cachekit-py's
/// `ContextVarExtractor.set_tenant_id()` set by request middleware.
///
///     void handle(const request& r) {
///       cachekit::tenant_scope tenant(r.tenant_id());  // a UUID string
///       auto report = get_report(r.report_id());       // sealed with this tenant's keys
///     }
///
/// Scopes nest (the innermost wins) and end with their block. A multi-tenant cache used with no
/// scope on the thread runs the call uncached (counted in `cache_stats::uncacheable_calls`), as
/// cachekit-py fails closed when it cannot resolve a tenant.
///
/// Thread safety: each thread has its own current tenant; a scope must end on the thread that
/// opened it.
#pragma once

#include <cachekit/export.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace cachekit {
inline namespace v0 {

class CACHEKIT_EXPORT tenant_scope {
 public:
  /// Makes `tenant_id` this thread's tenant until the scope ends, in its canonical form
  /// (Python's `str(uuid.UUID(tenant_id))`: lowercase, hyphenated), so "6F1C..." and "6f1c..."
  /// are one tenant. Throws cachekit::error (errc::invalid_argument) when it is not a UUID
  /// string. Interop: cachekit-py's tenant extractors validate the UUID but derive keys from the
  /// text as given, so a Python service sharing entries must pass canonical UUIDs.
  explicit tenant_scope(std::string_view tenant_id);
  ~tenant_scope();
  tenant_scope(const tenant_scope&) = delete;
  tenant_scope& operator=(const tenant_scope&) = delete;

  /// This thread's tenant (canonical form), or nullopt outside any scope. The view is valid
  /// while the scope is.
  [[nodiscard]] static std::optional<std::string_view> current() noexcept;

 private:
  std::string tenant_;
  const tenant_scope* outer_;
};

}  // namespace v0
}  // namespace cachekit
