"""The history component: what the office filed an ally's allied projects under."""

import math

import numpy as np
import pytest

from matcher import MatchIndex, MatchWeights
from matcher.evaluate import with_alliances
from matcher.history import fit_history, item_codes

TEXT = "Support for municipal programmes in the region."


def test_item_codes_name_each_kind_once_and_skip_empty_values():
    item = {"dac_sectors": ["12220", " 12220 "], "lines": ["social_inclusion", ""], "sdgs": [3]}
    assert item_codes(item) == ["line:social_inclusion", "sdg:3", "sector:12220"]
    assert item_codes({"sectors": "72010", "lines": None}) == ["sector:72010"]
    assert item_codes({"title": "no codes"}) == []


def test_the_share_is_smoothed_toward_how_common_the_code_is():
    history = fit_history(
        {
            "a": [{"sectors": ["x"]}, {"sectors": ["x"]}, {"sectors": ["y"]}],
            "b": [{"sectors": ["y"]}],
        }
    )
    codes = history.encode([{"sectors": ["x"]}, {"sectors": ["z"]}, {"sectors": ["y", "x"]}])
    assert codes.shape == (3, 2) and codes[1].nnz == 0  # z: no ally's project has it
    rows = history.rows_of(["a", "b", "c"])
    assert rows.tolist() == [0, 1, -1]
    di = np.array([0, 0, 0, 1, 2])
    sj = np.array([0, 1, 2, 0, 1])
    got = history.fit_values(codes, rows, di, sj)
    p_x, p_y, a = (2 + 1) / (4 + 1), (2 + 1) / (4 + 1), 5.0
    assert got[0] == pytest.approx(math.sqrt((2 + a * p_x) / (3 + a)))
    assert got[1] == pytest.approx(math.sqrt((0 + a * p_x) / (1 + a)))
    assert got[2] == pytest.approx(math.sqrt(p_x))  # no history: the code's share, p_x
    assert math.isnan(got[3])  # no code any ally's history has: absent
    assert got[4] == pytest.approx(math.sqrt((1 + a * p_y) / (1 + a)))  # the best code: y
    assert history.best_code(codes[2].indices, 0) == ("sector:x", 2, 3)
    assert fit_history({"a": [{"title": "t"}]}) is None  # no code anywhere: no history


def _world():
    health = [{"lines": ["social_inclusion"], "sdgs": [3]}] * 3 + [{"lines": ["governance"]}]
    roads = [{"lines": ["sustainable_territory"]}] * 4
    supply = [
        {"id": "h", "title": "Open call", "description": TEXT, "ally": "health"},
        {"id": "r", "title": "Open call", "description": TEXT, "ally": "roads"},
        {"id": "n", "title": "Open call", "description": TEXT, "ally": "new"},
    ]
    supply[0]["record_fields"] = health
    supply[1]["record_fields"] = roads
    demand = [
        {
            "id": "p",
            "title": "Programme",
            "description": TEXT,
            "lines": ["social_inclusion"],
            "sdgs": [3],
        },
        {"id": "q", "title": "Programme", "description": TEXT},  # no codes
    ]
    return supply, demand


def test_an_ally_the_office_allied_in_the_projects_line_ranks_first_and_says_why(glossary):
    supply, demand = _world()
    index = MatchIndex.fit(supply, demand, glossary=glossary)
    ranked = index.rank_demand(demand, 3, explain=True)
    first = {p.supply_id: p for p in ranked[0]}
    assert [p.supply_id for p in ranked[0]][0] == "h"
    assert first["h"].components["history"] > first["r"].components["history"]
    # a new ally is taken as average: the line's share among all alliances, 4 of 8 (smoothed)
    assert first["n"].components["history"] == pytest.approx(math.sqrt(4 / 9), abs=1e-6)
    assert first["h"].score > first["n"].score > first["r"].score
    assert not any("allied with it" in x for x in first["n"].explanation["en"])
    assert (
        "3 of the 4 projects allied with it share this project's line social inclusion"
        in (first["h"].explanation["en"])
    )
    assert (
        "3 de los 4 proyectos aliados con él comparten la línea inclusión social de este proyecto"
        in first["h"].explanation["es"]
    )
    assert not any("allied with it" in x for x in first["r"].explanation["en"])  # 0 share it
    # a project without codes is scored as before: the three calls tie
    assert all("history" not in p.components for p in ranked[1])
    assert len({p.score for p in ranked[1]}) == 1


def test_history_weight_zero_and_no_record_fields_leave_the_scores_as_before(glossary):
    supply, demand = _world()
    bare = [{k: v for k, v in x.items() if k != "record_fields"} for x in supply]
    plain = MatchIndex.fit(bare, demand, glossary=glossary)
    assert plain.history is None
    off = MatchIndex.fit(supply, demand, glossary=glossary, weights=MatchWeights(history=0))
    scores = [[p.score for p in row] for row in plain.rank_demand(demand, 3)]
    assert [[p.score for p in row] for row in off.rank_demand(demand, 3)] == scores


def test_a_new_offer_of_a_known_ally_and_a_saved_index_keep_the_history(glossary, tmp_path):
    supply, demand = _world()
    index = MatchIndex.fit(supply, demand, glossary=glossary)
    fresh = [{"id": "h2", "title": "New call", "description": TEXT, "ally": "health"}]

    def history_of_p(ix):
        return next(p for p in ix.rank_supply(fresh, 2)[0] if p.demand_id == "p").components

    before = history_of_p(index)["history"]
    assert before == pytest.approx(index.rank_demand(demand[:1], 1)[0][0].components["history"])
    loaded = MatchIndex.load(index.save(tmp_path / "ix"))
    assert history_of_p(loaded)["history"] == before


def test_with_alliances_files_each_learned_project_under_its_codes():
    supply = [{"id": "f", "title": "Funder", "description": "One line"}]
    learned = [
        {"id": 1, "title": "A", "description": "d", "true_supply_ids": ["f"], "dac_sectors": ["1"]},
        {"id": 2, "title": "B", "description": "d", "true_supply_ids": ["f"]},
    ]
    out = with_alliances(supply, learned)
    assert out[0]["record_fields"] == [{"dac_sectors": ["1"]}, {}]


def test_a_rebuild_of_every_fitted_project_scores_the_history_as_a_few_new_ones_do(glossary):
    supply, demand = _world()
    many = [dict(demand[0], id=f"p{k}") for k in range(40)]  # a rebuild reuses fitted rows
    index = MatchIndex.fit(supply, many, glossary=glossary)
    every = index.rank_demand(many, 3)
    few = index.rank_demand(many[:2], 3)
    assert [[p.components for p in r] for r in every[:2]] == [
        [p.components for p in r] for r in few
    ]
    assert all("history" in p.components for r in every for p in r)
