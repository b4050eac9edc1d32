"""Time building the weekly digests for many subscribers over many matches, and count queries.

Creates a fresh PostgreSQL database on the server of TEST_DATABASE_URL (default
postgresql+psycopg://postgres@127.0.0.1:5432/test), migrates it, bulk-inserts a seeded world
(DEFAULT_STAFF staff and DEFAULT_PARTNERS partner subscribers, DEFAULT_MATCHES matches created
over the last DEFAULT_WEEKS weeks, a previous weekly run's marks, a share of matches rescored
upward since), then measures, with a `before_cursor_execute` counter:

- build: services.digest.build_digests for every subscriber (what the issue asks about);
- weekly build phase: refresh_marks + build + reserving the pending rows, as send_weekly does;
- optionally (--send N) sending N of the reserved digests to .eml files, per message.

The database is dropped at the end. Usage:
    python bench/digest_speed.py [--staff 200] [--partners 4800] [--matches 50000] [--send 200]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import config as app_config  # noqa: E402
from models import (  # noqa: E402
    DigestMatchMark,
    DigestSend,
    Match,
    Offer,
    Organization,
    Project,
    Subscription,
    User,
    migrate,
)
from models.db import make_engine, make_session_factory  # noqa: E402
from models.enums import Line  # noqa: E402
from services.digest import delivery as digest_delivery  # noqa: E402
from services.digest import selection as digest_selection  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DEFAULT_STAFF = 200
DEFAULT_PARTNERS = 4_800
DEFAULT_MATCHES = 50_000
DEFAULT_PROJECTS = 2_500
DEFAULT_OFFERS = 10_000
DEFAULT_WEEKS = 8
DEFAULT_RISEN_SHARE = 0.04
DEFAULT_SEED = 7
LINES = [line.value for line in Line]


class QueryCounter:
    """Count the statements an engine sends while active."""

    def __init__(self, engine: sa.Engine):
        self.engine, self.count = engine, 0

    def _count(self, *_args) -> None:
        self.count += 1

    def __enter__(self) -> QueryCounter:
        self.count = 0
        sa.event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *_exc) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self._count)


def _chunks(rows: list[dict], size: int = 5_000):
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def seed(session, args, now: datetime) -> None:
    """Bulk-insert the world; the previous weekly run happened a week before `now`."""
    rng = random.Random(args.seed)
    n_partners = args.partners
    session.execute(
        sa.insert(Organization),
        [
            {"name": f"City entity {i}", "kind": "local_public", "side": "demand", "country": "CO"}
            for i in range(50)
        ],
    )
    session.execute(
        sa.insert(Organization),
        [
            {
                "name": f"Ally {i}",
                "kind": rng.choice(["foundation", "multilateral", "bilateral"]),
                "side": "supply",
                "country": "US",
            }
            for i in range(n_partners + 200)
        ],
    )
    demand = list(session.scalars(sa.select(Organization.id).where(Organization.side == "demand")))
    supply = list(
        session.scalars(
            sa.select(Organization.id)
            .where(Organization.side == "supply")
            .order_by(Organization.id)
        )
    )
    deadline = (now + timedelta(days=90)).date()
    for rows in _chunks(
        [
            {
                "organization_id": supply[i % len(supply)],
                "title": f"Offer {i}",
                "description": "Grants and technical assistance.",
                "modalities": ["grant"],
                "lines": rng.sample(LINES, rng.randint(1, 2)),
                "sdgs": [11],
                "language": "en",
                "status": "published",
                "source": "api",
                "deadline": deadline,
                "currency": "USD",
                "eligible_kinds": [],
                "eligible_countries": [],
            }
            for i in range(args.offers)
        ]
    ):
        session.execute(sa.insert(Offer), rows)
    for rows in _chunks(
        [
            {
                "organization_id": rng.choice(demand),
                "title": f"Proyecto {i}",
                "description": "Proyecto de la ciudad.",
                "language": "es",
                "lines": rng.sample(LINES, 1),
                "sdgs": [11],
                "modalities": ["grant"],
                "currency": "USD",
                "stage": "formulation",
                "status": "open",
            }
            for i in range(args.projects)
        ]
    ):
        session.execute(sa.insert(Project), rows)
    offers = list(session.scalars(sa.select(Offer.id)))
    projects = list(session.scalars(sa.select(Project.id)))
    pairs: set[tuple[int, int]] = set()
    while len(pairs) < args.matches:
        pairs.add((rng.choice(projects), rng.choice(offers)))
    span = timedelta(weeks=args.weeks).total_seconds()
    for rows in _chunks(
        [
            {
                "project_id": p,
                "offer_id": o,
                "score": round(rng.uniform(0.2, 0.92), 4),
                "components": {"text": 0.5},
                "matcher_version": "bench",
                "status": "withdrawn" if rng.random() < 0.05 else "proposed",
                "explanation": {
                    "terms": [],
                    "concepts": [],
                    "es": ["Comparten la línea."],
                    "en": ["Same thematic line."],
                },
                "created_at": now - timedelta(seconds=rng.uniform(0, span)),
            }
            for p, o in sorted(pairs)
        ]
    ):
        session.execute(sa.insert(Match), rows)
    staff_rows = [
        {"email": f"staff{i}@agency.example", "role": "staff", "language": rng.choice(["es", "en"])}
        for i in range(args.staff)
    ]
    partner_rows = [
        {
            "email": f"partner{i}@ally.example",
            "role": "partner",
            "language": rng.choice(["es", "en"]),
            "organization_id": supply[i],
        }
        for i in range(n_partners)
    ]
    for rows in _chunks(staff_rows + partner_rows):
        session.execute(sa.insert(User), rows)
    last_run = now - timedelta(days=7)
    subs = []
    for user_id, role, language in session.execute(sa.select(User.id, User.role, User.language)):
        staff = role == "staff"
        subs.append(
            {
                "user_id": user_id,
                "kind": "staff" if staff else "partner",
                "lines": rng.sample(LINES, rng.randint(0, 2)) if staff else [],
                "min_score": rng.choice([0.3, 0.5, 0.6]) if staff else 0.0,
                "language": str(language),
                "status": "active",
                "covered_until": last_run
                if rng.random() < 0.9
                else now - timedelta(days=rng.choice([14, 21])),
            }
        )
    for rows in _chunks(subs):
        session.execute(sa.insert(Subscription), rows)
    # The previous weekly run marked what existed then; since, a few matches were rescored up.
    digest_selection.refresh_marks(session, last_run)
    session.execute(sa.delete(DigestMatchMark).where(DigestMatchMark.raised_at > last_run))
    risen = rng.sample(sorted(pairs), int(args.matches * DEFAULT_RISEN_SHARE))
    session.execute(
        sa.update(Match)
        .where(sa.tuple_(Match.project_id, Match.offer_id).in_(risen), Match.score < 0.9)
        .values(score=Match.score + 0.08)
    )
    session.commit()
    # A live database has statistics (autovacuum); a fresh bulk load needs them made.
    session.execute(sa.text("ANALYZE"))
    session.commit()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("TEST_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--staff", type=int, default=DEFAULT_STAFF)
    parser.add_argument("--partners", type=int, default=DEFAULT_PARTNERS)
    parser.add_argument("--matches", type=int, default=DEFAULT_MATCHES)
    parser.add_argument("--projects", type=int, default=DEFAULT_PROJECTS)
    parser.add_argument("--offers", type=int, default=DEFAULT_OFFERS)
    parser.add_argument("--weeks", type=int, default=DEFAULT_WEEKS)
    parser.add_argument("--send", type=int, default=0, help="send N digests to .eml files")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)

    admin = make_engine(app_config._normalise_db_url(args.url), isolation_level="AUTOCOMMIT")
    name = f"coopmatch_bench_digest_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    outdir = Path(tempfile.mkdtemp(prefix="digest-bench-"))  # .eml files of --send
    try:
        migrate.upgrade(url)
        factory = make_session_factory(engine)
        now = datetime.now(UTC)
        settings = replace(app_config.Settings(), database_url=url, instance_path=outdir)
        period = digest_selection.period_of(now, settings.timezone)
        started = time.perf_counter()
        with factory() as session:
            seed(session, args, now)
        print(
            f"seeded {args.staff + args.partners:,} subscribers ({args.staff} staff), "
            f"{args.matches:,} matches, {args.offers:,} offers, {args.projects:,} projects "
            f"in {time.perf_counter() - started:.1f}s"
        )

        with factory() as session, QueryCounter(engine) as counter:
            started = time.perf_counter()
            digests = digest_delivery.build_digests(session, settings, period, now)
            build_time = time.perf_counter() - started
        items = sum(d.match_count for d in digests)
        print(
            f"build: {len(digests):,} non-empty digests ({items:,} matches in all) for "
            f"{args.staff + args.partners:,} subscribers in {build_time:.2f}s, "
            f"{counter.count} SQL queries"
        )

        with factory() as session, QueryCounter(engine) as counter:
            started = time.perf_counter()
            digest_selection.refresh_marks(session, now)
            reserved = digest_delivery._reserve(
                session, period, digest_delivery.build_digests(session, settings, period, now)
            )
            session.commit()
            phase_time = time.perf_counter() - started
        print(
            f"weekly build phase (refresh marks + build + reserve {reserved:,} rows): "
            f"{phase_time:.2f}s, {counter.count} SQL statements"
        )

        if args.send:
            with factory() as session:
                due = list(
                    session.scalars(
                        sa.select(DigestSend.subscription_id)
                        .where(DigestSend.period == period)
                        .limit(args.send)
                    )
                )
                with QueryCounter(engine) as counter:
                    started = time.perf_counter()
                    for sub_id in due:
                        digest_delivery.send_one(session, settings, sub_id, period, now=now)
                    send_time = time.perf_counter() - started
            print(
                f"send to files: {len(due)} digests in {send_time:.2f}s "
                f"({1000 * send_time / max(len(due), 1):.1f} ms and "
                f"{counter.count / max(len(due), 1):.0f} statements each)"
            )
    finally:
        shutil.rmtree(outdir, ignore_errors=True)
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
