"""A saved index loads memory-mapped and ranks as the fitted one; new items meet the index."""

import mmap

import pytest

from matcher import MatchIndex, persist

from .conftest import TODAY


@pytest.fixture
def index(supply, demand, glossary):
    return MatchIndex.fit(supply, demand, today=TODAY, glossary=glossary)


def test_arrays_are_memory_mapped_and_ranking_is_unchanged(index, demand, tmp_path, monkeypatch):
    monkeypatch.setattr(persist, "DEFAULT_MMAP_MIN_BYTES", 0)  # every array in its own file
    index.save(tmp_path / "idx")
    assert len(list((tmp_path / "idx" / persist.ARRAYS_DIR).glob("*.npy"))) > 10
    loaded = MatchIndex.load(tmp_path / "idx")
    rows = loaded.supply.rows
    for part in (rows.data, rows.indices, rows.indptr, loaded.supply.passage_ptr):
        assert _mapped(part)  # a view of the file's pages, not a copy
    assert loaded.rank_demand(demand, 5, explain=True) == index.rank_demand(demand, 5, explain=True)
    assert loaded.rank_supply(index_items(index), 5) is not None


def _mapped(array) -> bool:
    while array is not None and not isinstance(array, mmap.mmap):
        if getattr(array, "flags", None) is not None and array.flags.owndata:
            return False
        array = array.base
    return array is not None


def index_items(index):
    return [{"id": "q", "title": "Water", "description": "drinking water supply", "lang": "en"}]


def test_version_for_equals_the_fitted_version(supply, demand, glossary, index):
    assert MatchIndex.version_for(supply, demand, today=TODAY, glossary=glossary) == index.version


def test_added_items_are_ranked_with_the_fitted_ones(index, demand):
    new_offer = {
        "id": "new",
        "title": "Fondo de primera infancia",
        "description": "Early childhood centres and nutrition for children.",
        "lang": "en",
        "modalities": ["technical_assistance"],
    }
    ranked = index.rank_demand(demand, top_k=10, added=[new_offer])
    assert any(p.supply_id == "new" for row in ranked for p in row)
    for row in ranked:
        assert [p.score for p in row] == sorted((p.score for p in row), reverse=True)
    before = {p.supply_id for row in index.rank_demand(demand, 10) for p in row}
    assert "s1" in before
    after = {p.supply_id for row in index.rank_demand(demand, 10, stale=["s1"]) for p in row}
    assert "s1" not in after and after == before - {"s1"}


def test_a_new_project_meets_the_offers_and_new_offers(index):
    project = {
        "id": "p-new",
        "title": "Agua potable para la ladera",
        "description": "Acueducto comunitario.",
        "lang": "es",
        "modalities": ["grant"],
    }
    offer = {"id": "o-new", "title": "Water supply grants", "description": "Drinking water."}
    ranked = index.rank_supply([offer], top_k=5, added=[project])
    assert ranked[0] and ranked[0][0].demand_id == "p-new"
