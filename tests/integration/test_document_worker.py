"""Call documents through a real `celery worker` (Redis, PostgreSQL): the API answers before
the text is read; the worker reads it (or records why it cannot) and rescores the offer, which
then matches a project on the document's words."""

from __future__ import annotations

import io

import pytest

from tests import document_files as files
from tests import factories as f
from tests.integration import test_workers as workers_tests
from tests.integration.workers import wait_for

pytestmark = pytest.mark.integration

# The fixtures of the scoring pipeline's tests: a database of this module's own, Redis, and
# `celery worker` processes.
db = workers_tests.db
pg_url = workers_tests.pg_url
redis_url = workers_tests.redis_url
worker_env = workers_tests.worker_env
start_worker = workers_tests.start_worker

CALL = [
    "Terms of reference",
    "Rainwater harvesting tanks and community aqueducts for hillside schools.",
]


def test_the_worker_reads_a_document_and_the_offer_matches_on_it(
    db, tmp_path, pg_url, redis_url, worker_env, start_worker
):
    shared = tmp_path / "documents"
    worker_env["COOPMATCH_DOCUMENT_DIR"] = str(shared)
    start_worker()
    with db() as session:
        project = f.project(
            session,
            workers_tests._seed_city(session),
            title="Rainwater harvesting for hillside schools",
            description="Community aqueducts and rainwater tanks.",
            language="en",
        )
        offer = f.offer(session, title="Urban resilience fund", description="General support.")
        token = workers_tests._staff_token(session)
    settings = workers_tests._settings(tmp_path, pg_url, redis_url, document_dir=shared)
    client = workers_tests._app(settings, db).test_client()

    def upload(name: str, data: bytes) -> dict:
        response = client.post(
            f"/api/v1/offers/{offer.id}/documents",
            headers=f.auth(token),
            data={"file": (io.BytesIO(data), name), "public": "true"},
            content_type="multipart/form-data",
        )
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def state_of(document: dict) -> str | None:
        body = client.get(document["links"]["self"], headers=f.auth(token)).get_json()
        return body if body["extraction_state"] != "pending" else None

    good = upload("tdr.pdf", files.pdf([CALL]))
    done = wait_for(lambda: state_of(good), timeout=30, what="the worker to read the PDF")
    assert done["extraction_state"] == "done" and done["extraction_error"] is None

    def matched():
        body = client.get(
            "/api/v1/matches", query_string={"offer_id": offer.id}, headers=f.auth(token)
        ).get_json()
        # The offer's own text shares no word with the project: a text score is the document's.
        return [
            m
            for m in body["items"]
            if m["project"]["id"] == project.id and m["components"].get("text", 0) > 0.3
        ]

    assert wait_for(matched, timeout=30, what="the offer to match on its document's words")

    bad = upload("xxe.docx", files.xxe_docx())
    failed = wait_for(lambda: state_of(bad), timeout=30, what="the worker to refuse the DOCX")
    assert failed["extraction_state"] == "failed" and "entities" in failed["extraction_error"]
    content = client.get(bad["links"]["content"], headers=f.auth(token))
    assert content.status_code == 200 and content.data[:2] == b"PK"  # the file is kept
