"""The match index: ranking, filters, explanations, ties, empty input, determinism, persistence."""

import math

import numpy as np
import pytest

from matcher import MatchIndex, MatchWeights, ScoredPair, __version__

from .conftest import TODAY


@pytest.fixture
def index(supply, demand, glossary):
    return MatchIndex.fit(supply, demand, today=TODAY, glossary=glossary)


def _ids(rows):
    return [[p.supply_id for p in row] for row in rows]


def test_cross_language_match_through_concepts(index, demand):
    ranked = index.rank_demand(demand, top_k=3)
    assert ranked[0][0].supply_id == "s1"  # agua potable -> drinking water
    assert all(isinstance(p, ScoredPair) and 0 <= p.score <= 1 for row in ranked for p in row)


def test_closed_offer_never_matches(index, demand):
    assert "s3" not in {p.supply_id for row in index.rank_demand(demand, 10) for p in row}


def test_eligibility_filters_applicant_kind(index, demand):
    ranked = index.rank_demand(demand, 10)
    assert "s2" not in [p.supply_id for p in ranked[1]]  # d2 is an ngo, s2 wants local_public


def test_components_are_kept_in_unit_interval(index, demand):
    pair = index.rank_demand(demand[:1], 1)[0][0]
    assert set(pair.components) >= {"text", "modality", "thematic", "amount", "time"}
    assert all(0.0 <= v <= 1.0 for v in pair.components.values())
    assert pair.components["modality"] == 1.0
    assert pair.components["amount"] == pytest.approx(0.35)


def test_explanation_in_both_languages(index, demand):
    pair = index.rank_demand(demand[:1], 1, explain=True)[0][0]
    why = pair.explanation
    assert "drinking_water" in why["concepts"]
    assert "covers 35 % of the USD 1.2 M still needed" in why["en"]
    assert "cubre el 35 % de los USD 1,2 M que faltan" in why["es"]
    assert "deadline in 12 days" in why["en"] and "cierra en 12 días" in why["es"]
    assert "both: sustainable territory, SDG 6" in why["en"]
    assert "a grant is what the project needs" in why["en"]
    assert index.rank_demand(demand[:1], 1)[0][0].explanation is None


def test_same_score_from_both_directions(index, supply, demand):
    from_demand = {
        (p.demand_id, p.supply_id): p.score for row in index.rank_demand(demand, 10) for p in row
    }
    from_supply = {
        (p.demand_id, p.supply_id): p.score for row in index.rank_supply(supply, 10) for p in row
    }
    assert from_demand and from_demand == from_supply


def test_new_item_ranked_without_refit(index):
    version = index.version
    ranked = index.rank_demand(
        [{"id": "new", "title": "Transporte público", "description": "Movilidad para la ciudad"}], 2
    )
    assert ranked[0][0].supply_id == 4
    assert index.version == version


def test_ties_break_by_input_order(glossary):
    supply = [
        {"id": "b", "title": "water", "description": ""},
        {"id": "a", "title": "water", "description": ""},
    ]
    demand = [{"id": "d", "title": "water", "description": ""}]
    ranked = MatchIndex.fit(supply, demand, glossary=glossary).rank_demand(demand, 2)
    assert _ids(ranked) == [["b", "a"]]
    assert ranked[0][0].score == ranked[0][1].score


def test_top_k_and_min_score(index, demand):
    assert all(len(row) <= 1 for row in index.rank_demand(demand, 1))
    high = index.rank_demand(demand, 10, min_score=0.99)
    assert all(p.score >= 0.99 for row in high for p in row)


def test_empty_input(glossary):
    empty = MatchIndex.fit([], [], glossary=glossary)
    assert empty.rank_demand([], 5) == []
    assert empty.rank_demand([{"id": 1, "title": "x", "description": ""}], 5) == [[]]
    assert (
        MatchIndex.fit(
            [{"id": 1, "title": "water", "description": ""}], [], glossary=glossary
        ).rank_supply([], 3)
        == []
    )


def test_text_only_input_works(glossary):
    supply = [
        {"id": 1, "title": "Water", "description": "drinking water"},
        {"id": 2, "title": "Schools", "description": "teachers"},
    ]
    demand = [{"id": 9, "title": "Agua", "description": "agua potable"}]
    ranked = MatchIndex.fit(supply, demand, glossary=glossary).rank_demand(demand, 5)
    assert _ids(ranked) == [[1]]
    assert set(ranked[0][0].components) == {"text"}


