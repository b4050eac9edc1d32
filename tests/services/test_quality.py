"""How good the suggestions are (services/quality.py): acceptance per score band, line, kind of
ally and agency month, the model in use and the retrains' history, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from models import RankerRun
from services import quality, user_admin
from services.errors import Invalid
from tests import factories

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
ZONE = "America/Bogota"  # UTC-5: 2026-11-01 03:00 UTC is still October there


def _decision(session, project, org, score, status, decided_at):
    offer = factories.offer(session, org=org)
    return factories.match(
        session, project, offer, score=score, status=status, decided_at=decided_at
    )


@pytest.fixture
def decisions(session):
    """Ten decisions, and three matches that are not decisions."""
    uni = factories.organization(session, kind="university")
    bil = factories.organization(session, kind="bilateral")
    found = factories.organization(session, kind="foundation")
    two_lines = factories.project(session, lines=["social_inclusion", "human_development"])
    territory = factories.project(session, lines=["sustainable_territory"])
    day = timedelta(days=1)
    rows = [
        (two_lines, uni, 0.95, "accepted", NOW - day),
        (two_lines, uni, 0.91, "rejected", NOW - 2 * day),
        (territory, bil, 0.85, "accepted", NOW - 10 * day),
        (territory, bil, 0.30, "rejected", NOW - 40 * day),  # 0.3 exactly: band 0.3
        (territory, uni, 0.35, "rejected", NOW - 100 * day),  # not in the last 90 days
        (two_lines, found, 1.0, "accepted", NOW - 400 * day),  # 1.0: last band; not in 12 months
        (territory, found, 0.0, "rejected", NOW - 5 * day),
        (two_lines, bil, 0.45, "accepted", datetime(2026, 11, 1, 3, 0, tzinfo=UTC)),  # October
        (territory, found, 0.55, "accepted", datetime(2025, 12, 1, 5, 0, tzinfo=UTC)),  # Dec 1st
        (territory, found, 0.56, "rejected", datetime(2025, 12, 1, 4, 59, tzinfo=UTC)),  # Nov 30
        # not decisions
        (two_lines, bil, 0.10, "proposed", None),
        (territory, uni, 0.50, "withdrawn", NOW - day),
        (two_lines, uni, 0.60, "shortlisted", None),
    ]
    for row in rows:
        _decision(session, *row)


def _counts(rates):
    return {r.key: (r.decided, r.accepted) for r in rates if r.decided}


def test_acceptance_per_score_band(session, decisions):
    bands = quality.per_band(session, None)
    assert [b.key for b in bands] == [f"0.{i}" for i in range(10)]
    assert _counts(bands) == {
        "0.0": (1, 0),
        "0.3": (2, 0),
        "0.4": (1, 1),
        "0.5": (2, 1),
        "0.8": (1, 1),
        "0.9": (3, 2),
    }
    by_key = {b.key: b for b in bands}
    assert by_key["0.9"].mean_score == pytest.approx((0.95 + 0.91 + 1.0) / 3)
    assert by_key["0.9"].rate == pytest.approx(2 / 3) and by_key["0.9"].rejected == 1
    assert by_key["0.3"].mean_score == pytest.approx(0.325) and by_key["0.3"].rate == 0
    assert by_key["0.7"].decided == 0 and by_key["0.7"].rate is None
    assert by_key["0.7"].mean_score is None


def test_periods_count_decisions_by_their_day(session, decisions):
    assert quality.total(session, None).decided == 10
    assert quality.total(session, None).accepted == 5
    year = quality.report(session, "12m", NOW, ZONE)
    assert (year.total.decided, year.total.accepted) == (9, 4)
    assert year.since == NOW - timedelta(days=365)
    recent = quality.report(session, "90d", NOW, ZONE)
    assert (recent.total.decided, recent.total.accepted) == (6, 3)
    assert _counts(recent.charts["band"]) == {
        "0.0": (1, 0),
        "0.3": (1, 0),
        "0.4": (1, 1),
        "0.8": (1, 1),
        "0.9": (2, 1),
    }
    assert quality.report(session, None, NOW, ZONE).period == quality.DEFAULT_PERIOD
    summed, counted = quality.report(session, "all", NOW, ZONE).total, quality.total(session, None)
    assert (summed.decided, summed.accepted) == (counted.decided, counted.accepted) == (10, 5)
    assert summed.mean_score == pytest.approx(counted.mean_score)


def test_acceptance_per_line_counts_a_match_in_each_line_of_its_project(session, decisions):
    lines = quality.per_line(session, None)
    assert [r.key for r in lines] == [
        "social_inclusion",
        "economic_development",
        "sustainable_territory",
        "human_development",
        "governance_peace",
    ]
    assert _counts(lines) == {
        "social_inclusion": (4, 3),
        "human_development": (4, 3),
        "sustainable_territory": (6, 2),
    }


def test_acceptance_per_kind_of_ally(session, decisions):
    kinds = quality.per_kind(session, None)
    assert "local_public" not in [r.key for r in kinds]
    assert _counts(kinds) == {"university": (3, 1), "bilateral": (3, 2), "foundation": (4, 2)}
    assert _counts(quality.per_kind(session, NOW - timedelta(days=90))) == {
        "university": (2, 1),
        "bilateral": (3, 2),
        "foundation": (1, 0),
    }


def test_acceptance_per_agency_month(session, decisions):
    months = quality.per_month(session, NOW, ZONE)
    assert [m.key for m in months][0] == "2025-12" and [m.key for m in months][-1] == "2026-11"
    assert len(months) == 12
    # 2026-11-01 03:00 UTC is October in Bogotá; 2025-11-30 23:59 there is before the window
    assert _counts(months) == {
        "2025-12": (1, 1),
        "2026-08": (1, 0),
        "2026-10": (2, 1),
        "2026-11": (4, 2),
    }


def test_an_empty_database_gives_empty_charts_not_errors(session):
    report = quality.report(session, "all", NOW, ZONE)
    assert report.total.decided == 0 and report.total.rate is None
    assert len(report.charts["band"]) == 10 and len(report.charts["month"]) == 12
    assert all(
        r.decided == 0 and r.mean_score is None for rows in report.charts.values() for r in rows
    )
    assert quality.model_in_use(session) is None and quality.history(session) == []


def test_unknown_periods_are_refused(session):
    for bad in ("7d", "ALL", "12m;drop", " 90d"):
        with pytest.raises(Invalid) as caught:
            quality.report(session, bad, NOW, ZONE)
        assert "period" in caught.value.fields


def _run(session, **kw):
    values = dict(trigger="weekly", state="done", created_at=NOW, model=b"x" * 1000)
    values.update(kw)
    run = RankerRun(**values)
    session.add(run)
    session.commit()
    return run


def test_the_model_in_use_is_the_newest_adopted_run(session):
    admin = user_admin.create_user(session, "admin@example.org", "admin", "a-long-password")
    old = _run(session, adopted=True, created_at=NOW - timedelta(days=14))
    adopted = _run(session, adopted=True, created_at=NOW - timedelta(days=7))
    _run(session, adopted=False, created_at=NOW - timedelta(days=3), reason="slice es worse")
    _run(session, state="failed", created_at=NOW - timedelta(days=2), reason="no decisions")
    # a run still going is not in use even if a flag were set early
    _run(session, state="running", adopted=True, created_at=NOW - timedelta(days=1))
    latest = _run(session, trigger="admin", requested_by_id=admin.id, state="queued")
    assert quality.model_in_use(session).id == adopted.id
    runs = quality.history(session)
    assert runs[0].id == latest.id and runs[-1].id == old.id and len(runs) == 6
    assert runs[0].requested_by.email == "admin@example.org"
    assert [r.id for r in quality.history(session, limit=2)] == [latest.id, runs[1].id]
    assert quality.run_count(session) == 6


def test_what_a_run_leaned_on_is_sorted_largest_first(session):
    run = _run(
        session, importance={"score": 0.0036, "prior": 0.0085, "text": 0.0019, "note": "n/a"}
    )
    assert quality.leaned_on(run, top=2) == [("prior", 0.0085), ("score", 0.0036)]
    assert quality.leaned_on(_run(session, importance={})) == []
