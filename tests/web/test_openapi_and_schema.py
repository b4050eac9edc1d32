"""The OpenAPI document validates, and the migrations build exactly the models' schema."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from openapi_spec_validator import validate

from models import Base


def test_openapi_document_is_public_and_valid(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    validate(spec)
    assert "/offers/{item_id}" in spec["paths"]
    assert "OfferIn" in spec["components"]["schemas"]
    offer_in = spec["components"]["schemas"]["OfferIn"]
    assert {"title", "description", "organization_id"} <= set(offer_in["required"])


def _for_this_database(dialect: str):
    """Leave out what the models declare for another database only (`.ddl_if(dialect=...)`)."""

    def include(obj, _name, _type, _reflected, _compare_to):
        wanted = getattr(getattr(obj, "_ddl_if", None), "dialect", None)
        return wanted is None or wanted == dialect

    return include


def test_migrations_match_the_models(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"include_object": _for_this_database(engine.dialect.name)}
        )
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_database_enforces_constraints(engine):
    """CHECK constraints hold in the database itself, not only in Python."""
    with engine.connect() as conn:
        trans = conn.begin()
        org_id = conn.execute(
            sa.text(
                "INSERT INTO organizations (name, kind, side, country) "
                "VALUES ('Check Org', 'foundation', 'supply', 'US') RETURNING id"
            )
        ).scalar()
        bad_rows = [
            "amount_min, amount_max, currency) VALUES ({o}, 't', 'd', '[]', '[]', '[]', '[]', "
            "'[]', 'en', 'published', 'api', 10, 5, 'USD')",
            "amount_min, amount_max, currency) VALUES ({o}, 't', 'd', '[]', '[]', '[]', '[]', "
            "'[]', 'en', 'nonsense', 'api', 1, 5, 'USD')",
            "amount_min, amount_max, currency) VALUES ({o}, 't', 'd', '[]', '[]', '[]', '[]', "
            "'[]', 'en', 'published', 'api', -1, 5, 'USD')",
        ]
        head = (
            "INSERT INTO offers (organization_id, title, description, modalities, lines, "
            "sdgs, eligible_kinds, eligible_countries, language, status, source, "
        )
        for row in bad_rows:
            nested = conn.begin_nested()
            try:
                conn.execute(sa.text(head + row.format(o=org_id)))
            except sa.exc.IntegrityError:
                nested.rollback()
            else:
                raise AssertionError(f"the database accepted: {row}")
        trans.rollback()
