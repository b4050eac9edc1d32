"""Learning from the office's decisions: rejections that teach, and the learned ranker."""

import pickle

import numpy as np
import pytest

from matcher import MatchIndex
from matcher import feedback as fb
from matcher import ranker as rk

WATER = "Drinking water networks for rural families, pipes and storage tanks"
SCHOOLS = "Primary schools: classrooms, teachers and school meals for children"


def _water_corpus():
    supply = [
        {"id": "a1", "ally": "agency-a", "title": "Water fund", "description": WATER},
        {"id": "a2", "ally": "agency-a", "title": "School fund", "description": SCHOOLS},
        {"id": "b1", "ally": "agency-b", "title": "Water grants", "description": WATER},
    ]
    demand = [
        {"id": "p1", "title": "Rural water", "description": "Water networks and tanks, rural."},
        {"id": "p2", "title": "Village water", "description": "Pipes and water tanks, villages."},
        {"id": "p3", "title": "New schools", "description": "Classrooms and teachers."},
    ]
    return supply, demand


def _rejected(reason, project="p1", offer="a1"):
    return {"demand_id": project, "supply_id": offer, "accepted": False, "reason": reason}


def test_out_of_scope_rejections_lower_similar_pairs_of_that_ally_only(glossary):
    supply, demand = _water_corpus()
    plain = MatchIndex.fit(supply, demand, glossary=glossary)
    taught = MatchIndex.fit(
        supply,
        demand,
        glossary=glossary,
        decisions=[_rejected("out_of_scope"), _rejected("out_of_scope", "p2")],
    )

    def scores(index, project):
        return {p.supply_id: p for p in index.rank_demand([project], 3, explain=True)[0]}

    before, after = scores(plain, demand[1]), scores(taught, demand[1])
    # p2 is like p1 and p2: agency A's water offer twice rejected as out of scope
    assert after["a1"].score == pytest.approx(before["a1"].score * (1 - 2 * fb.DEFAULT_PENALTY))
    assert after["a1"].components["feedback"] == pytest.approx(1 - 2 * fb.DEFAULT_PENALTY)
    assert (
        "similar offers from this ally were rejected as out of scope twice"
        in (after["a1"].explanation["en"])
    )
    assert (
        "ofertas similares de este aliado se rechazaron por estar fuera de alcance dos veces"
        in (after["a1"].explanation["es"])
    )
    assert after["b1"].score == before["b1"].score  # another ally: untouched
    assert "feedback" not in after["b1"].components
    schools = scores(taught, demand[2])
    assert schools["a2"].score == scores(plain, demand[2])["a2"].score  # unlike: untouched
    # the same from the other direction: a pair scores the same both ways
    from_offer = {p.demand_id: p.score for p in taught.rank_supply([supply[0]], 3)[0]}
    assert from_offer["p2"] == after["a1"].score


def test_only_teaching_reasons_lower_and_the_penalty_is_capped(glossary):
    supply, demand = _water_corpus()
    plain = MatchIndex.fit(supply, demand, glossary=glossary)
    other = MatchIndex.fit(
        supply, demand, glossary=glossary, decisions=[_rejected("duplicate"), _rejected(None)]
    )
    many = MatchIndex.fit(
        supply,
        demand,
        glossary=glossary,
        decisions=[_rejected("not_eligible")] * 3 + [_rejected("out_of_scope")] * 3,
    )
    base = plain.rank_demand(demand[:1], 1)[0][0]
    assert other.rank_demand(demand[:1], 1)[0][0].score == base.score
    lowered = {p.supply_id: p for p in many.rank_demand(demand[:1], 3, explain=True)[0]}
    assert lowered["a1"].components["feedback"] == pytest.approx(1 - fb.DEFAULT_PENALTY_MAX)
    assert (
        "similar offers from this ally were rejected as out of scope 3 times "
        "and as not eligible 3 times"
    ) in lowered["a1"].explanation["en"]


