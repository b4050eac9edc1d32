"""Load and faults on the production shape: gunicorn (TLS) + PostgreSQL + Redis + one worker.

Creates a scratch PostgreSQL database on the server of TEST_DATABASE_URL, seeds it with
200,000 matches (bench/queue_speed.py's generator), staff, partners with API tokens and digest
subscriptions; starts its own Redis (on a free port, append-only like a production broker), a
Celery worker and gunicorn exactly as the README starts them (COOPMATCH_ENV=production, a
self-signed certificate so the Secure cookies travel, COOPMATCH_PROXY_HOPS=1 with one address per
simulated client); then runs Locust headless (bench/load/locustfile.py): staff browsing,
filtering and deciding in the queue, partners posting offers through the API, the public
offer form with its CSRF token, digest previews.

Reports requests per second and p50/p95/p99 per route and the errors; then checks that every
offer the API accepted is stored exactly once and scored within 60 s, and that every public
form offer is stored exactly once. `--restart-redis-at S` stops Redis S seconds into the run and
starts it again 5 s later. Everything it started is stopped and the database dropped.

Usage: python bench/load.py [--users 20] [--duration 90] [--restart-redis-at 40]
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

import config as app_config  # noqa: E402
from models import Offer, Organization, migrate  # noqa: E402
from models.db import make_engine, make_session_factory  # noqa: E402

BIN = Path(sys.executable).parent
DEFAULT_URL = os.environ.get(
    "TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
PASSWORD = "load-bench-password"
STAFF = 12
PARTNERS = 6
SCORED_WITHIN = 60
QUEUE_P95_TARGET_MS = 500


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _load_queue_speed():
    spec = importlib.util.spec_from_file_location("queue_speed", ROOT / "bench" / "queue_speed.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def seed(url: str, matches: int, workdir: Path) -> dict:
    """Fill the database and return what the Locust users need."""
    from models import User
    from models.digests import Subscription
    from services import api_tokens, clock, user_admin

    queue_speed = _load_queue_speed()
    engine = make_engine(url)
    started = time.perf_counter()
    queue_speed.fill(engine, matches, queue_speed.DEFAULT_PROJECTS, queue_speed.DEFAULT_OFFERS, 11)
    factory = make_session_factory(engine)
    staff, partners, subscriptions = [], [], []
    with factory() as session:
        for n in range(STAFF):
            email = f"staff{n}@load.example"
            user_admin.create_user(session, email, "staff", PASSWORD)
            staff.append(email)
        allies = session.scalars(
            sa.select(Organization).where(Organization.side == "supply").limit(PARTNERS)
        ).all()
        for n, ally in enumerate(allies):
            email = f"partner{n}@load.example"
            user_admin.create_user(session, email, "partner", PASSWORD, organization_id=ally.id)
            _, raw = api_tokens.create_token(session, email, "load")
            partners.append({"token": raw, "organization_id": ally.id})
        _, staff_token = api_tokens.create_token(session, staff[0], "load")
        staff_api = {"token": staff_token, "organization_id": allies[0].id}
        for user in session.scalars(sa.select(User).where(User.role == "staff").limit(4)):
            sub = Subscription(
                user_id=user.id,
                kind="staff",
                lines=[],
                min_score=0.5,
                language="es",
                covered_until=clock.now() - timedelta(days=7),
            )
            session.add(sub)
            session.flush()
            subscriptions.append(sub.id)
        session.commit()
    engine.dispose()
    print(
        f"seeded {matches:,} matches, {STAFF} staff, {len(partners)} partners "
        f"in {time.perf_counter() - started:.0f} s",
        flush=True,
    )
    record = workdir / "accepted.jsonl"
    record.touch()
    return {
        "staff": staff,
        "partners": partners,
        "subscriptions": subscriptions,
        "staff_api": staff_api,
        "password": PASSWORD,
        "record": str(record),
    }


class Process:
    """A child process in its own group, logging to a file."""

    def __init__(self, command: str | list[str], env: dict, log: Path, shell: bool = False):
        self.log = log
        self.proc = subprocess.Popen(
            command,
            shell=shell,
            cwd=ROOT,
            env=env,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)


def start_redis(port: int, workdir: Path) -> Process:
    data = workdir / "redis"
    data.mkdir(exist_ok=True)
    command = [
        "redis-server",
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "yes",
        "--appendfsync",
        "everysec",
        "--dir",
        str(data),
    ]
    process = Process(command, dict(os.environ), workdir / "redis.log")
    for _ in range(50):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process
        except OSError:
            time.sleep(0.1)
    raise SystemExit("redis-server did not start")


def _wait_http(url: str, timeout: float = 60) -> None:
    import ssl

    context = ssl._create_unverified_context()  # noqa: S323  (the bench's own certificate)
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5, context=context) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"{url} did not answer in {timeout} s")
        time.sleep(0.5)


def _certificate(workdir: Path) -> tuple[Path, Path]:
    key, cert = workdir / "key.pem", workdir / "cert.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return key, cert


def _stats(prefix: Path) -> list[dict]:
    with (prefix.parent / f"{prefix.name}_stats.csv").open(encoding="utf-8") as stream:
        return list(csv.DictReader(stream))


def _server_errors(prefix: Path) -> int:
    path = prefix.parent / f"{prefix.name}_failures.csv"
    if not path.exists():
        return 0
    with path.open(encoding="utf-8") as stream:
        return sum(
            int(row["Occurrences"])
            for row in csv.DictReader(stream)
            if " 5" in row["Error"] or "Server Error" in row["Error"]
        )


def check_offers(url: str, record: Path) -> dict:
    """Every accepted offer stored once; every API offer scored within SCORED_WITHIN s."""
    accepted = [json.loads(line) for line in record.read_text().splitlines() if line]
    engine = make_engine(url)
    result = {"api": 0, "form": 0, "duplicates": 0, "missing": 0, "late": 0, "max_scoring_s": 0.0}
    deadline = time.monotonic() + SCORED_WITHIN
    with engine.connect() as conn:
        while True:
            unscored = conn.execute(
                sa.select(sa.func.count())
                .select_from(Offer)
                .where(Offer.title.like("Load offer %"), Offer.scoring_state != "scored")
            ).scalar()
            if not unscored or time.monotonic() > deadline:
                break
            time.sleep(1)
        for item in accepted:
            title = ("Load offer " if item["kind"] == "api" else "Public offer ") + item["marker"]
            rows = conn.execute(
                sa.select(Offer.created_at, Offer.scored_at, Offer.scoring_state).where(
                    Offer.title == title
                )
            ).all()
            result[item["kind"]] += 1
            if not rows:
                result["missing"] += 1
                continue
            result["duplicates"] += len(rows) - 1
            if item.get("status") == "published":
                created, scored, state = rows[0]
                if state != "scored" or scored is None:
                    result["late"] += 1
                else:
                    took = (scored - created).total_seconds()
                    result["max_scoring_s"] = max(result["max_scoring_s"], round(took, 1))
                    result["late"] += took > SCORED_WITHIN
    engine.dispose()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--spawn-rate", type=float, default=4)
    parser.add_argument("--duration", type=int, default=90, help="seconds of load")
    parser.add_argument("--matches", type=int, default=200_000)
    parser.add_argument("--restart-redis-at", type=int, default=0, help="seconds into the run")
    parser.add_argument("--gunicorn-workers", type=int, default=4)
    args = parser.parse_args()

    base = make_engine(app_config._normalise_db_url(DEFAULT_URL), isolation_level="AUTOCOMMIT")
    name = f"coopmatch_load_{uuid.uuid4().hex[:8]}"
    with base.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = base.url.set(database=name).render_as_string(hide_password=False)
    workdir = Path(tempfile.mkdtemp(prefix="coopmatch-load-"))
    processes: list[Process] = []
    try:
        migrate.upgrade(url)
        users = seed(url, args.matches, workdir)
        config_path = workdir / "locust.json"
        config_path.write_text(json.dumps(users), encoding="utf-8")
        redis_port, web_port = _free_port(), _free_port()
        redis = start_redis(redis_port, workdir)
        key, cert = _certificate(workdir)
        env = {k: v for k, v in os.environ.items() if not k.startswith("COOPMATCH_")}
        env.update(
            PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
            COOPMATCH_ENV="production",
            SECRET_KEY=uuid.uuid4().hex + uuid.uuid4().hex,
            DATABASE_URL=url,
            REDIS_URL=f"redis://127.0.0.1:{redis_port}/0",
            COOPMATCH_INSTANCE_PATH=str(workdir / "instance"),
            COOPMATCH_PROXY_HOPS="1",
            COOPMATCH_BASE_URL=f"https://127.0.0.1:{web_port}",
            GUNICORN_CMD_ARGS=(
                f"--bind 127.0.0.1:{web_port} --workers {args.gunicorn_workers} "
                f"--worker-class gthread --threads 4 --certfile {cert} --keyfile {key}"
            ),
        )
        processes.append(
            Process("celery -A workers.main worker", env, workdir / "worker.log", shell=True)
        )
        processes.append(
            Process('gunicorn "web.app:create_app()"', env, workdir / "web.log", shell=True)
        )
        _wait_http(f"https://127.0.0.1:{web_port}/healthz")
        prefix = workdir / "locust"
        locust = subprocess.Popen(
            [
                str(BIN / "locust"),
                "-f",
                str(ROOT / "bench" / "load" / "locustfile.py"),
                "--headless",
                "-u",
                str(args.users),
                "-r",
                str(args.spawn_rate),
                "-t",
                f"{args.duration}s",
                "--host",
                f"https://127.0.0.1:{web_port}",
                "--csv",
                str(prefix),
                "--only-summary",
                "--loglevel",
                "WARNING",
            ],
            cwd=ROOT,
            env={**os.environ, "BENCH_LOAD_CONFIG": str(config_path)},
            stdout=(workdir / "locust.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        if args.restart_redis_at:
            time.sleep(args.restart_redis_at)
            redis.stop(signal.SIGKILL)  # a crash, not a clean shutdown
            print(f"redis killed at {args.restart_redis_at} s; restarting in 5 s", flush=True)
            time.sleep(5)
            redis = start_redis(redis_port, workdir)
        processes.append(redis)
        locust.wait(timeout=args.duration + 120)
        report(prefix, args)
        checked = check_offers(url, Path(users["record"]))
        print("offers: " + ", ".join(f"{k}={v}" for k, v in checked.items()))
        print(
            f"server_errors={_server_errors(prefix)} lost={checked['missing']} "
            f"duplicates={checked['duplicates']} late={checked['late']}"
        )
    finally:
        for process in reversed(processes):
            process.stop()
        with base.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        base.dispose()
        shutil.rmtree(workdir, ignore_errors=True)


def report(prefix: Path, args) -> None:
    rows = _stats(prefix)
    print(
        f"\n{args.users} users for {args.duration} s"
        + (f", Redis killed at {args.restart_redis_at} s" if args.restart_redis_at else "")
    )
    print(
        f"{'route':34} {'requests':>8} {'fails':>6} {'req/s':>7} {'p50':>6} {'p95':>6} {'p99':>6}"
    )
    for row in rows:
        print(
            f"{row['Name'][:34]:34} {row['Request Count']:>8} {row['Failure Count']:>6} "
            f"{float(row['Requests/s']):7.1f} {row['50%']:>6} {row['95%']:>6} {row['99%']:>6}"
        )
    failures = prefix.parent / f"{prefix.name}_failures.csv"
    if failures.exists():
        with failures.open(encoding="utf-8") as stream:
            for row in csv.DictReader(stream):
                print(
                    f"  failed {row['Occurrences']}x {row['Method']} {row['Name']}: "
                    f"{row['Error'][:120]}"
                )
    queue = next((r for r in rows if r["Name"] == "/staff/queue"), None)
    if queue:
        p95 = float(queue["95%"])
        verdict = "ok" if p95 <= QUEUE_P95_TARGET_MS else "over"
        print(f"queue page p95 {p95:.0f} ms (target {QUEUE_P95_TARGET_MS} ms: {verdict})")


if __name__ == "__main__":
    main()
