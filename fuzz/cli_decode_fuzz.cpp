// Fuzzes the CLI's decode path (`cachekit decode`): stored-bytes detection, CK frame, legacy
// JSON envelope, ByteStorage envelope, AES-GCM, and both value decoders, on arbitrary input.
// It must never crash; a successful decode must print as tagged JSON.
#include "support/allocation_budget.hpp"

#include "codec/tagged_json.hpp"
#include "commands.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

namespace {

const std::string master_hex(64, '5');

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Memory amplification bound: a stored value decoded end to end: LZ4 expands up to 255x, and each
  // MessagePack item becomes a value of tens of bytes.
  const cachekit_fuzz::allocation_budget budget(size, 16384);
  using namespace cachekit;
  const byte_view input(reinterpret_cast<const std::byte*>(data), size);

  for (auto mode :
       {cli::stored_mode::automatic, cli::stored_mode::frame, cli::stored_mode::interop}) {
    auto plain = cli::decode_command(input, {.mode = mode});
    if (plain) (void)detail::dump_tagged_json(plain->data);
  }
  auto secure = cli::decode_command(
      input, {.mode = cli::stored_mode::automatic,
              .encryption = {.master_key_hex = master_hex, .tenant = "default", .cache_key = "k"}});
  if (secure) (void)detail::dump_tagged_json(secure->data);
  return 0;
}
