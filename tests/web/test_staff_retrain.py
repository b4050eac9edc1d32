"""The administrators' "retrain the ranker now" button."""

from __future__ import annotations

import sqlalchemy as sa

from models import AuditEvent, RankerRun
from models.enums import RankerRunState, RankerTrigger
from tests import factories as f
from tests.web.helpers import csrf_token, sign_in


def _signed_in(client, session, role):
    user, _ = f.token(session, role=role)
    sign_in(client, user.email)
    return user


def _token(client) -> str:
    return csrf_token(client.get("/staff/jobs").get_data(as_text=True))


def test_an_admin_retrains_now_and_the_run_is_recorded_and_audited(client, session):
    admin = _signed_in(client, session, "admin")
    response = client.post("/staff/quality/retrain", data={"csrf_token": _token(client)})
    assert response.status_code == 302 and response.headers["Location"] == "/staff/quality"
    run = session.scalar(sa.select(RankerRun))
    # the embedded default runs it at once: nothing decided yet, so it is refused
    assert run.trigger == RankerTrigger.ADMIN and run.requested_by_id == admin.id
    assert run.state == RankerRunState.DONE and run.adopted is False
    assert run.reason.startswith("refused: 0 accepted decisions")
    event = session.scalar(sa.select(AuditEvent).where(AuditEvent.entity_type == "ranker_run"))
    assert event.user_id == admin.id and event.entity_id == run.id
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Reentrenamiento {run.id} terminado: el modelo en uso se mantiene." in page


def test_staff_who_are_not_admins_may_not(client, session):
    _signed_in(client, session, "staff")
    response = client.post("/staff/quality/retrain", data={"csrf_token": _token(client)})
    assert response.status_code == 403
    assert session.scalar(sa.select(sa.func.count()).select_from(RankerRun)) == 0


def test_without_its_csrf_token_nothing_runs(client, session):
    _signed_in(client, session, "admin")
    assert client.post("/staff/quality/retrain", data={}).status_code == 400
    assert client.get("/staff/quality/retrain").status_code == 405
    assert session.scalar(sa.select(sa.func.count()).select_from(RankerRun)) == 0


def test_partners_and_strangers_are_kept_out(client, session):
    assert client.post("/staff/quality/retrain").status_code == 400  # no token: refused first
    org = f.organization(session)
    partner, _ = f.token(session, role="partner", organization_id=org.id)
    sign_in(client, partner.email)
    response = client.post("/staff/quality/retrain", data={"csrf_token": _token(client)})
    assert response.status_code == 403
    assert session.scalar(sa.select(sa.func.count()).select_from(RankerRun)) == 0


def test_the_button_is_on_the_quality_page_for_admins_only(client, session):
    _signed_in(client, session, "admin")
    page = client.get("/staff/quality").get_data(as_text=True)
    assert 'action="/staff/quality/retrain"' in page
    client.post("/logout", data={"csrf_token": csrf_token(page)})
    _signed_in(client, session, "staff")
    page = client.get("/staff/quality").get_data(as_text=True)
    assert "/staff/quality/retrain" not in page
