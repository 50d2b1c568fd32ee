// Text read from a stored entry's header (tenant_id, serializer, format) is unauthenticated:
// whoever can write to the L2 chooses it. Before such text reaches an error message (and from
// there `on_error`, logs and terminals) it is cut short and escaped, so a planted header cannot
// flood a log, inject a line, or send terminal control sequences.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace cachekit {
inline namespace v0 {
namespace detail {

// Characters of untrusted text quoted before it is cut off with "...".
inline constexpr std::size_t max_quoted_chars = 64;

// `text` for an error message: printable ASCII as is, '\\' and '"' backslash-escaped, every other
// byte (controls, DEL, non-ASCII) as \xHH; at most `max_quoted_chars` input bytes, then "..."
// and the total length. No quotes are added.
[[nodiscard]] std::string quote_untrusted(std::string_view text);

}  // namespace detail
}  // namespace v0
}  // namespace cachekit
