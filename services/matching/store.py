"""Writing scored pairs: one row per (project, offer), people's decisions kept, and the
undecided pairs that no longer hold withdrawn, never deleted."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from models import Match
from models.enums import MatchStatus, ScoringState
from services import clock

if TYPE_CHECKING:  # queueing imports this module and must not load the matcher
    from matcher import ScoredPair

UPSERT_CHUNK = 1_000


def _insert(session: Session):
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(Match)


def upsert_pairs(session: Session, pairs: list[ScoredPair], version: str) -> int:
    """Insert or rescore matches, one row per pair; people's decisions stay as they are."""
    rows = [
        {
            "project_id": int(p.demand_id),
            "offer_id": int(p.supply_id),
            "score": float(p.score),
            "components": p.components,
            "explanation": p.explanation,
            "status": MatchStatus.PROPOSED.value,
            "matcher_version": version,
        }
        for p in pairs
    ]
    # One order for every writer, so two transactions upserting overlapping pairs never wait
    # on each other in opposite orders (a deadlock).
    rows.sort(key=lambda r: (r["project_id"], r["offer_id"]))
    for start in range(0, len(rows), UPSERT_CHUNK):
        stmt = _insert(session)
        excluded = stmt.excluded
        # An undecided pair that had been withdrawn comes back; a decided one keeps its status.
        revived = sa.case(
            (
                sa.and_(Match.status == MatchStatus.WITHDRAWN.value, Match.reviewer_id.is_(None)),
                MatchStatus.PROPOSED.value,
            ),
            else_=Match.status,
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["project_id", "offer_id"],
            set_={
                "score": excluded.score,
                "components": excluded.components,
                "explanation": excluded.explanation,
                "matcher_version": excluded.matcher_version,
                "status": revived,
                "updated_at": sa.func.now(),
            },
        )
        # Core executemany on the session's connection: the ORM's bulk path adds nothing here.
        session.connection().execute(stmt, rows[start : start + UPSERT_CHUNK])
    return len(rows)


def withdraw_missing(session: Session, key, item_ids: list[int], kept: list[tuple[int, int]]):
    """Withdraw the proposed matches of `item_ids` (by `key`) that are not among `kept` pairs."""
    query = sa.update(Match).where(key.in_(item_ids), Match.status == MatchStatus.PROPOSED)
    if kept:
        query = query.where(sa.tuple_(Match.project_id, Match.offer_id).not_in(kept))
    return session.execute(query.values(status=MatchStatus.WITHDRAWN)).rowcount


def mark_scoring(session: Session, model, ids, state: ScoringState) -> None:
    """Set the scoring state of the `model` rows `ids` (a list or a select of ids), leaving
    `updated_at` as it was: it says when an item's content last changed, which the matcher's
    delta reads, and being scored is no change."""
    values = {"scoring_state": state, "updated_at": model.updated_at}
    if state == ScoringState.SCORED:
        values["scored_at"] = clock.now()
    stmt = sa.update(model).where(model.id.in_(ids)).values(**values)
    # Rows loaded in the session are not updated in place (a rebuild marks every open item).
    session.execute(stmt, execution_options={"synchronize_session": False})


def flatten(results: Iterable[list[ScoredPair]]) -> list[ScoredPair]:
    """The pairs of every item's ranking, in one list."""
    return [pair for ranked in results for pair in ranked]


def kept_pairs(pairs: list[ScoredPair]) -> list[tuple[int, int]]:
    """(project id, offer id) of each pair."""
    return [(int(p.demand_id), int(p.supply_id)) for p in pairs]
