"""Background jobs people may watch: rebuild progress, tasks that failed for good, and what
waits in the outbox."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from models import Job, Offer, Project
from models.enums import JobStatus, ScoringState
from services import clock, outbox, task_names
from services.db import committing, fetch
from services.errors import Invalid

DEFAULT_RECENT = 50
DEFAULT_LIST_LIMIT = 100
# A scoring task that failed for good marks its item `failed`, where the API and pages show it.
SCORED_BY = {task_names.SCORE_OFFER: Offer, task_names.SCORE_PROJECT: Project}


@dataclass
class Overview:
    jobs: list[Job]
    running: bool  # a job is queued or running: the page refreshes itself
    waiting: int  # tasks saved but not yet handed to the broker


def get_job(session: Session, job_id: str) -> Job:
    """The job `job_id`, or NotFound."""
    return fetch(session, Job, job_id, "job")


def list_jobs(
    session: Session, status: str | None = None, limit: int = DEFAULT_LIST_LIMIT
) -> list[Job]:
    """The newest jobs, optionally only those with `status`."""
    query = sa.select(Job).order_by(Job.created_at.desc(), Job.id).limit(limit)
    if status:
        if status not in {s.value for s in JobStatus}:
            known = ", ".join(s.value for s in JobStatus)
            raise Invalid("unknown job status", {"status": [f"Use one of: {known}."]})
        query = query.where(Job.status == status)
    return list(session.scalars(query))


def overview(session: Session, limit: int = DEFAULT_RECENT) -> Overview:
    """The newest jobs, whether one is still going, and how many tasks wait in the outbox."""
    rows = list_jobs(session, limit=limit)
    running = any(job.status in (JobStatus.QUEUED, JobStatus.RUNNING) for job in rows)
    return Overview(rows, running, outbox.pending(session))


def record_failure(session: Session, task: str, args: list, error: str) -> Job:
    """Keep a task that failed after its last retry where staff can see it."""
    subject = None
    model = SCORED_BY.get(task)
    if model is not None and args:
        subject = f"{model.__tablename__[:-1]}:{args[0]}"
        session.execute(
            sa.update(model)
            .where(model.id == args[0])
            # updated_at kept: it says when the content changed (services.matching.store)
            .values(scoring_state=ScoringState.FAILED, updated_at=model.updated_at)
        )
    now = clock.now()
    job = Job(
        id=str(uuid.uuid4()),
        kind=task,
        status=JobStatus.FAILED,
        subject=subject,
        detail=error[:4000],
        started_at=now,
        finished_at=now,
    )
    with committing(session):
        session.add(job)
    return job
