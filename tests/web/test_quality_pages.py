"""The suggestion quality page and its CSVs through the Flask test client (SQLite and
PostgreSQL): who sees it, what it shows, the files, bad filters, the history of retrains."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from models import RankerRun
from services import clock, user_admin
from tests import factories
from tests.web.helpers import sign_in


@pytest.fixture
def people(session):
    org = factories.organization(session)
    user_admin.create_user(
        session, "rev@example.org", "staff", "a-long-password", name="Rita", language="en"
    )
    admin = user_admin.create_user(
        session, "boss@example.org", "admin", "a-long-password", name="Bea Boss", language="en"
    )
    user_admin.create_user(
        session, "ally@example.org", "partner", "a-long-password", organization_id=org.id
    )
    return {"admin": admin}


@pytest.fixture
def decided(session):
    """Two decisions a day ago on a two-line project: one accepted at 0.82, one rejected at 0.34."""
    now = clock.now()
    project = factories.project(session, lines=["human_development", "governance_peace"])
    uni = factories.organization(session, kind="university")
    for score, status in ((0.82, "accepted"), (0.34, "rejected")):
        factories.match(
            session,
            project,
            factories.offer(session, org=uni),
            score=score,
            status=status,
            decided_at=now - timedelta(days=1),
        )
    factories.match(session, project, factories.offer(session, org=uni), score=0.99)


def _csv(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    assert (
        response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    )
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def test_signed_out_people_and_partners_cannot_see_it(client, people):
    for url in ("/staff/quality", "/staff/quality/band.csv"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url
    sign_in(client, "ally@example.org")
    for url in ("/staff/quality", "/staff/quality/band.csv", "/staff/quality/month.csv"):
        assert client.get(url).status_code == 403, url


def test_staff_see_the_charts_their_tables_and_the_default_model(client, people, decided):
    sign_in(client, "rev@example.org")
    response = client.get("/staff/quality")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "How good are the suggestions" in html
    assert 'href="/staff/quality"' in html  # in the navigation bar
    assert "Calibration: acceptance rate against score" in html
    assert html.count('class="point"') == 2  # two bands with decisions: two points
    assert 'class="diagonal"' in html
    assert "Human development" in html and "Governance, peace and security" in html
    assert "University" in html
    assert "0.8–0.9: 1 accepted of 1 decided (100%), mean score 0.82" in html
    assert "0.3–0.4: 0 accepted of 1 decided (0%), mean score 0.34" in html
    assert "Default scoring: the weighted mean" in html
    assert "No retrain yet" in html


def test_the_page_speaks_spanish(client, people, decided, session):
    user_admin.create_user(session, "es@example.org", "staff", "a-long-password", language="es")
    sign_in(client, "es@example.org")
    html = client.get("/staff/quality?period=all").get_data(as_text=True)
    assert "Qué tan buenas son las sugerencias" in html
    assert "Desarrollo humano" in html and "Universidad" in html
    assert "0,8–0,9" in html


def test_an_empty_database_shows_an_empty_state(client, people):
    sign_in(client, "rev@example.org")
    response = client.get("/staff/quality?period=all")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "No suggestion was accepted or rejected in this period yet" in html
    assert 'class="point"' not in html


def test_bad_periods_get_400_with_a_message(client, people, decided):
    sign_in(client, "rev@example.org")
    for bad in ("7d", "everything", "12m%00"):
        response = client.get(f"/staff/quality?period={bad}")
        assert response.status_code == 400, bad
        if "%00" not in bad:  # NUL characters are refused before any view
            assert "Unknown period" in response.get_data(as_text=True)
    response = client.get("/staff/quality/line.csv?period=7d")
    assert response.status_code == 400 and "Unknown period" in response.get_data(as_text=True)
    assert client.get("/staff/quality/nonsense.csv").status_code == 404
    assert client.get("/staff/quality/band.csv?period=90d").status_code == 200


def test_each_csv_has_its_header_and_rows(client, people, decided):
    sign_in(client, "rev@example.org")
    bands = _csv(client, "/staff/quality/band.csv?period=90d")
    assert bands[0] == ["band", "decided", "accepted", "rejected", "acceptance_rate", "mean_score"]
    assert len(bands) == 11
    assert bands[1] == ["0.0", "0", "0", "0", "", ""]
    assert bands[4] == ["0.3", "1", "0", "1", "0.0000", "0.3400"]
    assert bands[9] == ["0.8", "1", "1", "0", "1.0000", "0.8200"]
    lines = _csv(client, "/staff/quality/line.csv")
    assert lines[0] == [
        "line",
        "label",
        "decided",
        "accepted",
        "rejected",
        "acceptance_rate",
        "mean_score",
    ]
    assert ["human_development", "Human development", "2", "1", "1", "0.5000", "0.5800"] in lines
    assert ["economic_development", "Economic development", "0", "0", "0", "", ""] in lines
    kinds = _csv(client, "/staff/quality/kind.csv?period=all")
    assert ["university", "University", "2", "1", "1", "0.5000", "0.5800"] in kinds
    months = _csv(client, "/staff/quality/month.csv")
    assert months[0][0] == "month" and len(months) == 13
    this_month = clock.local(clock.now() - timedelta(days=1), "America/Bogota").strftime("%Y-%m")
    assert [this_month, "2", "1", "1", "0.5000", "0.5800"] in months


def test_codes_that_are_not_known_never_reach_a_csv(client, people, session):
    """A line stored outside the vocabulary (an import gone wrong, a formula) is not a row:
    every cell of the CSVs is the app's own code, label, month or number."""
    project = factories.project(session, lines=['=HYPERLINK("http://evil.example")', "-2+3"])
    factories.match(
        session,
        project,
        factories.offer(session),
        score=0.7,
        status="accepted",
        decided_at=clock.now() - timedelta(days=1),
    )
    sign_in(client, "rev@example.org")
    for chart in ("band", "line", "kind", "month"):
        body = client.get(f"/staff/quality/{chart}.csv").get_data(as_text=True)
        assert "HYPERLINK" not in body and "-2+3" not in body
        cells = [cell for row in csv.reader(io.StringIO(body)) for cell in row]
        assert not [c for c in cells if c[:1] in ("=", "+", "-", "@")], chart


