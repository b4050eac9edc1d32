"""The Celery application, its configuration, and the runtime tasks run with.

The leaf of the workers package (Superset's pattern): task modules (scoring_tasks,
digest_tasks) import `app` and `runtime` from here to register their tasks; workers/main.py,
the entry point of `celery -A workers.main worker|beat`, imports the task modules and wires the
signals. Nothing is read at import: the configuration comes from the environment when Celery
first needs it, and a worker process builds its runtime when its first task runs.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from datetime import timedelta

from celery import Celery, Task
from celery.schedules import crontab
from kombu import Queue

import config as app_config
from services import jobs, task_names
from services.runtime import Runtime

log = logging.getLogger(__name__)

# Rebuild chunks have a queue of their own: workers take from each queue in turn, so a new
# item's scoring waits for at most one chunk, not for the whole rebuild.
QUEUES = ("scoring", "email", "feeds", "rebuild")
SWEEP_EVERY = timedelta(seconds=60)
FEEDS_CHECK_EVERY = timedelta(seconds=60)  # how often beat looks for feeds whose time has come
RETRY_BACKOFF_MAX = 600
DEFAULT_RESTORE_LOCK_SECONDS = 60  # a dead worker's hold on kombu's restore scan expires then


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
        "task_routes": {
            **{
                name: {"queue": "email"}
                for name in ("digest.*", "searches.*", "notes.*", "reminders.*")
            },
            "feeds.*": {"queue": "feeds"},
            task_names.REBUILD_CHUNK: {"queue": "rebuild"},
            task_names.REBUILD_FINISH: {"queue": "rebuild"},
            task_names.RETRAIN: {"queue": "rebuild"},  # minutes of fitting: not before scoring
        },
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
            # How soon a worker looks for such tasks: kombu scans every interval x throttle
            # seconds (10 x 10 by default), so a dead worker's task waited up to 100 s past its
            # visibility timeout, and up to 5 minutes when it died holding the scan's lock.
            "unacked_restore_interval": max(1, min(10, settings.visibility_timeout)),
            "unacked_restore_throttle": 1,
            "unacked_mutex_expire": DEFAULT_RESTORE_LOCK_SECONDS,
        },
        # Sending a task subscribes to its result; with Redis down that must fail at once too.
        "result_backend_transport_options": {
            "visibility_timeout": settings.visibility_timeout,
            "retry_policy": {"max_retries": 0},
        },
        "beat_schedule": beat_schedule(settings),
        # Beat's record of last runs lives in the instance folder, not the working directory.
        "beat_schedule_filename": str(settings.instance_path / "celerybeat-schedule"),
        "worker_hijack_root_logger": False,
    }


def beat_schedule(settings: app_config.Settings) -> dict:
    """Nightly rebuild, daily expiry, the outbox sweep, the weekly digest, saved-search emails,
    deadline reminders, the feeds due and the weekly retrain of the ranker, in agency time."""
    return {
        "nightly-rebuild": {
            "task": task_names.NIGHTLY_REBUILD,
            "schedule": crontab(hour=settings.rebuild_hour, minute=0),
        },
        "daily-expiry": {
            "task": task_names.EXPIRE_OFFERS,
            "schedule": crontab(hour=settings.expire_hour, minute=15),
        },
        "outbox-sweep": {"task": task_names.SWEEP_OUTBOX, "schedule": SWEEP_EVERY},
        "weekly-digest": {
            "task": task_names.DIGEST_SEND_WEEKLY,
            "schedule": crontab(
                day_of_week=settings.digest_weekday, hour=settings.digest_hour, minute=0
            ),
        },
        "saved-searches": {
            "task": task_names.SEARCH_SEND_DUE,
            "schedule": timedelta(seconds=settings.search_interval),
        },
        "deadline-reminders": {
            "task": task_names.REMINDERS_SEND_DUE,
            "schedule": crontab(hour=settings.reminder_hour, minute=30),
        },
        "feeds": {"task": task_names.FEEDS_RUN_DUE, "schedule": FEEDS_CHECK_EVERY},
        "weekly-retrain": {
            "task": task_names.WEEKLY_RETRAIN,
            "schedule": crontab(
                day_of_week=settings.retrain_weekday, hour=settings.retrain_hour, minute=30
            ),
        },
    }


def settings_from_env() -> app_config.Settings:
    """The worker's settings, read from the environment; a configuration that must not run
    stops the process with one line."""
    settings = app_config.from_env()
    try:
        settings.check()
    except app_config.ConfigError as exc:
        raise SystemExit(f"CoopMatch worker cannot start: {exc}") from None
    return settings


def broker_client(settings: app_config.Settings) -> Celery:
    """A Celery app that only sends tasks (the web's), configured like the workers."""
    client = Celery("coopmatch-client", set_as_current=False)
    client.conf.update(celery_settings(settings))
    return client


class BrokerSender:
    """Hands tasks to the broker by name, failing at once when it is down (outbox.Sender)."""

    def __init__(self, celery: Celery) -> None:
        self.celery = celery

    def __call__(self, task: str, args: list, *, countdown: float | None = None) -> None:
        self.celery.send_task(task, args=list(args), countdown=countdown, retry=False)


class RecordedTask(Task):
    """Retries with exponential backoff; a failure after the last retry is kept for staff."""

    autoretry_for = (Exception,)
    retry_backoff = True
    retry_backoff_max = RETRY_BACKOFF_MAX
    retry_jitter = True
    acks_late = True
    reject_on_worker_lost = True

    @property
    def max_retries(self):  # read from settings, so COOPMATCH_TASK_MAX_RETRIES applies
        return runtime().settings.task_max_retries

    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        log.error("task %s%s failed for good: %s", self.name, tuple(args), exc)
        with runtime().session() as session:
            jobs.record_failure(session, self.name, list(args), f"{type(exc).__name__}: {exc}")


app = Celery("coopmatch", task_cls=RecordedTask)
# Configured when Celery first needs it, never at import: from the runtime tasks run with (a
# worker's reads the environment once; in-process tasks use the calling app's settings).
app.add_defaults(lambda: celery_settings(runtime().settings))

# The runtime of tasks run in-process (the embedded default) is the calling app's; a worker
# process builds its own from the environment when its first task runs.
_in_process: ContextVar[Runtime | None] = ContextVar("coopmatch_in_process", default=None)
_worker: list[Runtime] = []  # this worker process's runtime, once built


def runtime() -> Runtime:
    """The runtime the current task runs with."""
    current = _in_process.get()
    if current is not None:
        return current
    if not _worker:
        built = Runtime.create(settings_from_env())
        built.use_sender(BrokerSender(app))
        _worker.append(built)
    return _worker[0]


def running_in(runtime: Runtime):
    """Make `runtime` the one tasks run with in this context; returns the token to reset."""
    return _in_process.set(runtime)


def stop_running_in(token) -> None:
    _in_process.reset(token)


def worker_runtime() -> Runtime | None:
    """This worker process's runtime if it was built (None before its first task)."""
    return _worker[0] if _worker else None
