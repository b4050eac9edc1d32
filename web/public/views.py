"""The public offer form, its confirmation, the follow page and the request for a new link."""

from __future__ import annotations

import logging

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFError
from limits import parse_many
from marshmallow import ValidationError, fields
from werkzeug.exceptions import RequestEntityTooLarge, TooManyRequests

from models import Offer
from services import submissions
from services.documents import formats, store
from services.errors import Conflict, DomainError, Invalid, NotFound
from web import documents as documents_web
from web import schemas, vocabulary
from web.db import db_session, settings
from web.extensions import limiter
from web.public import notify
from web.public.blueprint import bp
from web.public.forms import (
    DocumentForm,
    FollowLinkForm,
    NewOfferForm,
    OfferFieldsForm,
    WithdrawForm,
)

log = logging.getLogger(__name__)

SUBMIT_LIMIT_PER_IP = "5 per minute;30 per day"
SUBMIT_LIMIT_PER_EMAIL = "5 per minute;20 per day"
LINK_LIMIT_PER_IP = "5 per minute;30 per day"
LINK_LIMIT_PER_EMAIL = "3 per hour;10 per day"
# New links mailed to one address, from whoever asks: past this, the page answers the same and
# nothing more is sent (a 429 would tell that the address has offers).
LINK_MAILS_PER_ADDRESS = "3 per hour;10 per day"
# The form never sets these: organisation and contact come separately, status and source
# are the service's to decide.
NEW_OFFER_EXCLUDE = ("organization_id", "ref", "status", "source")
EDIT_EXCLUDE = NEW_OFFER_EXCLUDE + ("contact_email",)
NEW_ORG_EXCLUDE = ("ref", "contact_email")


def _posted_email() -> str:
    """Rate-limit key: the email the form carries, else the caller's address."""
    email = (request.form.get("contact_email") or request.form.get("email") or "").strip()
    return f"email:{email.lower()[:254]}" if email else get_remote_address()


def _address_and_email() -> str:
    """Rate-limit key: the caller's address with the email asked about. Not the email alone:
    a stranger could then use up the limit of someone else's address."""
    return f"{get_remote_address()}|{_posted_email()}"


def _may_mail(email: str) -> bool:
    """Count one mail of new links to `email`; False once its quota is used."""
    return all(
        limiter.limiter.hit(item, "link-mails", email.lower())
        for item in parse_many(LINK_MAILS_PER_ADDRESS)
    )


def _status_code(form) -> int:
    return 400 if form.errors else 200


def _render_new(form: NewOfferForm):
    return render_template("public/new_offer.html", form=form), _status_code(form)


def _validate_new(form: NewOfferForm) -> tuple[dict | None, dict | None, dict]:
    """Return (offer data, new organisation data or None, errors per form field)."""
    errors: dict = {}
    data = organization = None
    payload = form.offer_payload()
    try:
        data = schemas.OfferIn(exclude=NEW_OFFER_EXCLUDE).load(payload)
    except ValidationError as exc:
        errors.update(exc.messages)
    if not payload.get("contact_email"):
        errors.setdefault("contact_email", [submissions.CONTACT_REQUIRED])
    if form.organization_conflict():
        errors["org_name"] = [
            _("Choose your organisation from the list or enter a new one, not both.")
        ]
    else:
        org_payload = form.organization_payload()
        if org_payload is not None:
            try:
                organization = schemas.OrganizationIn(exclude=NEW_ORG_EXCLUDE).load(org_payload)
            except ValidationError as exc:
                names = {
                    "name": "org_name",
                    "kind": "org_kind",
                    "country": "org_country",
                    "website": "org_website",
                }
                errors.update({names.get(k, "org_name"): v for k, v in exc.messages.items()})
    return data, organization, errors