def _runs(session, admin):
    now = clock.now()
    session.add_all(
        [
            RankerRun(
                trigger="weekly",
                state="done",
                created_at=now - timedelta(days=14),
                finished_at=now - timedelta(days=14),
                n_train_accepted=120,
                n_train_rejected=340,
                n_heldout_accepted=31,
                n_heldout_rejected=80,
                n_heldout_projects=22,
                current_score=0.61,
                candidate_score=0.66,
                importance={"prior": 0.0085, "score": 0.0036, "text": 0.0019},
                adopted=True,
                reason="better on held-out decisions; no guard slice worse",
                matcher_version="1.4.0",
                model_id="abc123def4567890",
            ),
            RankerRun(
                trigger="admin",
                requested_by_id=admin.id,
                state="done",
                created_at=now - timedelta(days=3),
                current_score=0.66,
                candidate_score=0.64,
                adopted=False,
                reason="worse than the model in use",
            ),
            RankerRun(
                trigger="weekly",
                state="failed",
                created_at=now - timedelta(days=1),
                reason="the worker stopped",
            ),
        ]
    )
    session.commit()


def test_the_model_in_use_and_the_history_of_retrains(client, people, session):
    _runs(session, people["admin"])
    sign_in(client, "rev@example.org")
    html = client.get("/staff/quality").get_data(as_text=True)
    box = html[html.index('id="model-in-use"') : html.index('id="history"')]
    assert "A learned ranker, adopted" in box
    assert "120 accepted and 340 rejected decisions" in box
    assert "31 accepted and 80 rejected decisions on 22 projects" in box
    assert "0.61 with the model it replaced → 0.66" in box
    # largest importance first
    assert box.index("The ally&#39;s share of accepted matches") < box.index("Weighted-mean score")
    assert box.index("Weighted-mean score") < box.index("Text")
    assert "better on held-out decisions" in box
    history = html[html.index('id="history"') :]
    rows = history.split('<tr id="run-')[1:]
    assert len(rows) == 3
    assert "Did not finish" in rows[0] and "the worker stopped" in rows[0] and "Weekly" in rows[0]
    assert "Refused" in rows[1] and "Bea Boss" in rows[1] and "Administrator" in rows[1]
    assert "0.66 → 0.64" in rows[1]
    assert "Adopted" in rows[2] and "120 / 340" in rows[2] and "31 / 80" in rows[2]


def test_an_admin_sees_the_page_too(client, people, session):
    sign_in(client, "boss@example.org")
    assert client.get("/staff/quality").status_code == 200


def test_the_history_shows_the_50_newest_runs_and_says_how_many_there_are(client, people, session):
    now = clock.now()
    session.add_all(
        RankerRun(trigger="weekly", state="failed", created_at=now - timedelta(days=i))
        for i in range(51)
    )
    session.commit()
    sign_in(client, "rev@example.org")
    html = client.get("/staff/quality").get_data(as_text=True)
    assert html.count('<tr id="run-') == 50
    assert "The 50 newest of 51 retrains." in html
