"""Project and offer pages with their ranked matches, and the moderation of submitted offers."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import ValidationError

from models import Offer, Project
from services import audit, catalog, jsonable, moderation, opportunities, reviews
from services.documents import store
from services.errors import DomainError, NotFound
from web import form_errors, schemas
from web.db import db_session
from web.staff import common, work_views
from web.staff.blueprint import bp
from web.staff.forms import (
    ActionForm,
    DecisionForm,
    DocumentForm,
    OfferEditForm,
    OfferRejectForm,
)


def _get(model, item_id: int):
    try:
        return catalog.get(db_session(), model, item_id)
    except NotFound:
        abort(404)


def _match_page(template: str, **context):
    matches = context["matches"]
    ids = [m.id for m in matches]
    return render_template(
        template,
        today=common.today(),
        return_to=common.here(),
        undo=session.pop("staff_undo", None),
        undoable=reviews.undoable_ids(db_session(), ids),
        decision_form=DecisionForm(),
        **context,
    )


def _documents(item, form: DocumentForm | None) -> dict:
    return {
        "documents": store.of(db_session(), item),
        "document_form": form or DocumentForm(formdata=None),
        "action_form": ActionForm(),
    }


def project_page(item: Project, document_form: DocumentForm | None = None, status: int = 200):
    """The project's page (`document_form`: an upload to show again with its errors)."""
    matches = reviews.ranked(db_session(), project_id=item.id)
    events = audit.trail(db_session(), "match", [m.id for m in matches])
    return _match_page(
        "staff/project.html",
        project=item,
        matches=matches,
        events=events,
        by_id={m.id: m for m in matches},
        project_events=audit.trail(db_session(), "project", [item.id], limit=50),
        **work_views.context("project", item),
        **_documents(item, document_form),
    ), status


def offer_page(item: Offer, document_form: DocumentForm | None = None, status: int = 200):
    """The offer's page (`document_form`: an upload to show again with its errors)."""
    matches = reviews.ranked(db_session(), offer_id=item.id)
    events = audit.trail(db_session(), "offer", [item.id], limit=50)
    return _match_page(
        "staff/offer.html",
        offer=item,
        matches=matches,
        events=events,
        rejection=moderation.last_rejection(db_session(), item.id),
        reject_form=OfferRejectForm(),
        similar=opportunities.more_like_this(db_session(), item.id, common.today()),
        **_documents(item, document_form),
    ), status


@bp.get("/projects/<int:project_id>")
def project(project_id: int):
    return project_page(_get(Project, project_id))


@bp.get("/offers/<int:offer_id>")
def offer(offer_id: int):
    return offer_page(_get(Offer, offer_id))


@bp.get("/moderation", endpoint="moderation")
def moderation_list():
    offers = moderation.pending(db_session())
    return render_template(
        "staff/moderation.html",
        offers=offers,
        reject_form=OfferRejectForm(),
        action_form=ActionForm(),
    )


def _back_to_moderation():
    return redirect(common.safe_next(request.form.get("next"), "staff.moderation"))


@bp.post("/moderation/<int:offer_id>/publish")
def publish(offer_id: int):
    form = ActionForm()
    item = _get(Offer, offer_id)
    if not form.validate_on_submit():
        abort(400)
    try:
        moderation.publish(db_session(), item, current_user.id)
    except DomainError as exc:
        form_errors.flash_error(
            exc,
            _(
                "Offer %(id)s could not be published: it is no longer "
                "waiting for moderation, or some of its fields break the "
                "rules. Edit it first.",
                id=offer_id,
            ),
        )
    else:
        flash(
            _("“%(title)s” is published; its matches are being computed.", title=item.title),
            "success",
        )
    return _back_to_moderation()


@bp.post("/moderation/<int:offer_id>/reject")
def reject_offer(offer_id: int):
    form = OfferRejectForm()
    item = _get(Offer, offer_id)
    if not form.validate_on_submit():
        flash(_("Choose a reason for the rejection."), "error")
        return _back_to_moderation()
    try:
        moderation.reject(db_session(), item, current_user.id, form.reason.data, form.note.data)
    except DomainError as exc:
        form_errors.flash_error(
            exc, _("Offer %(id)s is no longer waiting for moderation.", id=offer_id)
        )
    else:
        flash(_("“%(title)s” was rejected.", title=item.title), "success")
    return _back_to_moderation()


def _edit_values(form: OfferEditForm) -> dict:
    values = {name: getattr(form, name).data for name in moderation.EDITABLE if hasattr(form, name)}
    values["currency"] = values.get("currency") or None
    values["contact_email"] = values.get("contact_email") or None
    values["contact_private"] = bool(values.get("contact_private"))
    for name in ("modalities", "lines", "sdgs", "eligible_kinds", "eligible_countries"):
        values[name] = list(values.get(name) or [])
    return values


@bp.route("/moderation/<int:offer_id>/edit", methods=["GET", "POST"])
def edit_offer(offer_id: int):
    item = _get(Offer, offer_id)
    form = OfferEditForm(obj=item)
    if form.validate_on_submit():
        try:
            # The one schema every way in uses (API, public form, import): staff edits too.
            values = schemas.OfferIn(partial=True).load(
                jsonable.plain(_edit_values(form), decimal=jsonable.number)
            )
            moderation.edit(db_session(), item, current_user.id, values)
        except ValidationError as exc:
            db_session().refresh(item)
            form_errors.show(form, exc.messages)
        except DomainError as exc:
            db_session().refresh(item)
            if not form_errors.show(form, exc.fields):
                form.title.errors = [*form.title.errors, _("The offer could not be saved.")]
        else:
            flash(_("The offer was saved."), "success")
            return redirect(url_for("staff.offer", offer_id=item.id))
    status = 400 if form.errors else 200
    org = item.organization
    return render_template(
        "staff/offer_edit.html",
        offer=item,
        form=form,
        org=org,
        return_to=common.here(),
        **_documents(item, None),
    ), status
