"""User management for administrators: create users, change roles, deactivate, unlock."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from models.enums import Role
from services import clock, submissions, user_admin
from services.errors import Conflict, DomainError, NotFound
from web import form_errors
from web.db import db_session
from web.staff.blueprint import bp
from web.staff.forms import ActionForm, NewUserForm, UserChangeForm


def _admin_only() -> None:
    if current_user.role != Role.ADMIN:
        abort(403)


def _person(user_id: int):
    try:
        return user_admin.get(db_session(), user_id)
    except NotFound:
        abort(404)


def _org_choices():
    return [SelectChoice(0, "—")] + [
        SelectChoice(o.id, o.name) for o in submissions.supply_organizations(db_session())
    ]


@bp.route("/users", methods=["GET", "POST"])
def users():
    _admin_only()
    form = NewUserForm()
    form.organization_id.choices = _org_choices()
    if form.validate_on_submit():
        try:
            user = user_admin.create_user(
                db_session(),
                form.email.data,
                form.role.data,
                form.password.data,
                name=form.name.data or "",
                language=form.language.data,
                organization_id=form.organization_id.data or None,
                admin_id=current_user.id,
            )
        except Conflict:
            form.email.errors = [*form.email.errors, _("A user with this email already exists.")]
        except DomainError as exc:
            if not form_errors.show(form, exc.fields):
                form.email.errors = [*form.email.errors, _("The user could not be created.")]
        else:
            flash(_("%(email)s can now sign in.", email=user.email), "success")
            return redirect(url_for("staff.users"))
    people = user_admin.list_users(db_session())
    change_forms = {}
    for person in people:
        change = UserChangeForm(
            prefix=f"u{person.id}",
            data={
                "role": person.role.value,
                "active": person.active,
                "organization_id": person.organization_id or 0,
            },
        )
        change.organization_id.choices = form.organization_id.choices
        change_forms[person.id] = change
    status = 400 if form.errors else 200
    return render_template(
        "staff/users.html",
        form=form,
        people=people,
        change_forms=change_forms,
        action_form=ActionForm(),
        locked_ids=_locked(people),
    ), status


def _locked(people) -> set[int]:
    now = clock.now()
    return {p.id for p in people if user_admin.is_locked(p, now)}


@bp.post("/users/<int:user_id>")
def change_user(user_id: int):
    _admin_only()
    person = _person(user_id)
    form = UserChangeForm(prefix=f"u{user_id}")
    form.organization_id.choices = _org_choices()
    if not form.validate_on_submit():
        abort(400)
    try:
        user_admin.change(
            db_session(),
            current_user.id,
            person,
            role=form.role.data,
            active=form.active.data,
            organization_id=form.organization_id.data or None,
        )
    except DomainError as exc:
        form_errors.flash_error(exc, _("The user could not be changed."))
    else:
        flash(_("%(email)s was updated.", email=person.email), "success")
    return redirect(url_for("staff.users"))


@bp.post("/users/<int:user_id>/unlock")
def unlock_user(user_id: int):
    _admin_only()
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    person = _person(user_id)
    user_admin.unlock(db_session(), current_user.id, person)
    flash(_("%(email)s may sign in again.", email=person.email), "success")
    return redirect(url_for("staff.users"))
