"""One parsed feed result into the database, in the caller's transaction.

Keys: an offer is (source, source_id); an activity is its IATI identifier (a World Bank project
read from the Bank's API and from an IATI file is one record). A record whose fingerprint equals
the stored one is unchanged; a changed one updates the stored row (offers through the audit
trail; staff decisions — status, moderation, matches — are kept). A call the source marks
closed, or that a complete listing of the feed no longer holds, is closed here with the reason,
never deleted. New published offers are scored through the outbox.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from models import ActivityFunder, AllyActivity, Feed, Offer, OrgMapping
from models.enums import Currency, Language, OfferStatus
from services import audit
from services.feeds import FeedActivity, FeedOffer, FeedOrganisation, OfferState, ParseResult
from services.feeds.errors import FeedError
from services.ingest import duplicates, orgs
from services.matching.queue import queue_scoring
from services.moderation import EDITABLE

TITLE_MAX = 300
ACTIVITY_TITLE_MAX = 500
CURRENCIES = {c.value for c in Currency}
LANGUAGES = {lang.value for lang in Language}
NOT_LISTED = "no longer listed by the source"
BATCH = 500  # activities read or written per statement
# The fields a feed owns on its offers: what moderation edits, less staff's own (thematic lines,
# SDGs, contact), plus the source's link.
STAFF_FIELDS = ("lines", "sdgs", "contact_email", "contact_private")
FEED_FIELDS = (*(name for name in EDITABLE if name not in STAFF_FIELDS), "link")

Details = Callable[[FeedOffer], FeedOffer]


@dataclass
class Counts:
    """What one run did with the records it read."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    closed: int = 0
    skipped: int = 0
    failed: int = 0
    first_error: str | None = None
    new_offer_ids: list[int] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)  # source ids of the calls read, all pages

    def fail(self, message: str) -> None:
        self.failed += 1
        if self.first_error is None:
            self.first_error = message

    def line(self) -> str:
        """The counts as `new=N updated=N unchanged=N closed=N skipped=N failed=N`."""
        return (
            f"new={self.new} updated={self.updated} unchanged={self.unchanged} "
            f"closed={self.closed} skipped={self.skipped} failed={self.failed}"
        )


@dataclass(frozen=True)
class Filters:
    """A feed's filters: a record passes when it meets every one given (empty = any)."""

    countries: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    programmes: tuple[str, ...] = ()

    @classmethod
    def of(cls, feed: Feed | None) -> Filters:
        if feed is None:
            return cls()
        return cls(
            tuple(c.upper() for c in feed.countries or ()),
            tuple(k.casefold() for k in feed.keywords or () if k.strip()),
            tuple(p.casefold() for p in feed.programmes or () if p.strip()),
        )

    def offer_passes(self, record: FeedOffer) -> str | None:
        """None when the call passes, else why not."""
        countries = set(record.eligible_countries)
        if self.countries and countries and not set(self.countries) & countries:
            return "not open to applicants of the feed's countries"
        text = f"{record.title}\n{record.description}\n{' '.join(record.keywords)}".casefold()
        if self.keywords and not any(k in text for k in self.keywords):
            return "none of the feed's keywords"
        programme = f"{record.programme or ''} {record.programme_id or ''}".casefold()
        if self.programmes and not any(p in programme for p in self.programmes):
            return "not in the feed's programmes"
        return None

    def activity_passes(self, record: FeedActivity) -> str | None:
        """None when the activity passes, else why not."""
        if self.countries and not set(self.countries) & set(record.recipient_countries):
            return "not in the feed's countries"
        if self.keywords:
            text = " ".join(n.text for n in (*record.titles, *record.descriptions)).casefold()
            if not any(k in text for k in self.keywords):
                return "none of the feed's keywords"
        return None


# --- offers -----------------------------------------------------------------------------


def _amounts(record: FeedOffer) -> tuple[Decimal | None, Decimal | None, str | None]:
    """Award floor and ceiling when in a currency offers take; else none (kept in the text)."""
    if record.currency not in CURRENCIES:
        return None, None, None
    low, high = record.amount_min, record.amount_max
    if low is not None and high is not None and low > high:
        low = None
    if low is None and high is None:
        return None, None, None
    return low, high, record.currency


def _deadline_window(record: FeedOffer, today: date) -> tuple[date | None, date | None]:
    deadline = record.next_deadline(today) or record.deadline
    opens = record.opens_on
    if opens is not None and deadline is not None and opens > deadline:
        opens = None
    return opens, deadline


def _description(record: FeedOffer) -> str:
    text = record.description.strip()
    extra = []
    if record.programme:
        extra.append(f"Programme: {record.programme}")
    if record.call_id or record.call_title:
        extra.append(f"Call: {' - '.join(x for x in (record.call_id, record.call_title) if x)}")
    if len(record.deadlines) > 1:
        extra.append("Deadlines: " + ", ".join(d.isoformat() for d in record.deadlines))
    if record.currency and record.currency not in CURRENCIES and record.amount_max is not None:
        extra.append(f"Amount: up to {record.amount_max} {record.currency}")
    return "\n\n".join(x for x in (text or record.title, "\n".join(extra)) if x)


