"""Shared by the feed tests outside tests/unit/feeds (the files: the `shared_feeds` fixture)."""

from __future__ import annotations

from pathlib import Path

from services import feeds
from tests import factories as f

HORIZON = "eu_ft/topic_details_HORIZON-WIDERA-2025-ACCESS-01-01-two-stage.json"


def hand_entered_copy(session, shared_dir: Path):
    """The Horizon call of the shared files typed in by staff, under the European Commission."""
    record = feeds.parse("eu_ft", shared_dir / HORIZON).records[0]
    ec = f.organization(session, name="European Commission", kind="multilateral", country="BE")
    return f.offer(
        session,
        ec,
        title=record.title,
        description=record.description,
        source="manual",
        deadline=record.deadline,
        opens_on=None,
    )
