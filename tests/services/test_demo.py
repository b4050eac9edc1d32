"""The bundled demo data loads once, with deadlines kept relative to today."""

from __future__ import annotations

import json
from datetime import date, timedelta

import sqlalchemy as sa

from models import Alliance, Offer, Organization, Project
from services import demo


def count(session, model, *where) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def test_demo_loads_once_and_is_realistic(session):
    today = date(2027, 1, 26)  # two months after the set's anchor date
    added = demo.load(session, today=today)
    assert 100 <= added["offers"] <= 140 and 35 <= added["projects"] <= 50
    assert added["alliances"] >= 30
    assert count(session, Offer) == added["offers"]
    assert demo.load(session, today=today) == {k: 0 for k in added}
    assert count(session, Offer) == added["offers"]

    languages = dict(
        session.execute(sa.select(Offer.language, sa.func.count()).group_by(Offer.language)).all()
    )
    assert languages["en"] > languages["es"] > 0
    kinds = set(session.scalars(sa.select(Organization.kind).distinct()))
    assert {
        "bilateral",
        "multilateral",
        "foundation",
        "city_network",
        "company",
        "university",
        "ngo",
        "local_public",
    } <= kinds
    assert count(session, Offer, Offer.status == "submitted") > 0  # moderation has work
    assert count(session, Project, Project.status == "open") >= 25

    raw = json.loads(demo.DEFAULT_DEMO_PATH.read_text(encoding="utf-8"))
    first = next(o for o in raw["offers"] if o.get("deadline"))
    stored = session.scalar(sa.select(Offer.deadline).where(Offer.ref == first["ref"]))
    assert stored == date.fromisoformat(first["deadline"]) + timedelta(days=61)

    alliances = session.scalars(sa.select(Alliance)).all()
    total_usd = sum(a.amount_usd for a in alliances)
    assert 50e6 < total_usd < 150e6
    years = {a.started_on.year for a in alliances}
    assert min(years) == 2008


def test_demo_accounts_are_created_once(session):
    demo.load(session, today=date(2026, 11, 26))
    first = demo.ensure_accounts(session)
    assert [role for _, role in first] == ["admin", "staff", "partner"]
    assert demo.ensure_accounts(session) == first
