"""Live cross-checks between the pinned cachekit-py (in-process) and the C++ `cachekit` CLI.

    python tests/live/run_live_checks.py --cli build/tools/cli/cachekit [--seed N] [--count N]
        [--only check[,check...]] [--case I] [--report FILE] [--python-only] [--list]

Every case is rebuilt from (seed, check, index), so a failure reruns alone with the
``--seed S --only CHECK --case I`` printed next to it. Exit status: 0 all agree, 1 a mismatch
(or a harness error), 2 usage.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import time
import traceback
from dataclasses import asdict, dataclass, field

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import case_gen  # noqa: E402
import checks  # noqa: E402
import cpp_cli  # noqa: E402
import python_sdk  # noqa: E402


@dataclass
class CheckOutcome:
    name: str
    cases: int = 0
    passed: int = 0
    mismatched: int = 0
    differing: int = 0  # cases with only allowed differences
    harness_errors: int = 0
    seconds: float = 0.0
    findings: list[dict] = field(default_factory=list)


def _rerun_hint(seed: int, check: str, index: int) -> str:
    return f"--seed {seed} --only {check} --case {index}"


def run_check(check: checks.Check, cli: cpp_cli.Cli | None, seed: int, count: int, only_case: int | None) -> CheckOutcome:
    outcome = CheckOutcome(check.name)
    started = time.monotonic()
    indices = [only_case] if only_case is not None else list(range(count))
    cases: list[checks.Case] = []
    for i in indices:
        try:
            cases.append(check.make(case_gen.case_rng(seed, check.name, i), i))
        except Exception as e:  # noqa: BLE001 — a generator or cachekit-py failure is a harness error
            outcome.cases += 1
            outcome.harness_errors += 1
            outcome.findings.append({"severity": "harness", "category": "harness", "case": i,
                                     "message": f"building the case failed: {type(e).__name__}: {e}",
                                     "details": {"traceback": traceback.format_exc()[-3000:]},
                                     "rerun": _rerun_hint(seed, check.name, i)})
    if cli is None:  # --python-only: building the case ran the cachekit-py side
        outcome.cases += len(cases)
        outcome.passed += len(cases)
        outcome.seconds = time.monotonic() - started
        return outcome

    results = cli.run_all([call for case in cases for call in case.calls])
    pos = 0
    for case in cases:
        case_results = results[pos : pos + len(case.calls)]
        pos += len(case.calls)
        outcome.cases += 1
        try:
            findings = case.verify(case_results)
        except cpp_cli.CliOutputError as e:
            findings = [checks.Finding("mismatch", "bad-output", str(e))]
        except Exception as e:  # noqa: BLE001
            findings = [checks.Finding("harness", "harness", f"verifying failed: {type(e).__name__}: {e}",
                                       {"traceback": traceback.format_exc()[-3000:]})]
        severities = {f.severity for f in findings}
        if "harness" in severities:
            outcome.harness_errors += 1
        elif "mismatch" in severities:
            outcome.mismatched += 1
        elif "difference" in severities:
            outcome.differing += 1
        else:
            outcome.passed += 1
        for f in findings:
            outcome.findings.append({
                **asdict(f), "case": case.index, "inputs": case.inputs,
                "commands": [r.call.shell(cli.binary) for r in case_results],
                "stdin_hex": [r.call.stdin.hex() if not r.call.stdin_is_hex else r.call.stdin.decode().strip()
                              for r in case_results],
                "rerun": _rerun_hint(0, check.name, case.index),  # seed filled in by main
            })
    outcome.seconds = time.monotonic() - started
    return outcome


def _short(value: object, limit: int = 600) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} chars)"


def print_finding(f: dict, check: str) -> None:
    tag = {"mismatch": "MISMATCH", "difference": "DIFFERENCE", "harness": "HARNESS ERROR"}[f["severity"]]
    print(f"\n{tag} [{check} #{f['case']}] ({f['category']}) {f['message']}")
    if f.get("inputs"):
        print(f"  case:     {_short(f['inputs'])}")
    for cmd in f.get("commands", []):
        print(f"  command:  {_short(cmd, 900)}")
    details = dict(f.get("details") or {})
    for k in ("expected", "got"):
        if k in details:
            print(f"  {k + ':':9} {_short(details.pop(k), 1500)}")
    for k, v in details.items():
        print(f"  {k}: {_short(v, 700)}")
    print(f"  rerun:    {f['rerun']}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cli", help="path to the C++ cachekit CLI (BUILD_DIR/tools/cli/cachekit)")
    parser.add_argument("--seed", type=int, help="RNG seed (default: random, printed)")
    parser.add_argument("--count", type=int, help="cases per check (default: each check's own count)")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every default count")
    parser.add_argument("--only", help="comma-separated check names")
    parser.add_argument("--case", type=int, help="run only this case index (with one --only check)")
    parser.add_argument("--report", help="write every finding with full details to this JSON file")
    parser.add_argument("--max-details", type=int, default=5, help="findings printed per check and severity")
    parser.add_argument("--jobs", type=int, help="concurrent CLI processes")
    parser.add_argument("--python-only", action="store_true", help="build every case (cachekit-py side) without the CLI")
    parser.add_argument("--list", action="store_true", help="list the checks and exit")
    args = parser.parse_args(argv)

    if args.list:
        for c in checks.CHECKS:
            print(f"{c.name:28} {c.default_count:4}  {c.summary}")
        return 0
    selected = checks.CHECKS
    if args.only:
        names = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = [n for n in names if n not in {c.name for c in checks.CHECKS}]
        if unknown:
            parser.error(f"unknown check(s) {unknown}; see --list")
        selected = [c for c in checks.CHECKS if c.name in names]
    if args.case is not None and len(selected) != 1:
        parser.error("--case needs exactly one check in --only")
    cli = None
    if not args.python_only:
        if not args.cli:
            parser.error("--cli is required (or use --python-only)")
        if not (os.path.isfile(args.cli) and os.access(args.cli, os.X_OK)):
            print(f"live checks: no executable CLI at {args.cli}; build it with: cmake --build BUILD_DIR --target cachekit_cli",
                  file=sys.stderr)
            return 2
        cli = cpp_cli.Cli(os.path.abspath(args.cli))
        if args.jobs:
            cli.jobs = args.jobs

    python_sdk.isolate_environment()
    version = python_sdk.check_version()
    seed = args.seed if args.seed is not None else secrets.randbelow(2**31)
    print(f"live checks: cachekit-py {version} vs {cli.binary if cli else '(python only)'}; seed {seed}")

    started = time.monotonic()
    outcomes: list[CheckOutcome] = []
    for c in selected:
        count = args.count if args.count is not None else max(1, round(c.default_count * args.scale))
        outcome = run_check(c, cli, seed, count, args.case)
        for f in outcome.findings:
            f["rerun"] = _rerun_hint(seed, c.name, f["case"])
        outcomes.append(outcome)
        status = "ok" if not (outcome.mismatched or outcome.harness_errors) else "FAIL"
        print(f"  {c.name:28} {outcome.cases:4} cases  {outcome.passed:4} agree  {outcome.differing:3} allowed-diff  "
              f"{outcome.mismatched:3} mismatch  {outcome.harness_errors:2} harness  {outcome.seconds:6.1f}s  {status}",
              flush=True)
    elapsed = time.monotonic() - started

    for outcome in outcomes:
        for severity in ("mismatch", "harness", "difference"):
            shown = [f for f in outcome.findings if f["severity"] == severity]
            limit = args.max_details if severity != "difference" else min(1, args.max_details)  # one example
            for f in shown[:limit]:
                print_finding(f, outcome.name)
            if len(shown) > limit:
                print(f"\n  ... {len(shown) - limit} more {severity} findings in {outcome.name}"
                      + (f" (see {args.report})" if args.report else " (use --report FILE)"))

    categories: dict[tuple[str, str, str], int] = {}
    for outcome in outcomes:
        for f in outcome.findings:
            key = (outcome.name, f["severity"], f["category"])
            categories[key] = categories.get(key, 0) + 1
    if categories:
        print("\nfindings by check / severity / category:")
        for (name, sev, cat), n in sorted(categories.items()):
            print(f"  {name:28} {sev:10} {cat:18} {n}")

    if args.report:
        with open(args.report, "w", encoding="utf-8") as fh:
            json.dump({"seed": seed, "cachekit_py": version, "cli": cli.binary if cli else None,
                       "seconds": elapsed, "checks": [asdict(o) for o in outcomes]}, fh, ensure_ascii=False, indent=1)

    total = sum(o.cases for o in outcomes)
    bad = sum(o.mismatched + o.harness_errors for o in outcomes)
    diffs = sum(o.differing for o in outcomes)
    print(f"\nlive checks: {total} cases, {bad} failing, {diffs} with allowed differences, {elapsed:.1f}s, seed {seed}")
    if bad:
        print(f"rerun one case: scripts/run-live-checks.sh BUILD_DIR --seed {seed} --only CHECK --case N")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
