"""What the benchmarks that seed a database share: the domain's codes, topic words, percentiles,
a scratch database.

Imported by the scripts in this folder (run as `python bench/NAME.py`, which puts it on the
path).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

import config as app_config
from models import migrate
from models.db import make_engine
from models.enums import Line, Modality, OrgKind

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

LINES = [line.value for line in Line]
MODALITIES = [modality.value for modality in Modality]
# The kinds of ally that offer support (a local public body is the office's own side).
KINDS = [kind.value for kind in OrgKind if kind != OrgKind.LOCAL_PUBLIC]
# Topic words, Spanish and English, of which seeded titles and descriptions are made.
WORDS = (
    "movilidad",
    "eléctrica",
    "agua",
    "potable",
    "educación",
    "inicial",
    "empleo",
    "juvenil",
    "seguridad",
    "ciudadana",
    "resiliencia",
    "climática",
    "vivienda",
    "salud",
    "mental",
    "emprendimiento",
    "cultura",
    "deporte",
    "paz",
    "transport",
    "climate",
    "resilience",
    "water",
    "education",
    "youth",
    "employment",
    "housing",
    "health",
    "peace",
    "innovation",
    "digital",
    "governance",
    "gender",
    "inclusion",
    "migrants",
    "nutrition",
    "energy",
)


def percentile(values: list[float], share: float) -> float:
    """The value at `share` (0-1) of the sorted values, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


@contextmanager
def scratch_database(name: str, keep: bool = False) -> Iterator[str]:
    """A fresh, migrated database `name` on the server at TEST_DATABASE_URL; yields its URL and
    drops it afterwards unless `keep`."""
    server = app_config._normalise_db_url(os.environ.get("TEST_DATABASE_URL", DEFAULT_URL))
    admin = make_engine(server, isolation_level="AUTOCOMMIT")
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        migrate.upgrade(url)
        yield url
    finally:
        if not keep:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def query_plan(session, query: sa.Select) -> list[str]:
    """PostgreSQL's EXPLAIN ANALYZE of `query` (run for real), one line per step."""
    compiled = query.compile(
        dialect=session.get_bind().dialect, compile_kwargs={"render_postcompile": True}
    )
    return list(
        session.connection()
        .exec_driver_sql("EXPLAIN ANALYZE " + str(compiled), compiled.params)
        .scalars()
    )
