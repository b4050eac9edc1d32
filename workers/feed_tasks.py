"""Feed tasks (queue `feeds`): the beat's look for due feeds, and one feed's run."""

from __future__ import annotations

import logging

from services import task_names
from services.errors import Conflict, NotFound
from services.ingest import runs
from workers.celery_app import app, runtime

log = logging.getLogger(__name__)


@app.task(name=task_names.FEEDS_RUN_DUE)
def run_due() -> list[int]:
    """Send a run task for each enabled feed whose time has come."""
    rt = runtime()
    with rt.session() as session:
        due = runs.due(session, rt.settings)
    for feed_id in due:
        rt.send(task_names.FEEDS_RUN, [feed_id, "schedule"])
    return due


# A run records its own failure (the run's first error); retrying is the next scheduled run's.
@app.task(name=task_names.FEEDS_RUN, autoretry_for=())
def run(feed_id: int, trigger: str = "schedule") -> dict | None:
    """Run one feed; another run holding it already means nothing to do."""
    rt = runtime()
    with rt.session() as session:
        try:
            done = runs.run_feed(session, feed_id, rt.settings, trigger=trigger)
        except (Conflict, NotFound) as exc:
            log.info("feed %s not run: %s", feed_id, exc.message)
            return None
        return {"run": done.id, "state": str(done.state), "summary": done.summary()}
