"""The fitted matcher index: fitted once per version, saved in the index directory every worker
reads (COOPMATCH_INDEX_DIR, default instance/index), recorded in `index_versions`, loaded by
version id with its arrays memory-mapped, and kept by each process (its Runtime's IndexCache).

A version's id is a hash of everything the fit reads (matcher.MatchIndex.version_for), so asking
for a fit of a corpus already fitted finds it instead of fitting again. Old versions are pruned:
the newest DEFAULT_KEEP stay.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from config import Settings
from matcher import MatchIndex, MatchWeights
from matcher.index import META_FILE
from models import IndexVersion, Offer, Project
from models.enums import IndexState
from services import clock
from services.db import committing
from services.matching.items import (
    ally_history,
    ally_records,
    document_texts,
    offer_item,
    open_offers,
    open_projects,
    project_item,
    teaching_rejections,
)
from services.matching.ranker_runs import adopted_ranker

DEFAULT_KEEP = 2  # versions kept on disk: the current one and the one before
# SQLite stamps updated_at to the second: items changed this long before a fit read them count
# as changed after it (on PostgreSQL the open transactions say exactly, see snapshot_time).
DEFAULT_SQLITE_MARGIN = timedelta(seconds=2)
# updated_at is the writing transaction's start (now()); a transaction open when the fit reads
# may commit after it, so the delta starts at the oldest open transaction's start.
PG_SNAPSHOT = sa.text(
    "SELECT least(clock_timestamp(), (SELECT min(xact_start) FROM pg_stat_activity"
    " WHERE datname = current_database() AND xact_start IS NOT NULL))"
)
DEFAULT_TEMP_AGE = 3600.0  # seconds before a half-written version directory is removed


@dataclass(frozen=True)
class Loaded:
    """A fitted index and what the service knows of its version."""

    index: MatchIndex
    version: str
    since: datetime  # items changed from then on may not be in the index (the delta)


# The newest version is the one read last (its delta starts latest), then the one fitted last.
NEWEST_FIRST = (IndexVersion.created_at.desc(), IndexVersion.fitted_at.desc(), IndexVersion.id)


def read_items(session: Session, settings: Settings, today: date) -> tuple[list, list]:
    """Every published, not yet closed offer and every open project, as matcher items."""
    records = ally_records(session)
    history = ally_history(session)
    offer_docs = document_texts(session, Offer, None)
    project_docs = document_texts(session, Project, None)
    supply = []
    for offer in session.scalars(open_offers(today)).unique():
        record = records.pop(offer.organization_id, None)  # on one offer per ally
        fields = history.pop(offer.organization_id, None)
        supply.append(offer_item(offer, record, offer_docs.get(offer.id), fields))
    demand = [
        project_item(p, project_docs.get(p.id)) for p in session.scalars(open_projects()).unique()
    ]
    return supply, demand


def _fit_args(session: Session, settings: Settings, today: date) -> dict:
    return {
        "weights": MatchWeights.from_mapping(settings.match_weights),
        "today": today,
        "rates": settings.usd_rates,
        # The staff's rejections as not eligible or out of scope lower similar pairs of that
        # ally (rejections only: a ranker is learned by the retrain, not by every fit).
        "decisions": teaching_rejections(session),
        # The ranker the last retrain adopted (None: the weighted mean); its id is part of
        # the version id, so an adoption makes the next fit a new version.
        "ranker": adopted_ranker(session),
    }


def fit_index(session: Session, settings: Settings, today: date | None = None) -> MatchIndex:
    """Fit a new index on every open item, in this process (nothing saved)."""
    today = today or clock.agency_today(settings.timezone)
    supply, demand = read_items(session, settings, today)
    return MatchIndex.fit(supply, demand, **_fit_args(session, settings, today))


def version_path(settings: Settings, version: str) -> Path:
    return settings.index_path / version


def latest(session: Session) -> IndexVersion | None:
    """The newest ready version."""
    return session.scalar(
        sa.select(IndexVersion)
        .where(IndexVersion.state == IndexState.READY)
        .order_by(*NEWEST_FIRST)
        .limit(1)
    )


def fit_version(session: Session, settings: Settings, today: date | None = None) -> IndexVersion:
    """Fit the index on every open item and save it for every worker; return its version row.

    A corpus already fitted (same version id, ready on disk) is not fitted again.
    """
    today = today or clock.agency_today(settings.timezone)
    snapshot = snapshot_time(session)
    supply, demand = read_items(session, settings, today)
    args = _fit_args(session, settings, today)
    version = MatchIndex.version_for(supply, demand, **args)
    path = version_path(settings, version)
    row = session.get(IndexVersion, version)
    if row is not None and row.state == IndexState.READY and (path / META_FILE).exists():
        with committing(session):  # what it holds is what was just read: current again
            row.created_at = max(clock.aware(row.created_at), snapshot)
        return row
    with committing(session):
        if row is None:
            row = IndexVersion(id=version)
            session.add(row)
        row.created_at, row.state = snapshot, IndexState.FITTING
        row.n_offers, row.n_projects = len(supply), len(demand)
    index = MatchIndex.fit(supply, demand, **args)
    _save(index, path)
    with committing(session):
        row.state, row.fitted_at = IndexState.READY, clock.now()
    prune(session, settings)
    return row


def snapshot_time(session: Session) -> datetime:
    """A moment such that every item changed after it may not be in what is read next, and every
    item changed before it is: where a fit's delta starts."""
    if session.get_bind().dialect.name == "postgresql":
        return session.scalar(PG_SNAPSHOT)
    return clock.now() - DEFAULT_SQLITE_MARGIN


