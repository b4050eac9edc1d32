"""What a process holds for its whole life: settings, the database engine and sessions, the
fitted matcher index, and the way its tasks reach a worker.

The web app (web/app.py, create_app) and each worker process (workers/celery_app.py) build one
Runtime, the way the Flask tutorial's `db.py` holds the database for its app: nothing lives in
module globals, so two apps in one test run never share a sender or an index. Use cases receive
what they need of it (a session, the settings, the index cache) as arguments. Sessions made here
carry the runtime's task sender (`Session.info`, see services.outbox), so a use case that commits
work can hand its tasks on without knowing whether they go to Redis or run in this process.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from config import Settings
from models.db import make_engine, make_session_factory
from services import outbox
from services.matching.index_cache import IndexCache


@dataclass
class Runtime:
    settings: Settings
    session_factory: sessionmaker[Session]
    engine: sa.Engine | None = None  # set when the runtime made it (and so disposes of it)
    sender: outbox.Sender | None = None
    indexes: IndexCache = field(default_factory=IndexCache)

    @classmethod
    def create(
        cls, settings: Settings, session_factory: sessionmaker[Session] | None = None
    ) -> Runtime:
        """A runtime on `settings`; its own engine unless a session factory is given (tests)."""
        engine = None
        if session_factory is None:
            engine = make_engine(settings.database_url)
            session_factory = make_session_factory(engine)
        return cls(settings, session_factory, engine)

    def use_sender(self, sender: outbox.Sender) -> None:
        """Send tasks with `sender` from now on, from every session this runtime makes."""
        self.sender = sender
        self.session_factory.configure(info={outbox.SENDER_KEY: sender})

    def session(self) -> Session:
        """A new session (use it in a `with` block)."""
        return self.session_factory()

    def send(self, task: str, args: list, *, countdown: float | None = None) -> None:
        """Hand a task to the workers now (raises when the broker cannot take it)."""
        if self.sender is None:
            raise RuntimeError("this runtime has no task sender")
        self.sender(task, args, countdown=countdown)

    def after_fork(self) -> None:
        """Drop connections inherited from a parent process (they must not be shared)."""
        if self.engine is not None:
            self.engine.dispose(close=False)
