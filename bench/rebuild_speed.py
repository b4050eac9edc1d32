"""Time a full rebuild of the matches in PostgreSQL: the demo data, then a generated corpus.

    python bench/rebuild_speed.py [--projects 2000] [--offers 10000] [--database-url URL]

Creates a scratch database on the server (dropped at the end), fills it, runs the same
`services.matching.rebuild.run_rebuild` the worker runs, and prints the time and rows per
second written.
The generated corpus recombines sentences of the demo set's texts, so vocabulary and lengths
stay realistic; amounts, lines, modalities and deadlines are drawn at random.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from seeding import LINES, MODALITIES  # noqa: E402

import config as app_config  # noqa: E402
from models import Job, Match, Offer, Organization, Project  # noqa: E402
from models import migrate as migrations  # noqa: E402
from models.db import make_engine, make_session_factory  # noqa: E402
from services import clock, demo  # noqa: E402
from services.matching import rebuild as matching_rebuild  # noqa: E402

DEFAULT_URL = os.environ.get(
    "TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def scratch_database(admin_url: str) -> tuple[sa.Engine, str, str]:
    admin = make_engine(app_config._normalise_db_url(admin_url), isolation_level="AUTOCOMMIT")
    name = f"coopmatch_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    migrations.upgrade(url)
    return admin, name, url


def sentences(texts: list[str]) -> list[str]:
    out = [s.strip() for t in texts for s in re.split(r"(?<=[.!?])\s+", t) if len(s) > 30]
    return out or texts


def generate(session, n_projects: int, n_offers: int, seed: int = 11) -> None:
    rng = random.Random(seed)
    data = json.loads(demo.DEFAULT_DEMO_PATH.read_text(encoding="utf-8"))
    p_sent = sentences([p["description"] for p in data["projects"]])
    o_sent = sentences([o["description"] for o in data["offers"]])
    p_titles = [p["title"] for p in data["projects"]]
    o_titles = [o["title"] for o in data["offers"]]
    city = Organization(name="Bench city", kind="local_public", side="demand", country="CO")
    allies = [
        Organization(name=f"Bench ally {i}", kind=k, side="supply", country="US")
        for i, k in enumerate(
            [
                "bilateral",
                "multilateral",
                "foundation",
                "city_network",
                "company",
                "university",
                "ngo",
            ]
            * 6
        )
    ]
    session.add_all([city, *allies])
    session.flush()
    today = date.today()
    session.execute(
        sa.insert(Project),
        [
            {
                "organization_id": city.id,
                "title": rng.choice(p_titles),
                "description": " ".join(rng.sample(p_sent, 4)),
                "language": "es",
                "lines": rng.sample(LINES, rng.randint(1, 2)),
                "sdgs": rng.sample(range(1, 18), 2),
                "modalities": rng.sample(MODALITIES, rng.randint(1, 2)),
                "budget": rng.randint(2, 500) * 100_000,
                "cofinancing": 0,
                "currency": "USD",
                "stage": "formulation",
                "status": "open",
            }
            for _ in range(n_projects)
        ],
    )
    rows = []
    for _ in range(n_offers):
        low = rng.randint(1, 50) * 10_000
        rows.append(
            {
                "organization_id": rng.choice(allies).id,
                "title": rng.choice(o_titles),
                "description": " ".join(rng.sample(o_sent, 5)),
                "language": "en",
                "lines": rng.sample(LINES, rng.randint(1, 2)),
                "sdgs": rng.sample(range(1, 18), 2),
                "modalities": rng.sample(MODALITIES, rng.randint(1, 2)),
                "amount_min": low,
                "amount_max": low * rng.randint(2, 20),
                "currency": "USD",
                "eligible_kinds": [],
                "eligible_countries": [],
                "deadline": today + timedelta(days=rng.randint(5, 300)),
                "status": "published",
                "source": "import",
            }
        )
    session.execute(sa.insert(Offer), rows)
    session.commit()


def rebuild(factory, settings) -> dict:
    with factory() as session:
        job = Job(id=str(uuid.uuid4()), kind="rebuild", status="queued")
        session.add(job)
        session.commit()
        started = time.perf_counter()
        matching_rebuild.run_rebuild(session, settings, job.id)
        elapsed = time.perf_counter() - started
        rows = session.scalar(
            sa.select(sa.func.count()).select_from(Match).where(Match.status == "proposed")
        )
        projects = session.scalar(sa.select(sa.func.count()).select_from(Project))
        offers = session.scalar(sa.select(sa.func.count()).select_from(Offer))
    return {
        "projects": projects,
        "offers": offers,
        "seconds": round(elapsed, 2),
        "rows": rows,
        "rows_per_second": round(rows / elapsed),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=2000)
    parser.add_argument("--offers", type=int, default=10000)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    args = parser.parse_args(argv)
    admin, name, url = scratch_database(args.database_url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    settings = app_config.Settings(database_url=url)
    try:
        with factory() as session:
            demo.load(session, today=clock.agency_today(settings.timezone))
        print("demo data      ", rebuild(factory, settings))
        print("demo, again    ", rebuild(factory, settings), "(rescoring: upserts only)")
        with factory() as session:
            session.execute(
                sa.text(
                    "TRUNCATE matches, alliances, offers, projects, "
                    "organizations RESTART IDENTITY CASCADE"
                )
            )
            session.commit()
            generate(session, args.projects, args.offers)
        print(f"{args.projects} x {args.offers}", rebuild(factory, settings))
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
