"""The feeds page: configured sources, their runs, organisation mappings, possible duplicates;
and an ally's page with the activities the feeds found for it in the agency's country."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from models import Organization
from models.enums import FeedRunState, Role
from services import submissions
from services.errors import DomainError, NotFound
from services.ingest import activities, admin, duplicates, orgs, runs
from web import form_errors
from web.db import db_session, runtime
from web.staff.blueprint import bp
from web.staff.feed_forms import KIND_NAMES, FeedForm, MappingForm
from web.staff.forms import ActionForm

RUN_STATES = {
    FeedRunState.RUNNING: _l("running"),
    FeedRunState.SUCCEEDED: _l("succeeded"),
    FeedRunState.NOT_MODIFIED: _l("not modified"),
    FeedRunState.FAILED: _l("failed"),
}


def _admin_only() -> None:
    if current_user.role != Role.ADMIN:
        abort(403)


def _feed(feed_id: int):
    try:
        return admin.get(db_session(), feed_id)
    except NotFound:
        abort(404)


def _ally_choices():
    return [SelectChoice(0, "—")] + [
        SelectChoice(o.id, o.name) for o in submissions.supply_organizations(db_session())
    ]


def _page(form: FeedForm, status: int = 200):
    session = db_session()
    choices = _ally_choices()
    mapping_forms = {}
    for m in orgs.pending(session):
        mf = MappingForm(prefix=f"m{m.id}", data={"organization_id": m.organization_id or 0})
        mf.organization_id.choices = choices
        mapping_forms[m.id] = (m, mf)
    return render_template(
        "staff/feeds.html",
        feeds=admin.all_feeds(session),
        last=admin.last_runs(session),
        runs=admin.runs(session, limit=30),
        mappings=mapping_forms,
        duplicates=duplicates.flagged(session, limit=50),
        form=form,
        action_form=ActionForm(),
        kind_names=KIND_NAMES,
        run_states=RUN_STATES,
        is_admin=current_user.role == Role.ADMIN,
    ), status


def _save(form: FeedForm, feed=None) -> bool:
    try:
        if feed is None:
            admin.create(db_session(), form.values())
        else:
            admin.update(db_session(), feed, form.values())
    except DomainError as exc:
        if not form_errors.show(form, exc.fields):
            form.name.errors = [*form.name.errors, _("The feed could not be saved.")]
        return False
    return True


@bp.route("/feeds", methods=["GET", "POST"])
def feeds():
    form = FeedForm()
    if request.method == "POST":
        _admin_only()
        if form.validate_on_submit() and _save(form):
            flash(_("Feed %(name)s saved.", name=form.name.data), "success")
            return redirect(url_for("staff.feeds"))
        return _page(form, 400)
    return _page(form)


@bp.route("/feeds/<int:feed_id>", methods=["GET", "POST"])
def edit_feed(feed_id: int):
    _admin_only()
    feed = _feed(feed_id)
    form = FeedForm() if request.method == "POST" else FeedForm.of(feed)
    if request.method == "POST" and form.validate_on_submit() and _save(form, feed):
        flash(_("Feed %(name)s saved.", name=feed.name), "success")
        return redirect(url_for("staff.feeds"))
    status = 400 if form.errors else 200
    return render_template(
        "staff/feed_edit.html",
        feed=feed,
        form=form,
        runs=admin.runs(db_session(), feed.id, limit=50),
        run_states=RUN_STATES,
    ), status


@bp.post("/feeds/<int:feed_id>/run")
def run_feed(feed_id: int):
    feed = _feed(feed_id)
    if ActionForm().validate_on_submit():
        if runs.request_run(db_session(), runtime().send, feed.id):
            flash(
                _("Feed %(name)s will run now; its run appears below.", name=feed.name), "success"
            )
        else:
            flash(_("The workers cannot be reached; the run will start when they can."), "error")
    return redirect(url_for("staff.feeds"))


@bp.post("/feeds/mappings/<int:mapping_id>")
def decide_mapping(mapping_id: int):
    form = MappingForm(prefix=f"m{mapping_id}")
    form.organization_id.choices = _ally_choices()
    if form.validate_on_submit():
        try:
            orgs.decide(
                db_session(),
                mapping_id,
                form.decision.data == "confirm",
                form.organization_id.data or None,
            )
        except NotFound:
            abort(404)
        except DomainError as exc:
            flash(exc.message if not exc.fields else _("Choose the ally first."), "error")
        else:
            flash(_("Mapping saved."), "success")
    return redirect(url_for("staff.feeds") + "#mappings")


@bp.post("/offers/<int:offer_id>/merge")
def merge_offer(offer_id: int):
    """Merge the flagged offer's twin into it: the offer the feed keeps current stays."""
    if ActionForm().validate_on_submit():
        session = db_session()
        try:
            offer = duplicates.flagged_offer(session, offer_id)
            duplicates.merge(session, offer.duplicate_of_id, offer.id, current_user.id)
        except NotFound:
            abort(404)
        except DomainError as exc:
            flash(exc.message, "error")
        else:
            flash(_("Offers merged."), "success")
    return redirect(url_for("staff.feeds") + "#duplicates")


@bp.post("/offers/<int:offer_id>/not-duplicate")
def not_duplicate(offer_id: int):
    if ActionForm().validate_on_submit():
        try:
            duplicates.dismiss(db_session(), offer_id, current_user.id)
        except NotFound:
            abort(404)
        flash(_("Marked as not a duplicate."), "success")
    return redirect(url_for("staff.feeds") + "#duplicates")


@bp.get("/allies/<int:organization_id>")
def ally(organization_id: int):
    org = db_session().get(Organization, organization_id)
    if org is None:
        abort(404)
    country = runtime().settings.agency_country
    return render_template(
        "staff/ally.html",
        ally=org,
        country=country,
        activities_here=activities.active_here(db_session(), org.id, country),
        record_count=activities.count(db_session(), org.id),
    )
