// Fuzzes the CLI's decode path (`cachekit decode`): stored-bytes detection, CK frame, legacy
// JSON envelope, ByteStorage envelope, AES-GCM, and both value decoders, on arbitrary input.
// It must never crash; a successful decode must print as tagged JSON.
#include "codec/tagged_json.hpp"
#include "commands.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

namespace {

const std::string master_hex(64, '5');

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
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
