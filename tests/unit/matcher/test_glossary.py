"""The glossary file format and the shipped glossary."""

import pytest

from matcher.glossary import GlossaryError, load_glossary, parse_glossary
from matcher.text import TextVectorizer


def test_parse_glossary(glossary):
    assert glossary.concepts == ("drinking_water", "mobility", "early_childhood")
    assert glossary.terms["drinking_water"]["es"] == ("agua potable", "acueducto")
    assert ("public transport", 1) in glossary.phrases
    assert glossary.label("mobility", "es") == "movilidad"


def test_parse_glossary_merges_rows_and_extra_languages():
    g = parse_glossary("concept,es,en,fr\nhealth,salud,health,santé\nhealth,,healthcare,\n")
    assert g.terms["health"]["en"] == ("health", "healthcare")
    assert g.terms["health"]["fr"] == ("santé",)


def test_bad_header_is_an_error():
    with pytest.raises(GlossaryError):
        parse_glossary("id,es,en\nx,a,b\n")


def test_shipped_glossary_loads():
    g = load_glossary()
    assert len(g.concepts) >= 50
    assert all(g.terms[c].get("es") and g.terms[c].get("en") for c in g.concepts)
    assert sum(bool(g.terms[c].get("fr")) for c in g.concepts) >= 0.9 * len(g.concepts)


def concepts_of(glossary, texts: list[tuple[str, str]]) -> list[set[str]]:
    """Return the glossary concepts found in each (text, language)."""
    vec = TextVectorizer(concepts=list(glossary.concepts), phrases=glossary.phrases)
    docs, langs = [[t] for t, _ in texts], [lang for _, lang in texts]
    vec.fit(docs, [""] * len(docs), langs)
    rows, _, _ = vec.transform(docs, [""] * len(docs), langs)
    first = vec.n_words + len(vec.bigram_keys)
    return [{vec.concepts[j - first] for j in row.indices if j >= first} for row in rows]


def test_common_words_do_not_fire_concepts_they_only_look_like():
    # each of these once fired a concept through a term that stems the same or that stop words
    # cut down: cooperativas, co-operatives, co-funding, integrity, informality, plazas,
    # programming, connectivity, e-government, open call, no reembolsable, vías (French "vie"),
    # environnement ("environ"), SuDS (French "sud"), productivity ("production")
    found = concepts_of(
        load_glossary(),
        [
            ("La cooperación internacional de la ciudad y el plazo de la información", "es"),
            ("International cooperation operations, funding and integration information", "en"),
            ("The program is open to governments and connected applications", "en"),
            ("Programa de créditos reembolsables", "es"),
            ("Environ la moitié de la vie dans le sud, la production", "fr"),
            ("Food production in the programme", "en"),
        ],
    )
    unwanted = {
        "social_economy",
        "cofinancing",
        "transparency",
        "informality",
        "public_space",
        "ict",
        "digital_inclusion",
        "digital_transformation",
        "call_for_proposals",
        "grant",
        "environment",
        "roads",
        "floods",
        "productivity",
    }
    assert [sorted(f & unwanted) for f in found] == [[]] * 6


def test_concepts_in_three_languages_and_across_them():
    found = concepts_of(
        load_glossary(),
        [
            ("Agua potable y cooperativas de trabajo asociado", "es"),
            ("Drinking water for worker cooperatives", "en"),
            ("Eau potable pour les sociétés coopératives", "fr"),
            ("A pilot of tactical urbanism with the urbanismo táctico team", "en"),
        ],
    )
    assert all({"drinking_water", "social_economy"} <= f for f in found[:3])
    assert "public_space" in found[3]  # a Spanish term inside an English text still counts


def test_missing_file_gives_empty_glossary(tmp_path):
    assert load_glossary(tmp_path / "none.csv").concepts == ()


def test_a_term_is_matched_as_the_text_is_stemmed_not_by_other_languages_stemmers():
    # read as Catalan, "cooperativa" stems to "cooper", as English "cooperation" does
    g = parse_glossary("concept,es,en\nsocial_economy,cooperativa,\n")
    found = concepts_of(
        g,
        [
            ("International cooperation", "en"),
            ("Una cooperativa", "es"),
            ("A cooperativa in Medellín", "en"),
        ],
    )
    assert found == [set(), {"social_economy"}, {"social_economy"}]


def test_local_wording_terms_do_not_fire_on_words_they_only_stem_like():
    # single words left out of the local-wording rows because a stemmer folds them into common
    # words: cauces ~ Cauca, cañadas ~ Canadá, maras ~ mar, halles ~ hallar, gobernación ~
    # gobernador, paraderos ~ paradero, desbordamiento ~ desbordado, allaitement ~ allait,
    # billettique ~ billets, stationnement ~ station, forages ~ forage (fodder), zoning ~ zones,
    # tenants ~ tenir, usure (wear), retraites ~ retraits, pêche ~ pecho, renters ~ Rente; and the
    # English "neighbourhood" alone, which is also the EU's "Southern Neighbourhood"
    found = concepts_of(
        load_glossary(),
        [
            ("El gobernador del Cauca se halla en Canadá; el mar, el pecho y el paradero", "es"),
            ("Il allait à la station retirer des billets; usure, retraits et tenir bon", "fr"),
            ("Forage for livestock in the zones near the Southern Neighbourhood", "en"),
        ],
    )
    unwanted = {
        "rivers_streams",
        "crime_prevention",
        "public_markets",
        "local_government",
        "public_transport",
        "floods",
        "nutrition",
        "parking",
        "drinking_water",
        "urban_planning",
        "rental_housing",
        "financial_inclusion",
        "social_security",
        "fisheries",
        "neighbourhoods",
    }
    assert [sorted(f & unwanted) for f in found] == [[]] * 3


def test_local_and_donor_wording_share_concepts():
    found = concepts_of(
        load_glossary(),
        [
            (
                "Obras de mitigación y muros de contención en laderas de alto riesgo no mitigable",
                "es",
            ),
            ("Retaining walls and slope stability works on unstable slopes", "en"),
            ("Mejoramientos locativos y actualización catastral en barrios de invasión", "es"),
            ("Incremental housing, cadastral update and informal housing upgrading", "en"),
        ],
    )
    assert "landslides" in found[0] and "landslides" in found[1]
    for concept in ("housing_improvement", "land_administration", "informal_settlements"):
        assert concept in found[2] and concept in found[3]