def test_a_rejection_of_an_item_no_longer_indexed_still_teaches(glossary):
    supply, demand = _water_corpus()
    gone = {"id": "p0", "title": "Old water project", "description": WATER}
    taught = MatchIndex.fit(
        supply,
        demand,
        glossary=glossary,
        decisions=[dict(_rejected("out_of_scope", "p0"), demand=gone), _rejected("other", "p9")],
    )
    assert len(taught.rejections) == 1
    pair = {p.supply_id: p for p in taught.rank_demand(demand[:1], 3)[0]}["a1"]
    assert pair.components["feedback"] == pytest.approx(1 - fb.DEFAULT_PENALTY)


def test_phrase_counts():
    assert fb.phrase({"out_of_scope": 0}) is None
    assert fb.phrase({"not_eligible": 1})[0] == (
        "similar offers from this ally were rejected as not eligible once"
    )


def _ranker_corpus():
    """Forty projects whose accepted offer always shares its group, never its words."""
    rng = np.random.default_rng(0)
    topics = ["water", "schools", "roads", "health", "energy"]
    supply, demand, decisions = [], [], []
    for topic in topics:
        for k in range(4):
            supply.append(
                {
                    "id": f"{topic}-{k}",
                    "title": f"{topic} line {k}",
                    "description": f"{topic} support number {k}",
                    "group": topic,
                    "group_name": f"{topic} group",
                }
            )
    for n in range(60):
        t = int(rng.integers(len(topics)))
        demand.append(
            {"id": f"p{n}", "title": f"{topics[t]} project {n}", "description": topics[t]}
        )
        decisions.append({"demand_id": f"p{n}", "supply_id": f"{topics[t]}-3", "accepted": True})
    return supply, demand, decisions


def test_ranker_learns_from_accepted_decisions(glossary):
    supply, demand, decisions = _ranker_corpus()
    plain = MatchIndex.fit(supply, demand, glossary=glossary)
    learned = MatchIndex.fit(supply, demand, glossary=glossary, decisions=decisions[:40])
    assert plain.ranker is None and learned.ranker is not None
    assert learned.ranker.n_accepted == 40
    assert dict(learned.ranker.explain())["prior"] > 0  # it leaned on the office's choices
    new = demand[40:]
    firsts = [row[0].supply_id for row in learned.rank_demand(new, 1)]
    assert all(f.endswith("-3") for f in firsts)  # the line the office always chose
    plain_firsts = [row[0].supply_id for row in plain.rank_demand(new, 1)]
    assert sum(f.endswith("-3") for f in plain_firsts) < len(new)
    assert all(0.0 <= p.score <= 1.0 for row in learned.rank_demand(new, 5) for p in row)
    assert learned.version != plain.version


def test_too_few_decisions_learn_no_ranker(glossary):
    supply, demand, decisions = _ranker_corpus()
    few = decisions[: rk.DEFAULT_RANKER_MIN_ACCEPTED - 1]
    assert MatchIndex.fit(supply, demand, glossary=glossary, decisions=few).ranker is None


def test_ranker_is_saved_in_the_index(glossary, tmp_path):
    supply, demand, decisions = _ranker_corpus()
    learned = MatchIndex.fit(supply, demand, glossary=glossary, decisions=decisions[:40])
    loaded = MatchIndex.load(learned.save(tmp_path / "ix"))
    assert loaded.ranker.explain() == learned.ranker.explain()
    assert [p.score for p in loaded.rank_demand(demand[40:], 3)[0]] == [
        p.score for p in learned.rank_demand(demand[40:], 3)[0]
    ]


def test_ranker_rows_from_candidates_when_the_supply_is_large(glossary, monkeypatch):
    import matcher.index as mi

    monkeypatch.setattr(mi, "DEFAULT_EXHAUSTIVE_MAX", 5)  # 20 items: the large-index path
    monkeypatch.setattr(rk, "DEFAULT_RANKER_CANDIDATES", 4)
    supply, demand, decisions = _ranker_corpus()
    learned = MatchIndex.fit(supply, demand, glossary=glossary, decisions=decisions[:40])
    # each decided project's 4 best candidates plus its accepted offer, not all 20 offers
    assert learned.ranker is not None and learned.ranker.n_rows <= 40 * 5
    assert all(row for row in learned.rank_demand(demand[40:], 3))


