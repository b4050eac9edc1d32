"""Fuzz the API from its OpenAPI document with schemathesis, then round-trip what it wrote.

Starts the demo server the README's way (`make run`, on a free port, in a scratch instance
folder), creates a partner token, and runs

    schemathesis run /api/v1/openapi.json --checks all --exclude-checks positive_data_acceptance

with a staff token and again with a partner token (every phase: coverage, fuzzing, stateful).
Then it exports organisations, offers and projects (CSV and JSON) from the database the fuzzer
filled, imports them into an empty database and exports again: both exports must be the same.

    python scripts/fuzz_api.py                      # random seed (printed), 100 examples
    python scripts/fuzz_api.py --seed 7 --max-examples 10

Exit code 0 when schemathesis reports no failure and the round trip is lossless; the seed is
printed first so a failure can be replayed. `make fuzz` runs this; the test suite runs it with
a fixed seed (tests/integration/test_api_fuzz.py).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
STAFF_TOKEN = "cm_demo_staff_token_for_local_use_only"  # services/demo.py's, embedded only
KINDS = ("organizations", "offers", "projects")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env(instance: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COOPMATCH_")}
    for name in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY"):
        env.pop(name, None)  # the embedded default: SQLite and in-process tasks
    env.update(
        COOPMATCH_INSTANCE_PATH=str(instance),
        COOPMATCH_ENV="development",
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
    )
    return env


def _run_flask(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "flask"), "--app", "web", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _flask(env: dict, *args: str) -> str:
    done = _run_flask(env, *args)
    if done.returncode != 0:
        raise SystemExit(f"flask {' '.join(args)} failed: {done.stderr.strip()[-500:]}")
    return done.stdout


def _wait_healthy(port: int, proc: subprocess.Popen, log: Path, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"`make run` stopped early:\n{log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=3) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"the server did not answer on port {port}:\n{log.read_text()[-2000:]}")


def _schemathesis(port: int, token: str, seed: int, examples: int, out: Path) -> int:
    command = [
        str(BIN / "schemathesis"),
        "run",
        f"http://127.0.0.1:{port}/api/v1/openapi.json",
        "--checks",
        "all",
        "--exclude-checks",
        "positive_data_acceptance",
        "--header",
        f"Authorization: Bearer {token}",
        "--seed",
        str(seed),
        "--max-examples",
        str(examples),
        "--no-color",
        "--wait-for-schema",
        "30",
    ]
    with out.open("w") as stream:
        done = subprocess.run(command, cwd=out.parent, stdout=stream, stderr=subprocess.STDOUT)
    text = out.read_text()
    summary = [line for line in text.splitlines() if "generated" in line or "passed" in line]
    print(f"  {out.name}: exit {done.returncode}; {summary[-1].strip() if summary else ''}")
    if done.returncode != 0:
        print(text[-6000:])
    return done.returncode


def round_trip(env: dict, work: Path) -> list[str]:
    """Export every kind from env's database, import into an empty one, export again: return
    the differences (none when the round trip is lossless)."""
    problems = []
    target = _env(work / "restored")
    _flask(target, "db", "upgrade")
    for fmt in ("csv", "json"):
        if fmt == "json":  # a second empty database for the second format
            target = _env(work / "restored-json")
            _flask(target, "db", "upgrade")
        for kind in KINDS:
            first = work / f"{kind}.{fmt}"
            _flask(env, "export", kind, str(first))
            imported = _run_flask(target, "import", kind, str(first))
            if imported.returncode != 0:
                lines = imported.stderr.strip().splitlines()
                shown = "\n    ".join(lines[:5] + (["..."] if len(lines) > 6 else []) + lines[-1:])
                problems.append(f"{kind}.{fmt} did not import:\n    {shown}")
                continue
            second = work / f"{kind}.again.{fmt}"
            _flask(target, "export", kind, str(second))
            if first.read_text() != second.read_text():
                problems.append(f"{kind}.{fmt}: the export of the restored database differs")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=None, help="default: a random one")
    parser.add_argument("--max-examples", type=int, default=100)
    parser.add_argument("--keep", type=Path, help="write the logs and exports here")
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.randrange(1, 2**31)
    print(f"seed={seed} max_examples={args.max_examples}", flush=True)

    work = Path(args.keep or tempfile.mkdtemp(prefix="coopmatch-fuzz-"))
    if args.keep:  # a kept folder from an earlier run would hold its databases: start empty
        shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    env = _env(work / "instance")
    port = _free_port()
    log = work / "server.log"
    server = subprocess.Popen(
        ["make", "run", f"PORT={port}"],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    failures = 0
    try:
        _wait_healthy(port, server, log)
        partner = _flask(env, "create-token", "partner@coopmatch.example").strip()
        for name, token in (("staff", STAFF_TOKEN), ("partner", partner)):
            failures += bool(
                _schemathesis(port, token, seed, args.max_examples, work / f"fuzz-{name}.txt")
            )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    problems = round_trip(env, work)
    for problem in problems:
        print(f"  round trip: {problem}")
    ok = failures == 0 and not problems
    print(f"{'ok' if ok else 'FAILED'}: seed={seed}; logs and exports in {work}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
