"""Helpers to run a real `celery worker` process against real Redis and PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class WorkerProcess:
    """A `celery -A workers.main worker` (the README's command) in its own process group,
    logging to a file."""

    def __init__(self, env: dict[str, str], log_path: Path, concurrency: int = 2, name: str = "w1"):
        self.env, self.log_path = env, log_path
        self.concurrency, self.name = concurrency, name
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> WorkerProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        # As the README starts it: the `celery` script of the project's environment.
        cmd = [
            str(Path(sys.executable).parent / "celery"),
            "-A",
            "workers.main",
            "worker",
            "--loglevel=INFO",
            f"--concurrency={self.concurrency}",
            "--pool=prefork",
            "-n",
            f"{self.name}-{os.getpid()}@%h",
            "--without-gossip",
            "--without-mingle",
        ]
        self.proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited: {self.log_path.read_text()[-3000:]}")
            if " ready." in self.log_path.read_text(errors="replace"):
                return self
            time.sleep(0.2)
        raise RuntimeError(f"worker not ready in {timeout}s: {self.log_path.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL the worker and its pool processes, as a crash would."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


def wait_for(predicate, timeout: float = 30, every: float = 0.1, what: str = "condition"):
    """Poll `predicate` until it returns something truthy; return that or fail after timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def assert_decisions_kept(session, decided: dict[tuple[int, int], str], reviewer_id: int) -> None:
    """One row per pair, and every decided pair still has its status, reviewer and reason."""
    import sqlalchemy as sa

    from models import Match

    pairs = session.execute(sa.select(Match.project_id, Match.offer_id)).all()
    assert len(pairs) == len(set(pairs))
    for (project_id, offer_id), status in decided.items():
        row = session.scalar(
            sa.select(Match).where(Match.project_id == project_id, Match.offer_id == offer_id)
        )
        assert row.status == status and row.reviewer_id == reviewer_id
        assert row.decision_reason == f"decided {status}"
