"""Staff see background jobs: rebuild progress, failures, and can start a rebuild."""

from __future__ import annotations

import sqlalchemy as sa

from models import Job
from services import jobs
from tests import factories as f
from tests.web.helpers import post_form, sign_in


def test_staff_start_a_rebuild_and_see_failures(client, session):
    user, _ = f.token(session, "staff")
    f.offer(session, title="Water fund")
    jobs.record_failure(session, "scoring.score_offer", [999], "OperationalError: gone")
    sign_in(client, user.email)
    page = client.get("/staff/jobs", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "scoring.score_offer" in html and "OperationalError: gone" in html
    response = post_form(client, "/staff/jobs/rebuild", {}, page="/staff/jobs")
    assert response.status_code == 302
    job = session.scalars(sa.select(Job).where(Job.kind == "rebuild")).one()
    assert job.status == "done"  # in-process on the embedded default
    again = client.get("/staff/jobs", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert "Tareas en segundo plano" in again and "Reconstrucción iniciada" in again


def test_jobs_page_is_for_staff_only(client, session):
    org = f.organization(session)
    partner, _ = f.token(session, "partner", organization_id=org.id)
    assert client.get("/staff/jobs").status_code == 302  # signed out: to the sign-in page
    sign_in(client, partner.email)
    assert client.get("/staff/jobs").status_code == 403