def test_rejections_and_ranker_together(glossary):
    supply, demand, decisions = _ranker_corpus()
    accepted = decisions[:40]
    rejected = {
        "demand_id": demand[0]["id"],
        "supply_id": accepted[0]["supply_id"],
        "accepted": False,
        "reason": "out_of_scope",
    }
    both = MatchIndex.fit(supply, demand, glossary=glossary, decisions=[*accepted, rejected])
    alone = MatchIndex.fit(supply, demand, glossary=glossary, decisions=accepted)
    assert both.ranker is not None and both.ranker.n_rejected == 1
    pair = {p.supply_id: p for p in both.rank_demand(demand[:1], 20)[0]}[rejected["supply_id"]]
    before = {p.supply_id: p for p in alone.rank_demand(demand[:1], 20)[0]}
    assert pair.components["feedback"] == pytest.approx(1 - fb.DEFAULT_PENALTY)
    assert pair.score < before[rejected["supply_id"]].score


def test_a_saved_ranker_is_given_to_a_later_fit(glossary):
    supply, demand, decisions = _ranker_corpus()
    learned = MatchIndex.fit(supply, demand, glossary=glossary, decisions=decisions[:40])
    data = learned.ranker.to_bytes()
    ranker = rk.LearnedRanker.from_bytes(data)
    assert ranker.model_id == rk.model_id_of(data) and len(ranker.model_id) == 16
    # a later fit on other items (the last 20 projects only) uses it without decisions
    later = MatchIndex.fit(supply, demand[40:], glossary=glossary, ranker=ranker)
    plain = MatchIndex.fit(supply, demand[40:], glossary=glossary)
    assert later.ranker is ranker
    assert later.version != plain.version
    assert later.version == MatchIndex.version_for(
        supply, demand[40:], glossary=glossary, ranker=ranker
    )
    assert plain.version == MatchIndex.version_for(supply, demand[40:], glossary=glossary)
    firsts = [row[0].supply_id for row in later.rank_demand(demand[40:], 1)]
    assert firsts == [row[0].supply_id for row in learned.rank_demand(demand[40:], 1)]
    assert all(f.endswith("-3") for f in firsts)


def test_saved_ranker_bytes_are_checked():
    with pytest.raises(ValueError, match="not a saved ranker"):
        rk.LearnedRanker.from_bytes(b"not a pickle")
    with pytest.raises(ValueError, match="not a saved ranker"):
        rk.LearnedRanker.from_bytes(pickle.dumps(("1.4.0", {"a": 1})))


def test_reciprocal_ranks_compare_rankers_on_held_out_projects(glossary):
    supply, demand, decisions = _ranker_corpus()
    learned = MatchIndex.fit(supply, demand, glossary=glossary, decisions=decisions[:40])
    held_out = {d["demand_id"]: {d["supply_id"]} for d in decisions[40:]}
    rr = learned.reciprocal_ranks(
        {**held_out, "gone": {"x"}}, {"current": None, "candidate": learned.ranker}
    )
    assert set(rr) == {"current", "candidate"} and set(rr["candidate"]) == set(held_out)
    assert all(v == 1.0 for v in rr["candidate"].values())  # the office's line first
    assert np.mean(list(rr["current"].values())) < 1.0
    assert learned.ranker is not None  # put back after the comparison
    # offers decided before the cutoff are left out of a project's ranking
    first = decisions[40]
    top = learned.rank_demand([d for d in demand if d["id"] == first["demand_id"]], 1)[0][0]
    known = {first["demand_id"]: {top.supply_id}}
    again = learned.reciprocal_ranks(
        {first["demand_id"]: {first["supply_id"]}}, {"candidate": learned.ranker}, known
    )
    assert again["candidate"][first["demand_id"]] < 1.0
