"""The matcher's view of offers and projects, and of what each ally has funded."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from models import (
    ActivityFunder,
    Alliance,
    AllyActivity,
    Document,
    Match,
    Offer,
    OrgMapping,
    Project,
)
from models.enums import (
    AllianceStage,
    ExtractionState,
    MappingState,
    MatchStatus,
    OfferStatus,
    ProjectStatus,
)
from services import jsonable

DEFAULT_RECORD_MAX = 100  # an ally's newest alliances the matcher learns what it funds from
DEFAULT_PASSAGE_WORDS = 60  # words per passage of a document, at least
DEFAULT_MAX_PASSAGES = 40  # passages per offer or project from all its documents
DEFAULT_REJECTIONS_MAX = 2000  # the newest teaching rejections the matcher is given
# A pair's rejection reason (the queue's codes, or older free text) as the matcher's teaching
# reason: a pair rejected as a thematic mismatch is out of that offer's scope.
TEACHING_REASONS = {
    "not_eligible": "not_eligible",
    "thematic_mismatch": "out_of_scope",
    "out_of_scope": "out_of_scope",
}


def _float(value: Decimal | None) -> float | None:
    return jsonable.plain(value, decimal=float)


def with_documents(description: str, documents: list[str] | None) -> str:
    """The description followed by its documents' passages, one per line (the matcher reads
    each line of a supply item as a passage)."""
    extra = document_passages(documents or [])
    return "\n".join([description, *extra]) if extra else description


def offer_item(
    offer: Offer,
    record: list[str] | None = None,
    documents: list[str] | None = None,
    history: list[dict] | None = None,
) -> dict:
    """The matcher's view of an offer; `ally` ties it to its organisation's record, which one
    offer per organisation carries (see ally_records), and to the lines and SDGs of its allied
    projects (`history`, see ally_history); `documents`: the texts of its call documents (see
    document_texts), read as more passages of the offer."""
    item = {
        "id": offer.id,
        "title": offer.title,
        "description": with_documents(offer.description, documents),
        "lang": offer.language,
        "lines": list(offer.lines or []),
        "sdgs": list(offer.sdgs or []),
        "modalities": list(offer.modalities or []),
        "amount_min": _float(offer.amount_min),
        "amount_max": _float(offer.amount_max),
        "currency": offer.currency,
        "deadline": offer.deadline.isoformat() if offer.deadline else None,
        "eligible_kinds": list(offer.eligible_kinds or []),
        "eligible_countries": list(offer.eligible_countries or []),
        "kind": str(offer.organization.kind),
        "country": offer.organization.country,
        "ally": f"org-{offer.organization_id}",
    }
    if record:
        item["record"] = record
    if history:
        item["record_fields"] = history
    return item


def project_item(project: Project, documents: list[str] | None = None) -> dict:
    """The matcher's view of a project; kind and country are its responsible entity's;
    `documents`: the texts of its documents, read with its description."""
    return {
        "id": project.id,
        "title": project.title,
        "description": with_documents(project.description, documents),
        "lang": project.language,
        "lines": list(project.lines or []),
        "sdgs": list(project.sdgs or []),
        "modalities": list(project.modalities or []),
        "budget": _float(project.budget),
        "cofinancing": _float(project.cofinancing),
        "currency": project.currency,
        "kind": str(project.organization.kind),
        "country": project.organization.country,
    }


def activity_text(titles: list[dict], descriptions: list[dict], title: str) -> str:
    """An activity record as the matcher reads it: the English title and description (else the
    first), "title: description"."""

    def pick(narratives: list[dict]) -> str | None:
        for n in narratives or ():
            if n.get("lang") == "en" and n.get("text"):
                return n["text"]
        return next((n["text"] for n in narratives or () if n.get("text")), None)

    head = pick(titles) or title
    body = pick(descriptions)
    return f"{head}: {body}" if body else head


def activity_records(session: Session, limit: int = DEFAULT_RECORD_MAX) -> dict[int, list[str]]:
    """Per ally, the activities it funded as the feeds read them (IATI, World Bank), through
    confirmed organisation mappings, newest first, at most `limit` each."""
    rows = session.execute(
        sa.select(
            OrgMapping.organization_id,
            AllyActivity.id,
            AllyActivity.title,
            AllyActivity.titles,
            AllyActivity.descriptions,
        )
        .join(ActivityFunder, ActivityFunder.ref == OrgMapping.ref)
        .join(AllyActivity, AllyActivity.id == ActivityFunder.activity_id)
        .where(OrgMapping.state == MappingState.CONFIRMED)
        .where(OrgMapping.organization_id.is_not(None))
        .order_by(
            OrgMapping.organization_id,
            AllyActivity.start.desc().nulls_last(),
            AllyActivity.id.desc(),
        )
    )
    records: dict[int, list[str]] = {}
    seen: set[tuple[int, int]] = set()
    for org_id, activity_id, title, titles, descriptions in rows:
        texts = records.setdefault(org_id, [])
        if (org_id, activity_id) not in seen and len(texts) < limit:
            seen.add((org_id, activity_id))
            texts.append(activity_text(titles, descriptions, title))
    return records


def ally_records(session: Session, decided_before: datetime | None = None) -> dict[int, list[str]]:
    """Per organisation, what it has funded, for the matcher to learn its profile from: the
    projects of its alliances ("title: description", newest first), then the activities the
    feeds read for it; at most DEFAULT_RECORD_MAX. With `decided_before`, only the alliances
    of matches accepted before then (what the office knew at that time)."""
    records: dict[int, list[str]] = {}
    for org_id, project in _allied_projects(session, decided_before):
        records.setdefault(org_id, []).append(f"{project.title}: {project.description}")
    for org_id, activities in activity_records(session).items():
        texts = records.setdefault(org_id, [])
        texts.extend(activities[: max(0, DEFAULT_RECORD_MAX - len(texts))])
    return records


def ally_history(session: Session, decided_before: datetime | None = None) -> dict[int, list[dict]]:
    """Per organisation, the thematic lines and SDGs of the projects of its alliances, one
    mapping per project, the same projects as ally_records' (newest first, at most
    DEFAULT_RECORD_MAX; with `decided_before`, only those accepted before then)."""
    history: dict[int, list[dict]] = {}
    for org_id, project in _allied_projects(session, decided_before):
        fields = {"lines": list(project.lines or []), "sdgs": list(project.sdgs or [])}
        history.setdefault(org_id, []).append(fields)
    return history


def _allied_projects(
    session: Session, decided_before: datetime | None
) -> Iterable[tuple[int, Project]]:
    """Yield (organisation id, project) for each alliance not dropped, per organisation newest
    first, each project once and at most DEFAULT_RECORD_MAX per organisation."""
    query = (
        sa.select(Offer.organization_id, Project)
        .select_from(Alliance)
        .join(Match, Alliance.match_id == Match.id)
        .join(Offer, Match.offer_id == Offer.id)
        .join(Project, Match.project_id == Project.id)
        .where(Alliance.stage != AllianceStage.DROPPED)  # a dropped alliance funded nothing
        .order_by(Offer.organization_id, Alliance.started_on.desc(), Alliance.id.desc())
    )
    if decided_before is not None:
        query = query.where(Match.decided_at < decided_before)
    seen: set[tuple[int, int]] = set()
    taken: dict[int, int] = {}
    for org_id, project in session.execute(query):
        if (org_id, project.id) in seen or taken.get(org_id, 0) >= DEFAULT_RECORD_MAX:
            continue
        seen.add((org_id, project.id))
        taken[org_id] = taken.get(org_id, 0) + 1
        yield org_id, project


def open_offers(today: date) -> sa.Select:
    """Published offers whose deadline has not passed (the agency's `today`), by id."""
    return (
        sa.select(Offer)
        .where(Offer.status == OfferStatus.PUBLISHED)
        .where(sa.or_(Offer.deadline.is_(None), Offer.deadline >= today))
        .order_by(Offer.id)
    )


def open_projects() -> sa.Select:
    """Open projects, by id."""
    return sa.select(Project).where(Project.status == ProjectStatus.OPEN).order_by(Project.id)


def teaching_reason(reason: str | None) -> str | None:
    """The matcher's teaching reason of a pair's rejection reason (None: it teaches nothing)."""
    key = (reason or "").strip().lower().replace(" ", "_").replace("-", "_")
    return TEACHING_REASONS.get(key)


def teaching_rejections(session: Session) -> list[dict]:
    """The staff's rejections whose reason teaches the matcher (not eligible, out of scope), as
    its decisions, newest first; each carries both items, since either may have closed since."""
    rows = session.scalars(
        sa.select(Match)
        .where(Match.status == MatchStatus.REJECTED, Match.decision_reason.is_not(None))
        .options(selectinload(Match.project), selectinload(Match.offer))  # organisations join
        .order_by(Match.decided_at.desc().nulls_last(), Match.id.desc())
    )
    out: list[dict] = []
    for match in rows:
        reason = teaching_reason(match.decision_reason)
        if reason is None:
            continue
        out.append(
            {
                "demand_id": match.project_id,
                "supply_id": match.offer_id,
                "accepted": False,
                "reason": reason,
                "demand": project_item(match.project),
                "supply": offer_item(match.offer),
            }
        )
        if len(out) >= DEFAULT_REJECTIONS_MAX:
            break
    return out


def document_passages(texts: Iterable[str], max_passages: int = DEFAULT_MAX_PASSAGES) -> list[str]:
    """The documents' texts as at most `max_passages` passages of whole lines, each at least
    DEFAULT_PASSAGE_WORDS words long (longer when the texts are long, so all of them count)."""
    lines = [" ".join(line.split()) for text in texts for line in text.splitlines()]
    lines = [line for line in lines if line]
    words = sum(len(line.split()) for line in lines)
    if not words:
        return []
    size = max(DEFAULT_PASSAGE_WORDS, math.ceil(words / max_passages))
    out: list[str] = []
    current: list[str] = []
    count = 0
    for line in lines:
        current.append(line)
        count += len(line.split())
        if count >= size:
            out.append(" ".join(current))
            current, count = [], 0
    if current:
        out.append(" ".join(current))
    return out[:max_passages]


def document_texts(session: Session, model: type[Offer] | type[Project], ids: Iterable[int] | None):
    """Per owner (offer or project id), the extracted texts of its documents, oldest first.

    `ids` None: every owner of that kind that has any.
    """
    key = Document.offer_id if model is Offer else Document.project_id
    query = (
        sa.select(key, Document.text)
        .where(key.is_not(None), Document.extraction_state == ExtractionState.DONE)
        .order_by(Document.id)
    )
    if ids is not None:
        ids = list(ids)
        if not ids:
            return {}
        query = query.where(key.in_(ids))
    out: dict[int, list[str]] = {}
    for owner_id, text in session.execute(query):
        if text:
            out.setdefault(owner_id, []).append(text)
    return out
