"""Time the public opportunities page with DEFAULT_OFFERS open offers in PostgreSQL.

Creates a fresh database (DEFAULT_DB) on the server at TEST_DATABASE_URL, migrates it, bulk
inserts organisations and offers written from a bilingual word list (seeded; a share closed,
submitted or past their deadline, so the filters have work to do), then requests the pages a
visitor opens through the Flask test client, signed out: the list with no filter, searches of
one and two words, each filter, a combination, a far page, the newest first, an offer's page
and the Atom feed. Each is requested DEFAULT_REPEAT times after a warm-up; the script prints
the median and 95th percentile in milliseconds and the SQL statements per request (the same
for every page size means no N+1). With --compare it then drops the indexes named in
INDEXES, runs again and prints both side by side. The database is dropped at the end.

Usage: python bench/opportunities_speed.py [--offers N] [--repeat R] [--compare] [--keep]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
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
    scratch_database,
)

import config as app_config  # noqa: E402
from models import Offer, Organization  # noqa: E402
from models.db import make_engine, make_session_factory  # noqa: E402
from models.offers import search_text_of  # noqa: E402

DEFAULT_DB = "coopmatch_bench_opportunities"
DEFAULT_OFFERS = 10_000  # open ones; about 15 % more are closed, submitted or past
DEFAULT_ALLIES = 300
DEFAULT_REPEAT = 40
DEFAULT_WARMUP = 3
DEFAULT_SEED = 17
CHUNK = 2_000
# The indexes this page relies on (migration 0017a); --compare drops them for a second run.
INDEXES = ("ix_offers_open_deadline", "ix_offers_search_text_trgm")
COUNTRIES = ["CO", "PE", "EC", "MX", "BR", "AR", "CL", "BO", "PA", "CR"]
# Topic words: each offer names a few, so a searched word fits roughly one offer in ten.
TOPICS = [
    *WORDS,
    "forests",
    "rivers",
    "heat",
    "schools",
    "libraries",
    "parks",
    "mobility",
    "sanitation",
    "waste",
    "recycling",
    "tourism",
]
# Common words that fill the rest of every description.
FILLER = [
    "a",
    "advice",
    "and",
    "apoya",
    "asesoría",
    "cities",
    "ciudades",
    "con",
    "el",
    "for",
    "funding",
    "improve",
    "local",
    "locales",
    "los",
    "mejoran",
    "para",
    "partners",
    "programa",
    "programme",
    "projects",
    "proyectos",
    "public",
    "públicos",
    "que",
    "recursos",
    "services",
    "servicios",
    "socios",
    "supports",
    "that",
    "the",
    "with",
    "y",
]
SCENARIOS = [
    ("list, no filter", "/opportunities", {}),
    ("search, 1 word", "/opportunities", {"q": "agua"}),
    ("search, 2 words", "/opportunities", {"q": "water resilience"}),
    ("search, rare word", "/opportunities", {"q": "bibliotecas"}),
    ("line", "/opportunities", {"line": "human_development"}),
    ("modality", "/opportunities", {"modality": "in_kind"}),
    ("ally kind", "/opportunities", {"kind": "university"}),
    ("country", "/opportunities", {"country": "PE"}),
    ("closes in 30 days", "/opportunities", {"closes_within": "30"}),
    (
        "combined",
        "/opportunities",
        {"q": "education", "line": "human_development", "country": "CO", "closes_within": "180"},
    ),
    ("page 40", "/opportunities", {"page": "40"}),
    ("newest first", "/opportunities", {"sort": "newest"}),
    ("offer page", "/opportunities/{offer_id}", {}),
    ("Atom feed", "/opportunities.atom", {}),
]


def _text(rng: random.Random, n: int, topics: int = 0) -> str:
    """`n` common words with `topics` topic words among them."""
    words = [rng.choice(FILLER) for _ in range(n)] + rng.sample(TOPICS, topics)
    rng.shuffle(words)
    return " ".join(words)


def fill(engine: sa.Engine, n_offers: int, n_allies: int, seed: int) -> int:
    """Insert allies and offers; return the id of an open offer (for the offer page)."""
    rng = random.Random(seed)
    today = date.today()
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(
            sa.insert(Organization),
            [
                {
                    "name": f"Ally {i} {' '.join(rng.sample(TOPICS, 2))}",
                    "kind": KINDS[i % len(KINDS)],
                    "side": "supply",
                    "country": rng.choice(["US", "DE", "ES", "FR", "JP", "KR", "CA", "NL"]),
                    "website": f"https://ally{i}.example",
                }
                for i in range(n_allies)
            ],
        )
        ally_ids = list(conn.scalars(sa.select(Organization.id)))
        total = int(n_offers * 1.15)
        batch = []
        for i in range(total):
            kind = i % 20
            status = "published" if kind < 18 else ("submitted" if kind == 18 else "closed")
            past = kind == 17
            deadline = (
                today - timedelta(days=rng.randint(1, 60))
                if past
                else None
                if rng.random() < 0.2
                else today + timedelta(days=rng.randint(0, 400))
            )
            title = f"{' '.join(rng.sample(TOPICS, 3)).capitalize()} {i}"
            description = _text(rng, 140, topics=3)
            batch.append(
                {
                    "organization_id": rng.choice(ally_ids),
                    "title": title,
                    "description": description,
                    "search_text": search_text_of(title, description),
                    "modalities": rng.sample(MODALITIES, rng.randint(1, 2)),
                    "lines": rng.sample(LINES, rng.randint(1, 2)),
                    "sdgs": rng.sample(range(1, 18), 3),
                    "amount_min": 10_000,
                    "amount_max": rng.randint(2, 500) * 100_000,
                    "currency": rng.choice(["USD", "EUR"]),
                    "eligible_kinds": ["local_public", "ngo"],
                    "eligible_countries": [] if rng.random() < 0.4 else rng.sample(COUNTRIES, 3),
                    "deadline": deadline,
                    "language": rng.choice(["es", "en"]),
                    "status": status,
                    "source": "import",
                    "contact_email": f"calls{i}@ally.example",
                    "contact_private": rng.random() < 0.5,
                    "published_at": now - timedelta(minutes=i) if status != "submitted" else None,
                }
            )
            if len(batch) == CHUNK or i == total - 1:
                conn.execute(sa.insert(Offer), batch)
                batch = []
        conn.execute(sa.text("ANALYZE"))
        return conn.scalar(
            sa.select(Offer.id)
            .where(Offer.status == "published", Offer.deadline > today)
            .order_by(Offer.id)
            .limit(1)
        )


def measure(url: str, repeat: int, offer_id: int) -> list[tuple[str, float, float, int, int]]:
    """Time each scenario; return (name, median ms, p95 ms, statements, response bytes)."""
    from web.app import create_app

    engine = make_engine(url)
    statements = [0]

    @sa.event.listens_for(engine, "before_cursor_execute")
    def _count(*_args, **_kwargs):
        statements[0] += 1

    factory = make_session_factory(engine)
    results = []
    with tempfile.TemporaryDirectory() as instance:
        settings = app_config.Settings(instance_path=Path(instance), database_url=url)
        app = create_app(settings=settings, session_factory=factory)
        client = app.test_client()
        for name, path, args in SCENARIOS:
            timings = []
            for attempt in range(DEFAULT_WARMUP + repeat):
                statements[0] = 0
                start = time.perf_counter()
                response = client.get(path.format(offer_id=offer_id), query_string=args)
                elapsed = (time.perf_counter() - start) * 1000
                assert response.status_code == 200, (name, response.status_code)
                if attempt >= DEFAULT_WARMUP:
                    timings.append(elapsed)
            results.append(
                (
                    name,
                    statistics.median(timings),
                    percentile(timings, 0.95),
                    statements[0],
                    len(response.data),
                )
            )
    engine.dispose()
    return results


def _drop_indexes(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        for name in INDEXES:
            conn.execute(sa.text(f'DROP INDEX IF EXISTS "{name}"'))
        conn.execute(sa.text("ANALYZE"))
    engine.dispose()


def _print(title: str, results, other=None) -> None:
    print(f"\n{title}")
    head = f"{'page':<20} {'median ms':>10} {'p95 ms':>8} {'SQL':>4} {'KB':>5}"
    print(head + (f" {'p95 without':>12} {'ratio':>6}" if other else ""))
    for i, (name, median, p95, sql, size) in enumerate(results):
        line = f"{name:<20} {median:>10.1f} {p95:>8.1f} {sql:>4} {size / 1024:>5.0f}"
        if other:
            line += f" {other[i][2]:>12.1f} {other[i][2] / p95:>6.1f}"
        print(line)
    every = [r[2] for r in results]
    print(f"worst p95 {max(every):.1f} ms; median of the p95s {statistics.median(every):.1f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offers", type=int, default=DEFAULT_OFFERS)
    parser.add_argument("--allies", type=int, default=DEFAULT_ALLIES)
    parser.add_argument("--repeat", type=int, default=DEFAULT_REPEAT)
    parser.add_argument("--compare", action="store_true", help="run again without INDEXES")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    with scratch_database(DEFAULT_DB, keep=args.keep) as url:
        start = time.perf_counter()
        offer_id = fill(make_engine(url), args.offers, args.allies, DEFAULT_SEED)
        took = time.perf_counter() - start
        print(f"filled {args.offers:,} open offers (+15 % not public) in {took:.1f} s")
        results = measure(url, args.repeat, offer_id)
        without = None
        if args.compare:
            _drop_indexes(url)
            without = measure(url, args.repeat, offer_id)
    _print(
        f"public pages, {args.repeat} requests each, Flask test client, signed out:",
        results,
        without,
    )
    if without:
        _print(f"the same without {', '.join(INDEXES)}:", without)
    return 0


if __name__ == "__main__":
    sys.exit(main())