def test_determinism(supply, demand, glossary):
    a = MatchIndex.fit(supply, demand, today=TODAY, glossary=glossary)
    b = MatchIndex.fit(supply, demand, today=TODAY, glossary=glossary)
    assert a.version == b.version and a.version.startswith(__version__)
    assert a.rank_demand(demand, 5, explain=True) == b.rank_demand(demand, 5, explain=True)


def test_version_changes_with_corpus(supply, demand, glossary):
    a = MatchIndex.fit(supply, demand, today=TODAY, glossary=glossary)
    b = MatchIndex.fit(supply[:2], demand, today=TODAY, glossary=glossary)
    assert a.version != b.version


def test_save_and_load_round_trip(index, demand, tmp_path):
    index.save(tmp_path / "idx")
    loaded = MatchIndex.load(tmp_path / "idx")
    assert loaded.version == index.version
    assert loaded.rank_demand(demand, 5) == index.rank_demand(demand, 5)


def test_weights_from_mapping():
    w = MatchWeights.from_mapping({"text": 1.0, "amount": 0.0})
    assert w.text == 1.0 and w.amount == 0.0 and w.modality == MatchWeights().modality
    with pytest.raises(ValueError):
        MatchWeights.from_mapping({"colour": 1.0})
    with pytest.raises(ValueError):
        MatchWeights.from_mapping({"time": -1})


def test_weights_change_scores(supply, demand, glossary):
    only_text = MatchWeights.from_mapping(
        {k: 0.0 for k in MatchWeights().as_dict()} | {"text": 1.0}
    )
    index = MatchIndex.fit(supply, demand, weights=only_text, today=TODAY, glossary=glossary)
    pair = index.rank_demand(demand[:1], 1)[0][0]
    assert pair.score == pytest.approx(pair.components["text"], abs=1e-6)


def test_profiles_learned_from_records(glossary):
    def record(name, topic):
        lines = [f"{topic} activity number {i} in the region" for i in range(6)]
        return {"id": name, "title": name, "description": "\n".join(lines)}

    supply = [
        record("health_donor", "vaccination clinic"),
        record("school_donor", "teachers"),
        record("road_donor", "bridges roads"),
    ]
    demand = [{"id": "q", "title": "Clinic", "description": "vaccination clinic support"}]
    index = MatchIndex.fit(supply, demand, glossary=glossary)
    pair = index.rank_demand(demand, 1, explain=True)[0][0]
    assert pair.supply_id == "health_donor" and "profile" in pair.components
    assert any("similar projects" in x for x in pair.explanation["en"])


def test_profiles_keep_house_style_phrases(glossary):
    def record(name, opening):
        lines = [
            f"{opening} {topic}"
            for topic in ("schools", "clinics", "roads", "water", "markets", "parks")
        ]
        return {"id": name, "title": name, "description": "\n".join(lines)}

    supply = [
        record("bank", "The objective of the program is to build"),
        record("fund", "Grants awarded in 2020 for"),
        record("ngo", "We help with"),
    ]
    index = MatchIndex.fit(supply, [], glossary=glossary)
    style = index.profiles.style.vocabulary_
    assert "the objective of" in style and "of the program" in style  # function words kept
    assert "in 2020 for" in style  # and numbers
    query = [
        {"id": "q", "title": "", "description": "The objective of the program is to build bridges"}
    ]
    assert index.rank_demand(query, 1)[0][0].supply_id == "bank"


def test_profiles_without_repeated_phrases_have_no_style(glossary):
    supply = [
        {"id": f"s{k}", "title": "", "description": "\n".join(f"w{k}x{i}" for i in range(5))}
        for k in range(2)
    ]
    index = MatchIndex.fit(supply, [], glossary=glossary)
    assert index.profiles is not None and index.profiles.style is None
    assert index.rank_demand([{"id": "q", "title": "", "description": "w0x1"}], 1)[0]


