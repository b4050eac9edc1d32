"""`flask --app web backup` and `restore`: a populated database, backed up and restored into a
new one, comes back whole (every table's row count, and a checksum of the rows that matter)."""

from __future__ import annotations

import hashlib
import json
from datetime import date

import pytest
import sqlalchemy as sa

import config as app_config
from models import Alliance, Base, migrate
from models.db import make_engine, make_session_factory
from services import alliances, backup, reviews
from services.errors import Conflict, Invalid
from services.jsonable import plain
from tests import factories as f
from tests.conftest import scratch_database

CHECKED = ("offers", "projects", "matches", "alliances", "audit_events", "users")
TODAY = date(2026, 12, 4)


def _populate(url: str) -> None:
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        reviewer = f.token(session, "staff")[0]
        ally = f.organization(session, name="Fondo Verde")
        city = f.organization(session, name="Alcaldía", kind="local_public", side="demand")
        for n in range(3):
            offer = f.offer(session, ally, title=f"Oferta {n} con ñ y “comillas”")
            project = f.project(session, city, title=f"Proyecto {n}")
            match = f.match(session, project, offer, score=0.5 + n / 10)
            action = ("accept", "reject", "shortlist")[n]
            reason = "not_eligible" if action == "reject" else None
            reviews.decide(
                session, match.id, reviewer.id, action, reason=reason, note="Nota", today=TODAY
            )
        row = session.scalars(sa.select(Alliance)).one()
        alliances.update(session, row, reviewer.id, {"amount": "1250000.50"}, today=TODAY)
    engine.dispose()


def _fingerprint(url: str) -> dict:
    engine = make_engine(url)
    out = {}
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            rows = conn.execute(sa.select(table).order_by(*table.primary_key.columns)).all()
            out[table.name] = len(rows)
            if table.name in CHECKED:
                text = json.dumps([plain(list(r)) for r in rows], default=str, sort_keys=True)
                out[f"{table.name}#sha256"] = hashlib.sha256(text.encode()).hexdigest()
    engine.dispose()
    return out


def _round_trip(source: str, target: str, path) -> None:
    _populate(source)
    before = _fingerprint(source)
    assert before["matches"] == 3 and before["audit_events"] >= 5
    made = backup.backup(source, path)
    assert made.bytes > 0
    backup.restore(target, path)
    assert _fingerprint(target) == before
    with pytest.raises(Conflict):  # data is never overwritten by mistake
        backup.restore(target, path)
    backup.restore(target, path, replace=True)
    assert _fingerprint(target) == before


def test_sqlite_backup_restores_every_row(tmp_path):
    source = f"sqlite:///{tmp_path / 'live.sqlite3'}"
    target = f"sqlite:///{tmp_path / 'restored.sqlite3'}"
    migrate.upgrade(source)
    _round_trip(source, target, tmp_path / "coopmatch.backup")


def test_postgresql_backup_restores_every_row(pg_admin, tmp_path):
    with scratch_database(pg_admin, "backup") as source:
        name = f"coopmatch_restore_{tmp_path.name[-8:].replace('-', '_')}"
        with pg_admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        target = pg_admin.url.set(database=name).render_as_string(hide_password=False)
        try:
            _round_trip(source, target, tmp_path / "coopmatch.dump")
        finally:
            with pg_admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_a_file_of_the_wrong_kind_is_refused_with_one_line(tmp_path):
    target = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    bogus = tmp_path / "notes.txt"
    bogus.write_text("not a backup")
    with pytest.raises(Invalid, match="not a SQLite database backup"):
        backup.restore(target, bogus)
    with pytest.raises(Invalid, match="cannot read"):
        backup.restore(target, tmp_path / "missing.backup")


def test_the_commands_back_up_and_restore(tmp_path):
    from web.app import create_app

    url = f"sqlite:///{tmp_path / 'app.sqlite3'}"
    migrate.upgrade(url)
    settings = app_config.Settings(instance_path=tmp_path / "instance", database_url=url)
    app = create_app({"TESTING": True}, settings=settings)
    cli = app.test_cli_runner()
    made = cli.invoke(args=["backup", str(tmp_path / "one.backup")])
    assert made.exit_code == 0 and "sqlite backup written" in made.output
    refused = cli.invoke(args=["restore", str(tmp_path / "nothing-here")])
    assert refused.exit_code == 2 and "cannot read" in refused.output
