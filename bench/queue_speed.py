"""Time the staff review queue's first page (50 rows) with 200,000 matches in PostgreSQL.

Creates a fresh database (DEFAULT_DB) on the server at TEST_DATABASE_URL, migrates it, bulk
inserts realistic organisations, projects, offers and DEFAULT_MATCHES matches (seeded), then
requests /staff/queue through the Flask test client as a signed-in staff user: once with no
filter and once per single filter, DEFAULT_REPEAT times each after a warm-up, and prints the
median and 95th percentile in milliseconds. The database is dropped at the end.

Usage: python bench/queue_speed.py [--matches N] [--repeat R] [--explain] [--keep]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from seeding import (  # noqa: E402
    KINDS,
    LINES,
    MODALITIES,
    WORDS,
    percentile,
    query_plan,
    scratch_database,
)

import config as app_config  # noqa: E402
from models import Match, Offer, Organization, Project  # noqa: E402
from models.db import make_engine, make_session_factory  # noqa: E402

DEFAULT_DB = "coopmatch_bench_queue"
DEFAULT_MATCHES = 200_000
DEFAULT_PROJECTS = 2_000
DEFAULT_OFFERS = 4_000
DEFAULT_REPEAT = 30
DEFAULT_WARMUP = 3
DEFAULT_SEED = 11
CHUNK = 5_000
PASSWORD = "bench-password-1"
# The single filters timed, plus the unfiltered queue; values chosen to be typical, not easy.
FILTERS = [
    ("none", {}),
    ("line", {"line": "human_development"}),
    ("modality", {"modality": "in_kind"}),
    ("kind", {"kind": "university"}),
    ("min_score", {"min_score": "0.6"}),
    ("deadline_days", {"deadline_days": "30"}),
    ("status=shortlisted", {"status": "shortlisted"}),
    ("status=rejected", {"status": "rejected"}),
    ("status=all", {"status": "all"}),
]


def _sample(rng: random.Random, items: list[str], most: int) -> list[str]:
    return rng.sample(items, rng.randint(1, most))


def _text(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def fill(engine: sa.Engine, n_matches: int, n_projects: int, n_offers: int, seed: int) -> None:
    """Insert organisations, projects, offers and `n_matches` distinct matches."""
    rng = random.Random(seed)
    today = date.today()
    with engine.begin() as conn:
        supply = [
            {
                "name": f"Ally {i}",
                "kind": KINDS[i % len(KINDS)],
                "side": "supply",
                "country": rng.choice(["US", "DE", "ES", "FR", "JP", "KR", "CA"]),
            }
            for i in range(140)
        ]
        demand = [
            {"name": f"Secretaría {i}", "kind": "local_public", "side": "demand", "country": "CO"}
            for i in range(40)
        ]
        conn.execute(sa.insert(Organization), supply + demand)
        supply_ids = list(
            conn.scalars(sa.select(Organization.id).where(Organization.side == "supply"))
        )
        demand_ids = list(
            conn.scalars(sa.select(Organization.id).where(Organization.side == "demand"))
        )
        conn.execute(
            sa.insert(Project),
            [
                {
                    "organization_id": rng.choice(demand_ids),
                    "title": f"Proyecto {i} {_text(rng, 5)}",
                    "description": _text(rng, 120),
                    "language": "es",
                    "lines": _sample(rng, LINES, 2),
                    "sdgs": rng.sample(range(1, 18), 2),
                    "modalities": _sample(rng, MODALITIES, 2),
                    "budget": rng.randint(50, 5000) * 1_000_000,
                    "cofinancing": 0,
                    "currency": "COP",
                    "stage": rng.choice(["idea", "formulation", "ready"]),
                    "status": "open",
                }
                for i in range(n_projects)
            ],
        )
        offers = []
        for i in range(n_offers):
            deadline = None if rng.random() < 0.25 else today + timedelta(days=rng.randint(0, 400))
            offers.append(
                {
                    "organization_id": rng.choice(supply_ids),
                    "title": f"Offer {i} {_text(rng, 5)}",
                    "description": _text(rng, 120),
                    "modalities": _sample(rng, MODALITIES, 2),
                    "lines": _sample(rng, LINES, 2),
                    "sdgs": rng.sample(range(1, 18), 2),
                    "amount_min": 10_000,
                    "amount_max": rng.randint(2, 500) * 100_000,
                    "currency": rng.choice(["USD", "EUR"]),
                    "eligible_kinds": ["local_public"],
                    "eligible_countries": ["CO"],
                    "deadline": deadline,
                    "language": "en",
                    "status": "published",
                    "source": "import",
                }
            )
        conn.execute(sa.insert(Offer), offers)
        project_ids = list(conn.scalars(sa.select(Project.id)))
        offer_ids = list(conn.scalars(sa.select(Offer.id)))
    pairs = rng.sample(range(len(project_ids) * len(offer_ids)), n_matches)
    statuses = (
        ["proposed"] * 86
        + ["shortlisted"] * 5
        + ["rejected"] * 5
        + ["withdrawn"] * 3
        + ["accepted"]
    )
    batch = []
    with engine.begin() as conn:
        for number, pair in enumerate(pairs, 1):
            p, o = divmod(pair, len(offer_ids))
            score = round(min(max(rng.betavariate(2, 5), 0.0), 1.0), 6)
            terms = rng.sample(WORDS, 4)
            batch.append(
                {
                    "project_id": project_ids[p],
                    "offer_id": offer_ids[o],
                    "score": score,
                    "components": {
                        "text": round(rng.random(), 3),
                        "modality": rng.choice([0, 0.5, 1]),
                        "thematic": round(rng.random(), 3),
                        "amount": round(rng.random(), 3),
                        "time": round(rng.random(), 3),
                    },
                    "explanation": {
                        "terms": terms,
                        "concepts": [],
                        "en": ["shared terms: " + ", ".join(terms), "deadline in 40 days"],
                        "es": ["términos en común: " + ", ".join(terms), "cierra en 40 días"],
                    },
                    "status": rng.choice(statuses),
                    "matcher_version": "bench",
                }
            )
            if len(batch) == CHUNK or number == len(pairs):
                conn.execute(sa.insert(Match), batch)
                batch = []
        conn.execute(sa.text("ANALYZE"))


def measure(url: str, repeat: int, explain: bool) -> list[tuple[str, float, float, int]]:
    """Time the first queue page per filter; return (name, median ms, p95 ms, rows)."""
    from services import user_admin
    from tests.web.helpers import sign_in
    from web.app import create_app

    engine = make_engine(url)
    factory = make_session_factory(engine)
    with factory() as session:
        user_admin.create_user(session, "bench@example.org", "staff", PASSWORD)
    with tempfile.TemporaryDirectory() as instance:
        settings = app_config.Settings(instance_path=Path(instance), database_url=url)
        app = create_app(settings=settings, session_factory=factory)
        client = app.test_client()
        assert sign_in(client, "bench@example.org", PASSWORD).status_code == 302
        results = []
        for name, args in FILTERS:
            timings = []
            for attempt in range(DEFAULT_WARMUP + repeat):
                start = time.perf_counter()
                response = client.get("/staff/queue", query_string=args)
                elapsed = (time.perf_counter() - start) * 1000
                assert response.status_code == 200, (name, response.status_code)
                if attempt >= DEFAULT_WARMUP:
                    timings.append(elapsed)
            rows = response.get_data(as_text=True).count('class="match-row"')
            results.append((name, statistics.median(timings), percentile(timings, 0.95), rows))
        if explain:
            _explain(engine, settings)
        _count_cost(factory, repeat)
    engine.dispose()
    return results


def _filters_of(args: dict):
    from services import reviews

    return reviews.QueueFilters(
        **{
            k: (float(v) if k == "min_score" else int(v) if k == "deadline_days" else v)
            for k, v in args.items()
        }
    )


def _count_cost(factory, repeat: int) -> None:
    """The page's count (exact up to the cap, else the planner's estimate), side by side with
    the same service call without it."""
    from services import reviews

    print("\nqueue_page without and with the count, service level, median ms:")
    print(f"{'filter':<20} {'page':>8} {'page+count':>11} {'count shown':>16}")
    with factory() as session:
        for name, args in FILTERS:
            timings = {False: [], True: []}
            for _ in range(DEFAULT_WARMUP + repeat):
                for with_count in (False, True):
                    start = time.perf_counter()
                    page = reviews.queue_page(
                        session, _filters_of(args), date.today(), count=with_count
                    )
                    timings[with_count].append((time.perf_counter() - start) * 1000)
            shown = f"{'' if page.count.exact else '~'}{page.count.value:,}"
            plain = statistics.median(timings[False][DEFAULT_WARMUP:])
            counted = statistics.median(timings[True][DEFAULT_WARMUP:])
            print(f"{name:<20} {plain:>8.1f} {counted:>11.1f} {shown:>16}")


def _explain(engine: sa.Engine, settings) -> None:
    from sqlalchemy.orm import Session

    from services import reviews

    for name, args in FILTERS:
        filters = _filters_of(args)
        with Session(engine) as session:
            query = reviews.queue_select(session, filters, date.today())
            if query is None:
                print(f"\n-- {name}: no project or offer fits")
                continue
            plan = query_plan(session, query.limit(51))
            print(f"\n-- {name}\n" + "\n".join(plan))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--matches", type=int, default=DEFAULT_MATCHES)
    parser.add_argument("--projects", type=int, default=DEFAULT_PROJECTS)
    parser.add_argument("--offers", type=int, default=DEFAULT_OFFERS)
    parser.add_argument("--repeat", type=int, default=DEFAULT_REPEAT)
    parser.add_argument("--explain", action="store_true", help="print each query's plan")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    with scratch_database(DEFAULT_DB, keep=args.keep) as url:
        start = time.perf_counter()
        fill(make_engine(url), args.matches, args.projects, args.offers, DEFAULT_SEED)
        print(
            f"filled {args.matches:,} matches over {args.projects:,} projects and "
            f"{args.offers:,} offers in {time.perf_counter() - start:.1f} s"
        )
        results = measure(url, args.repeat, args.explain)
    print(f"\nfirst queue page (50 rows), {args.repeat} requests each, Flask test client:")
    print(f"{'filter':<20} {'median ms':>10} {'p95 ms':>8} {'rows':>5}")
    for name, median, p95, rows in results:
        print(f"{name:<20} {median:>10.1f} {p95:>8.1f} {rows:>5}")
    worst = max(r[1] for r in results)
    print(f"\nworst median {worst:.1f} ms (target: under 150 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