def offer_values(record: FeedOffer, today: date) -> dict:
    """The offer's fields from a call, as a feed owns them."""
    low, high, currency = _amounts(record)
    opens, deadline = _deadline_window(record, today)
    language = (record.language or "en").lower()
    return {
        "title": record.title.strip()[:TITLE_MAX],
        "description": _description(record),
        "modalities": list(record.modalities),
        "amount_min": low,
        "amount_max": high,
        "currency": currency,
        "eligible_kinds": list(record.eligible_kinds),
        "eligible_countries": list(record.eligible_countries),
        "opens_on": opens,
        "deadline": deadline,
        "language": language if language in LANGUAGES else "en",
        "link": record.link,
    }


def _find_offer(session: Session, kind: str, source_id: str) -> Offer | None:
    query = sa.select(Offer).where(Offer.source == kind, Offer.source_id == source_id)
    return session.scalar(query)


def _close(session: Session, offer: Offer, reason: str, counts: Counts) -> None:
    if offer.status == OfferStatus.CLOSED:
        counts.unchanged += 1
        return
    audit.audited_update(
        session,
        offer,
        None,
        "offer",
        "feed_close",
        {"status": OfferStatus.CLOSED, "closed_reason": reason[:300]},
    )
    queue_scoring(session, offer)
    counts.closed += 1


def _update_offer(
    session: Session, offer: Offer, record: FeedOffer, values: dict, fingerprint: str
) -> None:
    changes = {k: v for k, v in values.items() if k in FEED_FIELDS}
    reopened = offer.status == OfferStatus.CLOSED and offer.closed_reason is not None
    if reopened:  # closed here because the source had closed it; the source opened it again
        changes["status"] = OfferStatus.PUBLISHED if offer.published_at else OfferStatus.SUBMITTED
        changes["closed_reason"] = None
    audit.audited_update(session, offer, None, "offer", "feed_update", changes)
    offer.feed_fingerprint = fingerprint
    queue_scoring(session, offer)


def _new_offer(
    session: Session, kind: str, feed: Feed | None, record: FeedOffer, values: dict
) -> Offer:
    org = orgs.funder_of(session, kind, record.funder)
    publish = feed is not None and feed.publish_at_once
    offer = Offer(
        **values,
        organization_id=org.id,
        status=OfferStatus.PUBLISHED if publish else OfferStatus.SUBMITTED,
        source=kind,
        source_id=record.source_id,
        feed_id=feed.id if feed else None,
        feed_fingerprint=record.fingerprint(),
    )
    session.add(offer)
    session.flush()
    twin = duplicates.find_duplicate(session, offer)
    if twin is not None:
        offer.duplicate_of_id = twin.id
    queue_scoring(session, offer)
    return offer


def store_offer(
    session: Session,
    kind: str,
    feed: Feed | None,
    record: FeedOffer,
    counts: Counts,
    today: date,
    details: Details | None = None,
) -> None:
    """Store one call: new, updated, unchanged or closed."""
    existing = _find_offer(session, kind, record.source_id)
    if record.status == OfferState.CLOSED:
        if existing is None:
            counts.skipped += 1  # never seen open: nothing to close
        else:
            _close(session, existing, record.closed_reason or "closed by the source", counts)
        return
    fingerprint = record.fingerprint()
    if existing is not None and existing.feed_fingerprint == fingerprint:
        counts.unchanged += 1
        return
    if record.partial and details is not None:
        try:
            record = details(record)
        except FeedError as exc:
            counts.fail(f"{record.source_id}: {exc}")
            return
        if record.status == OfferState.CLOSED:
            store_offer(session, kind, feed, record, counts, today)
            return
    values = offer_values(record, today)
    if existing is None:
        offer = _new_offer(session, kind, feed, record, values)
        offer.feed_fingerprint = fingerprint
        counts.new += 1
        counts.new_offer_ids.append(offer.id)
    else:
        _update_offer(session, existing, record, values, fingerprint)
        counts.updated += 1


def close_unlisted(session: Session, feed: Feed, seen: Iterable[str], counts: Counts) -> None:
    """Close the feed's live offers that its complete listing no longer holds."""
    seen = set(seen)
    live = session.scalars(
        sa.select(Offer)
        .where(Offer.feed_id == feed.id)
        .where(Offer.status.in_((OfferStatus.SUBMITTED, OfferStatus.PUBLISHED)))
        .order_by(Offer.id)
    )
    for offer in live:
        if offer.source_id not in seen:
            _close(session, offer, NOT_LISTED, counts)


# --- activities ---------------------------------------------------------------------------


def _narratives(items) -> list[dict]:
    return [{"text": n.text, "lang": n.lang, "kind": n.kind} for n in items]


