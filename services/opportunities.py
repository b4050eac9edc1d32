"""The public opportunities page: published offers still open, searched, filtered and paged,
with only what anyone may see.

What is public. An offer is shown while it is published and its deadline has not passed in
the agency's time zone (offers without a deadline stay open). The page reads columns, never
ORM rows, into `PublicOffer`: no matches, scores, explanations, staff notes or audit trail
reach it, and the offer's contact email only when it is not marked private
(`Offer.contact_private`, the default).

Search. `q` is cut into at most MAX_TERMS words; each must appear (accents and case ignored,
see models.offers.search_key) in the offer's title or description, in its ally's name, or in
the text of one of its public call documents (never an internal one).
Relevance counts the words found in the title; ties go to the nearest deadline.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from models import Document, Offer, OfferNeighbours, Organization
from models.enums import Line, Modality, OfferStatus, OrgKind, Side
from models.offers import search_key
from services.db import escape_like, json_list_has
from services.documents.formats import KIND_OF_MEDIA
from services.errors import Invalid, NotFound
from services.pagination import Page

DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 100
MAX_Q = 200
MAX_TERMS = 8
MAX_CLOSES_WITHIN = 3650
SUMMARY_CHARS = 320
SORTS = ("deadline", "relevance", "newest")
ALLY_KINDS = tuple(k.value for k in OrgKind if k != OrgKind.LOCAL_PUBLIC)
_COUNTRY = re.compile(r"^[A-Z]{2}$")
FILTER_NAMES = ("q", "line", "modality", "kind", "country", "closes_within", "sort")


@dataclass
class Filters:
    """What the public page asks for; every filter is optional and they combine with AND."""

    q: str = ""
    line: str | None = None
    modality: str | None = None
    kind: str | None = None
    country: str | None = None
    closes_within: int | None = None
    sort: str | None = None  # None: relevance when searching, else the nearest deadline

    @property
    def order(self) -> str:
        return self.sort or ("relevance" if self.terms else "deadline")

    @property
    def terms(self) -> list[str]:
        """The searched words as search compares them, without repeats."""
        return list(dict.fromkeys(search_key(self.q).split()))[:MAX_TERMS]

    def check(self) -> Filters:
        """Return self, or raise Invalid with a message per bad filter."""
        errors: dict[str, list[str]] = {}
        if len(self.q) > MAX_Q:
            errors["q"] = [f"Use at most {MAX_Q} characters."]
        if self.line and self.line not in {v.value for v in Line}:
            errors["line"] = ["Unknown thematic line."]
        if self.modality and self.modality not in {v.value for v in Modality}:
            errors["modality"] = ["Unknown modality."]
        if self.kind and self.kind not in ALLY_KINDS:
            errors["kind"] = ["Unknown kind of ally."]
        if self.country and not _COUNTRY.match(self.country):
            errors["country"] = ["Use a two-letter ISO 3166 country code, e.g. CO."]
        if self.closes_within is not None and not 0 <= self.closes_within <= MAX_CLOSES_WITHIN:
            errors["closes_within"] = [f"Give a number of days between 0 and {MAX_CLOSES_WITHIN}."]
        if self.sort and self.sort not in SORTS:
            errors["sort"] = ["Sort by deadline, relevance or newest."]
        if errors:
            raise Invalid("some filters are not valid", errors)
        return self

    def params(self) -> dict[str, str]:
        """The filters that are set, as query-string values (links, feeds, saved searches)."""
        out = {}
        for name, value in asdict(self).items():
            if value not in (None, ""):
                out[name] = str(value)
        return out

    @classmethod
    def from_params(cls, params: Mapping[str, object]) -> Filters:
        """Read and check query-string values; Invalid names each one that cannot be read."""
        values: dict[str, object] = {}
        errors: dict[str, list[str]] = {}
        for f in fields(cls):
            raw = params.get(f.name)
            raw = "" if raw is None else str(raw).strip()
            if f.name == "closes_within":
                if raw and not raw.isdigit():
                    errors[f.name] = ["Give a whole number of days."]
                values[f.name] = int(raw) if raw.isdigit() else None
            elif f.name == "country":
                values[f.name] = raw.upper() or None
            elif f.name == "q":
                values[f.name] = raw
            else:
                values[f.name] = raw or None
        filters = cls(**values)
        try:
            filters.check()
        except Invalid as exc:
            errors = {**exc.fields, **errors}
        if errors:
            raise Invalid("some filters are not valid", errors)
        return filters


@dataclass
class PublicDocument:
    """A call document anyone may download."""

    id: int
    name: str
    kind: str  # pdf, docx, odt, txt
    size: int


@dataclass
class PublicOffer:
    """An offer as anyone may see it."""

    id: int
    title: str
    description: str  # the whole text on the offer's page; its start in listings
    modalities: list[str]
    lines: list[str]
    sdgs: list[int]
    amount_min: Decimal | None
    amount_max: Decimal | None
    currency: str | None
    eligible_kinds: list[str]
    eligible_countries: list[str]
    opens_on: date | None
    deadline: date | None
    language: str
    published_at: datetime | None
    ally: str
    ally_kind: str
    ally_country: str
    ally_website: str | None
    contact_email: str | None  # None when the contact is private
    # The offer's public call documents (PublicDocument), filled by `get` for the offer's page.
    documents: list = field(default_factory=list)

    @property
    def summary(self) -> str:
        text = " ".join(self.description.split())
        if len(text) <= SUMMARY_CHARS:
            return text
        return text[:SUMMARY_CHARS].rsplit(" ", 1)[0] + "…"


def open_offers(today: date):
    """SQL: the offer is published and its deadline (if any) has not passed."""
    return sa.and_(
        Offer.status == OfferStatus.PUBLISHED,
        sa.or_(Offer.deadline.is_(None), Offer.deadline >= today),
    )


def _columns(full_text: bool) -> list:
    description = (
        Offer.description if full_text else sa.func.substr(Offer.description, 1, SUMMARY_CHARS + 80)
    )
    return [
        Offer.id,
        Offer.title,
        description.label("description"),
        Offer.modalities,
        Offer.lines,
        Offer.sdgs,
        Offer.amount_min,
        Offer.amount_max,
        Offer.currency,
        Offer.eligible_kinds,
        Offer.eligible_countries,
        Offer.opens_on,
        Offer.deadline,
        Offer.language,
        Offer.published_at,
        Organization.name.label("ally"),
        Organization.kind.label("ally_kind"),
        Organization.country.label("ally_country"),
        Organization.website.label("ally_website"),
        sa.case((Offer.contact_private.is_(False), Offer.contact_email), else_=None).label(
            "contact_email"
        ),
    ]


def allies_named(session: Session, terms: list[str]) -> dict[str, list[int]]:
    """Per searched word, the supply organisations whose name holds it (accents ignored).

    Allies are few (hundreds): their names are compared in Python, once per request, so the
    offers' own condition stays on their indexed search text.
    """
    if not terms:
        return {}
    rows = session.execute(
        sa.select(Organization.id, Organization.name).where(Organization.side == Side.SUPPLY)
    ).all()
    keys = [(org_id, search_key(name)) for org_id, name in rows]
    return {term: [org_id for org_id, key in keys if term in key] for term in terms}


def _term_found(term: str, ally_ids: list[int]):
    pattern = f"%{escape_like(term)}%"
    found = sa.or_(
        Offer.search_text.like(pattern, escape="\\"),
        Offer.documents_text.like(pattern, escape="\\"),  # its public call documents
    )
    return sa.or_(found, Offer.organization_id.in_(ally_ids)) if ally_ids else found


def _title_hits(terms: list[str]):
    """SQL: how many of `terms` the title holds (the title is the search text's first line)."""
    hits = [
        sa.case((Offer.search_text.like(f"%{escape_like(t)}%\n%", escape="\\"), 1), else_=0)
        for t in terms
    ]
    return sum(hits[1:], hits[0]) if hits else sa.literal(0)


def conditions(filters: Filters, today: date, allies: dict[str, list[int]] | None = None) -> list:
    """The WHERE conditions of `filters` over offers (`allies`: see allies_named)."""
    where = [open_offers(today)]
    where += [_term_found(term, (allies or {}).get(term, [])) for term in filters.terms]
    if filters.line:
        where.append(json_list_has(Offer.lines, filters.line))
    if filters.modality:
        where.append(json_list_has(Offer.modalities, filters.modality))
    if filters.kind:
        where.append(
            Offer.organization_id.in_(
                sa.select(Organization.id).where(Organization.kind == filters.kind)
            )
        )
    if filters.country:
        where.append(
            sa.or_(
                sa.cast(Offer.eligible_countries, sa.String).in_(["[]", ""]),
                json_list_has(Offer.eligible_countries, filters.country),
            )
        )
    if filters.closes_within is not None:
        where.append(Offer.deadline.between(today, today + timedelta(days=filters.closes_within)))
    return where


def _order(filters: Filters) -> list:
    # NULLS LAST as such (not a CASE), so ix_offers_open_deadline serves the default order.
    by_deadline = [Offer.deadline.asc().nulls_last(), Offer.id.asc()]
    if filters.order == "newest":
        return [Offer.published_at.desc().nulls_last(), Offer.id.desc()]
    if filters.order == "relevance" and filters.terms:
        return [_title_hits(filters.terms).desc(), *by_deadline]
    return by_deadline


def _select(full_text: bool = False) -> sa.Select:
    return sa.select(*_columns(full_text)).join(
        Organization, Organization.id == Offer.organization_id
    )


def _in_order(session: Session, ids: list[int], full_text: bool = False) -> list[PublicOffer]:
    """The offers `ids` as PublicOffers, in that order: one query."""
    if not ids:
        return []
    found = {
        row.id: _public(row) for row in session.execute(_select(full_text).where(Offer.id.in_(ids)))
    }
    return [found[i] for i in ids if i in found]


def _public(row) -> PublicOffer:
    values = row._asdict()
    values["ally_kind"] = str(getattr(values["ally_kind"], "value", values["ally_kind"]))
    return PublicOffer(**values)


def search(
    session: Session,
    filters: Filters,
    today: date,
    page: int = 1,
    per_page: int = DEFAULT_PER_PAGE,
) -> Page:
    """One page of the open offers that fit `filters`, in their order, with the total.

    Three statements whatever the page size: the count, the page's ids (ordered and cut on
    offers alone, so only the shown rows' texts are read), and those rows with their allies.
    """
    filters.check()
    page, per_page = max(page, 1), min(max(per_page, 1), MAX_PER_PAGE)
    where = conditions(filters, today, allies_named(session, filters.terms))
    total = session.scalar(sa.select(sa.func.count()).select_from(Offer).where(*where))
    ids = list(
        session.scalars(
            sa.select(Offer.id)
            .where(*where)
            .order_by(*_order(filters))
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
    )
    return Page(items=_in_order(session, ids), total=total or 0, page=page, per_page=per_page)


def newest(
    session: Session,
    filters: Filters,
    today: date,
    limit: int = 50,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    full_text: bool = False,
) -> list[PublicOffer]:
    """The open offers that fit `filters`, most recently published first.

    With `since` / `until`, only those first published in (since, until]: what is new for a
    saved search since its last email.
    """
    filters.check()
    where = conditions(filters, today, allies_named(session, filters.terms))
    query = sa.select(Offer.id).where(*where, Offer.published_at.is_not(None))
    if since is not None:
        query = query.where(Offer.published_at > since)
    if until is not None:
        query = query.where(Offer.published_at <= until)
    order = (Offer.published_at.desc(), Offer.id.desc())
    ids = list(session.scalars(query.order_by(*order).limit(limit)))
    return _in_order(session, ids, full_text)


def count_new(
    session: Session, filters: Filters, today: date, since: datetime, until: datetime
) -> int:
    """How many open offers fitting `filters` were first published in (since, until]."""
    where = conditions(filters, today, allies_named(session, filters.terms))
    return (
        session.scalar(
            sa.select(sa.func.count())
            .select_from(Offer)
            .where(*where, Offer.published_at > since, Offer.published_at <= until)
        )
        or 0
    )


def get(session: Session, offer_id: int, today: date) -> PublicOffer:
    """The open offer `offer_id` as anyone may see it; NotFound when it is not public."""
    row = session.execute(
        _select(full_text=True).where(Offer.id == offer_id, open_offers(today))
    ).one_or_none()
    if row is None:
        raise NotFound(f"opportunity {offer_id} is not open")
    offer = _public(row)
    offer.documents = public_documents(session, offer_id)
    return offer


def public_documents(session: Session, offer_id: int) -> list[PublicDocument]:
    """The offer's public documents, oldest first (the caller checked the offer is open)."""
    rows = session.execute(
        sa.select(Document.id, Document.filename, Document.media_type, Document.size)
        .where(Document.offer_id == offer_id, Document.public.is_(True))
        .order_by(Document.id)
    )
    return [
        PublicDocument(
            id=r.id,
            name=r.filename,
            kind=KIND_OF_MEDIA.get(r.media_type.split(";")[0], ""),
            size=r.size,
        )
        for r in rows
    ]


def public_document(session: Session, offer_id: int, document_id: int, today: date) -> Document:
    """The public document `document_id` of the open offer `offer_id`; NotFound otherwise
    (an internal document, another offer's, or an offer no longer public)."""
    document = session.scalar(
        sa.select(Document)
        .join(Offer, Offer.id == Document.offer_id)
        .where(
            Document.id == document_id,
            Document.offer_id == offer_id,
            Document.public.is_(True),
            open_offers(today),
        )
    )
    if document is None:
        raise NotFound(f"document {document_id} is not public")
    return document


def more_like_this(session: Session, offer_id: int, today: date) -> list[PublicOffer]:
    """The open offers nearest to `offer_id` by the matcher's text side, nearest first (as
    kept when the offer was last scored, see services.matching.similar)."""
    ids = session.scalar(
        sa.select(OfferNeighbours.neighbour_ids).where(OfferNeighbours.offer_id == offer_id)
    )
    return load(session, [int(i) for i in ids or [] if int(i) != offer_id], today)


def load(session: Session, offer_ids: list[int], today: date) -> list[PublicOffer]:
    """The offers `offer_ids` that are still open, in that order (one query)."""
    if not offer_ids:
        return []
    rows = session.execute(_select().where(Offer.id.in_(offer_ids), open_offers(today)))
    found = {row.id: _public(row) for row in rows}
    return [found[i] for i in offer_ids if i in found]