def _save(index: MatchIndex, path: Path) -> None:
    """Write the index beside its place, then move it there in one step (readers never see a
    half-written directory); a directory already there (another worker's) is kept."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.parent / f".{path.name}.{uuid.uuid4().hex}"
    index.save(temp)
    try:
        os.rename(temp, path)
    except OSError:  # another process saved the same version first
        shutil.rmtree(temp, ignore_errors=True)


def prune(session: Session, settings: Settings, keep: int = DEFAULT_KEEP) -> list[str]:
    """Remove all but the newest `keep` ready versions from disk; return the pruned ids."""
    ready = list(
        session.scalars(
            sa.select(IndexVersion)
            .where(IndexVersion.state == IndexState.READY)
            .order_by(*NEWEST_FIRST)
        )
    )
    old = ready[keep:]
    with committing(session):
        for row in old:
            row.state = IndexState.PRUNED
    for row in old:  # a process still reading one keeps its mapped pages until it lets go
        shutil.rmtree(version_path(settings, row.id), ignore_errors=True)
    now = time.time()
    for temp in settings.index_path.glob(".*"):
        if temp.is_dir() and now - temp.stat().st_mtime > DEFAULT_TEMP_AGE:
            shutil.rmtree(temp, ignore_errors=True)
    return [row.id for row in old]


class IndexCache:
    """One process's loaded index versions (the newest DEFAULT_KEEP), by version id."""

    def __init__(self) -> None:
        self._loaded: OrderedDict[str, MatchIndex] = OrderedDict()
        self._lock = threading.Lock()

    def load(self, settings: Settings, version: str) -> MatchIndex:
        """The index of `version`, read from the index directory once per process."""
        with self._lock:
            index = self._loaded.get(version)
            if index is None:
                index = MatchIndex.load(version_path(settings, version))
                self._loaded[version] = index
                while len(self._loaded) > DEFAULT_KEEP:
                    self._loaded.popitem(last=False)
            else:
                self._loaded.move_to_end(version)
            return index

    def current(self, session: Session, settings: Settings) -> Loaded:
        """The newest ready version, loaded; fitted here first when there is none yet."""
        row = latest(session) or fit_version(session, settings)
        return Loaded(self.load(settings, row.id), row.id, clock.aware(row.created_at))

    def version(self, session: Session, settings: Settings, version: str) -> Loaded:
        """The version `version`, loaded."""
        row = session.get(IndexVersion, version)
        if row is None:
            raise LookupError(f"no index version {version}")
        return Loaded(self.load(settings, version), version, clock.aware(row.created_at))

    def forget(self) -> None:
        """Drop the loaded indexes."""
        with self._lock:
            self._loaded.clear()
