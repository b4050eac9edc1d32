"""Time the suggestion quality page (/staff/quality) and its queries with 200,000 matches in
PostgreSQL.

Creates a fresh database (DEFAULT_DB) on the server at TEST_DATABASE_URL, migrates it, fills it
as bench/queue_speed.py does (organisations, projects, offers, DEFAULT_MATCHES matches), then
turns a share of the matches (DEFAULT_DECIDED) into decisions spread over the last two years,
accepted more often the higher their score, and adds DEFAULT_RUNS ranker runs. Prints the
median and 95th percentile in milliseconds of each service query (services/quality.py), of the
page per period and of each CSV through the Flask test client as a signed-in staff user. The
database is dropped at the end.

Usage: python bench/quality_speed.py [--matches N] [--decided SHARE] [--repeat R] [--explain]
       [--without-index] [--keep]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from queue_speed import fill  # noqa: E402
from seeding import percentile, query_plan, scratch_database  # noqa: E402

import config as app_config  # noqa: E402
from models import RankerRun  # noqa: E402
from models.db import make_engine, make_session_factory  # noqa: E402

DEFAULT_DB = "coopmatch_bench_quality"
DEFAULT_MATCHES = 200_000
DEFAULT_PROJECTS = 2_000
DEFAULT_OFFERS = 4_000
DEFAULT_DECIDED = 0.3  # share of the matches turned into decisions
DEFAULT_RUNS = 120  # ranker runs: more than the history shows (50)
DEFAULT_REPEAT = 20
DEFAULT_WARMUP = 2
DEFAULT_SEED = 11
TIMEZONE = "America/Bogota"
PASSWORD = "bench-password-1"


def decide(engine: sa.Engine, share: float, runs: int) -> int:
    """Turn `share` of the matches into decisions of the last two years; add `runs` runs."""
    with engine.begin() as conn:
        conn.execute(sa.text("SELECT setseed(0.11)"))
        conn.execute(
            sa.text(
                "UPDATE matches SET"
                " status = CASE WHEN random() < score * 0.9 THEN 'accepted' ELSE 'rejected' END,"
                " decided_at = now() - random() * interval '730 days'"
                " WHERE random() < :share"
            ),
            {"share": share},
        )
        decided = conn.scalar(
            sa.text("SELECT count(*) FROM matches WHERE status IN ('accepted', 'rejected')")
        )
        now = conn.scalar(sa.text("SELECT now()"))
        conn.execute(
            sa.insert(RankerRun),
            [
                {
                    "trigger": "weekly",
                    "state": "done" if i % 5 else "failed",
                    "created_at": now - timedelta(days=7 * i),
                    "n_train_accepted": 400 + i,
                    "n_train_rejected": 900 + i,
                    "current_score": 0.6,
                    "candidate_score": 0.6 + (i % 3 - 1) / 100,
                    "adopted": (i % 3 == 2) if i % 5 else None,
                    "importance": {"prior": 0.008, "score": 0.003},
                    "slices": [],
                    "reason": "bench",
                    "model": b"\0" * 200_000,
                }
                for i in range(runs)
            ],
        )
    # as autovacuum would have by then: the visibility map lets the queries read the index only
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE matches"))
    return int(decided)


def _timed(call, repeat: int) -> tuple[float, float]:
    timings = []
    for attempt in range(DEFAULT_WARMUP + repeat):
        start = time.perf_counter()
        call()
        if attempt >= DEFAULT_WARMUP:
            timings.append((time.perf_counter() - start) * 1000)
    return statistics.median(timings), percentile(timings, 0.95)


def measure(url: str, repeat: int, explain: bool) -> list[tuple[str, float, float]]:
    """Time each query, the page per period and each CSV; return (name, median, p95) in ms."""
    from services import clock, quality, user_admin
    from tests.web.helpers import sign_in
    from web.app import create_app

    engine = make_engine(url)
    factory = make_session_factory(engine)
    results = []
    now = clock.now()
    with factory() as session:
        user_admin.create_user(session, "bench@example.org", "staff", PASSWORD)
        start = quality.since("12m", now)
        queries = {
            "total (12m)": lambda: quality.total(session, start),
            "per_band (12m)": lambda: quality.per_band(session, start),
            "per_band (all)": lambda: quality.per_band(session, None),
            "per_line (12m)": lambda: quality.per_line(session, start),
            "per_kind (12m)": lambda: quality.per_kind(session, start),
            "per_month": lambda: quality.per_month(session, now, TIMEZONE),
            "model_in_use": lambda: quality.model_in_use(session),
            "history (50)": lambda: quality.history(session),
        }
        for name, call in queries.items():
            results.append((name, *_timed(call, repeat)))
            session.rollback()  # a fresh snapshot and no identity map kept between runs
        if explain:
            _explain(session, start, now)
    with tempfile.TemporaryDirectory() as instance:
        settings = app_config.Settings(
            instance_path=Path(instance), database_url=url, timezone=TIMEZONE
        )
        client = create_app(settings=settings, session_factory=factory).test_client()
        assert sign_in(client, "bench@example.org", PASSWORD).status_code == 302
        for path in (
            "/staff/quality?period=90d",
            "/staff/quality?period=12m",
            "/staff/quality?period=all",
            *(f"/staff/quality/{chart}.csv?period=12m" for chart in quality.CHARTS),
        ):

            def get(path=path):
                assert client.get(path).status_code == 200, path

            results.append((path, *_timed(get, repeat)))
    engine.dispose()
    return results


def _explain(session, start, now) -> None:
    from services import quality

    statements = {"per_band": quality.band_query(start), "per_line": quality.line_query(start)}
    for name, query in statements.items():
        plan = query_plan(session, query)
        print(f"\n-- {name}\n" + "\n".join(plan))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--matches", type=int, default=DEFAULT_MATCHES)
    parser.add_argument("--decided", type=float, default=DEFAULT_DECIDED)
    parser.add_argument("--repeat", type=int, default=DEFAULT_REPEAT)
    parser.add_argument("--explain", action="store_true", help="print two queries' plans")
    parser.add_argument(
        "--without-index", action="store_true", help="drop ix_matches_decisions before timing"
    )
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    with scratch_database(DEFAULT_DB, keep=args.keep) as url:
        start = time.perf_counter()
        engine = make_engine(url)
        fill(engine, args.matches, DEFAULT_PROJECTS, DEFAULT_OFFERS, DEFAULT_SEED)
        if args.without_index:
            with engine.begin() as conn:
                conn.execute(sa.text("DROP INDEX ix_matches_decisions"))
        decided = decide(engine, args.decided, DEFAULT_RUNS)
        engine.dispose()
        print(
            f"filled {args.matches:,} matches ({decided:,} decided) and {DEFAULT_RUNS} ranker "
            f"runs in {time.perf_counter() - start:.1f} s"
        )
        results = measure(url, args.repeat, args.explain)
    print(f"\n{args.repeat} runs each after {DEFAULT_WARMUP} warm-up runs:")
    print(f"{'what':<36} {'median ms':>10} {'p95 ms':>8}")
    for name, median, p95 in results:
        print(f"{name:<36} {median:>10.1f} {p95:>8.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
