"""The glossary file format and the shipped glossary."""

import pytest

from matcher.glossary import GlossaryError, load_glossary, parse_glossary


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


def test_missing_file_gives_empty_glossary(tmp_path):
    assert load_glossary(tmp_path / "none.csv").concepts == ()
