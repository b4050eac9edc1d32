"""The Celery application: configured lazily from config.py, wired to the services.

`celery -A workers.main worker` consumes every queue (scoring, email); add workers to scale.
`celery -A workers.main beat` sends the schedule. The web app calls `configure()` so that on
the embedded default (no REDIS_URL) tasks run in-process with the app's own session factory.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import timedelta

from celery import Celery, signals
from celery.schedules import crontab
from kombu import Queue
from sqlalchemy.orm import Session, sessionmaker

import config as app_config
from models.db import make_engine, make_session_factory
from services import outbox

log = logging.getLogger(__name__)

QUEUES = ("scoring", "email")
SWEEP_EVERY = timedelta(seconds=60)


@dataclass
class WorkerRuntime:
    settings: app_config.Settings
    session_factory: sessionmaker[Session]
    engine: object = None


_runtime: WorkerRuntime | None = None


def celery_settings(settings: app_config.Settings) -> dict:
    """Celery configuration for `settings`: Redis in production, in-process by default."""
    return {
        "broker_url": settings.broker_url,
        "result_backend": settings.result_backend,
        "task_always_eager": settings.eager_tasks,
        "task_eager_propagates": False,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_queues": tuple(Queue(name) for name in QUEUES),
        "task_default_queue": "scoring",
        "task_routes": {"digest.*": {"queue": "email"}},
        "task_serializer": "json",
        "accept_content": ["json"],
        "result_expires": 24 * 3600,
        "timezone": settings.timezone,
        "enable_utc": True,
        "broker_connection_retry_on_startup": True,
        "broker_connection_timeout": 2,
        # An unacknowledged task (its worker died) is handed to another worker after this;
        # publishing fails at once when the broker is down (the outbox keeps the task).
        "broker_transport_options": {
            "visibility_timeout": settings.visibility_timeout,
            "max_retries": 0,
        },
        # Sending a task subscribes to its result; with Redis down that must fail at once too.
        "result_backend_transport_options": {
            "visibility_timeout": settings.visibility_timeout,
            "retry_policy": {"max_retries": 0},
        },
        "beat_schedule": beat_schedule(settings),
        "worker_hijack_root_logger": False,
    }


def beat_schedule(settings: app_config.Settings) -> dict:
    """Nightly rebuild, daily expiry and the outbox sweep, in the agency's time zone."""
    return {
        "nightly-rebuild": {
            "task": "scoring.nightly_rebuild",
            "schedule": crontab(hour=settings.rebuild_hour, minute=0),
        },
        "daily-expiry": {
            "task": "scoring.expire_offers",
            "schedule": crontab(hour=settings.expire_hour, minute=15),
        },
        "outbox-sweep": {"task": "scoring.sweep", "schedule": SWEEP_EVERY},
        "weekly-digest": {
            "task": "digest.send_weekly",
            "schedule": crontab(
                day_of_week=settings.digest_weekday, hour=settings.digest_hour, minute=0
            ),
        },
    }


app = Celery("coopmatch", include=["workers.tasks", "workers.digest_tasks"])
# Read the environment when Celery first needs its configuration, never at import.
app.add_defaults(lambda: celery_settings(runtime().settings))


def configure(
    settings: app_config.Settings, session_factory: sessionmaker[Session] | None = None
) -> WorkerRuntime:
    """Set the settings and sessions tasks use (the web app calls this in create_app)."""
    global _runtime
    engine = None
    if session_factory is None:
        engine = make_engine(settings.database_url)
        session_factory = make_session_factory(engine)
    _runtime = WorkerRuntime(settings, session_factory, engine)
    app.conf.update(celery_settings(settings))
    _drop_connections()
    import workers.tasks  # noqa: F401  (registers the tasks; needs this module loaded first)

    outbox.set_sender(send_task)
    return _runtime


def _drop_connections() -> None:
    # Pools keep the broker URL they were made with; a new configuration needs new ones.
    # (Closing the old ones here would break kombu's shared producer registry.)
    app._pool = None
    app.amqp._producer_pool = None
    # The result backend is cached too (per thread, or shared when thread-safe).
    app._backend_cache = None
    app._local = threading.local()


def runtime() -> WorkerRuntime:
    """The worker's runtime, built from the environment on first use."""
    if _runtime is None:
        settings = app_config.from_env()
        try:
            settings.check()
        except app_config.ConfigError as exc:
            raise SystemExit(f"CoopMatch worker cannot start: {exc}") from None
        configure(settings)
    return _runtime


def send_task(name: str, args: list) -> None:
    """Hand a task to the broker now, without retrying: the outbox keeps it if this fails."""
    app.tasks[name].apply_async(args=args, retry=False)


@signals.worker_process_init.connect
def _after_fork(**_kwargs) -> None:
    # Connections inherited from the parent process must not be shared with it.
    if _runtime is not None and _runtime.engine is not None:
        _runtime.engine.dispose(close=False)


@signals.worker_ready.connect
def _on_worker_ready(**_kwargs) -> None:
    """Send what waited in the outbox while no worker or broker was there."""
    with runtime().session_factory() as session:
        sent = outbox.dispatch(session)
    if sent:
        log.info("sent %d waiting task(s) from the outbox", sent)
