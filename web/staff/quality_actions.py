"""The administrators' button that retrains the learned ranker now (it runs weekly anyway)."""

from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from models.enums import RankerRunState, RankerTrigger, Role
from services.matching import retrain
from web.db import db_session
from web.staff.blueprint import bp
from web.staff.forms import ActionForm


@bp.post("/quality/retrain")
def quality_retrain():
    if current_user.role != Role.ADMIN:
        abort(403)
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400, _("The form expired: reload the page and press the button again."))
    run = retrain.request_retrain(db_session(), RankerTrigger.ADMIN, current_user)
    if run.state in (RankerRunState.QUEUED, RankerRunState.RUNNING) and (
        run.requested_by_id != current_user.id or run.trigger != RankerTrigger.ADMIN
    ):
        flash(_("A retrain is already under way (run %(id)s).", id=run.id), "info")
    elif run.state in (RankerRunState.QUEUED, RankerRunState.RUNNING):
        flash(_("Retrain asked for (run %(id)s): it runs in the background.", id=run.id), "success")
    elif run.adopted:
        flash(_("Retrain %(id)s done: the new model is in use.", id=run.id), "success")
    else:
        flash(_("Retrain %(id)s done: the model in use stays.", id=run.id), "info")
    return redirect(url_for("staff.quality"))  # it shows the runs
