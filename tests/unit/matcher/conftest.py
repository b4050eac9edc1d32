"""Shared literal fixtures for the matcher tests: a tiny glossary and a small corpus."""

import datetime as dt

import pytest

from matcher.glossary import parse_glossary

GLOSSARY_CSV = """concept,es,en
# comment line
drinking_water,agua potable|acueducto,drinking water|water supply
mobility,movilidad|transporte público,mobility|public transport
early_childhood,primera infancia,early childhood
"""

TODAY = dt.date(2026, 3, 1)


@pytest.fixture
def glossary():
    return parse_glossary(GLOSSARY_CSV)


@pytest.fixture
def supply():
    return [
        {
            "id": "s1",
            "title": "Drinking water fund",
            "description": "Grants for drinking water supply in cities.",
            "lang": "en",
            "modalities": ["grant"],
            "lines": ["sustainable_territory"],
            "sdgs": [6],
            "amount_min": 100000,
            "amount_max": 420000,
            "currency": "USD",
            "deadline": "2026-03-13",
        },
        {
            "id": "s2",
            "title": "Early childhood programme",
            "description": "Technical assistance for early childhood centres.",
            "lang": "en",
            "modalities": ["technical_assistance"],
            "lines": ["human_development"],
            "eligible_kinds": ["local_public"],
            "eligible_countries": ["CO"],
        },
        {
            "id": "s3",
            "title": "Clean mobility call",
            "description": "Loans for public transport and electric buses.",
            "lang": "en",
            "modalities": ["loan"],
            "deadline": "2026-02-01",
        },
        {
            "id": 4,
            "title": "Fondo de movilidad",
            "description": "Cooperación para movilidad sostenible en la ciudad.",
            "lang": "es",
        },
    ]


@pytest.fixture
def demand():
    return [
        {
            "id": "d1",
            "title": "Acueducto veredal",
            "description": "Llevar agua potable a familias rurales del municipio.",
            "lang": "es",
            "modalities": ["grant"],
            "lines": ["sustainable_territory"],
            "sdgs": [6],
            "budget": 1500000,
            "cofinancing": 300000,
            "currency": "USD",
            "kind": "local_public",
            "country": "CO",
        },
        {
            "id": "d2",
            "title": "Centros de primera infancia",
            "description": "Fortalecer los centros de primera infancia de la ciudad.",
            "modalities": ["technical_assistance"],
            "kind": "ngo",
            "country": "CO",
        },
        {
            "id": 3,
            "title": "Buses eléctricos",
            "description": "Movilidad eléctrica y transporte público limpio.",
        },
    ]
