// The cachekit command-line tool: keys, envelopes, and stored values of the cachekit protocol,
// and the live commands on a running backend (live_cli.hpp).
// Exit status: 0 success, 1 bad input or a backend failure (one-line reason on stderr), 2 usage
// error.
#include "cli_io.hpp"
#include "codec/tagged_json.hpp"
#include "commands.hpp"
#include "key_explain.hpp"
#include "key_source.hpp"
#include "live_cli.hpp"

#include <cachekit/version.hpp>

#include <CLI/CLI.hpp>

#include <cstdlib>
#include <iostream>
#include <map>
#include <optional>
#include <string>

namespace {

using namespace cachekit;
using namespace cachekit::cli;

int report(const failure& f) {
  std::cerr << "cachekit: " << f.message() << '\n';
  return exit_bad_input;
}

// Where the master key may come from; resolved after parsing (key_source.hpp).
struct key_options {
  std::optional<std::string> hex;
  std::optional<std::string> file;
};

void add_encryption_options(CLI::App& cmd, encryption_request& req, key_options& key,
                            bool with_previous) {
  cmd.add_option("--master-key-hex", key.hex,
                 "master key as hex, at least 32 bytes (openssl rand -hex 32); visible to ps and "
                 "shell history: prefer --master-key-file or CACHEKIT_MASTER_KEY");
  cmd.add_option("--master-key-file", key.file,
                 "file holding the master key as hex ('-': read it from stdin); default: the "
                 "CACHEKIT_MASTER_KEY environment variable");
  if (with_previous) {
    cmd.add_option("--previous-key-hex", req.previous_key_hex,
                   "a previous master key still accepted for reading (repeat up to 3 times)");
  }
  cmd.add_option("--tenant", req.tenant, "tenant id bound into the key derivation and the AAD");
  cmd.add_option("--cache-key", req.cache_key, "the cache key the value is stored under (AAD)");
}

const std::map<std::string, stored_mode> mode_names{{"frame", stored_mode::frame},
                                                    {"interop", stored_mode::interop}};

// The subcommand names, for the message on an unknown one.
std::string command_list(const CLI::App& app) {
  std::string out;
  for (const auto* cmd : app.get_subcommands([](const CLI::App*) { return true; })) {
    out += (out.empty() ? "" : ", ") + cmd->get_name();
  }
  return out;
}

// The first argument that is not an option (the global options take no value), when it is not a
// subcommand: CLI11 would only say "A subcommand is required".
std::optional<std::string> unknown_command(const CLI::App& app, int argc, char** argv) {
  int at = 1;
  while (at < argc && argv[at][0] == '-') ++at;
  if (at == argc) return std::nullopt;
  const std::string first = argv[at];
  for (const auto* cmd : app.get_subcommands([](const CLI::App*) { return true; })) {
    if (cmd->check_name(first)) return std::nullopt;
  }
  return first;
}

}  // namespace

