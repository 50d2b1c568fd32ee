// Fuzzes the decoder of cachekit-py's invalidation events (coherence/invalidation_event.hpp):
// any client allowed to PUBLISH on the channel chooses these bytes. It must never crash nor
// allocate more than the event's own size; whatever it accepts must encode back to an event
// that decodes to the same fields.
#include "support/allocation_budget.hpp"

#include "coherence/invalidation_event.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // At most two copied fields of the event's size.
  const cachekit_fuzz::allocation_budget budget(size, 4);
  using namespace cachekit;
  const byte_view input(reinterpret_cast<const std::byte*>(data), size);
  auto event = detail::decode_invalidation_event(input);
  if (!event) return 0;
  auto again = detail::encode_invalidation_event(event->registry, event->key);
  if (!again) std::abort();  // an accepted registry id is within the field cap
  auto back = detail::decode_invalidation_event(as_byte_view(*again));
  if (!back || back->registry != event->registry || back->key != event->key) std::abort();
  return 0;
}
