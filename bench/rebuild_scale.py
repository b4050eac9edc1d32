"""Time a full rebuild split across real worker processes: 1 process, then 2.

    python bench/rebuild_scale.py [--scale 1.0] [--chunk 50] [--database-url URL] [--redis-url URL]

Creates a scratch PostgreSQL database (dropped at the end) holding 5,000 projects x 50,000
offers (times --scale) made from the texts of ../shared/benchdata the way bench/rank_speed.py
builds its corpus (the same sentences and recombination, seeded), and uses the Redis database of
--redis-url (flushed; default TEST_REDIS_URL). Then, from a clean state each time (no matches,
no fitted index), it starts N `celery -A workers.main worker --concurrency=1` processes as the
README does, asks for a rebuild and waits for it to be done, for N = 1 and N = 2. It reports:

- wall time from the request to the job being done (fit + chunks + finish), per N, and the
  speed-up of 2 processes over 1;
- rows written per second (proposed matches / wall time);
- peak RSS per worker (VmHWM of each worker's pool process; the mapped index pages it touched
  count, though every process shares them);
- while the 2-process rebuild runs (after its fit), new offers are committed one after another
  and the time from commit to their first match being readable is measured; its p95.

The last line is exactly `speedup=<x.xx> peak_mib=<n> new_offer_p95_s=<x.x>`.
Targets: speed-up >= 1.6, peak <= 1,536 MiB, p95 <= 5 s.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402
import sqlalchemy as sa  # noqa: E402

import config as app_config  # noqa: E402
from models import Job, Match, Offer, Organization, Project, migrate  # noqa: E402
from models.db import make_engine, make_session_factory  # noqa: E402
from services import catalog, outbox  # noqa: E402
from services.matching import rebuild  # noqa: E402
from tests.integration.workers import WorkerProcess  # noqa: E402
from workers.celery_app import BrokerSender, broker_client  # noqa: E402

DEFAULT_URL = os.environ.get(
    "TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
DEFAULT_REDIS = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
DEFAULT_PROJECTS = 5_000
DEFAULT_OFFERS = 50_000
DEFAULT_CHUNK = 50
DEFAULT_PROBES = 30
DEFAULT_PROBE_TIMEOUT = 60.0
TARGETS = {"speedup": 1.6, "peak_mib": 1536, "new_offer_p95_s": 5.0}


def _rank_speed():
    spec = importlib.util.spec_from_file_location("rank_speed", ROOT / "bench" / "rank_speed.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def scratch_database(admin_url: str) -> tuple[sa.Engine, str, str]:
    admin = make_engine(app_config._normalise_db_url(admin_url), isolation_level="AUTOCOMMIT")
    name = f"coopmatch_scale_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    migrate.upgrade(url)
    return admin, name, url


def fill(factory, supply: list[dict], demand: list[dict]) -> None:
    """Store the generated items: projects of one city, offers of 40 allies."""
    with factory() as session:
        city = Organization(name="Bench city", kind="local_public", side="demand", country="CO")
        allies = [
            Organization(name=f"Bench ally {i}", kind="foundation", side="supply", country="US")
            for i in range(40)
        ]
        session.add_all([city, *allies])
        session.flush()
        projects = [
            {
                "organization_id": city.id,
                "title": d["title"][:300],
                "description": d["description"],
                "language": "en",
                "lines": [],
                "sdgs": [],
                "modalities": ["grant"],
                "budget": 500_000,
                "cofinancing": 0,
                "currency": "USD",
                "stage": "formulation",
                "status": "open",
            }
            for d in demand
        ]
        offers = [
            {
                "organization_id": allies[i % len(allies)].id,
                "title": s["title"][:300],
                "description": s["description"],
                "language": "en",
                "lines": [],
                "sdgs": [],
                "modalities": ["grant"],
                "eligible_kinds": [],
                "eligible_countries": [],
                "status": "published",
                "source": "import",
            }
            for i, s in enumerate(supply)
        ]
        for rows, model in ((projects, Project), (offers, Offer)):
            for start in range(0, len(rows), 5_000):
                session.execute(sa.insert(model), rows[start : start + 5_000])
        session.commit()


class Worker(WorkerProcess):
    """One `celery -A workers.main worker --concurrency=1` (tests/integration/workers.py)."""

    def __init__(self, env: dict[str, str], log: Path, name: str) -> None:
        super().__init__(env, log, concurrency=1, name=name)
        self.start(timeout=120)

    def peak_mib(self) -> float:
        """The largest VmHWM among the worker's pool processes (its children), in MiB."""
        peaks = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) != self.proc.pid:
                    continue
                status = (stat.parent / "status").read_text()
            except (OSError, IndexError, ValueError):
                continue
            for line in status.splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]) / 1024)
        return max(peaks, default=0.0)


def reset(factory, redis_url: str, index_dir: Path) -> None:
    """No matches, jobs or fitted index: every run fits and writes everything."""
    redis.Redis.from_url(redis_url).flushdb()
    with factory() as session:
        session.execute(sa.text("TRUNCATE matches, rebuild_chunks, jobs, index_versions CASCADE"))
        # As in steady operation, where every item was scored when it was saved.
        for table in ("offers", "projects"):
            session.execute(sa.text(f"UPDATE {table} SET scoring_state = 'scored'"))
        session.commit()
    shutil.rmtree(index_dir, ignore_errors=True)