@bp.route("/new", methods=["GET", "POST"])
@limiter.limit(SUBMIT_LIMIT_PER_IP, methods=["POST"])
@limiter.limit(SUBMIT_LIMIT_PER_EMAIL, methods=["POST"], key_func=_posted_email)
def new_offer():
    session = db_session()
    form = NewOfferForm(organizations=submissions.supply_organizations(session))
    if not form.validate_on_submit():  # checks the CSRF token; the schema judges the values
        return _render_new(form)
    if form.homepage.data:
        # Only bots fill the hidden field: answer as if all went well and keep nothing.
        log.info("honeypot filled from %s: submission dropped", get_remote_address())
        return render_template("public/submitted.html", offer=None, follow_url=None)
    data, organization, errors = _validate_new(form)
    if errors:
        form.show_errors(errors)
        return _render_new(form)
    try:
        result = submissions.submit_offer(
            session,
            data,
            organization_id=form.chosen_organization_id(),
            new_organization=organization,
        )
    except Conflict:  # another sending created the same organisation a moment ago
        form.show_errors(
            {
                "org_name": [
                    _("An organisation with this name already exists: choose it from the list.")
                ]
            }
        )
        return _render_new(form)
    except Invalid as exc:
        by_field = dict(exc.fields)
        if "name" in by_field:
            by_field["org_name"] = by_field.pop("name")
        form.show_errors(by_field or {"title": [exc.message]})
        return _render_new(form)
    token = notify.follow_token(result.offer)
    if not result.duplicate:
        _attach_documents(result.offer, form.uploads())
    if result.duplicate:
        flash(
            _(
                "You had already sent this offer a few minutes ago: we kept the first one "
                "and stored nothing new."
            ),
            "info",
        )
    elif not notify.send_confirmation(result.offer, token):
        flash(
            _(
                "Your offer is saved, but we could not send the confirmation email just now. "
                "Keep the link on this page to follow your offer."
            ),
            "warning",
        )
    return redirect(url_for("public.submitted", token=token))


def _attach_documents(offer: Offer, uploads: list) -> None:
    """Attach the form's files to the saved offer; a refused one is named in a message (the
    offer is kept whatever happens to its files)."""
    for number, upload in enumerate(uploads):
        name = formats.safe_filename(upload.filename)
        if number >= documents_web.PUBLIC_FORM_FILES:
            flash(
                _(
                    "Your offer is saved, but “%(name)s” was not attached: the form takes at "
                    "most %(n)s files.",
                    name=name,
                    n=documents_web.PUBLIC_FORM_FILES,
                ),
                "warning",
            )
            continue
        try:
            store.attach(
                db_session(), settings(), offer, upload.filename, upload.stream, public=True
            )
        except store.DocumentRefused as exc:
            flash(
                _(
                    "Your offer is saved, but “%(name)s” was not attached: %(reason)s",
                    name=name,
                    reason=documents_web.refusal(exc),
                ),
                "warning",
            )


def _offer_from(token: str) -> Offer:
    return submissions.read_follow_token(db_session(), current_app.config["SECRET_KEY"], token)


def _link_problem(exc: DomainError):
    expired = isinstance(exc, submissions.LinkExpired)
    return render_template("public/link_problem.html", expired=expired), exc.status


@bp.get("/submitted/<token>")
def submitted(token: str):
    try:
        offer = _offer_from(token)
    except (NotFound, submissions.LinkExpired) as exc:
        return _link_problem(exc)
    return render_template(
        "public/submitted.html", offer=offer, follow_url=url_for("public.follow_offer", token=token)
    )


def _edit_data(offer: Offer) -> dict:
    """The offer's values in the shape of the edit form's fields."""

    def text(value) -> str:
        return "" if value is None else str(value)

    return {
        "title": offer.title,
        "description": offer.description,
        "modalities": list(offer.modalities),
        "lines": list(offer.lines),
        "sdgs": [str(n) for n in offer.sdgs],
        "amount_min": text(offer.amount_min),
        "amount_max": text(offer.amount_max),
        "currency": offer.currency or "",
        "eligible_kinds": list(offer.eligible_kinds),
        "eligible_countries": list(offer.eligible_countries),
        "opens_on": offer.opens_on.isoformat() if offer.opens_on else "",
        "deadline": offer.deadline.isoformat() if offer.deadline else "",
        "language": offer.language,
    }


def _render_follow(
    offer: Offer,
    token: str,
    form: OfferFieldsForm | None = None,
    document_form: DocumentForm | None = None,
    status: int | None = None,
):
    editable = offer.status in submissions.EDITABLE
    if editable and form is None:
        form = OfferFieldsForm(data=_edit_data(offer))
    if status is None:
        status = 400 if form is not None and form.errors else 200
    return render_template(
        "public/follow.html",
        offer=offer,
        token=token,
        form=form if editable else None,
        documents=store.of(db_session(), offer),
        document_form=(document_form or DocumentForm(formdata=None)) if editable else None,
        can_withdraw=offer.status in submissions.WITHDRAWABLE,
        rejection=submissions.rejection(db_session(), offer),
        reject_reasons=vocabulary.OFFER_REJECT_EXPLANATIONS,
        matched=submissions.matched_projects(db_session(), offer),
    ), status


@bp.get("/follow/<token>")
def follow_offer(token: str):
    try:
        offer = _offer_from(token)
    except (NotFound, submissions.LinkExpired) as exc:
        return _link_problem(exc)
    return _render_follow(offer, token)


def _already_reviewed(token: str):
    flash(_("This offer has already been reviewed and can no longer be changed."), "error")
    return redirect(url_for("public.follow_offer", token=token))


