""" "More like this": each offer's nearest open offers by the matcher's text side.

Kept per offer (models.OfferNeighbours) when the offer is scored, and for every open offer by
the full rebuild, so a page reads one row instead of fitting the matcher. Pages show only the
neighbours still open when they are read (services.opportunities.more_like_this).
"""

from __future__ import annotations

from collections.abc import Mapping

import sqlalchemy as sa
from sqlalchemy.orm import Session

from matcher import MatchIndex
from models import OfferNeighbours
from services import clock

DEFAULT_SIMILAR_K = 5  # neighbours kept per offer
DEFAULT_SIMILAR_MIN = 0.05  # cosine at or below this is not "like"


def neighbours(
    index: MatchIndex, items: list[dict] | None, rows: slice | None = None
) -> dict[int, list[tuple[object, float]]]:
    """Per offer (matcher items, or None: every fitted offer, or those of `rows`), its nearest
    offers."""
    found = index.similar_supply(items, DEFAULT_SIMILAR_K, DEFAULT_SIMILAR_MIN, rows=rows)
    if items is not None:
        ids = [item["id"] for item in items]
    else:
        ids = index.supply.ids[rows or slice(None)]
    return {int(i): pairs for i, pairs in zip(ids, found, strict=True)}


def chunk_rows(n_items: int, chunk: int, chunks: int) -> slice:
    """The fitted offers whose neighbours chunk number `chunk` of `chunks` keeps: an equal share
    (the last ones get one fewer), so every rebuild chunk does its part on some worker."""
    size = -(-n_items // max(chunks, 1))
    return slice(chunk * size, min((chunk + 1) * size, n_items))


def keep(session: Session, found: Mapping[int, list[tuple[object, float]]], version: str) -> None:
    """Replace the stored neighbours of these offers, in the caller's transaction."""
    if not found:
        return
    session.execute(sa.delete(OfferNeighbours).where(OfferNeighbours.offer_id.in_(list(found))))
    now = clock.now()
    session.add_all(
        OfferNeighbours(
            offer_id=offer_id,
            neighbour_ids=[int(i) for i, _ in pairs],
            scores=[float(s) for _, s in pairs],
            matcher_version=version,
            computed_at=now,
        )
        for offer_id, pairs in found.items()
    )
