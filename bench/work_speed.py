"""Time the staff-work reads over a large office: the daily reminder run's reservation, one
person's "my work" page data and calendar feed, with the number of queries each sends.

Creates a fresh PostgreSQL database on the server of TEST_DATABASE_URL (default
postgresql+psycopg://postgres@127.0.0.1:5432/test), migrates it, bulk-inserts DEFAULT_STAFF
staff owning DEFAULT_FOLLOWED shortlisted or accepted matches (deadlines spread over the next
DEFAULT_SPAN days, a share with an alliance), then measures (best of DEFAULT_REPEAT runs):

- reserve: services.work.reminders._reserve (what the beat task does before sending), rolled
  back after each run so every run reserves the same rows;
- mine: services.work.mine.of for the person owning the most matches;
- calendar: services.work.calendars.feed for that person.

The database is dropped at the end. Usage:
    python bench/work_speed.py [--staff 50] [--followed 20000]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import config as app_config  # noqa: E402
from models import Alliance, Match, Offer, Organization, Project, User, migrate  # noqa: E402
from models.db import make_engine, make_session_factory  # noqa: E402
from services import clock  # noqa: E402
from services.work import calendars, mine, reminders  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from digest_speed import QueryCounter, _chunks  # noqa: E402  (the sibling benchmark's helpers)

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DEFAULT_STAFF = 50
DEFAULT_FOLLOWED = 20_000
DEFAULT_OFFERS = 10_000
DEFAULT_PROJECTS = 2_500
DEFAULT_SPAN = 60
DEFAULT_ALLIANCE_SHARE = 0.2
DEFAULT_REPEAT = 3
DEFAULT_SEED = 7


def seed(session, args, today) -> None:
    rng = random.Random(DEFAULT_SEED)
    session.execute(
        sa.insert(Organization),
        [{"name": "City", "kind": "local_public", "side": "demand", "country": "CO"}]
        + [
            {"name": f"Ally {i}", "kind": "foundation", "side": "supply", "country": "US"}
            for i in range(200)
        ],
    )
    city = session.scalar(sa.select(Organization.id).where(Organization.side == "demand"))
    allies = list(session.scalars(sa.select(Organization.id).where(Organization.side == "supply")))
    session.execute(
        sa.insert(User),
        [
            {"email": f"staff{i}@agency.example", "role": "staff", "language": "es"}
            for i in range(args.staff)
        ],
    )
    staff = list(session.scalars(sa.select(User.id)))
    for rows in _chunks(
        [
            {
                "organization_id": allies[i % len(allies)],
                "title": f"Offer {i}",
                "description": "Grants.",
                "language": "en",
                "status": "published",
                "source": "api",
                "deadline": today + timedelta(days=rng.randint(0, DEFAULT_SPAN)),
                "modalities": ["grant"],
                "lines": [],
                "sdgs": [],
                "eligible_kinds": [],
                "eligible_countries": [],
            }
            for i in range(DEFAULT_OFFERS)
        ]
    ):
        session.execute(sa.insert(Offer), rows)
    for rows in _chunks(
        [
            {
                "organization_id": city,
                "title": f"Proyecto {i}",
                "description": "Proyecto.",
                "language": "es",
                "currency": "USD",
                "lines": [],
                "sdgs": [],
                "modalities": [],
            }
            for i in range(DEFAULT_PROJECTS)
        ]
    ):
        session.execute(sa.insert(Project), rows)
    offers = list(session.scalars(sa.select(Offer.id)))
    projects = list(session.scalars(sa.select(Project.id)))
    pairs: set[tuple[int, int]] = set()
    while len(pairs) < args.followed:
        pairs.add((rng.choice(projects), rng.choice(offers)))
    for rows in _chunks(
        [
            {
                "project_id": p,
                "offer_id": o,
                "score": 0.5,
                "components": {},
                "matcher_version": "bench",
                "status": rng.choice(["shortlisted", "accepted"]),
                "owner_id": rng.choice(staff),
            }
            for p, o in sorted(pairs)
        ]
    ):
        session.execute(sa.insert(Match), rows)
    accepted = list(session.execute(sa.select(Match.id, Match.owner_id).where(
        Match.status == "accepted"
    )))  # fmt: skip
    chosen = [row for row in accepted if rng.random() < DEFAULT_ALLIANCE_SHARE * 2]
    for rows in _chunks(
        [
            {
                "match_id": match_id,
                "owner_id": owner_id,
                "stage": rng.choice(["negotiating", "formalised", "in_execution"]),
                "currency": "USD",
                "usd_rate": 1,
                "amount": 0,
                "started_on": today - timedelta(days=rng.randint(0, 300)),
                "formalised_on": today + timedelta(days=rng.randint(1, 60)),
            }
            for match_id, owner_id in chosen
        ]
    ):
        session.execute(sa.insert(Alliance), rows)
    session.commit()
    session.execute(sa.text("ANALYZE"))  # as autovacuum would after a load this size
    session.commit()


def best(engine, fn, repeat: int) -> tuple[float, int, object]:
    """(best seconds, queries of the last run, last result) of `fn()` over `repeat` runs."""
    times, result, counter = [], None, QueryCounter(engine)
    for _ in range(repeat):
        with counter:
            start = time.perf_counter()
            result = fn()
            times.append(time.perf_counter() - start)
    return min(times), counter.count, result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("TEST_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--staff", type=int, default=DEFAULT_STAFF)
    parser.add_argument("--followed", type=int, default=DEFAULT_FOLLOWED)
    parser.add_argument("--repeat", type=int, default=DEFAULT_REPEAT)
    args = parser.parse_args(argv)

    admin = make_engine(app_config._normalise_db_url(args.url), isolation_level="AUTOCOMMIT")
    name = f"coopmatch_bench_work_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    engine = None
    try:
        migrate.upgrade(url)
        engine = make_engine(url)
        factory = make_session_factory(engine)
        settings = replace(app_config.Settings(), database_url=url)
        now = datetime.now(UTC)
        today = clock.agency_today(settings.timezone, at=now)
        with factory() as session:
            started = time.perf_counter()
            seed(session, args, today)
            print(
                f"seeded {args.followed} followed matches in {time.perf_counter() - started:.1f} s"
            )
            busiest = session.scalar(
                sa.select(Match.owner_id)
                .group_by(Match.owner_id)
                .order_by(sa.func.count().desc())
                .limit(1)
            )
            person = session.get(User, busiest)

            def reserve():
                count = reminders._reserve(session, settings, now, today)
                session.rollback()
                return count

            seconds, queries, reserved = best(engine, reserve, args.repeat)
            print(f"reserve: {reserved} reminders in {seconds * 1000:.0f} ms, {queries} queries")
            seconds, queries, work = best(
                engine, lambda: mine.of(session, person.id, today), args.repeat
            )
            print(
                f"mine: {len(work.matches)} matches, {len(work.alliances)} alliances in "
                f"{seconds * 1000:.0f} ms, {queries} queries"
            )
            seconds, queries, text = best(
                engine, lambda: calendars.feed(session, settings, person, now), args.repeat
            )
            events = text.count("BEGIN:VEVENT")
            print(
                f"calendar: {events} events, {len(text.encode()) // 1024} KiB in "
                f"{seconds * 1000:.0f} ms, {queries} queries"
            )
    finally:
        if engine is not None:
            engine.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
