"""The public opportunities: the list with search and filters, an offer's page, the Atom feed,
and subscribing an email address to a search."""

from __future__ import annotations

import logging
from datetime import UTC

from flask import abort, make_response, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address

from services import clock, mail, opportunities
from services.errors import Invalid, NotFound
from services.searches import emails as search_emails
from services.searches import store as saved_searches
from web import documents, form_errors, vocabulary
from web.db import db_session, runtime
from web.extensions import limiter
from web.opportunities.blueprint import bp
from web.opportunities.forms import AlertForm, SearchForm
from web.staff.present import day, days_left, money

log = logging.getLogger(__name__)

FEED_SIZE = 50
ALERT_LIMIT_PER_IP = "5 per minute;30 per day"
ALERT_LIMIT_PER_EMAIL = "3 per hour;10 per day"
ATOM = "application/atom+xml; charset=utf-8"


def _today():
    return clock.agency_today(runtime().settings.timezone)


def _read_filters(form: SearchForm, source) -> opportunities.Filters:
    """The filters of `source` (the query string, or a form's hidden fields); a bad one is
    shown beside its field and ignored."""
    args = {name: source.get(name, "") for name in opportunities.FILTER_NAMES}
    try:
        return opportunities.Filters.from_params(args)
    except Invalid as exc:
        form_errors.show_error(form, exc)
        kept = {k: v for k, v in args.items() if k not in exc.fields}
        return opportunities.Filters.from_params(kept)


def _page_number() -> int:
    return max(request.args.get("page", 1, type=int) or 1, 1)


def _page_url(filters: opportunities.Filters, page: int) -> str:
    return url_for("opportunities.index", **filters.params(), page=page)


def amount_range(offer: opportunities.PublicOffer) -> str:
    """'USD 10.000 – 500.000', 'up to …', 'from …', or 'Not stated'."""
    low, high = offer.amount_min, offer.amount_max
    if low is None and high is None:
        return _("Not stated")
    if low is None:
        return _("Up to %(amount)s", amount=money(high, offer.currency))
    if high is None:
        return _("From %(amount)s", amount=money(low, offer.currency))
    if low == high:
        return money(low, offer.currency)
    return f"{money(low, offer.currency)} – {money(high, None)}"


def names(kind: str, codes) -> str:
    return ", ".join(vocabulary.label(kind, code) for code in codes or ())


def country(code: str) -> str:
    return vocabulary.label("country", code)


def countries(codes) -> str:
    return ", ".join(country(code) for code in codes or ())


def sdg(number: int) -> str:
    return f"{number} · {vocabulary.label('sdg', number)}"


def language(code: str) -> str:
    return vocabulary.label("offer_language", code)


def rfc3339(moment) -> str:
    """An instant as Atom writes it (RFC 3339, UTC)."""
    return clock.aware(moment or clock.now()).astimezone(UTC).isoformat(timespec="seconds")


@bp.context_processor
def _helpers() -> dict:
    return {
        "money": money,
        "day": day,
        "days_left": days_left,
        "label": vocabulary.label,
        "amount_range": amount_range,
        "names": names,
        "country": country,
        "countries": countries,
        "sdg": sdg,
        "language": language,
        "rfc3339": rfc3339,
    }


def _render_index(form: SearchForm, filters, alert_form: AlertForm, status: int = 200):
    page = opportunities.search(db_session(), filters, _today(), _page_number())
    return render_template(
        "opportunities/index.html",
        form=form,
        filters=filters,
        page=page,
        today=_today(),
        prev_url=_page_url(filters, page.page - 1) if page.page > 1 else None,
        next_url=_page_url(filters, page.page + 1) if page.page < page.pages else None,
        feed_url=url_for("opportunities.feed", **filters.params()),
        alert_form=alert_form,
    ), status


@bp.get("/opportunities")
def index():
    form = SearchForm(formdata=request.args)
    filters = _read_filters(form, request.args)
    status = 400 if form.errors else 200
    return _render_index(form, filters, AlertForm(formdata=None), status)


@bp.get("/opportunities/<int:offer_id>")
def detail(offer_id: int):
    try:
        offer = opportunities.get(db_session(), offer_id, _today())
    except NotFound:
        abort(404)
    offer.documents = [
        {
            "url": url_for("opportunities.document", offer_id=offer.id, document_id=doc.id),
            "name": doc.name,
            "kind": doc.kind.upper(),
            "size_text": documents.size_text(doc.size),
        }
        for doc in offer.documents
    ]
    similar = opportunities.more_like_this(db_session(), offer.id, _today())
    return render_template(
        "opportunities/detail.html", offer=offer, similar=similar, today=_today()
    )


@bp.get("/opportunities/<int:offer_id>/documents/<int:document_id>")
def document(offer_id: int, document_id: int):
    """A public document of an open offer, as a download; anything else is a 404."""
    try:
        found = opportunities.public_document(db_session(), offer_id, document_id, _today())
    except NotFound:
        abort(404)
    return documents.send(found)


@bp.get("/opportunities.atom", endpoint="feed")
def feed():
    """Atom 1.0 (RFC 4287) of the newest open opportunities that fit the query's filters."""
    # A bad filter is a 422 with the message per filter (the one error shape).
    filters = opportunities.Filters.from_params(
        {name: request.args.get(name, "") for name in opportunities.FILTER_NAMES}
    )
    entries = opportunities.newest(db_session(), filters, _today(), FEED_SIZE, full_text=True)
    settings = runtime().settings
    body = render_template(
        "opportunities/feed.xml",
        entries=entries,
        filters=filters,
        base=settings.base_url,
        self_url=settings.base_url + request.full_path.rstrip("?"),
        page_url=settings.base_url + url_for("opportunities.index", **filters.params()),
        updated=max((e.published_at for e in entries), default=None),
        lang=str(get_locale() or "es"),
    )
    response = make_response(body)
    response.headers["Content-Type"] = ATOM
    return response


def _posted_email() -> str:
    email = (request.form.get("email") or "").strip().lower()[:254]
    return f"email:{email}" if email else get_remote_address()


@bp.post("/opportunities/alerts")
@limiter.limit(ALERT_LIMIT_PER_IP)
@limiter.limit(ALERT_LIMIT_PER_EMAIL, key_func=_posted_email)
def subscribe():
    """Keep the search for an email address and send the confirmation link (double opt-in).

    The answer is the same page whatever the address: it never tells whether it is known.
    """
    alert_form = AlertForm()
    search_form = SearchForm(formdata=request.form)
    filters = _read_filters(search_form, request.form)
    if not alert_form.validate_on_submit():
        return _render_index(search_form, filters, alert_form, 400)
    session = db_session()
    try:
        search = saved_searches.subscribe_by_email(
            session,
            email=alert_form.email.data or "",
            name=alert_form.name.data or "",
            params=filters.params(),
            frequency=alert_form.frequency.data or "",
            language=str(get_locale() or "es"),
        )
    except Invalid as exc:
        form_errors.show_error(alert_form, exc)
        return _render_index(search_form, filters, alert_form, 400)
    if search is not None:
        try:
            search_emails.send_confirmation(runtime().settings, search)
        except mail.MailError as exc:  # the request is kept; the person can ask again
            log.warning("confirmation for saved search %s not sent: %s", search.id, exc)
    return render_template(
        "opportunities/alert_sent.html",
        back_url=url_for("opportunities.index", **filters.params()),
        days=saved_searches.DEFAULT_CONFIRM_MAX_AGE.days,
    )
