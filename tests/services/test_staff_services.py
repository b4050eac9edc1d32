"""Alliances, dashboard reports, moderation and user management: the use cases behind the
staff pages, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from models import Alliance, AuditEvent, Offer, OutboxMessage
from services import alliances, moderation, reports, reviews, user_admin
from services.errors import Conflict, Invalid
from tests import factories

TODAY = date(2026, 11, 27)


@pytest.fixture
def reviewer(session):
    return user_admin.create_user(session, "rev@example.org", "staff", "a-long-password")


def _alliance(
    session,
    project,
    offer,
    *,
    amount,
    currency="USD",
    rate=1.0,
    stage="closed",
    started=date(2018, 3, 1),
):
    match = factories.match(
        session, project, offer, status="accepted", score=0.0, matcher_version="historical"
    )
    row = Alliance(
        match_id=match.id,
        stage=stage,
        amount=amount,
        currency=currency,
        usd_rate=rate,
        started_on=started,
    )
    session.add(row)
    session.commit()
    return row


# -- alliances --------------------------------------------------------------------------------


def test_alliance_edits_are_audited_and_dates_follow_the_stage(session, reviewer):
    row = _alliance(
        session,
        factories.project(session),
        factories.offer(session),
        amount=0,
        stage="negotiating",
        started=date(2026, 10, 1),
    )
    alliances.update(
        session,
        row,
        reviewer.id,
        {"stage": "formalised", "amount": "1,250,000.50", "currency": "EUR", "usd_rate": "1.1"},
        today=TODAY,
    )
    session.refresh(row)
    assert row.stage.value == "formalised" and row.amount == Decimal("1250000.50")
    assert row.formalised_on == TODAY and row.ended_on is None
    assert row.amount_usd == pytest.approx(1_375_000.55)
    event = session.scalar(sa.select(AuditEvent).where(AuditEvent.entity_type == "alliance"))
    assert event.action == "update" and event.user_id == reviewer.id
    assert event.before["stage"] == "negotiating" and event.after["stage"] == "formalised"
    assert Decimal(str(event.before["amount"])) == 0
    assert Decimal(event.after["amount"]) == Decimal("1250000.50")
    alliances.update(session, row, reviewer.id, {"stage": "dropped"}, today=TODAY)
    assert session.get(Alliance, row.id).ended_on == TODAY


def test_alliance_edit_refuses_bad_values_beside_their_fields(session, reviewer):
    row = _alliance(
        session,
        factories.project(session),
        factories.offer(session),
        amount=10,
        stage="negotiating",
        started=date(2026, 10, 1),
    )
    with pytest.raises(Invalid) as caught:
        alliances.update(
            session,
            row,
            reviewer.id,
            {"amount": "-5", "usd_rate": "0", "currency": "GBP", "stage": "signed"},
            today=TODAY,
        )
    assert set(caught.value.fields) == {"amount", "usd_rate", "currency", "stage"}
    with pytest.raises(Invalid) as caught:
        alliances.update(session, row, reviewer.id, {"ended_on": date(2026, 9, 1)}, today=TODAY)
    assert "ended_on" in caught.value.fields
    assert session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == 0


def test_board_groups_alliances_by_stage(session):
    project = factories.project(session)
    _alliance(session, project, factories.offer(session), amount=5, stage="closed")
    _alliance(session, project, factories.offer(session), amount=5, stage="negotiating")
    columns = alliances.board(session)
    assert list(columns) == ["negotiating", "formalised", "in_execution", "closed", "dropped"]
    assert [len(v) for v in columns.values()] == [1, 0, 0, 1, 0]


# -- reports ----------------------------------------------------------------------------------


def test_reports_add_up_in_usd_per_year_line_kind_and_modality(session):
    foundation = factories.organization(session, kind="foundation")
    bilateral = factories.organization(session, kind="bilateral")
    two_lines = factories.project(session, lines=["social_inclusion", "human_development"])
    one_line = factories.project(session, lines=["sustainable_territory"])
    grant = factories.offer(session, org=foundation, modalities=["grant"])
    mixed = factories.offer(session, org=bilateral, modalities=["loan", "technical_assistance"])
    _alliance(session, two_lines, grant, amount=1_000_000, started=date(2018, 5, 1))
    _alliance(
        session,
        one_line,
        mixed,
        amount=2_000_000,
        currency="EUR",
        rate=1.5,
        started=date(2019, 1, 1),
    )
    _alliance(session, one_line, grant, amount=7_000_000, stage="dropped", started=date(2019, 6, 1))

    totals = reports.totals(session)
    assert totals.usd == pytest.approx(4_000_000) and totals.projects == 2
    assert totals.alliances == 2

    years = {b.key: b for b in reports.per_year(session, TODAY)}
    assert list(years)[0] == "2008" and list(years)[-1] == "2026"
    assert years["2018"].usd == pytest.approx(1_000_000) and years["2018"].projects == 1
    assert years["2019"].usd == pytest.approx(3_000_000)  # the dropped one is left out
    assert years["2010"].usd == 0

    lines = {b.key: b.usd for b in reports.per_line(session)}
    assert lines["social_inclusion"] == pytest.approx(1_000_000)
    assert lines["human_development"] == pytest.approx(1_000_000)  # counts toward each line
    assert lines["sustainable_territory"] == pytest.approx(3_000_000)
    assert lines["governance_peace"] == 0

    kinds = {b.key: b.usd for b in reports.per_kind(session)}
    assert kinds["foundation"] == pytest.approx(1_000_000)
    assert kinds["bilateral"] == pytest.approx(3_000_000)

    modalities = {b.key: (b.usd, b.projects) for b in reports.per_modality(session)}
    assert modalities["grant"] == (pytest.approx(1_000_000), 1)
    assert modalities["loan"] == (pytest.approx(3_000_000), 1)
    assert modalities["technical_assistance"] == (pytest.approx(3_000_000), 1)
    assert modalities["in_kind"] == (0, 0)


def test_reports_on_an_empty_database_are_zeros(session):
    assert reports.totals(session) == reports.Totals(usd=0.0, projects=0, alliances=0)
    assert all(b.usd == 0 for b in reports.per_line(session))


# -- moderation -------------------------------------------------------------------------------


def test_publishing_a_submitted_offer_queues_scoring_and_is_audited(session, reviewer):
    offer = factories.offer(session, status="submitted")
    moderation.publish(session, offer, reviewer.id)
    session.refresh(offer)
    assert offer.status.value == "published"
    # no broker in this test: the scoring task waits in the outbox, written with the publish
    assert offer.scoring_state.value == "waiting"
    queued = session.scalars(
        sa.select(OutboxMessage.args).where(OutboxMessage.task == "scoring.score_offer")
    ).all()
    assert [offer.id] in queued
    event = session.scalar(sa.select(AuditEvent).where(AuditEvent.entity_type == "offer"))
    assert (event.action, event.before, event.after) == (
        "publish",
        {"status": "submitted"},
        {"status": "published"},
    )
    with pytest.raises(Conflict):
        moderation.publish(session, offer, reviewer.id)


def test_rejecting_an_offer_needs_a_reason_and_records_it(session, reviewer):
    offer = factories.offer(session, status="submitted")
    with pytest.raises(Invalid):
        moderation.reject(session, offer, reviewer.id, "", None)
    moderation.reject(session, offer, reviewer.id, "incomplete", "No amounts or dates given")
    assert session.get(Offer, offer.id).status.value == "rejected"
    event = moderation.last_rejection(session, offer.id)
    assert event.after == {
        "status": "rejected",
        "reason": "incomplete",
        "note": "No amounts or dates given",
    }


def test_editing_an_offer_checks_its_rules_and_audits_changes(session, reviewer):
    offer = factories.offer(session, status="submitted", amount_min=100, amount_max=200)
    old_title = offer.title
    with pytest.raises(Invalid) as caught:
        moderation.edit(session, offer, reviewer.id, {"amount_min": Decimal(500)})
    assert "amount_max" in caught.value.fields
    assert session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == 0
    moderation.edit(
        session, offer, reviewer.id, {"title": "Clearer title", "amount_max": Decimal(200)}
    )
    event = session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "edit"))
    assert event.before == {"title": old_title}
    assert event.after == {"title": "Clearer title"}
    assert str(session.get(Offer, offer.id).status) == "submitted"


# -- users ------------------------------------------------------------------------------------


def test_admin_creates_users_and_cannot_lock_themself_out(session):
    admin = user_admin.create_user(session, "admin@example.org", "admin", "a-long-password")
    org = factories.organization(session)
    partner = user_admin.create_user(
        session,
        "ally@example.org",
        "partner",
        "another-long-one",
        organization_id=org.id,
        admin_id=admin.id,
    )
    assert partner.role.value == "partner" and partner.organization_id == org.id
    with pytest.raises(Invalid):
        user_admin.create_user(
            session, "x@example.org", "partner", "another-long-one", admin_id=admin.id
        )
    with pytest.raises(Conflict):
        user_admin.change(session, admin.id, admin, role="staff")
    with pytest.raises(Conflict):
        user_admin.change(session, admin.id, admin, active=False)
    user_admin.change(session, admin.id, partner, active=False)
    assert session.get(type(partner), partner.id).active is False
    actions = session.scalars(
        sa.select(AuditEvent.action).where(AuditEvent.entity_type == "user").order_by(AuditEvent.id)
    ).all()
    assert actions == ["create", "update"]


def test_the_last_admin_is_kept(session):
    first = user_admin.create_user(session, "a1@example.org", "admin", "a-long-password")
    second = user_admin.create_user(session, "a2@example.org", "admin", "a-long-password")
    user_admin.change(session, first.id, second, role="staff")
    with pytest.raises(Conflict):
        user_admin.change(session, second.id, first, role="staff")


def test_decisions_and_reports_meet(session, reviewer):
    """An accepted match shows in the dashboard once its alliance has an amount."""
    match = factories.match(
        session,
        factories.project(session, lines=["governance_peace"]),
        factories.offer(session, currency="USD"),
    )
    reviews.decide(session, match.id, reviewer.id, "accept", usd_rates={"USD": 1.0}, today=TODAY)
    row = session.scalar(sa.select(Alliance).where(Alliance.match_id == match.id))
    alliances.update(session, row, reviewer.id, {"amount": Decimal(300_000)}, today=TODAY)
    lines = {b.key: b.usd for b in reports.per_line(session)}
    assert lines["governance_peace"] == pytest.approx(300_000)
    assert {b.key: b.usd for b in reports.per_year(session, TODAY)}["2026"] == 300_000


def test_passwords_need_twelve_characters_and_old_hashes_are_upgraded(session):
    from werkzeug.security import generate_password_hash

    from services import credentials, sign_in

    with pytest.raises(Invalid) as caught:
        user_admin.create_user(session, "short@example.org", "staff", "eleven-char")
    assert caught.value.fields == {"password": ["Use at least 12 characters."]}
    old = user_admin.create_user(session, "old@example.org", "staff", None)
    old.password_hash = generate_password_hash("an-old-password", method="scrypt")
    session.commit()
    assert credentials.needs_rehash(old)
    sign_in.sign_in(session, "OLD@example.org", "an-old-password")
    session.refresh(old)
    assert old.password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert not credentials.needs_rehash(old)
    assert sign_in.sign_in(session, "old@example.org", "an-old-password").id == old.id


def test_an_unknown_email_costs_a_hash_like_a_known_one(monkeypatch):
    from services import credentials

    checked = []
    real = credentials._matches
    monkeypatch.setattr(credentials, "_matches", lambda s, p: checked.append(s) or real(s, p))
    assert credentials.verify_password(None, "whatever-it-is") is False
    assert checked and checked[0].startswith("$argon2id$")
