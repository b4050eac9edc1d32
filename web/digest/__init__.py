"""Weekly digest pages: own subscription, preview of anyone's digest, one-click unsubscribe."""

from __future__ import annotations

import click
from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import force_locale, format_date, format_datetime, format_decimal, format_percent
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, SelectMultipleField
from wtforms.validators import InputRequired, NumberRange
from wtforms.widgets import CheckboxInput, ListWidget

from models import Offer
from services import catalog, mail
from services.digest import delivery as digest_delivery
from services.digest import preview as digest_preview
from services.digest import subscriptions as digest_subs
from services.errors import Invalid, NotFound
from services.matching import queries
from web import form_errors, vocabulary
from web.db import db_session, runtime
from web.extensions import csrf
from web.nav import NavItem

bp = Blueprint("digest", __name__, url_prefix="/digest")
NAV = (
    NavItem(
        "digest.subscriptions", _l("Weekly digest"), roles=("admin", "staff", "partner"), order=80
    ),
)

# The email's own CSP: its inline styles are allowed, nothing else loads; framed by our pages.
EMAIL_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'"
PER_PAGE = 50


class SubscriptionForm(FlaskForm):
    lines = SelectMultipleField(
        _l("Thematic lines"),
        choices=vocabulary.choices("line"),
        option_widget=CheckboxInput(),
        widget=ListWidget(prefix_label=False),
    )
    min_score = IntegerField(
        _l("Minimum score (%)"), default=50, validators=[InputRequired(), NumberRange(0, 100)]
    )
    language = SelectField(_l("Language of the email"), choices=vocabulary.ui_language_choices())
    status = SelectField(_l("Status"), choices=vocabulary.choices("subscription_status"))


@bp.context_processor
def _formatters() -> dict:
    return {
        "format_date": format_date,
        "format_datetime": format_datetime,
        "format_decimal": format_decimal,
        "format_percent": format_percent,
        "label": vocabulary.label,
    }


def _settings():
    return runtime().settings


def _staff_only() -> None:
    if not current_user.is_staff:
        abort(403)


def _subscription(subscription_id: int):
    try:
        return digest_subs.get_subscription(db_session(), subscription_id)
    except NotFound:
        abort(404)


@bp.route("/subscriptions", methods=["GET", "POST"])
@login_required
def subscriptions():
    session = db_session()
    own = digest_subs.subscription_of(session, current_user)
    form = SubscriptionForm(obj=None)
    if request.method == "GET":
        form.lines.data = list(own.lines) if own else []
        form.min_score.data = (
            round(own.min_score * 100) if own else (0 if not current_user.is_staff else 50)
        )
        form.language.data = str(own.language) if own else str(current_user.language)
        form.status.data = str(own.status) if own else "active"
    if form.validate_on_submit():
        try:
            own = digest_subs.save_subscription(
                session,
                current_user,
                lines=form.lines.data or [],
                min_score=form.min_score.data / 100,
                language=form.language.data,
                status=form.status.data,
            )
        except Invalid as exc:
            form_errors.show(form, exc.fields, fallback="status")
        else:
            flash(_("Your digest subscription is saved."), "success")
            return redirect(url_for("digest.subscriptions"))
    listing = None
    if current_user.is_staff:
        page = max(request.args.get("page", 1, type=int), 1)
        listing = digest_subs.list_subscriptions(session, page=page, per_page=PER_PAGE)
    status = 400 if form.errors else 200
    return render_template(
        "digest/subscriptions.html",
        form=form,
        own=own,
        listing=listing,
    ), status


@bp.get("/preview/<int:subscription_id>")
@login_required
def preview(subscription_id: int):
    _staff_only()
    sub = _subscription(subscription_id)
    shown = digest_preview.preview(db_session(), _settings(), sub)
    return render_template("digest/preview.html", sub=sub, shown=shown)


@bp.get("/preview/<int:subscription_id>/email.html")
@login_required
def preview_email(subscription_id: int):
    _staff_only()
    shown = digest_preview.preview(db_session(), _settings(), _subscription(subscription_id))
    if shown.email is None:
        abort(404)
    response = make_response(shown.email.html)
    response.headers["Content-Security-Policy"] = EMAIL_CSP
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


@bp.post("/preview/<int:subscription_id>/send-to-me")
@login_required
def send_to_me(subscription_id: int):
    _staff_only()
    sub = _subscription(subscription_id)
    try:
        sent = digest_preview.send_preview(db_session(), _settings(), sub, current_user.email)
    except mail.MailError as exc:
        flash(_("The email could not be sent: %(error)s", error=str(exc)), "error")
    else:
        if sent:
            flash(_("The digest was sent to %(email)s.", email=current_user.email), "success")
        else:
            flash(_("There is nothing new to send this week."), "warning")
    return redirect(url_for("digest.preview", subscription_id=sub.id))


@bp.get("/sends/<int:send_id>")
@login_required
def send_detail(send_id: int):
    session = db_session()
    try:
        row = digest_preview.get_send(session, send_id)
    except NotFound:
        abort(404)
    if row.subscription.user_id != current_user.id and not current_user.is_staff:
        abort(403)
    items = digest_preview.send_matches(session, _settings(), row)
    return render_template("digest/send.html", row=row, items=items)


@bp.get("/offers/<int:offer_id>/matches")
@login_required
def offer_matches(offer_id: int):
    session = db_session()
    try:
        offer = catalog.get(session, Offer, offer_id)
    except NotFound:
        abort(404)
    if not current_user.is_staff and not offer.belongs_to(current_user.organization_id):
        abort(403)
    page = queries.matches_of(session, offer_id=offer.id, per_page=100)
    return render_template("digest/offer_matches.html", offer=offer, matches=page.items)


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # RFC 8058: mail clients POST "List-Unsubscribe=One-Click" with no session
def unsubscribe(token: str):
    session = db_session()
    try:
        sub = digest_subs.read_unsubscribe_token(session, _settings().secret_key, token)
    except digest_subs.LinkExpired:
        return render_template("digest/unsubscribe.html", state="expired"), 410
    except digest_subs.InvalidLink:
        return render_template("digest/unsubscribe.html", state="invalid"), 400
    with force_locale(str(sub.language)):
        if request.method == "POST":
            if digest_subs.unsubscribe(session, sub):
                return render_template("digest/unsubscribe.html", state="done", sub=sub)
            return render_template("digest/unsubscribe.html", state="already", sub=sub), 409
        state = "already" if str(sub.status) == "unsubscribed" else "confirm"
        return render_template("digest/unsubscribe.html", state=state, sub=sub, token=token)


@bp.cli.command("send-weekly")
def send_weekly_command() -> None:
    """Send this week's digests now, in this process (the beat task does the same)."""
    with runtime().session() as session:
        result = digest_delivery.send_weekly(session, _settings())
    click.echo(
        f"digest {result.period}: {result.reserved} reserved, {result.sent} sent"
        + (
            f", failed for subscriptions {result.failed} (run again to retry)"
            if result.failed
            else ""
        )
    )
