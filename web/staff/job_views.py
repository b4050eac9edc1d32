"""Background jobs for staff: rebuild progress, tasks that failed for good, and a rebuild button."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _

from services import jobs as job_service
from services import outbox
from services.matching import rebuild
from web.db import db_session
from web.staff.blueprint import bp
from web.staff.forms import ActionForm


@bp.get("/jobs")
def jobs():
    shown = job_service.overview(db_session())
    return render_template(
        "staff/jobs.html",
        jobs=shown.jobs,
        running=shown.running,
        waiting=shown.waiting,
        form=ActionForm(),
    )


@bp.post("/jobs/rebuild")
def start_rebuild():
    form = ActionForm()
    if form.validate_on_submit():
        job = rebuild.request_rebuild(db_session())
        flash(_("Rebuild started (job %(id)s).", id=job.id[:8]), "success")
    return redirect(url_for("staff.jobs"))


@bp.post("/jobs/sweep")
def send_waiting():
    form = ActionForm()
    if form.validate_on_submit():
        sent = outbox.dispatch(db_session())
        flash(_("%(n)s waiting task(s) sent to the workers.", n=sent), "success")
    return redirect(url_for("staff.jobs"))
