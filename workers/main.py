"""The worker's entry point: `celery -A workers.main worker` and `celery -A workers.main beat`.

It registers every task module on the app (workers/celery_app.py) and wires the process
signals. `celery -A workers.main worker` consumes every queue (scoring, email, rebuild); add
workers to scale. The web app (create_app, the other wiring module) takes its task senders from
here: through the broker in production, at once in-process on the embedded default.
"""

from __future__ import annotations

import logging

from celery import signals

from services import outbox
from services.runtime import Runtime
from workers import (  # noqa: F401  (registers tasks)
    digest_tasks,
    document_tasks,
    feed_tasks,
    scoring_tasks,
    search_tasks,
    work_tasks,
)
from workers.celery_app import (
    BrokerSender,
    app,
    broker_client,
    running_in,
    runtime,
    stop_running_in,
    worker_runtime,
)

__all__ = ["app", "sender_for"]

log = logging.getLogger(__name__)


class InProcessSender:
    """Runs each task at once, in this process, with `runtime`: the embedded default."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def __call__(self, task: str, args: list, *, countdown: float | None = None) -> None:
        token = running_in(self.runtime)
        try:
            app.tasks[task].apply(args=list(args))
        finally:
            stop_running_in(token)


def sender_for(runtime: Runtime) -> outbox.Sender:
    """How `runtime`'s tasks reach a worker: Redis when configured, else this very process."""
    if runtime.settings.eager_tasks:
        return InProcessSender(runtime)
    return BrokerSender(broker_client(runtime.settings))


@signals.worker_process_init.connect
def _after_fork(**_kwargs) -> None:
    built = worker_runtime()
    if built is not None:  # connections inherited from the parent must not be shared with it
        built.after_fork()


@signals.worker_ready.connect
def _on_worker_ready(**_kwargs) -> None:
    """Send what waited in the outbox while no worker or broker was there."""
    with runtime().session() as session:
        sent = outbox.dispatch(session)
    if sent:
        log.info("sent %d waiting task(s) from the outbox", sent)