def activity_values(record: FeedActivity) -> dict:
    """An activity row's fields from a record."""
    title = record.title or record.iati_identifier
    return {
        "source": record.source,
        "source_id": record.source_id,
        "title": title[:ACTIVITY_TITLE_MAX],
        "titles": _narratives(record.titles),
        "descriptions": _narratives(record.descriptions),
        "recipient_countries": list(record.recipient_countries),
        "sectors": [
            {
                "code": s.code,
                "vocabulary": s.vocabulary,
                "name": s.name,
                "percentage": str(s.percentage) if s.percentage is not None else None,
            }
            for s in record.sectors
        ],
        "start": record.start,
        "end": record.end,
        "amount": record.amount.quantize(Decimal("0.01")) if record.amount is not None else None,
        "currency": (record.currency or "")[:3] or None,
        "status": str(record.status) if record.status else None,
        "link": record.link,
    }


def _funder_refs(record: FeedActivity) -> dict[str, str | None]:
    refs: dict[str, str | None] = {}
    for org in record.funding_orgs:
        if org.ref:
            refs.setdefault(org.ref[:120], org.name)
    return refs


def _stored(session: Session, identifiers: list[str]) -> dict[str, tuple[int, str]]:
    """(id, fingerprint) of the stored activities among `identifiers`, read in chunks."""
    found: dict[str, tuple[int, str]] = {}
    for start in range(0, len(identifiers), BATCH):
        chunk = identifiers[start : start + BATCH]
        rows = session.execute(
            sa.select(
                AllyActivity.iati_identifier, AllyActivity.id, AllyActivity.fingerprint
            ).where(AllyActivity.iati_identifier.in_(chunk))
        )
        found.update({key: (row_id, fp) for key, row_id, fp in rows})
    return found


def store_activities(session: Session, records: list[FeedActivity], counts: Counts) -> None:
    """Store activity records: new, updated or unchanged; funders' references suggested.

    Set-wise (a few statements per BATCH records): a publisher's file holds thousands.
    """
    stored = _stored(session, [r.iati_identifier for r in records])
    known_refs = set(session.scalars(sa.select(OrgMapping.ref)))
    new_rows: list[dict] = []
    new_refs: list[list[str]] = []
    for record in records:
        fingerprint = record.fingerprint()
        existing = stored.get(record.iati_identifier)
        if existing is not None and existing[1] == fingerprint:
            counts.unchanged += 1
            continue
        refs = _funder_refs(record)
        for ref, name in refs.items():
            if ref not in known_refs:
                orgs.suggest(session, ref, name)
                known_refs.add(ref)
        values = {**activity_values(record), "fingerprint": fingerprint}
        if existing is None:
            new_rows.append({"iati_identifier": record.iati_identifier, **values})
            new_refs.append(list(refs))
            counts.new += 1
            continue
        activity_id = existing[0]
        session.execute(
            sa.update(AllyActivity).where(AllyActivity.id == activity_id).values(**values)
        )
        session.execute(sa.delete(ActivityFunder).where(ActivityFunder.activity_id == activity_id))
        if refs:
            session.execute(
                sa.insert(ActivityFunder), [{"activity_id": activity_id, "ref": r} for r in refs]
            )
        counts.updated += 1
    for start in range(0, len(new_rows), BATCH):
        rows = new_rows[start : start + BATCH]
        ids = session.scalars(
            sa.insert(AllyActivity).returning(AllyActivity.id, sort_by_parameter_order=True),
            rows,
        ).all()
        funders = [
            {"activity_id": activity_id, "ref": ref}
            for activity_id, refs in zip(ids, new_refs[start : start + BATCH], strict=True)
            for ref in refs
        ]
        if funders:
            session.execute(sa.insert(ActivityFunder), funders)


# --- a whole result -----------------------------------------------------------------------


def store(
    session: Session,
    kind: str,
    result: ParseResult,
    today: date,
    feed: Feed | None = None,
    details: Details | None = None,
    counts: Counts | None = None,
) -> Counts:
    """Store every record of `result` as feed `kind` would; the caller commits (or rolls back).

    Counts add up over the pages of one run (pass the same `counts`); `close_unlisted` closes
    what a complete listing did not hold.
    """
    counts = counts or Counts()
    counts.skipped += len(result.skipped)
    filters = Filters.of(feed)
    activities: list[FeedActivity] = []
    for record in result.records:
        if isinstance(record, FeedOffer):
            counts.seen.add(record.source_id)
            if filters.offer_passes(record) is not None:
                counts.skipped += 1
                continue
            store_offer(session, kind, feed, record, counts, today, details)
        elif isinstance(record, FeedActivity):
            if filters.activity_passes(record) is not None:
                counts.skipped += 1
                continue
            activities.append(record)
        elif isinstance(record, FeedOrganisation):
            if record.source_id:
                orgs.suggest(session, record.source_id[:120], record.name)
            counts.skipped += 1  # an organisation file names an organisation: no offer
    if activities:
        store_activities(session, activities, counts)
    return counts
