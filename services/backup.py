"""Backing up the database to a file and restoring it: PostgreSQL with pg_dump / pg_restore
(custom format), SQLite with its online backup API (a consistent copy while the app runs)."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from models import Base
from services.errors import Conflict, Invalid

DEFAULT_TIMEOUT = 3600
SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"


@dataclass(frozen=True)
class Report:
    kind: str  # "postgresql" or "sqlite"
    path: Path
    bytes: int


def _libpq_url(url: str) -> str:
    """The SQLAlchemy URL as pg_dump and pg_restore read it (no '+driver')."""
    parsed = make_url(url).set(drivername="postgresql")
    return parsed.render_as_string(hide_password=False)


def _sqlite_path(url: str) -> str:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise Invalid("an in-memory SQLite database cannot be backed up or restored")
    return database


def _run(command: list[str], what: str) -> None:
    if shutil.which(command[0]) is None:
        raise Invalid(f"{command[0]} is not installed: it is needed to {what}")
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=DEFAULT_TIMEOUT)
    except subprocess.TimeoutExpired as exc:
        raise Invalid(f"{command[0]} took longer than {DEFAULT_TIMEOUT} s to {what}") from exc
    if done.returncode != 0:
        detail = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise Invalid(f"{command[0]} could not {what}: {detail}")


def backup(url: str, path: Path) -> Report:
    """Write a consistent copy of the database at `url` to `path`."""
    path = Path(path)
    if path.is_dir():
        raise Invalid(f"{path} is a directory: give a file name")
    path.parent.mkdir(parents=True, exist_ok=True)
    if url.startswith("postgresql"):
        _run(
            ["pg_dump", "--format=custom", "--no-owner", f"--file={path}", _libpq_url(url)],
            "back up the database",
        )
        kind = "postgresql"
    else:
        source = sqlite3.connect(_sqlite_path(url))
        target = sqlite3.connect(path)
        try:
            with target:
                source.backup(target)
        finally:
            source.close()
            target.close()
        kind = "sqlite"
    return Report(kind, path, path.stat().st_size)


def _has_rows(url: str) -> bool:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            present = set(sa.inspect(conn).get_table_names())
            for table in Base.metadata.sorted_tables:
                if (
                    table.name in present
                    and conn.execute(sa.select(1).select_from(table).limit(1)).first()
                ):
                    return True
    finally:
        engine.dispose()
    return False


def restore(url: str, path: Path, *, replace: bool = False) -> Report:
    """Restore the backup at `path` into the database at `url`. A database that holds data is
    refused unless `replace` (its tables are then dropped and recreated from the backup)."""
    path = Path(path)
    try:
        head = path.open("rb").read(16)
    except OSError as exc:
        raise Invalid(f"cannot read {path}: {exc.strerror}") from None
    postgres = url.startswith("postgresql")
    if postgres and not head.startswith(PGDUMP_MAGIC):
        raise Invalid(f"{path} is not a pg_dump custom-format backup")
    if not postgres and not head.startswith(SQLITE_MAGIC):
        raise Invalid(f"{path} is not a SQLite database backup")
    if not replace and _has_rows(url):
        raise Conflict("the database already holds data: restore into an empty one, or replace it")
    if postgres:
        _run(
            [
                "pg_restore",
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                "--exit-on-error",
                f"--dbname={_libpq_url(url)}",
                str(path),
            ],
            "restore the backup",
        )
        kind = "postgresql"
    else:
        source = sqlite3.connect(path)
        target = sqlite3.connect(_sqlite_path(url))
        try:
            with target:
                source.backup(target)
        finally:
            source.close()
            target.close()
        kind = "sqlite"
    return Report(kind, path, path.stat().st_size)