def test_profiles_weigh_house_style_above_shared_words(glossary, monkeypatch):
    """The style group counts more than the content words (which the text component has)."""
    from matcher import profiles

    def record(name, lines):
        return {"id": name, "title": name, "description": "\n".join(lines)}

    places = ("Peru", "Chile", "Haiti", "Belize", "Panama", "Honduras")
    topics = ("schools", "roads", "markets", "ports", "housing", "energy")
    supply = [
        record(
            "bank",
            [
                f"The objective of the program is to improve {t} in {c}"
                for t, c in zip(topics, places, strict=True)
            ],
        ),
        record(
            "health",
            [
                f"Vaccination {t} support"
                for t in ("clinics", "campaign", "cold chain", "nurses", "hospitals", "outreach")
            ],
        ),
        record(
            "ngo",
            [
                f"We help families with {t}"
                for t in ("food", "shelter", "water", "schools", "clothes", "jobs")
            ],
        ),
    ]
    query = [
        {
            "id": "q",
            "title": "",
            "description": "The objective of the program is to improve vaccination clinics and nurses",
        }
    ]

    def profile_gap():
        index = MatchIndex.fit(supply, [], glossary=glossary)
        side = index.query_side(query, as_supply=False)
        bank, health, _ = index.profiles.scores(side.profile_feats, np.arange(3))[0]
        return index.profiles, bank - health

    weighted, gap = profile_gap()
    assert (weighted.word_weight, weighted.style_weight) == (
        profiles.DEFAULT_WORD_BLOCK_WEIGHT,
        profiles.DEFAULT_STYLE_BLOCK_WEIGHT,
    )
    monkeypatch.setattr(profiles, "DEFAULT_WORD_BLOCK_WEIGHT", 1.0)
    monkeypatch.setattr(profiles, "DEFAULT_STYLE_BLOCK_WEIGHT", 1.0)
    _, flat_gap = profile_gap()
    assert gap > flat_gap + 0.1


def test_profiles_from_an_older_index_stay_unweighted(glossary):
    supply = [
        {
            "id": f"s{k}",
            "title": "",
            "description": "\n".join(f"topic{k} line {i} of the record" for i in range(5)),
        }
        for k in range(2)
    ]
    prof = MatchIndex.fit(supply, [], glossary=glossary).profiles
    for name in ("word_weight", "style_weight"):  # what an index pickled by 1.1.0 lacks
        del prof.__dict__[name]
    assert (prof.word_weight, prof.style_weight) == (1.0, 1.0)


def _record_world():
    health = [f"Vaccination campaign and cold chain for district {k} clinics" for k in range(6)]
    schools = [f"Teacher training and school meals in province {k}" for k in range(6)]
    supply = [
        {
            "id": "h1",
            "title": "Open call",
            "description": "Support for rural local governments.",
            "ally": "health-fund",
            "record": health,
        },
        {
            "id": "h2",
            "title": "Second call",
            "description": "Grants for rural municipalities.",
            "ally": "health-fund",
        },  # the same ally's record is given once
        {
            "id": "e1",
            "title": "Open call",
            "description": "Support for rural local governments.",
            "ally": "school-fund",
            "record": schools,
        },
        {
            "id": "x1",
            "title": "Open call",
            "description": "Support for rural local governments.",
            "ally": "new-ally",
            "record": health[:2],
        },  # too short a record to learn from
    ]
    demand = [
        {
            "id": "q",
            "title": "Vacunación",
            "description": "Vaccination campaign with a cold chain for rural clinics",
        }
    ]
    return supply, demand


def test_ally_record_teaches_a_profile_shared_by_its_items(glossary):
    supply, demand = _record_world()
    index = MatchIndex.fit(supply, demand, glossary=glossary)
    ranked = index.rank_demand(demand, 4, explain=True)[0]
    assert [p.supply_id for p in ranked[:2]] == ["h1", "h2"]  # h1 and e1 have the same text
    by_id = {p.supply_id: p for p in ranked}
    assert by_id["h1"].components["profile"] == by_id["h2"].components["profile"]
    assert by_id["h1"].components["profile"] > by_id["e1"].components["profile"]
    assert "profile" not in by_id["x1"].components
    assert any(
        "has funded similar projects (learned from 6 past activities)" in x
        for x in by_id["h2"].explanation["en"]
    )
    # the school fund's record is profiled too, and says it does not fit: no false "similar"
    assert by_id["e1"].components["profile"] < 0.5
    assert (
        "its past activities are unlike this project (learned from 6)"
        in by_id["e1"].explanation["en"]
    )
    assert (
        "sus actividades anteriores no se parecen a este proyecto (aprendido de 6)"
        in by_id["e1"].explanation["es"]
    )


