"""Time a feed import end to end into PostgreSQL: parse, compare, store, commit.

Builds the same file as bench/feed_import.py (the shared IATI activities repeated with new
identifiers up to --size-mb), creates a scratch PostgreSQL database (dropped at the end),
migrates it, and imports the file twice through `services.ingest.runs.import_file`, the code
`flask --app web feeds import-file iati FILE` runs: the first run stores every activity (new),
the second finds them all unchanged. Prints activities per second for each, the run's own
summary line and the peak resident set of this process.

Usage: python bench/feed_store.py [--size-mb 50] [--database-url postgresql://...]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

import config as app_config  # noqa: E402
from bench.feed_import import DEFAULT_DATA, _status_kib  # noqa: E402
from bench.rebuild_speed import scratch_database  # noqa: E402
from models.db import make_engine, make_session_factory  # noqa: E402
from services.ingest import runs  # noqa: E402

DEFAULT_SIZE_MB = 50
DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def timed_import(factory, settings, path: Path) -> tuple[float, str, int]:
    """Import `path` once; return seconds, the run's summary and how many records it read."""
    with factory() as session:
        start = time.perf_counter()
        run = runs.import_file(session, "iati", path, settings)
        seconds = time.perf_counter() - start
        read = run.new + run.updated + run.unchanged + run.skipped
        return seconds, run.summary(), read


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=float, default=DEFAULT_SIZE_MB)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    args = parser.parse_args(argv)
    resident = _status_kib("VmRSS")  # the interpreter and the service's modules (matcher too)
    admin, name, url = scratch_database(args.database_url)
    engine = make_engine(url)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "activities.xml"
            # Built in a child process, so that this one's peak memory is the imports' own.
            script = (
                "import sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]); "
                "from bench.feed_import import build; "
                "print(build(Path(sys.argv[2]), Path(sys.argv[3]), float(sys.argv[4])))"
            )
            built = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    script,
                    str(ROOT),
                    str(path),
                    str(args.data),
                    str(args.size_mb),
                ],
                check=True,
                capture_output=True,
                text=True,
            )
            count = int(built.stdout.strip())
            size = path.stat().st_size / 1024 / 1024
            print(f"file: {count} activities, {size:.1f} MiB")
            settings = app_config.Settings(instance_path=Path(tmp) / "instance", database_url=url)
            factory = make_session_factory(engine)
            for label in ("first import (all new)", "second import (all unchanged)"):
                seconds, summary, read = timed_import(factory, settings, path)
                print(f"{label}: {seconds:.1f} s, {read / seconds:,.0f} activities/s · {summary}")
        with engine.connect() as conn:
            stored = conn.scalar(sa.text("SELECT count(*) FROM ally_activities"))
        peak = _status_kib("VmHWM") / 1024
        print(
            f"stored: {stored} activities; peak RSS {peak:.0f} MiB "
            f"({resident / 1024:.0f} MiB before the first import: interpreter and modules)"
        )
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