def probe_new_offers(factory, sender, job_id: str, texts: list[str], out: list[float]) -> None:
    """While the rebuild runs (after its fit), commit new offers one after another and time
    each from its commit to its first match being readable."""
    rng = random.Random(3)
    with factory() as session:
        ally = session.scalar(sa.select(Organization.id).where(Organization.side == "supply"))
    while True:
        with factory() as session:
            job = session.get(Job, job_id)
            if job.status == "done" or len(out) >= DEFAULT_PROBES:
                return
            if job.status != "running" or not job.total:  # wait for the fit to be done
                time.sleep(0.2)
                continue
        with factory() as session:
            session.info[outbox.SENDER_KEY] = sender
            started = time.perf_counter()
            offer = catalog.create(
                session,
                Offer,
                {
                    "organization_id": ally,
                    "title": "New call",
                    "description": rng.choice(texts),
                    "language": "en",
                    "modalities": ["grant"],
                    "status": "published",
                },
            )
            offer_id = offer.id
        found = sa.select(sa.func.count()).where(
            Match.offer_id == offer_id, Match.status != "withdrawn"
        )
        while time.perf_counter() - started < DEFAULT_PROBE_TIMEOUT:
            with factory() as session:
                if session.scalar(found):
                    break
            time.sleep(0.05)
        out.append(time.perf_counter() - started)
        time.sleep(0.5)


def run(n_workers: int, factory, settings, env, logs: Path, probe_texts: list[str] | None) -> dict:
    reset(factory, settings.redis_url, settings.index_path)
    workers = [Worker(env, logs / f"w{n_workers}-{k}.log", f"w{k}") for k in range(n_workers)]
    sender = BrokerSender(broker_client(settings))
    latencies: list[float] = []
    try:
        with factory() as session:
            session.info[outbox.SENDER_KEY] = sender
            started = time.perf_counter()
            job_id = rebuild.request_rebuild(session).id
        prober = None
        if probe_texts:
            prober = threading.Thread(
                target=probe_new_offers, args=(factory, sender, job_id, probe_texts, latencies)
            )
            prober.start()
        while True:
            with factory() as session:
                job = session.get(Job, job_id)
                if job.status == "done":
                    break
                if job.status == "failed":
                    raise SystemExit(f"rebuild failed: {job.detail}")
            time.sleep(0.2)
        wall = time.perf_counter() - started
        if prober is not None:
            prober.join()
        with factory() as session:
            rows = session.scalar(
                sa.select(sa.func.count()).select_from(Match).where(Match.status == "proposed")
            )
            chunks = session.execute(
                sa.text("SELECT worker, count(*) FROM rebuild_chunks GROUP BY worker")
            ).all()
            # Where the time went: queue -> start, the fit, the chunks, the finish.
            phases = session.execute(
                sa.text(
                    "SELECT extract(epoch FROM j.started_at - j.created_at),"
                    " extract(epoch FROM v.fitted_at - j.started_at),"
                    " extract(epoch FROM max(c.done_at) - v.fitted_at),"
                    " extract(epoch FROM j.finished_at - max(c.done_at))"
                    " FROM jobs j JOIN index_versions v ON v.id = j.subject"
                    " JOIN rebuild_chunks c ON c.job_id = j.id WHERE j.id = :job"
                    " GROUP BY j.id, v.fitted_at"
                ),
                {"job": job_id},
            ).one()
        peaks = [round(w.peak_mib()) for w in workers]
    finally:
        for worker in workers:
            worker.stop()
    return {
        "workers": n_workers,
        "wall_s": round(wall, 1),
        "rows": rows,
        "rows_per_s": round(rows / wall),
        "peak_mib": peaks,
        "chunks_by_worker": sorted(n for _, n in chunks),
        "start_fit_chunks_finish_s": [round(float(x), 1) for x in phases],
        "latencies": latencies,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="share of 5,000 x 50,000")
    parser.add_argument("--chunk", type=int, default=DEFAULT_CHUNK, help="projects per chunk")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "benchdata")
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS)
    args = parser.parse_args(argv)
    n_projects = max(int(DEFAULT_PROJECTS * args.scale), 10)
    n_offers = max(int(DEFAULT_OFFERS * args.scale), 10)
    rank_speed = _rank_speed()
    pool = rank_speed.sentences(args.data)
    supply, demand = rank_speed.corpus(pool, n_projects, n_offers, rank_speed.DEFAULT_SEED)
    admin, name, url = scratch_database(args.database_url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    work = Path(tempfile.mkdtemp(prefix="coopmatch-scale-"))
    settings = app_config.Settings(
        database_url=url, redis_url=args.redis_url, instance_path=work, rebuild_chunk=args.chunk
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("COOPMATCH_")}
    env.update(
        DATABASE_URL=url,
        REDIS_URL=args.redis_url,
        COOPMATCH_INSTANCE_PATH=str(work),
        COOPMATCH_REBUILD_CHUNK=str(args.chunk),
        COOPMATCH_LOCK_TTL="900",
    )
    print(f"corpus: {n_projects} projects x {n_offers} offers, chunks of {args.chunk}")
    try:
        fill(factory, supply, demand)
        one = run(1, factory, settings, env, work, None)
        print("1 worker ", {k: v for k, v in one.items() if k != "latencies"})
        texts = [d["description"] for d in demand]
        two = run(2, factory, settings, env, work, texts)
        print("2 workers", {k: v for k, v in two.items() if k != "latencies"})
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        shutil.rmtree(work, ignore_errors=True)
    latencies = sorted(two["latencies"])
    p95 = latencies[max(int(0.95 * len(latencies)) - 1, 0)] if latencies else float("nan")
    if latencies:
        print(
            f"new offers during the rebuild: {len(latencies)}, median "
            f"{statistics.median(latencies):.2f} s, p95 {p95:.2f} s"
        )
    speedup = one["wall_s"] / two["wall_s"]
    peak = max(one["peak_mib"] + two["peak_mib"])
    print(f"targets: {TARGETS}")
    print(f"speedup={speedup:.2f} peak_mib={peak} new_offer_p95_s={p95:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