def test_record_lists_are_the_record_prior_when_no_size_is_given(glossary):
    supply, demand = _record_world()
    supply.append({"id": "n1", "title": "Open call", "description": "Support for rural towns."})
    index = MatchIndex.fit(supply, demand, glossary=glossary)
    ranked = {p.supply_id: p for p in index.rank_demand(demand, 5, explain=True)[0]}
    record = {k: p.components["record"] for k, p in ranked.items()}
    assert "6 past projects and activities on record" in ranked["h2"].explanation["en"]
    assert "6 proyectos y actividades anteriores en su historial" in ranked["h2"].explanation["es"]
    assert not any("on record" in x for x in ranked["x1"].explanation["en"])  # 2: too few
    # six texts each for both funds (h2 shares its ally's), two for the new ally, none for n1:
    # log of the record's length against the longest, whatever the item's own text
    assert record["h1"] == record["h2"] == record["e1"] == 1.0
    assert record["x1"] == pytest.approx(math.log(2) / math.log(6), abs=1e-6)
    assert record["n1"] == 0.0
    fresh = [
        {"id": "h9", "title": "New call", "description": "Rural towns.", "ally": "health-fund"},
        {"id": "z9", "title": "New call", "description": "Rural towns.", "ally": "unknown"},
    ]
    known, unknown = index.rank_supply(fresh, 1)
    assert (known[0].components["record"], unknown[0].components["record"]) == (1.0, 0.0)
    # a record size given on an item is its own; without any record list nothing changes
    supply[0]["record_size"] = 36
    sized = MatchIndex.fit(supply, demand, glossary=glossary)
    record = {p.supply_id: p.components["record"] for p in sized.rank_demand(demand, 5)[0]}
    assert record["h1"] == 1.0 and record["e1"] == pytest.approx(0.5, abs=1e-6)
    bare = [{k: v for k, v in x.items() if k != "record"} for x in supply[1:]]
    plain = MatchIndex.fit(bare, demand, glossary=glossary)
    assert all("record" not in p.components for p in plain.rank_demand(demand, 5)[0])


def test_with_alliances_makes_the_learned_labels_each_items_record():
    from matcher.evaluate import with_alliances

    history = "\n".join(f"Funded activity {k}: clinics" for k in range(5))
    supply = [
        {"id": "f", "title": "Funder", "description": history},  # a funder's history
        {"id": "c", "title": "Code", "description": "One line", "ally": "codes"},
        {"id": "n", "title": "Nobody's", "description": "One line"},
    ]
    learned = [
        {"id": k, "title": f"P{k}", "description": "d", "true_supply_ids": ["f", "c"]}
        for k in range(3)
    ]
    out = with_alliances(supply, learned, cap=2)
    assert out[0]["ally"] == "item-f" and out[1]["ally"] == "codes"
    assert out[0]["record"] == [*history.split("\n"), "P0: d", "P1: d"]  # own lines first
    assert out[1]["record"] == ["P0: d", "P1: d"]  # a single line is not a history
    assert "record" not in out[2] and "record" not in supply[0]  # the input is not changed


def test_new_item_of_a_known_ally_gets_its_profile_without_refit(glossary):
    supply, demand = _record_world()
    index = MatchIndex.fit(supply, demand, glossary=glossary)
    fresh = [
        {
            "id": "h9",
            "title": "New call",
            "description": "Support for rural cities.",
            "ally": "health-fund",
        },
        {
            "id": "z9",
            "title": "New call",
            "description": "Support for rural cities.",
            "ally": "unknown",
        },
    ]
    known, unknown = index.rank_supply(fresh, 1)
    assert "profile" in known[0].components and "profile" not in unknown[0].components
    fitted = index.rank_demand(demand, 4)[0]
    assert known[0].components["profile"] == next(
        p.components["profile"] for p in fitted if p.supply_id == "h1"
    )


def _codes():
    """Thematic lines of a few words each, in two groups, with French versions."""
    return [
        {
            "id": "w1",
            "title": "Water supply - large systems",
            "description": "Potable water treatment plants; intake works; pumping stations.",
            "category": "140",
            "category_name": "Water Supply & Sanitation",
            "category_description": "Drinking water, sanitation and hygiene for households.",
            "title_fr": "Distribution d'eau - systèmes à grande échelle",
            "description_fr": "Usines de traitement de l'eau potable ; stations de pompage.",
            "lang": "en",
        },
        {
            "id": "w2",
            "title": "Sanitation - large systems",
            "description": "Large sewerage networks and treatment plants.",
            "category": "140",
            "category_name": "Water Supply & Sanitation",
            "lang": "en",
        },
        {
            "id": "e1",
            "title": "Primary education",
            "description": "Formal and non-formal primary education for children.",
            "category": "112",
            "category_name": "Basic Education",
            "title_fr": "Enseignement primaire",
            "description_fr": "Enseignement primaire formel et non formel pour les enfants.",
            "lang": "en",
        },
        {
            "id": "e2",
            "title": "Teacher training",
            "description": "Training of teachers for schools.",
            "category": "112",
            "category_name": "Basic Education",
            "lang": "en",
        },
    ]


