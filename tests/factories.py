"""Row factories for tests: each returns a committed row with sensible defaults."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

from models import Match, Offer, Organization, Project
from services import api_tokens, user_admin

_seq = itertools.count(1)


def organization(session, **kw) -> Organization:
    n = next(_seq)
    values = dict(name=f"Ally {n}", kind="multilateral", side="supply", country="US")
    values.update(kw)
    org = Organization(**values)
    session.add(org)
    session.commit()
    return org


def offer(session, org=None, **kw) -> Offer:
    org = org or organization(session)
    values = dict(
        organization_id=org.id,
        title=f"Offer {next(_seq)} for clean mobility",
        description="Grants for electric buses and cycling lanes in Latin American cities.",
        modalities=["grant"],
        lines=["sustainable_territory"],
        sdgs=[11],
        amount_min=10000,
        amount_max=500000,
        currency="USD",
        eligible_kinds=["local_public"],
        eligible_countries=[],
        language="en",
        status="published",
        source="api",
        deadline=date.today() + timedelta(days=60),
    )
    values.update(kw)
    item = Offer(**values)
    session.add(item)
    session.commit()
    return item


def project(session, org=None, **kw) -> Project:
    org = org or organization(
        session, name=f"Secretaría {next(_seq)}", kind="local_public", side="demand", country="CO"
    )
    values = dict(
        organization_id=org.id,
        title=f"Proyecto {next(_seq)} de movilidad limpia",
        description="Buses eléctricos y ciclorrutas para las comunas de ladera.",
        language="es",
        lines=["sustainable_territory"],
        sdgs=[11],
        modalities=["grant"],
        budget=1_000_000,
        cofinancing=200_000,
        currency="USD",
        stage="formulation",
        status="open",
    )
    values.update(kw)
    item = Project(**values)
    session.add(item)
    session.commit()
    return item


def match(session, project_row, offer_row, **kw) -> Match:
    values = dict(
        project_id=project_row.id,
        offer_id=offer_row.id,
        score=0.5,
        components={"text": 0.5},
        status="proposed",
        matcher_version="test",
    )
    values.update(kw)
    item = Match(**values)
    session.add(item)
    session.commit()
    return item


def token(session, role="staff", organization_id=None, email=None) -> tuple[object, str]:
    """Create a user with `role` and return (user, raw API token)."""
    email = email or f"user{next(_seq)}@example.org"
    user = user_admin.create_user(
        session, email, role, "a-long-password", organization_id=organization_id
    )
    _, raw = api_tokens.create_token(session, email)
    return user, raw


def auth(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}
