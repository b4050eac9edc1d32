"""The staff's rejections as not eligible or out of scope teach the service's matcher."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from models.enums import MatchStatus
from services.matching import index_cache, items
from services.matching.index_cache import IndexCache
from tests import factories as f

WATER = (
    "Community water supply, storage tanks and sanitation for families in informal hillside "
    "settlements."
)


@pytest.fixture
def corpus(session):
    city = f.organization(
        session, name="Alcaldía", kind="local_public", side="demand", country="CO"
    )
    first = f.project(session, city, title="Water for hillside families", description=WATER)
    second = f.project(
        session, city, title="Water tanks for hillside settlements", description=WATER
    )
    ally = f.organization(session, name="Water Agency", kind="bilateral")
    other = f.organization(session, name="Other Fund", kind="foundation")
    offer = f.offer(session, ally, title="Water grants", description=WATER)
    twin = f.offer(session, other, title="Water grants", description=WATER)
    return {"first": first, "second": second, "offer": offer, "twin": twin}


def _scores(session, settings, cache, project):
    index = cache.current(session, settings).index
    row = index.rank_demand([items.project_item(project)], 5, explain=True)[0]
    return {p.supply_id: p for p in row}


@pytest.mark.parametrize(
    ("reason", "says"),
    [
        ("not_eligible", "rejected as not eligible once"),
        ("thematic_mismatch", "rejected as out of scope once"),
        ("not eligible", "rejected as not eligible once"),  # older free text
    ],
)
def test_a_rejection_lowers_similar_pairs_of_that_ally(session, settings, corpus, reason, says):
    cache = IndexCache()
    before = _scores(session, settings, cache, corpus["second"])
    f.match(
        session,
        corpus["first"],
        corpus["offer"],
        status=MatchStatus.REJECTED,
        decision_reason=reason,
        decided_at=datetime.now(UTC),
    )
    index_cache.fit_version(session, settings)  # the next fit (nightly, on drift, or asked for)
    after = _scores(session, settings, cache, corpus["second"])
    lowered = after[corpus["offer"].id]
    assert lowered.score < before[corpus["offer"].id].score
    assert lowered.components["feedback"] == pytest.approx(0.85)
    assert f"similar offers from this ally were {says}" in lowered.explanation["en"]
    assert any(
        x.startswith("ofertas similares de este aliado se rechazaron por ")
        for x in lowered.explanation["es"]
    )
    twin = after[corpus["twin"].id]  # the same offer text from another ally: untouched
    assert twin.score == before[corpus["twin"].id].score and "feedback" not in twin.components


def test_other_reasons_teach_nothing(session, settings, corpus):
    f.match(
        session,
        corpus["first"],
        corpus["offer"],
        status=MatchStatus.REJECTED,
        decision_reason="amount_mismatch",
        decided_at=datetime.now(UTC),
    )
    assert items.teaching_rejections(session) == []
    pair = _scores(session, settings, IndexCache(), corpus["second"])[corpus["offer"].id]
    assert "feedback" not in pair.components
