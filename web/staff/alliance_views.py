"""The alliance board by stage, and the audited edit of one alliance."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from services import alliances, audit
from services.errors import DomainError, NotFound
from web import form_errors
from web.db import db_session
from web.staff import common, work_views
from web.staff.blueprint import bp
from web.staff.forms import AllianceForm


@bp.get("/alliances", endpoint="alliances")
def alliances_board():
    columns = alliances.board(db_session())
    return render_template("staff/alliances.html", columns=columns)


@bp.route("/alliances/<int:alliance_id>", methods=["GET", "POST"])
def alliance(alliance_id: int):
    try:
        item = alliances.get(db_session(), alliance_id)
    except NotFound:
        abort(404)
    form = AllianceForm(obj=item)
    if form.validate_on_submit():
        data = {name: getattr(form, name).data for name in alliances.EDITABLE}
        try:
            alliances.update(db_session(), item, current_user.id, data, today=common.today())
        except DomainError as exc:
            if not form_errors.show(form, exc.fields):
                form.amount.errors = [*form.amount.errors, _("The alliance could not be saved.")]
        else:
            flash(_("The alliance was saved."), "success")
            return redirect(url_for("staff.alliances") + f"#alliance-{item.id}")
    events = audit.trail(db_session(), "alliance", [item.id], limit=100)
    status = 400 if form.errors else 200
    page = render_template(
        "staff/alliance.html",
        alliance=item,
        form=form,
        events=events,
        **work_views.context("alliance", item),
    )
    return page, status
