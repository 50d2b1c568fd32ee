"""The C++ `cachekit` CLI as subprocess calls, plus the text that reproduces each call in a shell.

The CLI has no batch mode, so the runner builds every call of a check up front (``CliCall``) and
runs them on a thread pool (``run_all``). Calls are pure: the same argv and stdin always give the
same answer (only encryption nonces differ), so running them concurrently is safe.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field


# One call may not take longer than this; the whole live run must stay under 2 minutes.
CALL_TIMEOUT_SECONDS = 10


class CliOutputError(ValueError):
    """The CLI exited 0 but its output is not in the promised form."""


@dataclass
class CliCall:
    argv: list[str]  # without the binary
    stdin: bytes = b""
    stdin_is_hex: bool = False  # only changes how a failure report shows stdin

    def shell(self, binary: str) -> str:
        """A shell command line that repeats this call."""
        cmd = " ".join(shlex.quote(a) for a in [binary, *self.argv])
        if not self.stdin:
            return cmd
        if self.stdin_is_hex:
            text = self.stdin.decode()
            if len(text) > 400:
                return f"echo <{len(text) // 2}-byte value as hex, see report file> | {cmd}"
            return f"echo {text} | {cmd}"
        if len(self.stdin) > 200:
            return f"<{len(self.stdin)} raw bytes, see report file> | {cmd}"
        escaped = "".join("\\x%02x" % b for b in self.stdin)
        return f"printf '{escaped}' | {cmd}"


@dataclass
class CliResult:
    call: CliCall
    returncode: int
    stdout: bytes
    stderr: bytes

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def text(self) -> str:
        return self.stdout.decode("utf-8", errors="replace")

    def line(self) -> str:
        """stdout as one line of text (keys), trailing newline removed."""
        out = self.text()
        return out[:-1] if out.endswith("\n") else out

    def binary(self, hex_output: bool) -> bytes:
        """stdout as bytes; raises ValueError when --hex output is not hex."""
        if hex_output:
            text = self.text().strip()
            try:
                return bytes.fromhex(text)
            except ValueError:
                raise CliOutputError(f"--hex output is not hex: {text[:80]!r}") from None
        return self.stdout

    def describe(self) -> str:
        err = self.stderr.decode("utf-8", errors="replace").strip()
        return f"exit {self.returncode}" + (f", stderr: {err[:400]}" if err else "")


@dataclass
class Cli:
    binary: str
    jobs: int = field(default_factory=lambda: max(2, min(16, (os.cpu_count() or 2))))

    def run(self, call: CliCall) -> CliResult:
        try:
            p = subprocess.run(
                [self.binary, *call.argv], input=call.stdin, capture_output=True, timeout=CALL_TIMEOUT_SECONDS
            )
            return CliResult(call, p.returncode, p.stdout, p.stderr)
        except subprocess.TimeoutExpired:
            return CliResult(call, -1, b"", f"timed out after {CALL_TIMEOUT_SECONDS}s".encode())
        except (OSError, ValueError) as e:  # e.g. an argument the OS cannot pass
            return CliResult(call, -2, b"", f"could not start the CLI: {e}".encode())

    def run_all(self, calls: list[CliCall]) -> list[CliResult]:
        with ThreadPoolExecutor(max_workers=self.jobs) as pool:
            return list(pool.map(self.run, calls))


# --- argv builders, one per CLI command --------------------------------------------------------


def _opt(name: str, value: str) -> list[str]:
    """``--name=value``, so a value starting with '-' is never read as an option; an empty value
    goes as its own argument, because CLI11 reads ``--name=`` as "value missing" and takes the next
    argument instead."""
    return [f"{name}={value}"] if value else [name, value]


def key_call(namespace: str | None, function: str, args_json: str, kwargs_json: str | None, integrity: bool) -> CliCall:
    argv = ["key"]
    if namespace is not None:
        argv += _opt("--namespace", namespace)
    argv += _opt("--function", function)
    if not integrity:
        argv.append("--no-integrity")
    argv += _opt("--args", args_json)
    if kwargs_json is not None:
        argv += _opt("--kwargs", kwargs_json)
    return CliCall(argv)


def interop_key_call(namespace: str, operation: str, args_json: str) -> CliCall:
    return CliCall(["interop-key", *_opt("--namespace", namespace), *_opt("--operation", operation),
                    *_opt("--args", args_json)])


def _encryption_argv(master_key_hex: str | None, tenant: str | None, cache_key: str | None,
                     previous: tuple[str, ...] = ()) -> list[str]:
    argv: list[str] = []
    if master_key_hex is not None:
        argv += _opt("--master-key-hex", master_key_hex)
    for p in previous:
        argv += _opt("--previous-key-hex", p)
    if tenant is not None:
        argv += _opt("--tenant", tenant)
    if cache_key is not None:
        argv += _opt("--cache-key", cache_key)
    return argv


def encode_call(value_json: str, *, mode: str | None, integrity: bool, hex_output: bool,
                master_key_hex: str | None = None, tenant: str | None = None, cache_key: str | None = None) -> CliCall:
    argv = ["encode", *_opt("--value", value_json)]
    if mode is not None:
        argv += _opt("--mode", mode)
    if not integrity:
        argv.append("--no-integrity")
    argv += _encryption_argv(master_key_hex, tenant, cache_key)
    if hex_output:
        argv.append("--hex")
    return CliCall(argv)


def decode_call(stored: bytes, *, mode: str | None, hex_input: bool, master_key_hex: str | None = None,
                previous: tuple[str, ...] = (), tenant: str | None = None, cache_key: str | None = None) -> CliCall:
    argv = ["decode"]
    if mode is not None:
        argv += _opt("--mode", mode)
    argv += _encryption_argv(master_key_hex, tenant, cache_key, previous)
    if hex_input:
        argv.append("--hex")
        return CliCall(argv, stored.hex().encode() + b"\n", stdin_is_hex=True)
    return CliCall(argv, stored)


def envelope_wrap_call(data: bytes, fmt: str | None, hex_io: bool) -> CliCall:
    argv = ["envelope", "wrap"]
    if fmt is not None:
        argv += _opt("--format", fmt)
    if hex_io:
        argv.append("--hex")
        return CliCall(argv, data.hex().encode() + b"\n", stdin_is_hex=True)
    return CliCall(argv, data)


def envelope_unwrap_call(envelope: bytes, hex_io: bool) -> CliCall:
    argv = ["envelope", "unwrap"]
    if hex_io:
        argv.append("--hex")
        return CliCall(argv, envelope.hex().encode() + b"\n", stdin_is_hex=True)
    return CliCall(argv, envelope)


def parse_decoded(result: CliResult) -> object:
    """The tagged JSON a `decode` printed (one document; `--explain` lines start with '#')."""
    # split("\n"), not splitlines(): U+2028, U+0085 and friends may sit raw inside JSON strings.
    lines = [ln for ln in result.text().split("\n") if not ln.startswith("#")]
    return json.loads("\n".join(lines))


__all__ = [
    "Cli", "CliCall", "CliResult", "decode_call", "encode_call", "envelope_unwrap_call", "envelope_wrap_call",
    "interop_key_call", "key_call", "parse_decoded",
]
