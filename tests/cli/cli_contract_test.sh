#!/usr/bin/env bash
# The cachekit CLI contract: outputs for known inputs, and exit status 0 / 1 (bad input, one line
# on stderr) / 2 (usage). Usage: cli_contract_test.sh PATH_TO_CACHEKIT
set -uo pipefail
cli=$1
failures=0
unset CACHEKIT_MASTER_KEY  # the checks below choose where each key comes from

expect_output() {  # name, expected stdout, command...
  local name=$1 want=$2; shift 2
  local got
  got=$("$@" 2>/tmp/cli_contract_err.$$)
  local status=$?
  if [[ $status -ne 0 || "$got" != "$want" ]]; then
    echo "FAIL $name: status $status"; echo "  want: $want"; echo "  got:  $got"
    cat /tmp/cli_contract_err.$$
    failures=$((failures + 1))
  fi
}

expect_status() {  # name, status, command...
  local name=$1 want=$2; shift 2
  "$@" >/dev/null 2>/tmp/cli_contract_err.$$
  local status=$?
  local lines
  lines=$(wc -l </tmp/cli_contract_err.$$)
  if [[ $status -ne $want ]]; then
    echo "FAIL $name: status $status, want $want"; cat /tmp/cli_contract_err.$$
    failures=$((failures + 1))
  elif [[ $want -eq 1 && $lines -ne 1 ]]; then
    echo "FAIL $name: bad input must give exactly one line on stderr, got $lines"
    cat /tmp/cli_contract_err.$$
    failures=$((failures + 1))
  fi
}

key_hash=3870b2ea5735ae639ded9450ef117768db676f037bec636503796c5b81095153
expect_output key_with_namespace "ns:test:func:__main__.get_user:args:$key_hash:1s" \
  "$cli" key --namespace test --function __main__.get_user --args '[42]'
expect_output key_without_namespace "func:__main__.get_user:args:$key_hash:0s" \
  "$cli" key --function __main__.get_user --args '[42]' --no-integrity
expect_output interop_key \
  "users:get_user:61598716255080080f6456eb065c2e51badfaa4320b0efe97469c29cffee8875" \
  "$cli" interop-key --namespace users --operation get_user --args '[42]'
expect_output interop_value "82a36167651ea46e616d65a5616c696365" \
  "$cli" encode --mode interop --value '{"name": "alice", "age": 30}' --hex
expect_output envelope_round_trip "hello" \
  bash -c "printf hello | '$cli' envelope wrap | '$cli' envelope unwrap"
expect_output envelope_hex "94c4054081a1610198cc84cc8c4fcc99cce3584cccc804a76d73677061636b" \
  bash -c "echo 81a16101 | '$cli' envelope wrap --hex"
expect_output frame_round_trip '{"a":[1,{"$float":"2.5"},{"$bytes":"00ff"}]}' \
  bash -c "'$cli' encode --value '{\"a\": [1, 2.5, {\"\$bytes\": \"00ff\"}]}' | '$cli' decode"
# --bind-key writes the key binding "k" (as the cache does); decode with --cache-key checks it.
expect_output frame_key_bound_round_trip '{"a":1}' \
  bash -c "'$cli' encode --value '{\"a\": 1}' --bind-key --cache-key k --hex |
    '$cli' decode --hex --cache-key k"
expect_status frame_key_bound_under_another_key 1 \
  bash -c "'$cli' encode --value '{\"a\": 1}' --bind-key --cache-key k --hex |
    '$cli' decode --hex --cache-key other"
expect_output frame_key_bound_without_cache_key_is_not_checked '{"a":1}' \
  bash -c "'$cli' encode --value '{\"a\": 1}' --bind-key --cache-key k --hex | '$cli' decode --hex"
expect_status frame_bind_key_needs_a_cache_key 1 "$cli" encode --value 1 --bind-key
# A fixed random key (openssl rand -hex 32): the CLI refuses patterned ones (checked below).
key=a8f06af41a1f4ccb936082fdbe129b93fd8d9b7db027d9f3ea40c3b5e5480416
expect_output encrypted_round_trip '[{"$datetime":"2024-01-01T12:30:45.123456+00:00"}]' \
  bash -c "'$cli' encode --value '[{\"\$datetime\": \"2024-01-01T12:30:45.123456+00:00\"}]' \
    --master-key-hex $key --tenant default --cache-key k --hex |
    '$cli' decode --hex --master-key-hex $key --tenant default --cache-key k"

key_file=$(mktemp)
printf '%s\n' "$key" >"$key_file"
expect_output key_file_round_trip '[1,2]' \
  bash -c "'$cli' encode --value '[1, 2]' --master-key-file '$key_file' --tenant default \
    --cache-key k --hex | '$cli' decode --hex --master-key-hex $key --tenant default --cache-key k"
expect_output key_on_stdin '{"a":1}' \
  bash -c "echo $key | '$cli' encode --value '{\"a\": 1}' --master-key-file - --tenant default \
    --cache-key k --hex | '$cli' decode --hex --master-key-file '$key_file' --tenant default \
    --cache-key k"
expect_output key_from_environment '"x"' \
  bash -c "CACHEKIT_MASTER_KEY=$key '$cli' encode --value '\"x\"' --tenant default --cache-key k \
    --hex | CACHEKIT_MASTER_KEY=$key '$cli' decode --hex --tenant default --cache-key k"
expect_status missing_key_file 1 "$cli" encode --value 1 --master-key-file /nonexistent/key \
  --tenant default --cache-key k
