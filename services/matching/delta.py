"""What changed since an index version was fitted: the items new or edited since (ranked with
the fitted ones, so a project and an offer created a minute apart meet without a refit), the
fitted rows they make stale, and how far the corpus has drifted from the fit."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from config import Settings
from models import Alliance, Offer, Project
from services import clock
from services.matching.index_cache import Loaded
from services.matching.items import (
    document_texts,
    offer_item,
    open_offers,
    open_projects,
    project_item,
)


@dataclass
class Delta:
    """Items changed since a fit: open ones as matcher items, and every changed id."""

    offers: list[dict] = field(default_factory=list)
    projects: list[dict] = field(default_factory=list)
    stale_offers: set[int] = field(default_factory=set)  # fitted rows not to rank with
    stale_projects: set[int] = field(default_factory=set)
    new: int = 0  # open items the index has never seen, and alliances made since

    def drifted(self, fitted: int, share: float) -> bool:
        """True when the new items exceed `share` of the `fitted` ones: time to refit."""
        return self.new > 0 and self.new > share * fitted


def since(session: Session, settings: Settings, loaded: Loaded) -> Delta:
    """The items changed since `loaded` was fitted, and its drift."""
    today = clock.agency_today(settings.timezone)
    delta = Delta()
    changed = sa.select(Offer.id).where(Offer.updated_at >= loaded.since)
    delta.stale_offers = set(session.scalars(changed))
    if delta.stale_offers:
        query = open_offers(today).where(Offer.id.in_(delta.stale_offers))
        docs = document_texts(session, Offer, delta.stale_offers)
        delta.offers = [
            offer_item(o, documents=docs.get(o.id)) for o in session.scalars(query).unique()
        ]
    changed = sa.select(Project.id).where(Project.updated_at >= loaded.since)
    delta.stale_projects = set(session.scalars(changed))
    if delta.stale_projects:
        query = open_projects().where(Project.id.in_(delta.stale_projects))
        docs = document_texts(session, Project, delta.stale_projects)
        delta.projects = [project_item(p, docs.get(p.id)) for p in session.scalars(query).unique()]
    index = loaded.index
    delta.new = _unseen(index.supply, delta.offers) + _unseen(index.demand, delta.projects)
    alliances = sa.select(sa.func.count()).where(Alliance.updated_at >= loaded.since)
    delta.new += session.scalar(alliances) or 0  # a record changes what an ally's profile says
    return delta


def _unseen(side, items: list[dict]) -> int:
    return sum(1 for item in items if side.position(item["id"]) is None)