def test_group_component_from_a_codes_category(glossary):
    supply = _codes()
    demand = [
        {"id": "d1", "title": "Hygiene for households", "description": "Households lack hygiene."}
    ]
    index = MatchIndex.fit(supply, demand, glossary=glossary)
    pairs = {p.supply_id: p for p in index.rank_demand(demand, 4)[0]}
    # no code's own text says hygiene; the water group's description does
    assert pairs["w2"].components["group"] > 0.0
    assert set(pairs) == {"w1", "w2"}  # the education codes score 0 and are left out
    why = index.rank_demand(demand, 1, explain=True)[0][0].explanation
    assert "part of “Water Supply & Sanitation”, which fits the project" in why["en"]
    assert "forma parte de «Water Supply & Sanitation», que encaja con el proyecto" in why["es"]
    # a new item ranked later joins its fitted group without a refit
    new = dict(supply[1], id="w3", title="Hygiene kits")
    assert index.query_side([new], as_supply=True).group_of[0] == index.group_keys["140"]


def test_other_language_versions_are_read_in_their_language(glossary):
    supply = _codes()
    demand = [
        {
            "id": "fr1",
            "title": "Enseignement primaire pour les enfants",
            "description": "Appui à l'enseignement primaire formel dans les écoles rurales.",
            "lang": "fr",
        }
    ]
    index = MatchIndex.fit(supply, demand, glossary=glossary)
    assert index.rank_demand(demand, 1)[0][0].supply_id == "e1"
    assert list(np.diff(index.supply.version_ptr)) == [1, 0, 1, 0]
    without = MatchIndex.fit(
        [{k: v for k, v in s.items() if not k.endswith("_fr")} for s in supply],
        demand,
        glossary=glossary,
    )
    text = {p.supply_id: p.components["text"] for p in index.rank_demand(demand, 4)[0]}
    text_without = {p.supply_id: p.components["text"] for p in without.rank_demand(demand, 4)[0]}
    assert text["e1"] > text_without.get("e1", 0.0)


def test_searched_side_idf_keeps_a_word_every_project_uses_telling():
    from matcher.text import TextVectorizer

    docs = [["covid control"], ["water supply"]] + [["covid water school"]] * 20
    titles = [""] * len(docs)
    langs = ["en"] * len(docs)
    plain = TextVectorizer().fit(docs, titles, langs)
    mixed = TextVectorizer().fit(docs, titles, langs, idf_docs=2)
    covid = plain.vocab["covid"]
    school = plain.vocab["school"]
    assert mixed.tfidf.idf_[covid] > plain.tfidf.idf_[covid]  # rare among the two searched
    assert mixed.tfidf.idf_[school] > plain.tfidf.idf_[school]  # absent from them: the most


def test_similar_supply_finds_the_nearest_offers_by_text_across_languages():
    supply = [
        {"id": 1, "title": "Drinking water for hillside settlements", "description": "aqueducts"},
        {"id": 2, "title": "Agua potable para barrios de ladera", "description": "acueductos"},
        {"id": 3, "title": "Museum twinning", "description": "curators exchange programme"},
        {"id": 4, "title": "Electric buses", "description": "clean mobility for cities"},
    ]
    index = MatchIndex.fit(supply, [{"id": 10, "title": "x", "description": "water"}])
    fitted = index.similar_supply(None, top_k=2)
    assert [ids for ids, _ in fitted[0]] == [2] and [ids for ids, _ in fitted[1]] == [1]
    assert fitted[2] == [] and fitted[3] == []  # nothing shares their words: no neighbour
    new = index.similar_supply([{"id": 99, "title": "Water", "description": "aqueducts"}], 1)
    assert [ids for ids, _ in new[0]] == [1]
    assert (
        index.similar_supply([{"id": 1, "title": "Drinking water", "description": ""}], 3)[0][0][0]
        == 2
    )  # never itself
    assert index.similar_supply(None, top_k=0) == [[], [], [], []]