# A patterned key (0x61 * 32, the protocol vectors' key) is refused with how to make one.
patterned=$(printf '61%.0s' {1..32})
expect_status patterned_key_refused 1 "$cli" encode --value 1 --master-key-hex "$patterned" \
  --tenant default --cache-key k
if ! grep -q "not random.*openssl rand -hex 32" /tmp/cli_contract_err.$$; then
  echo "FAIL patterned_key_refused: stderr must say the key is not random and how to make one:"
  cat /tmp/cli_contract_err.$$
  failures=$((failures + 1))
fi
expect_status decode_key_and_input_both_on_stdin 1 bash -c "echo 00 | '$cli' decode --hex \
  --master-key-file - --tenant default --cache-key k"

# A parse error never prints a key back, whatever option it was typed after.
expect_no_key_echo() {  # name, command...
  local name=$1; shift
  "$@" >/dev/null 2>/tmp/cli_contract_err.$$
  local status=$?
  if [[ $status -ne 2 ]] || grep -q "$key" /tmp/cli_contract_err.$$; then
    echo "FAIL $name: status $status (want 2), stderr must not hold the key:"
    cat /tmp/cli_contract_err.$$
    failures=$((failures + 1))
  fi
}
expect_no_key_echo misspelt_key_option "$cli" encode --value 1 --master-kee-hex "$key"
expect_no_key_echo key_to_a_command_without_keys "$cli" key --function f --master-key-hex "$key"
expect_no_key_echo attached_key_value "$cli" key --function f --master-key-hex="$key"
expect_no_key_echo repeated_key_option "$cli" encode --value 1 --master-key-hex "$key" \
  --master-key-hex "$key"
rm -f "$key_file"

expect_status no_subcommand 2 "$cli"
expect_status unknown_option 2 "$cli" key --function f --bogus
expect_status missing_required 2 "$cli" interop-key --namespace users
expect_status bad_json 1 "$cli" key --function f --args '[1,'
expect_status bad_segment 1 "$cli" interop-key --namespace Users --operation get --args '[]'
expect_status nan_in_interop_args 1 "$cli" interop-key --namespace a --operation b \
  --args '[{"$float": "nan"}]'
expect_status short_master_key 1 "$cli" encode --value 1 --master-key-hex abcd --tenant t --cache-key k
expect_status key_without_tenant 1 "$cli" encode --value 1 --master-key-hex "$key"
expect_status corrupt_envelope 1 bash -c "echo 94c4 | '$cli' envelope unwrap --hex"
expect_status garbage_decode 1 bash -c "printf 'CK\\003garbage' | '$cli' decode"
expect_status tampered_decode 1 bash -c "'$cli' encode --value 1 --master-key-hex $key \
  --tenant default --cache-key k --hex | sed -E 's/0$/1/;t;s/.$/0/' |
  '$cli' decode --hex --master-key-hex $key --tenant default --cache-key k"

# --version prints the version; an unknown command is named with the list of commands.
expect_stderr() {  # name, status, pattern (grep -E) stderr must match, command...
  local name=$1 want=$2 pattern=$3; shift 3
  "$@" >/dev/null 2>/tmp/cli_contract_err.$$
  local status=$?
  if [[ $status -ne $want ]] || ! grep -Eq "$pattern" /tmp/cli_contract_err.$$; then
    echo "FAIL $name: status $status (want $want), stderr must match: $pattern"
    cat /tmp/cli_contract_err.$$
    failures=$((failures + 1))
  fi
}
version=$("$cli" --version)
if [[ $? -ne 0 || ! "$version" =~ ^cachekit\ [0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  echo "FAIL version: got '$version'"; failures=$((failures + 1))
fi
expect_stderr unknown_command 2 'unknown command "frobnicate"; the commands are: key, .*decode.*, get, inspect' \
  "$cli" frobnicate
expect_stderr no_command_lists_them 2 'a command is required; the commands are: key' "$cli"
# `redis-cli --raw GET k | cachekit decode`: redis-cli ends the bytes with a newline.
expect_output decode_with_trailing_newline '{"a":1}' \
  bash -c "{ '$cli' encode --value '{\"a\": 1}'; echo; } | '$cli' decode"
expect_output decode_with_trailing_crlf '[1]' \
  bash -c "{ '$cli' encode --value '[1]' --mode interop; printf '\r\n'; } | '$cli' decode --mode interop"
expect_stderr decode_garbage_with_newline_says_why 1 'ends with a newline.*redis-cli --raw' \
  bash -c "printf 'CK\\003garbage\n' | '$cli' decode"
# `key --storage redis` is the key redis-cli finds; --explain names the parts.
expect_output key_redis_storage "t:default:ns:test:func:__main__.get_user:args:$key_hash:1s" \
  "$cli" key --namespace test --function __main__.get_user --args '[42]' --storage redis
expect_output key_redis_storage_tenant "t:acme%2Feu:func:f:args:" \
  bash -c "'$cli' key --function f --storage redis --redis-tenant acme/eu | cut -c1-24"
expect_output key_explain_parts "# function (module.qualname, sanitized): func:__main__.get_user:" \
  bash -c "'$cli' key --function __main__.get_user --args '[42]' --explain | grep '^# function'"

rm -f /tmp/cli_contract_err.$$
if ((failures > 0)); then
  echo "$failures CLI contract check(s) failed"
  exit 1
fi
echo "CLI contract: all checks passed"
