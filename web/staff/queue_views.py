"""The review queue and the decisions taken from it: shortlist, accept, reject, bulk, undo."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from services import reviews
from services.errors import Conflict, DomainError, NotFound
from web import form_errors
from web.db import db_session
from web.staff import common
from web.staff.blueprint import bp
from web.staff.forms import BulkRejectForm, DecisionForm, QueueFilterForm, UndoForm

FILTER_NAMES = reviews.FILTER_NAMES


def _cursor(raw: str | None) -> tuple[float, int] | None:
    if not raw:
        return None
    score, _sep, last_id = raw.partition(":")
    try:
        return float(score), int(last_id)
    except ValueError:
        return None


def _filters(form: QueueFilterForm) -> reviews.QueueFilters:
    filters = reviews.QueueFilters()
    valid = form.validate()
    for name in FILTER_NAMES:
        field = getattr(form, name)
        if valid or not field.errors:
            value = field.data
            if value not in (None, ""):
                setattr(filters, name, value)
    return filters


@bp.get("/queue")
def queue():
    form = QueueFilterForm(formdata=request.args)
    filters = _filters(form)
    filters.after = _cursor(request.args.get("after"))
    page = reviews.queue_page(db_session(), filters, common.today(), count=True)
    args = {k: v for k, v in request.args.items() if k in FILTER_NAMES and v != ""}
    next_url = (
        url_for("staff.queue", **args, after=f"{page.next_after[0]!r}:{page.next_after[1]}")
        if page.next_after
        else None
    )
    first_url = url_for("staff.queue", **args) if filters.after else None
    return render_template(
        "staff/queue.html",
        form=form,
        page=page,
        next_url=next_url,
        first_url=first_url,
        today=common.today(),
        return_to=common.here(),
        undo=session.pop("staff_undo", None),
        undoable=reviews.undoable_ids(db_session(), [m.id for m in page.items]),
        decision_form=DecisionForm(),
        bulk_form=BulkRejectForm(),
        count=page.count,
        saved_params=filters.params(),
    )


def _remember_undo(ids: list[int], message: str) -> None:
    session["staff_undo"] = {"ids": ids, "message": message}


@bp.post("/matches/<int:match_id>/decide")
def decide(match_id: int):
    form = DecisionForm()
    back = common.safe_next(form.next.data)
    if not form.validate_on_submit():
        flash(_("The decision could not be read. Try again."), "error")
        return redirect(back)
    action = form.action.data
    try:
        reviews.decide(
            db_session(),
            match_id,
            current_user.id,
            action,
            reason=form.reason.data or None,
            note=form.note.data,
            usd_rates=common.settings().usd_rates,
            today=common.today(),
        )
    except NotFound:
        flash(_("That match no longer exists."), "error")
    except Conflict:
        flash(
            _("Match %(id)s was already decided or withdrawn: nothing changed.", id=match_id),
            "error",
        )
    except DomainError as exc:
        form_errors.flash_error(exc, _("The decision could not be saved."))
    else:
        messages = {
            "shortlist": _("Match %(id)s shortlisted.", id=match_id),
            "accept": _("Match %(id)s accepted: an alliance was started.", id=match_id),
            "reject": _("Match %(id)s rejected.", id=match_id),
        }
        _remember_undo([match_id], messages[action])
    return redirect(back)


@bp.post("/matches/bulk-reject")
def bulk_reject():
    form = BulkRejectForm()
    back = common.safe_next(form.next.data)
    if not form.validate_on_submit():
        messages = [e for errors in form.errors.values() for e in errors]
        flash(
            " ".join(str(m) for m in messages) or _("Choose a reason for the rejection."), "error"
        )
        return redirect(back)
    try:
        result = reviews.bulk_reject(
            db_session(),
            form.match_ids.data or [],
            current_user.id,
            form.reason.data,
            form.note.data,
        )
    except DomainError as exc:
        form_errors.flash_error(exc, _("Nothing was rejected."))
        return redirect(back)
    message = ngettext("%(num)d match rejected.", "%(num)d matches rejected.", len(result.done))
    if result.skipped:
        message += " " + ngettext(
            "%(num)d was skipped: already decided or withdrawn.",
            "%(num)d were skipped: already decided or withdrawn.",
            len(result.skipped),
        )
    _remember_undo(result.done, message)
    return redirect(back)


@bp.post("/matches/undo")
def undo():
    form = UndoForm()
    back = common.safe_next(form.next.data)
    if not form.validate_on_submit() or not form.match_ids.data:
        flash(_("Nothing to undo."), "error")
        return redirect(back)
    undone, refused = [], []
    for match_id in form.match_ids.data:
        try:
            reviews.undo(db_session(), match_id, current_user.id)
        except DomainError as exc:
            refused.append((match_id, exc))
        else:
            undone.append(match_id)
    if undone:
        flash(
            ngettext("%(num)d decision undone.", "%(num)d decisions undone.", len(undone)),
            "success",
        )
    for match_id, exc in refused:
        if "alliance_id" in exc.fields:
            flash(
                _(
                    "Match %(id)s: its alliance has been worked on, so the acceptance stays. "
                    "Set the alliance to 'Dropped' on the board instead.",
                    id=match_id,
                ),
                "error",
            )
        else:
            flash(_("Match %(id)s: nothing to undo, or it changed since.", id=match_id), "error")
    return redirect(back)