@bp.post("/follow/<token>/edit")
@limiter.limit(SUBMIT_LIMIT_PER_IP)
def edit_offer(token: str):
    try:
        offer = _offer_from(token)
    except (NotFound, submissions.LinkExpired) as exc:
        return _link_problem(exc)
    form = OfferFieldsForm()
    if offer.status not in submissions.EDITABLE:
        return _already_reviewed(token)
    if not form.validate_on_submit():
        return _render_follow(offer, token, form)
    try:
        data = schemas.OfferIn(exclude=EDIT_EXCLUDE).load(form.offer_payload())
        submissions.edit_offer(db_session(), offer, data)
    except ValidationError as exc:
        form.show_errors(exc.messages)
        return _render_follow(offer, token, form)
    except Invalid as exc:
        form.show_errors(exc.fields or {"title": [exc.message]})
        return _render_follow(offer, token, form)
    except Conflict:
        return _already_reviewed(token)
    flash(_("Your changes are saved."), "success")
    return redirect(url_for("public.follow_offer", token=token))


@bp.post("/follow/<token>/documents")
@limiter.limit(SUBMIT_LIMIT_PER_IP)
def add_document(token: str):
    """One more call document for an offer still waiting for review."""
    try:
        offer = _offer_from(token)
    except (NotFound, submissions.LinkExpired) as exc:
        return _link_problem(exc)
    if offer.status not in submissions.EDITABLE:
        return _already_reviewed(token)
    form = DocumentForm()
    upload = form.file.data
    if not form.validate_on_submit() or not getattr(upload, "filename", ""):
        form.file.errors = [*form.file.errors, _("Choose a file to attach.")]
        return _render_follow(offer, token, document_form=form, status=400)
    try:
        document = store.attach(
            db_session(), settings(), offer, upload.filename, upload.stream, public=True
        )
    except store.DocumentRefused as exc:
        form.file.errors = [documents_web.refusal(exc)]
        return _render_follow(offer, token, document_form=form, status=exc.status)
    flash(_("“%(name)s” is attached.", name=document.filename), "success")
    return redirect(url_for("public.follow_offer", token=token))


@bp.route("/follow/<token>/withdraw", methods=["GET", "POST"])
def withdraw_offer(token: str):
    try:
        offer = _offer_from(token)
    except (NotFound, submissions.LinkExpired) as exc:
        return _link_problem(exc)
    form = WithdrawForm()
    if offer.status not in submissions.WITHDRAWABLE:
        flash(_("This offer can no longer be withdrawn."), "error")
        return redirect(url_for("public.follow_offer", token=token))
    if form.validate_on_submit():
        try:
            submissions.withdraw_offer(db_session(), offer)
        except Conflict:
            flash(_("This offer can no longer be withdrawn."), "error")
        else:
            flash(_("Your offer has been withdrawn."), "success")
        return redirect(url_for("public.follow_offer", token=token))
    return render_template("public/withdraw.html", offer=offer, token=token, form=form)


@bp.route("/link", methods=["GET", "POST"])
@limiter.limit(LINK_LIMIT_PER_IP, methods=["POST"])
@limiter.limit(LINK_LIMIT_PER_EMAIL, methods=["POST"], key_func=_address_and_email)
def request_link():
    form = FollowLinkForm()
    if form.validate_on_submit():
        try:
            email = fields.Email().deserialize(form.email.data.strip())
        except ValidationError:
            form.email.errors = [_("Give a valid email address.")]
        else:
            offers = submissions.offers_for_email(db_session(), email)
            if offers and _may_mail(email) and not notify.send_links(email, offers):
                log.warning("new follow links for %d offer(s) could not be sent", len(offers))
            # The same answer whether or not the address has offers: it reveals nothing.
            return render_template("public/link_sent.html", email=email)
    return render_template("public/link.html", form=form), _status_code(form)


@bp.errorhandler(TooManyRequests)
def _too_many(_exc):
    return render_template("public/too_many.html"), 429


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_exc):
    limit = request.max_content_length or 0
    return render_template("public/too_large.html", limit_kb=limit // 1024), 413


@bp.errorhandler(CSRFError)
def _csrf(_exc):
    return render_template(
        "error.html",
        status=400,
        message=_(
            "The form could not be accepted: it may have been open too long, or cookies are "
            "blocked. Open the form again and resend it."
        ),
    ), 400


@bp.context_processor
def _link_days() -> dict:
    return {
        "link_days": submissions.DEFAULT_LINK_MAX_AGE.days,
        "public_form_files": documents_web.PUBLIC_FORM_FILES,
    }