// An exception that escapes is a bug; terminate printing it is the right end for a CLI then.
// NOLINTNEXTLINE(bugprone-exception-escape)
int main(int argc, char** argv) {
  CLI::App app{
      "cachekit: keys, envelopes and stored values of the cachekit protocol, and live "
      "commands on a Redis, memcached or file backend"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "cachekit " CACHEKIT_VERSION_STRING);
  bool hex = false;
  app.add_flag("--hex", hex, "binary input and output as hex text")->configurable(false);

  key_request key_req;
  bool no_integrity = false;
  auto* key_cmd = app.add_subcommand(
      "key",
      "print the default-mode (cachekit-py @cache) key (--storage redis: as Redis stores it)");
  key_cmd->add_option("--namespace", key_req.ns, "namespace (omit for no ns: segment)");
  key_cmd->add_option("--function", key_req.function, "function name, e.g. myapp.users.get_user")
      ->required();
  key_cmd->add_flag("--no-integrity", no_integrity, "key of a function with integrity off (:0s)");
  key_cmd->add_option("--args", key_req.args_json, "positional arguments as a tagged JSON array");
  key_cmd->add_option("--kwargs", key_req.kwargs_json, "keyword arguments as a JSON object");
  key_storage storage = key_storage::cache;
  key_cmd
      ->add_option("--storage", storage,
                   "print the key as this backend stores it: cache (the SDKs' key, default), "
                   "redis (t:{tenant}:{key}, what REDIS_URL / CACHEKIT_REDIS_URL use: "
                   "redis-cli GET works on it), redis-plain, memcached")
      ->transform(CLI::CheckedTransformer(key_storage_names(), CLI::ignore_case));
  std::string key_tenant = "default";
  key_cmd->add_option("--redis-tenant", key_tenant, "tenant of the redis layout's t:{tenant}:");
  std::string key_prefix;
  key_cmd->add_option("--key-prefix", key_prefix, "memcached: CACHEKIT_MEMCACHED_KEY_PREFIX");
  bool key_explain = false;
  key_cmd->add_flag("--explain", key_explain,
                    "also print, after the key, what each part is and the storage keys of each "
                    "backend ('#' lines)");

  interop_key_request interop_req;
  auto* interop_cmd = app.add_subcommand("interop-key", "print the interop-mode key");
  interop_cmd->add_option("--namespace", interop_req.ns, "namespace segment")->required();
  interop_cmd->add_option("--operation", interop_req.operation, "operation segment")->required();
  interop_cmd->add_option("--args", interop_req.args_json, "flat argument array (tagged JSON)");

  auto* envelope_cmd = app.add_subcommand("envelope", "ByteStorage envelope (stdin to stdout)");
  envelope_cmd->require_subcommand(1);
  std::string envelope_format = "msgpack";
  auto* wrap_cmd = envelope_cmd->add_subcommand("wrap", "compress + checksum stdin");
  wrap_cmd->add_option("--format", envelope_format, "format name stored in the envelope");
  auto* unwrap_cmd = envelope_cmd->add_subcommand("unwrap", "verify + decompress stdin");
  for (auto* cmd : {wrap_cmd, unwrap_cmd}) cmd->add_flag("--hex", hex, "hex input and output");

  encode_request encode_req;
  bool encode_no_integrity = false;
  auto* encode_cmd = app.add_subcommand("encode", "write the stored bytes of a value");
  encode_cmd->add_option("--value", encode_req.value_json, "the value as tagged JSON")->required();
  encode_cmd->add_option("--mode", encode_req.mode, "frame (cachekit-py @cache) or interop")
      ->transform(CLI::CheckedTransformer(mode_names, CLI::ignore_case));
  encode_cmd->add_flag("--no-integrity", encode_no_integrity,
                       "frame mode without the ByteStorage envelope");
  encode_cmd->add_flag("--hex", hex, "print hex instead of raw bytes");
  encode_cmd->add_flag("--bind-key", encode_req.bind_key,
                       "plaintext frame: write the key binding \"k\" for --cache-key, as the "
                       "C++ cache does (default: exactly cachekit-py's bytes, no \"k\")");
  key_options encode_key;
  add_encryption_options(*encode_cmd, encode_req.encryption, encode_key, false);

  decode_request decode_req;
  bool explain = false;
  auto* decode_cmd = app.add_subcommand("decode", "read stored bytes from stdin, print the value");
  decode_cmd->add_option("--mode", decode_req.mode, "frame or interop (default: detect)")
      ->transform(CLI::CheckedTransformer(mode_names, CLI::ignore_case));
  decode_cmd->add_flag("--explain", explain, "print each layer peeled and what was checked");
  decode_cmd->add_flag("--hex", hex, "stdin is hex text");
  key_options decode_key;
  add_encryption_options(*decode_cmd, decode_req.encryption, decode_key, true);

  live_subcommands live(app);

  if (argc < 2) {
    std::cerr << "cachekit: a command is required; the commands are: " << command_list(app)
              << "\nRun with --help for more information.\n";
    return exit_usage;
  }
  if (auto unknown = unknown_command(app, argc, argv)) {
    std::cerr << "cachekit: "
              << redact_key_arguments("unknown command \"" + *unknown + "\"", argc, argv)
              << "; the commands are: " << command_list(app) << '\n'
              << "Run with --help for more information.\n";
    return exit_usage;
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e) == 0 ? exit_ok : exit_usage;
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e) == 0 ? exit_ok : exit_usage;
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e) == 0 ? exit_ok : exit_usage;
  } catch (const CLI::ParseError& e) {
    // CLI11 quotes the arguments it could not place: a key typed after a misspelt option would
    // be printed back (to a terminal, a CI log).
    std::cerr << "cachekit: " << redact_key_arguments(e.what(), argc, argv) << '\n'
              << "Run with --help for more information.\n";
    return exit_usage;
  }

  try {
    if (*key_cmd) {
      key_req.integrity_checking = !no_integrity;
      auto key = default_key_command(key_req);
      if (!key) return report(key.error());
      const key_layouts layouts{.redis_tenant = key_tenant, .memcached_prefix = key_prefix};
      std::cout << storage_key(*key, storage, layouts) << '\n';
      if (key_explain) std::cout << explain_key(*key, key_req.ns, layouts);
    } else if (live.selected()) {
      return live.run(std::cout, std::cerr);
    } else if (*interop_cmd) {
      auto key = interop_key_command(interop_req);
      if (!key) return report(key.error());
      std::cout << *key << '\n';
    } else if (*envelope_cmd) {
      auto input = read_input(std::cin, hex);
      if (!input) return report(input.error());
      auto out = *wrap_cmd ? envelope_wrap_command(*input, envelope_format)
                           : envelope_unwrap_command(*input);
      if (!out) return report(out.error());
      write_output(std::cout, *out, hex);
    } else if (*encode_cmd) {
      auto key = choose_master_key(encode_key.hex, encode_key.file,
                                   std::getenv("CACHEKIT_MASTER_KEY"), std::cin);
      if (!key) return report(key.error());
      encode_req.encryption.master_key_hex = std::move(*key);
      encode_req.integrity_checking = !encode_no_integrity;
      auto out = encode_command(encode_req);
      if (!out) return report(out.error());
      write_output(std::cout, *out, hex);
    } else if (*decode_cmd) {
      if (decode_key.file == "-") {
        return report(fail(errc::invalid_argument,
                           "decode reads the stored bytes from stdin, so --master-key-file - "
                           "cannot; give a file path or set CACHEKIT_MASTER_KEY"));
      }
      auto key = choose_master_key(decode_key.hex, decode_key.file,
                                   std::getenv("CACHEKIT_MASTER_KEY"), std::cin);
      if (!key) return report(key.error());
      decode_req.encryption.master_key_hex = std::move(*key);
      auto input = read_input(std::cin, hex);
      if (!input) return report(input.error());
      auto result = decode_command(*input, decode_req);
      if (!result) {
        // `redis-cli --raw GET k` ends the bytes with a newline of its own.
        auto trimmed = without_trailing_newline(*input);
        if (!trimmed) return report(result.error());
        auto retried = decode_command(*trimmed, decode_req);
        if (!retried) return report(with_newline_hint(result.error()));
        result = std::move(retried);
      }
      if (explain) {
        for (const auto& layer : result->layers) std::cout << "# " << layer << '\n';
      }
      std::cout << detail::dump_tagged_json(result->data) << '\n';
    }
  } catch (const std::exception& e) {
    std::cerr << "cachekit: " << e.what() << '\n';
    return exit_bad_input;
  }
  return exit_ok;
}
