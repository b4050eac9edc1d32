"""Reviewing matches: the queue's order, filters and pages; decisions, audit and undo."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from models import Alliance, AuditEvent, Match
from services import alliances, reviews, user_admin
from services.errors import Conflict, Invalid
from tests import factories

TODAY = date(2026, 11, 27)
RATES = {"USD": 1.0, "EUR": 1.08, "COP": 0.00025}


@pytest.fixture
def reviewer(session):
    return user_admin.create_user(session, "rev@example.org", "staff", "a-long-password")


def _page(session, **filters):
    return reviews.queue_page(session, reviews.QueueFilters(**filters), TODAY)


def test_queue_is_best_first_and_pages_by_keyset(session):
    project = factories.project(session)
    scores = [0.91, 0.5, 0.5, 0.72, 0.33]
    made = [factories.match(session, project, factories.offer(session), score=s) for s in scores]
    first = reviews.queue_page(session, reviews.QueueFilters(), TODAY, per_page=3)
    assert [m.score for m in first.items] == [0.91, 0.72, 0.5]
    assert first.next_after is not None
    second = reviews.queue_page(
        session, reviews.QueueFilters(after=first.next_after), TODAY, per_page=3
    )
    assert [m.score for m in second.items] == [0.5, 0.33]
    assert second.next_after is None
    seen = [m.id for m in first.items + second.items]
    assert sorted(seen) == sorted(m.id for m in made) and len(set(seen)) == 5
    # ties on score come newest first, and the page boundary splits the tie without loss
    tie = [m.id for m in first.items + second.items if m.score == 0.5]
    assert tie == sorted(tie, reverse=True)


def test_queue_filters_each_narrow_the_rows(session):
    uni = factories.organization(session, kind="university")
    bilateral = factories.organization(session, kind="bilateral")
    education = factories.project(session, lines=["human_development"])
    mobility = factories.project(session, lines=["sustainable_territory"])
    soon = factories.offer(
        session, org=uni, modalities=["technical_assistance"], deadline=TODAY + timedelta(days=5)
    )
    later = factories.offer(
        session, org=bilateral, modalities=["grant"], deadline=TODAY + timedelta(days=200)
    )
    a = factories.match(session, education, soon, score=0.8)
    b = factories.match(session, mobility, later, score=0.6)
    c = factories.match(session, mobility, soon, score=0.3, status="shortlisted")
    d = factories.match(session, education, later, score=0.9, status="rejected")

    def ids(**filters):
        return [m.id for m in _page(session, **filters).items]

    assert ids() == [a.id, b.id, c.id]  # open = proposed and shortlisted
    assert ids(line="human_development") == [a.id]
    assert ids(modality="technical_assistance") == [a.id, c.id]
    assert ids(kind="bilateral") == [b.id]
    assert ids(min_score=0.5) == [a.id, b.id]
    assert ids(deadline_days=30) == [a.id, c.id]
    assert ids(status="shortlisted") == [c.id]
    assert ids(status="rejected") == [d.id]
    assert ids(status="all") == [d.id, a.id, b.id, c.id]
    assert ids(line="governance_peace") == []  # no project: empty without querying matches
    assert ids(kind="bilateral", modality="technical_assistance") == []


def test_queue_refuses_unknown_filter_values(session):
    with pytest.raises(Invalid) as caught:
        _page(session, line="space", min_score=3)
    assert set(caught.value.fields) == {"line", "min_score"}


def test_accept_starts_an_alliance_in_the_offer_currency_and_is_audited(session, reviewer):
    match = factories.match(
        session, factories.project(session), factories.offer(session, currency="EUR")
    )
    reviews.decide(session, match.id, reviewer.id, "accept", usd_rates=RATES, today=TODAY)
    session.refresh(match)
    assert match.status.value == "accepted" and match.reviewer_id == reviewer.id
    alliance = session.scalar(sa.select(Alliance).where(Alliance.match_id == match.id))
    assert alliance.stage.value == "negotiating" and alliance.amount == 0
    assert alliance.currency == "EUR" and float(alliance.usd_rate) == pytest.approx(1.08)
    assert alliance.started_on == TODAY
    event = session.scalar(sa.select(AuditEvent).where(AuditEvent.entity_type == "match"))
    assert event.action == "accept" and event.user_id == reviewer.id
    assert event.before["status"] == "proposed" and event.after["status"] == "accepted"
    assert event.after["alliance_id"] == alliance.id and event.at is not None


def test_reject_needs_a_reason_and_keeps_the_free_text(session, reviewer):
    match = factories.match(session, factories.project(session), factories.offer(session))
    with pytest.raises(Invalid) as caught:
        reviews.decide(session, match.id, reviewer.id, "reject")
    assert "reason" in caught.value.fields
    with pytest.raises(Invalid) as caught:
        reviews.decide(session, match.id, reviewer.id, "reject", reason="other")
    assert "note" in caught.value.fields
    reviews.decide(
        session,
        match.id,
        reviewer.id,
        "reject",
        reason="amount_mismatch",
        note="They fund only up to USD 50k",
    )
    session.refresh(match)
    assert match.status.value == "rejected"
    assert reviews.split_reason(match.decision_reason) == (
        "amount_mismatch",
        "They fund only up to USD 50k",
    )


def test_decisions_only_go_forward_from_open_matches(session, reviewer):
    match = factories.match(
        session, factories.project(session), factories.offer(session), status="shortlisted"
    )
    with pytest.raises(Conflict):
        reviews.decide(session, match.id, reviewer.id, "shortlist")
    reviews.decide(session, match.id, reviewer.id, "reject", reason="duplicate")
    with pytest.raises(Conflict):
        reviews.decide(session, match.id, reviewer.id, "accept", usd_rates=RATES)


def test_undo_walks_back_through_decisions(session, reviewer):
    match = factories.match(session, factories.project(session), factories.offer(session))
    reviews.decide(session, match.id, reviewer.id, "shortlist")
    reviews.decide(session, match.id, reviewer.id, "reject", reason="not_eligible")
    reviews.undo(session, match.id, reviewer.id)
    session.refresh(match)
    assert match.status.value == "shortlisted" and match.decision_reason is None
    reviews.undo(session, match.id, reviewer.id)
    session.refresh(match)
    assert match.status.value == "proposed" and match.reviewer_id is None
    assert match.decided_at is None
    with pytest.raises(Conflict):
        reviews.undo(session, match.id, reviewer.id)
    actions = session.scalars(
        sa.select(AuditEvent.action)
        .where(AuditEvent.entity_type == "match")
        .order_by(AuditEvent.id)
    ).all()
    assert actions == ["shortlist", "reject", "undo", "undo"]


def test_undo_of_an_untouched_accept_removes_its_alliance(session, reviewer):
    match = factories.match(session, factories.project(session), factories.offer(session))
    reviews.decide(session, match.id, reviewer.id, "accept", usd_rates=RATES, today=TODAY)
    assert reviews.undoable_ids(session, [match.id]) == {match.id}
    reviews.undo(session, match.id, reviewer.id)
    session.refresh(match)
    assert match.status.value == "proposed"
    assert session.scalar(sa.select(Alliance).where(Alliance.match_id == match.id)) is None
    # accepting again starts a fresh alliance
    reviews.decide(session, match.id, reviewer.id, "accept", usd_rates=RATES, today=TODAY)
    assert session.scalar(sa.select(Alliance).where(Alliance.match_id == match.id)) is not None


def test_undo_of_an_accept_is_refused_once_the_alliance_carries_an_amount(session, reviewer):
    match = factories.match(session, factories.project(session), factories.offer(session))
    reviews.decide(session, match.id, reviewer.id, "accept", usd_rates=RATES, today=TODAY)
    alliance = session.scalar(sa.select(Alliance).where(Alliance.match_id == match.id))
    alliances.update(session, alliance, reviewer.id, {"amount": Decimal("250000")}, today=TODAY)
    with pytest.raises(Conflict) as caught:
        reviews.undo(session, match.id, reviewer.id)
    assert "alliance_id" in caught.value.fields
    session.refresh(match)
    assert match.status.value == "accepted"
    assert session.get(Alliance, alliance.id).amount == Decimal("250000")


def test_undo_is_refused_when_the_match_changed_since(session, reviewer):
    match = factories.match(session, factories.project(session), factories.offer(session))
    reviews.decide(session, match.id, reviewer.id, "shortlist")
    session.execute(sa.update(Match).where(Match.id == match.id).values(status="withdrawn"))
    session.commit()
    with pytest.raises(Conflict):
        reviews.undo(session, match.id, reviewer.id)


def test_bulk_reject_rejects_open_matches_and_reports_the_rest(session, reviewer):
    project = factories.project(session)
    open_ones = [factories.match(session, project, factories.offer(session)) for _ in range(3)]
    decided = factories.match(session, project, factories.offer(session), status="accepted")
    result = reviews.bulk_reject(
        session,
        [m.id for m in open_ones] + [decided.id, 999_999],
        reviewer.id,
        "thematic_mismatch",
        "not our lines",
    )
    assert sorted(result.done) == sorted(m.id for m in open_ones)
    assert result.skipped == {decided.id: "accepted", 999_999: "not_found"}
    statuses = session.scalars(
        sa.select(Match.status).where(Match.id.in_([m.id for m in open_ones]))
    ).all()
    assert {s.value for s in statuses} == {"rejected"}
    assert (
        session.scalar(
            sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action == "reject")
        )
        == 3
    )
    with pytest.raises(Invalid):
        reviews.bulk_reject(session, [], reviewer.id, "duplicate")


def test_ranked_lists_an_items_matches_best_first_with_withdrawn_last(session):
    project = factories.project(session)
    low = factories.match(session, project, factories.offer(session), score=0.2)
    gone = factories.match(
        session, project, factories.offer(session), score=0.99, status="withdrawn"
    )
    high = factories.match(session, project, factories.offer(session), score=0.7)
    assert [m.id for m in reviews.ranked(session, project_id=project.id)] == [
        high.id,
        low.id,
        gone.id,
    ]
