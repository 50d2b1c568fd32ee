// Fuzzes `cachekit inspect` / `get` on arbitrary stored bytes: the frame header fields, the
// ByteStorage envelope read for its checksum and sizes, the key binding check and the value.
// It must never crash; whatever it cannot read is reported in the inspection, never thrown.
#include "support/allocation_budget.hpp"

#include "codec/tagged_json.hpp"
#include "inspect.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

namespace {

const std::string master_hex = "a8f06af41a1f4ccb936082fdbe129b93fd8d9b7db027d9f3ea40c3b5e5480416";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // As cli_decode_fuzz: inspect decodes the envelope once more for its figures.
  const cachekit_fuzz::allocation_budget budget(size, 16384);
  using namespace cachekit;
  const byte_view input(reinterpret_cast<const std::byte*>(data), size);
  for (const bool with_key : {false, true}) {
    cli::entry_context context{.key = "k", .storage_key = "t:default:k", .backend_type = "redis"};
    if (with_key) context.master_key_hex = master_hex;
    auto found = cli::inspect_entry(input, context);
    if (found.data) (void)detail::dump_tagged_json(*found.data);
    auto value = cli::open_entry(input, context);
    if (value) (void)detail::dump_tagged_json(*value);
  }
  return 0;
}
