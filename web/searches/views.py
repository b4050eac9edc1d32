"""Saved searches: a signed-in person's list (save, email frequency, delete), the confirmation
link of an email subscription, and one-click unsubscribing (RFC 8058)."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from models.searches import SearchScope
from services import opportunities, reviews
from services.errors import DomainError, Forbidden, Invalid, NotFound
from services.searches import store
from web import vocabulary
from web.db import db_session, runtime
from web.extensions import csrf
from web.searches.blueprint import bp
from web.searches.forms import FREQUENCIES, ConfirmForm, FrequencyForm, SaveSearchForm

FILTERS = {
    SearchScope.OPPORTUNITIES.value: opportunities.FILTER_NAMES,
    SearchScope.QUEUE.value: reviews.FILTER_NAMES,
}
PAGES = {
    SearchScope.OPPORTUNITIES.value: "opportunities.index",
    SearchScope.QUEUE.value: "staff.queue",
}


def search_url(search) -> str:
    """The page of a saved search, with its filters."""
    query = urlencode(search.params or {})
    return url_for(PAGES[str(search.scope)]) + (f"?{query}" if query else "")


def describe(search) -> str:
    """The search's filters in words, for the list."""
    names = {"line": "line", "modality": "modality", "kind": "kind"}
    parts = []
    for key, value in (search.params or {}).items():
        if key in names:
            parts.append(vocabulary.label(names[key], value))
        elif key == "q":
            parts.append(f"“{value}”")
        elif key == "status":
            parts.append(vocabulary.label("match_status", value))
        elif key == "closes_within":
            parts.append(_("closes within %(days)s days", days=value))
        elif key == "deadline_days":
            parts.append(_("deadline within %(days)s days", days=value))
        elif key == "min_score":
            parts.append(_("score from %(score)s", score=value))
        elif key == "country":
            parts.append(_("open to %(country)s", country=value))
    return " · ".join(parts) or _("Everything")


@bp.app_context_processor
def _frequencies() -> dict:
    """For the "Save this search" box any page may show (templates/searches/_save.html)."""
    return {"search_frequencies": FREQUENCIES}


@bp.context_processor
def _helpers() -> dict:
    return {
        "search_url": search_url,
        "describe": describe,
        "frequencies": FREQUENCIES,
        "scope_names": {
            SearchScope.OPPORTUNITIES.value: _("Public opportunities"),
            SearchScope.QUEUE.value: _("Review queue"),
        },
    }


@bp.get("")
@login_required
def index():
    searches = store.list_for(db_session(), current_user)
    forms = {s.id: FrequencyForm(formdata=None, frequency=str(s.frequency or "")) for s in searches}
    for search in searches:
        if str(search.status) != "subscribed":
            forms[search.id].frequency.data = ""
    return render_template("searches/index.html", searches=searches, forms=forms)


@bp.post("")
@login_required
def create():
    form = SaveSearchForm()
    scope = form.scope.data or ""
    back = url_for(PAGES.get(scope, "searches.index"))
    if not form.validate_on_submit():
        flash(_("The search could not be saved. Try again."), "error")
        return redirect(back)
    params = {name: request.form.get(name, "") for name in FILTERS.get(scope, ())}
    try:
        search = store.save(
            db_session(),
            current_user,
            scope=scope,
            name=form.name.data or "",
            params=params,
            frequency=form.frequency.data or None,
        )
    except Forbidden:
        abort(403)
    except Invalid as exc:
        messages = [_(str(m)) for ms in exc.fields.values() for m in ms]
        flash(" ".join(messages) or _("The search could not be saved."), "error")
        query = urlencode({k: v for k, v in params.items() if v})
        return redirect(back + (f"?{query}" if query else ""))
    flash(_("The search “%(name)s” is saved.", name=search.name), "success")
    return redirect(url_for("searches.index"))


def _own(search_id: int):
    try:
        return store.get_own(db_session(), current_user, search_id)
    except NotFound:
        abort(404)


@bp.post("/<int:search_id>")
@login_required
def update(search_id: int):
    search = _own(search_id)
    form = FrequencyForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        store.set_frequency(db_session(), search, form.frequency.data or None)
    except DomainError as exc:
        flash(" ".join(_(str(m)) for ms in exc.fields.values() for m in ms), "error")
    else:
        if form.frequency.data:
            flash(
                _("You will get what is new in “%(name)s” by email.", name=search.name),
                "success",
            )
        else:
            flash(_("No more emails for “%(name)s”.", name=search.name), "success")
    return redirect(url_for("searches.index"))


@bp.post("/<int:search_id>/delete")
@login_required
def delete(search_id: int):
    search = _own(search_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    store.delete(db_session(), search)
    flash(_("The search “%(name)s” was deleted.", name=search.name), "success")
    return redirect(url_for("searches.index"))


def _secret() -> str:
    return runtime().settings.secret_key


@bp.route("/confirm/<token>", methods=["GET", "POST"])
def confirm(token: str):
    """GET shows a button; POST confirms (a mail scanner opening the link confirms nothing)."""
    session = db_session()
    try:
        search = store.read_confirmation(session, _secret(), token)
    except store.LinkExpired:
        return render_template("searches/confirm.html", state="expired"), 410
    except store.InvalidLink:
        return render_template("searches/confirm.html", state="invalid"), 400
    form = ConfirmForm()
    with force_locale(str(search.language)):
        if request.method == "POST":
            if not form.validate_on_submit():
                abort(400)
            active, started = store.confirm(session, search)
            state = "done" if started else "already"
            return render_template("searches/confirm.html", state=state, search=active)
        state = "confirm" if str(search.status) == "pending" else "already"
        return render_template(
            "searches/confirm.html", state=state, search=search, token=token, form=form
        )


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # RFC 8058: mail clients POST "List-Unsubscribe=One-Click" with no session
def unsubscribe(token: str):
    session = db_session()
    try:
        search = store.read_unsubscribe_token(session, _secret(), token)
    except store.LinkExpired:
        return render_template("searches/unsubscribe.html", state="expired"), 410
    except store.InvalidLink:
        return render_template("searches/unsubscribe.html", state="invalid"), 400
    lang = str(search.user.language) if search.user is not None else str(search.language)
    with force_locale(lang):
        if request.method == "POST":
            if store.unsubscribe(session, search):
                return render_template("searches/unsubscribe.html", state="done", search=search)
            return render_template("searches/unsubscribe.html", state="already", search=search), 409
        state = "confirm" if str(search.status) == "subscribed" else "already"
        return render_template("searches/unsubscribe.html", state=state, search=search, token=token)
