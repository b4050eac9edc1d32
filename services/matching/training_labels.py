"""Staff decisions as labelled matches, in the JSON Lines that `python -m matcher tune` reads.

An accepted match says "this offer is right for this project": the office's own labels. The
export writes every offer that was ever matchable (published, closed, or in a match) as supply
and every project with an accepted match as demand, its accepted offers in `true_supply_ids`.
Offers go without their deadline: a decision was taken while the offer was open, and the days
left then are not kept, so the `time` component is left out of the learning (it keeps its
configured weight) instead of closing every offer whose deadline has passed since. Nor do they
carry their ally's record: its alliances are these very labels, and a profile learned from them
would find its own answers, so `profile` keeps its configured weight too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from models import Match, Offer, Project
from models.enums import MatchStatus, OfferStatus
from services import import_export
from services.errors import Invalid
from services.matching.items import offer_item, project_item

SUPPLY_FILE = "supply.jsonl"
DEMAND_FILE = "demand.jsonl"


@dataclass(frozen=True)
class LabelSet:
    """What an export holds: matcher items of both sides and how many accepted pairs."""

    supply: list[dict]
    demand: list[dict]
    accepted: int


def labelled_matches(session: Session) -> LabelSet:
    """Return every matchable offer and every project with accepted matches, as matcher items."""
    accepted = session.execute(
        sa.select(Match.project_id, Match.offer_id)
        .where(Match.status == MatchStatus.ACCEPTED)
        .order_by(Match.project_id, Match.offer_id)
    ).all()
    if not accepted:
        raise Invalid("no accepted matches yet: there is nothing to learn from")
    truths: dict[int, list[int]] = {}
    for project_id, offer_id in accepted:
        truths.setdefault(project_id, []).append(offer_id)
    matched = sa.select(Match.offer_id).distinct()
    offers = session.scalars(
        sa.select(Offer)
        .where(
            sa.or_(
                Offer.status.in_([OfferStatus.PUBLISHED, OfferStatus.CLOSED]), Offer.id.in_(matched)
            )
        )
        .order_by(Offer.id)
    ).unique()
    projects = session.scalars(
        sa.select(Project).where(Project.id.in_(list(truths))).order_by(Project.id)
    ).unique()
    supply = [dict(offer_item(o), deadline=None) for o in offers]
    demand = [dict(project_item(p), true_supply_ids=truths[p.id]) for p in projects]
    return LabelSet(supply, demand, len(accepted))


def write_labels(labels: LabelSet, directory: Path) -> tuple[Path, Path]:
    """Write supply.jsonl and demand.jsonl into directory (made if missing); return both paths."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = directory / SUPPLY_FILE, directory / DEMAND_FILE
    for path, items in zip(paths, (labels.supply, labels.demand), strict=True):
        with path.open("w", encoding="utf-8") as stream:  # every item of a side has one shape
            import_export.write_rows(stream, items, "jsonl", items[0] if items else ())
    return paths
