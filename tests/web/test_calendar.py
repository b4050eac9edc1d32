"""Staff calendar feeds: made, renewed and turned off from "my work", read by the icalendar
library (RFC 5545), on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import date, timedelta

import icalendar
import pytest

from models import Alliance
from services import clock, user_admin
from services.work import calendars
from tests import factories
from tests.web.helpers import csrf_token, sign_in

URL = re.compile(r'id="calendar-url"[^>]*value="([^"]+)"')


@pytest.fixture
def ana(session):
    return user_admin.create_user(
        session, "ana@agency.gov.co", "staff", "a-long-password", name="Ana Gómez", language="en"
    )


@pytest.fixture
def signed_in(client, ana):
    assert sign_in(client, ana.email).status_code == 302
    return client


def _press(client, action: str) -> str:
    """Press a calendar button on /staff/mine; return the address the page shows, if any."""
    token = csrf_token(client.get("/staff/mine").get_data(as_text=True))
    answer = client.post(f"/staff/mine/calendar/{action}", data={"csrf_token": token})
    assert answer.status_code == 302
    found = URL.search(client.get("/staff/mine").get_data(as_text=True))
    return found.group(1) if found else None


def _path(url: str) -> str:
    return url.removeprefix("http://localhost")


def _parsed(client, url: str) -> icalendar.Calendar:
    answer = client.get(_path(url))
    assert answer.status_code == 200
    assert answer.mimetype == "text/calendar"
    assert answer.headers["Cache-Control"] == "private, max-age=300"
    raw = answer.get_data()
    assert raw.endswith(b"\r\n") and b"\n" not in raw.replace(b"\r\n", b"")
    assert all(len(line) <= 75 for line in raw.split(b"\r\n"))  # folded (RFC 5545 3.1)
    return icalendar.Calendar.from_ical(raw)


def test_a_calendar_holds_my_deadlines_and_alliance_dates_as_all_day_events(
    signed_in, session, ana
):
    assert "Make a calendar address" in signed_in.get("/staff/mine").get_data(as_text=True)
    url = _press(signed_in, "renew")
    assert url and url.startswith("http://localhost/calendar/") and url.endswith(".ics")

    today = clock.agency_today("America/Bogota")
    project = factories.project(session, title="Agua para las laderas")
    long_title = "Fondo para la resiliencia climática, el agua; y la movilidad " * 3
    offer = factories.offer(session, title=long_title.strip(), deadline=today + timedelta(days=9))
    followed = factories.match(session, project, offer, status="shortlisted", owner_id=ana.id)
    other = factories.match(
        session, project, factories.offer(session, deadline=today + timedelta(days=4)),
        status="proposed", owner_id=ana.id,
    )  # fmt: skip
    withdrawn = factories.match(
        session, project, factories.offer(session, status="withdrawn", deadline=today),
        status="shortlisted", owner_id=ana.id,
    )  # fmt: skip
    accepted = factories.match(
        session, factories.project(session), factories.offer(session), status="accepted"
    )
    alliance = Alliance(
        match_id=accepted.id, started_on=today - timedelta(days=2),
        formalised_on=today + timedelta(days=20), currency="USD", owner_id=ana.id,
    )  # fmt: skip
    session.add(alliance)
    session.commit()

    calendar = _parsed(signed_in, url)
    assert calendar["VERSION"] == "2.0" and calendar["PRODID"] == calendars.PRODID
    assert calendar["X-WR-TIMEZONE"] == "America/Bogota"
    events = {str(e["UID"]): e for e in calendar.walk("VEVENT")}
    assert set(events) == {
        f"match-{followed.id}-deadline@127.0.0.1",
        f"alliance-{alliance.id}-started_on@127.0.0.1",
        f"alliance-{alliance.id}-formalised_on@127.0.0.1",
    }
    deadline = events[f"match-{followed.id}-deadline@127.0.0.1"]
    start = deadline.decoded("DTSTART")
    assert type(start) is date and start == offer.deadline  # all-day, the agency's day
    assert deadline.decoded("DTEND") == offer.deadline + timedelta(days=1)
    assert str(deadline["SUMMARY"]) == f"Deadline: {offer.title}"  # commas, semicolons kept
    assert str(deadline["URL"]).endswith(f"/staff/matches/{followed.id}")
    assert f"match-{other.id}-deadline" not in str(calendar.to_ical())  # not followed
    assert f"match-{withdrawn.id}-deadline" not in str(calendar.to_ical())  # offer withdrawn

    # A moved deadline updates the same event.
    offer.deadline = today + timedelta(days=12)
    session.commit()
    moved = _parsed(signed_in, url)
    [again] = [e for e in moved.walk("VEVENT") if str(e["UID"]) == str(deadline["UID"])]
    assert again.decoded("DTSTART") == today + timedelta(days=12)


def test_renewing_or_turning_off_ends_the_previous_address(signed_in, client, session, ana):
    first = _press(signed_in, "renew")
    assert signed_in.get(_path(first)).status_code == 200
    second = _press(signed_in, "renew")
    assert second != first
    assert client.get(_path(first)).status_code == 404
    assert client.get(_path(second)).status_code == 200
    assert _press(signed_in, "revoke") is None
    assert client.get(_path(second)).status_code == 404
    assert client.get("/calendar/not-a-token.ics").status_code == 404
    forged = calendars.token_for("another-secret", ana)  # no key any more: None
    assert forged is None
    ana.calendar_key = "guessed"
    session.commit()
    assert (
        client.get(f"/calendar/{calendars.token_for('wrong-secret', ana)}.ics").status_code == 404
    )


def test_a_deactivated_person_has_no_calendar(signed_in, client, session, ana):
    url = _press(signed_in, "renew")
    admin = user_admin.create_user(session, "admin@agency.gov.co", "admin", "a-long-password")
    user_admin.change(session, admin.id, ana, role="staff", active=False, organization_id=None)
    assert client.get(_path(url)).status_code == 404


def test_text_values_are_escaped_and_long_lines_folded_on_characters():
    assert calendars.escape("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"
    line = "SUMMARY:" + "ñ" * 80
    folded = calendars.fold(line)
    assert all(len(part.encode()) <= 75 for part in folded.split("\r\n"))
    assert folded.replace("\r\n ", "") == line
