"""The fitted matcher index, fitted on every open item and kept by the process until the
corpus drifts. Each Runtime (web app, worker process) holds one IndexCache."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from config import Settings
from matcher import MatchIndex, MatchWeights
from models import Alliance, Offer, Project
from services import clock
from services.matching.items import (
    ally_records,
    document_texts,
    offer_item,
    open_offers,
    open_projects,
    project_item,
)

DEFAULT_REFIT_SMALL = 5_000  # below this many open items, any change refits (it is cheap)
DEFAULT_REFIT_AGE = 900.0  # seconds: a larger corpus refits at most this often on change


def signature(session: Session, today: date) -> tuple:
    """What the fitted corpus depends on: counts and last changes of open items and of
    alliances (the allies' records), and the day."""
    parts = [today.isoformat()]
    for query in (open_offers(today), open_projects()):
        sub = query.order_by(None).subquery()
        count, last = session.execute(
            sa.select(sa.func.count(), sa.func.max(sub.c.updated_at)).select_from(sub)
        ).one()
        parts += [count, str(last)]
    count, last = session.execute(
        sa.select(sa.func.count(), sa.func.max(Alliance.updated_at)).select_from(Alliance)
    ).one()
    return (*parts, count, str(last))  # a new alliance changes an ally's record


def fit_index(session: Session, settings: Settings, today: date | None = None) -> MatchIndex:
    """Fit a new index on every published, not yet closed offer and every open project."""
    today = today or clock.agency_today(settings.timezone)
    records = ally_records(session)
    offer_docs = document_texts(session, Offer, None)
    project_docs = document_texts(session, Project, None)
    supply = []
    for offer in session.scalars(open_offers(today)).unique():
        record = records.pop(offer.organization_id, None)  # on one offer per ally
        supply.append(offer_item(offer, record, offer_docs.get(offer.id)))
    demand = [
        project_item(p, project_docs.get(p.id)) for p in session.scalars(open_projects()).unique()
    ]
    return MatchIndex.fit(
        supply,
        demand,
        weights=MatchWeights.from_mapping(settings.match_weights),
        today=today,
        rates=settings.usd_rates,
    )


@dataclass
class _Fitted:
    index: MatchIndex
    signature: tuple
    fitted_at: float
    size: int


class IndexCache:
    """One process's fitted index, refitted when the corpus has drifted."""

    def __init__(self) -> None:
        self._fitted: _Fitted | None = None
        self._lock = threading.Lock()

    def current(self, session: Session, settings: Settings, force: bool = False) -> MatchIndex:
        """Return the fitted index, refitting when the corpus has drifted (or when `force`).

        Any change refits a small corpus; a large one refits at most every DEFAULT_REFIT_AGE
        seconds, and new items in between are ranked against the fitted index without refitting.
        """
        today = clock.agency_today(settings.timezone)
        now_signature = signature(session, today)
        with self._lock:
            cached = self._fitted
            stale = (
                cached is None
                or force
                or cached.signature[0] != now_signature[0]
                or (
                    cached.signature != now_signature
                    and (
                        cached.size < DEFAULT_REFIT_SMALL
                        or time.monotonic() - cached.fitted_at > DEFAULT_REFIT_AGE
                    )
                )
            )
            if stale:
                index = fit_index(session, settings, today)
                cached = _Fitted(
                    index, now_signature, time.monotonic(), len(index.supply) + len(index.demand)
                )
                self._fitted = cached
            return cached.index

    def forget(self) -> None:
        """Drop the fitted index (after a rebuild in another process, say)."""
        with self._lock:
            self._fitted = None
