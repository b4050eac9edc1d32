"""Background jobs for staff: rebuild progress, tasks that failed for good, and a rebuild button."""

from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _

from models import Job, OutboxMessage
from models.enums import JobStatus
from services import outbox, scoring
from web.app import db_session
from web.staff import bp
from web.staff.forms import ActionForm

RECENT_JOBS = 50


@bp.get("/jobs")
def jobs():
    session = db_session()
    rows = session.scalars(
        sa.select(Job).order_by(Job.created_at.desc(), Job.id).limit(RECENT_JOBS)
    ).all()
    running = any(job.status in (JobStatus.QUEUED, JobStatus.RUNNING) for job in rows)
    waiting = session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) or 0
    return render_template(
        "staff/jobs.html", jobs=rows, running=running, waiting=waiting, form=ActionForm()
    )


@bp.post("/jobs/rebuild")
def start_rebuild():
    form = ActionForm()
    if form.validate_on_submit():
        job = scoring.request_rebuild(db_session())
        flash(_("Rebuild started (job %(id)s).", id=job.id[:8]), "success")
    return redirect(url_for("staff.jobs"))


@bp.post("/jobs/sweep")
def send_waiting():
    form = ActionForm()
    if form.validate_on_submit():
        sent = outbox.dispatch(db_session())
        flash(_("%(n)s waiting task(s) sent to the workers.", n=sent), "success")
    return redirect(url_for("staff.jobs"))
