"""Rebuilds split across two real `celery worker` processes on Redis and PostgreSQL: both take
chunks, a worker killed mid-chunk loses and duplicates nothing, and a new offer is matched while
a rebuild runs."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
import sqlalchemy as sa

from models import IndexVersion, Job, Match, Project, RebuildChunk
from services import locks
from services.matching import index_cache, rebuild
from tests import factories as f
from tests.integration.test_workers import (  # noqa: F401  (fixtures)
    _app,
    _job,
    _seed_corpus,
    _settings,
    db,
    pg_url,
    redis_url,
    start_worker,
    worker_env,
)
from tests.integration.workers import assert_decisions_kept, wait_for

pytestmark = pytest.mark.integration

PROJECTS, OFFERS, CHUNK = 400, 900, 10


@pytest.fixture
def settings(tmp_path, pg_url, redis_url):  # noqa: F811
    # The workers' instance folder (worker_env): the same index directory for all.
    return replace(
        _settings(tmp_path, pg_url, redis_url, rebuild_chunk=CHUNK, lock_ttl=30),
        instance_path=tmp_path,
    )


@pytest.fixture
def two_workers(start_worker, worker_env):  # noqa: F811
    worker_env.update(COOPMATCH_LOCK_TTL="30", COOPMATCH_VISIBILITY_TIMEOUT="6")
    return start_worker("w1", concurrency=1), start_worker("w2", concurrency=1)


def _live_pairs(factory) -> list[tuple[int, int, str]]:
    with factory() as session:
        return sorted(
            session.execute(
                sa.select(Match.project_id, Match.offer_id, Match.status).where(
                    Match.status != "withdrawn"
                )
            ).all()
        )


def _chunks(factory, job_id) -> list[RebuildChunk]:
    with factory() as session:
        return list(session.scalars(sa.select(RebuildChunk).where(RebuildChunk.job_id == job_id)))


def _request(factory) -> str:
    with factory() as session:
        return rebuild.request_rebuild(session).id


def test_a_rebuild_is_split_across_both_workers(db, settings, two_workers):  # noqa: F811
    with db() as session:
        _seed_corpus(session, projects=PROJECTS, offers=OFFERS)
    _app(settings, db)  # its sender sends the rebuild to the broker
    job_id = _request(db)
    wait_for(lambda: _job(db, job_id).status == "done", timeout=240, every=0.5, what="rebuild")
    chunks = _chunks(db, job_id)
    job = _job(db, job_id)
    assert job.total == job.done == len(chunks) == PROJECTS // CHUNK
    by_worker = {c.worker.split("@")[0] for c in chunks}
    assert len(by_worker) == 2, by_worker  # w1-… and w2-… each ranked chunks
    with db() as session:
        scored = session.scalar(sa.select(sa.func.count()).where(Project.scoring_state == "scored"))
        assert scored == PROJECTS
        version = index_cache.latest(session).id
    assert job.subject == version
    pairs = _live_pairs(db)
    assert len({(p, o) for p, o, _ in pairs}) == len(pairs) > 0


def _tasks_in_flight(log_text: str, task: str) -> int:
    received = len(re.findall(rf"Task {re.escape(task)}\[[^\]]+\] received", log_text))
    finished = len(re.findall(rf"Task {re.escape(task)}\[[^\]]+\] (?:succeeded|raised)", log_text))
    return received - finished


def test_a_worker_killed_mid_chunk_loses_and_duplicates_nothing(
    db,  # noqa: F811
    settings,
    two_workers,
):
    w1, _ = two_workers
    with db() as session:
        _seed_corpus(session, projects=PROJECTS, offers=OFFERS)
        reviewer, _ = f.token(session, "staff")
    app = _app(settings, db)
    first = _request(db)
    wait_for(lambda: _job(db, first).status == "done", timeout=240, every=0.5, what="rebuild")
    decided = {}
    with db() as session:
        rows = session.scalars(sa.select(Match).where(Match.status == "proposed").limit(30))
        for status, match in zip(["accepted", "rejected", "shortlisted"] * 10, rows, strict=False):
            match.status, match.reviewer_id = status, reviewer.id
            match.decision_reason = f"decided {status}"
            decided[(match.project_id, match.offer_id)] = status
        session.commit()
    expected = _live_pairs(db)

    job_id = _request(db)

    def w1_mid_chunk():
        done = _job(db, job_id).done or 0
        log = w1.log_path.read_text(errors="replace")
        return done >= 2 and _tasks_in_flight(log, "scoring.rebuild_chunk") > 0

    wait_for(w1_mid_chunk, timeout=120, every=0.02, what="w1 inside a chunk")
    w1.kill()
    killed_at = _job(db, job_id)
    assert killed_at.status == "running" and killed_at.done < killed_at.total
    # the killed worker's chunk goes to the other within seconds of its visibility timeout
    # (kombu's default scan, every 100 s, took 90-110 s here and sometimes over 240 s)
    wait_for(lambda: _job(db, job_id).status == "done", timeout=60, every=0.5, what="finish")
    chunks = _chunks(db, job_id)
    assert sorted(c.chunk for c in chunks) == list(range(PROJECTS // CHUNK))
    assert _live_pairs(db) == expected  # the same rows as the run before: none lost or added
    with db() as session:
        assert_decisions_kept(session, decided, reviewer.id)
        assert session.get(Job, job_id).done == PROJECTS // CHUNK
    assert app is not None


def test_a_new_project_and_offer_meet_while_a_rebuild_runs(db, settings, two_workers):  # noqa: F811
    with db() as session:
        _seed_corpus(session, projects=PROJECTS, offers=OFFERS)
        city_id = session.scalar(sa.select(Project.organization_id).limit(1))
        ally = f.organization(session, name="Urban Farming Fund", kind="foundation")
        token = f.token(session, "staff")[1]
    client = _app(settings, db).test_client()
    job_id = _request(db)
    wait_for(lambda: (_job(db, job_id).done or 0) >= 1, timeout=120, what="the first chunk")
    project = client.post(
        "/api/v1/projects",
        headers=f.auth(token),
        json={
            "organization_id": city_id,
            "title": "Huertas urbanas hidropónicas",
            "description": "Huertas hidropónicas comunitarias en terrazas y colegios.",
            "language": "es",
            "modalities": ["grant"],
            "budget": 200_000,
            "cofinancing": 0,
            "currency": "USD",
        },
    )
    assert project.status_code == 201, project.get_json()
    offer = client.post(
        "/api/v1/offers",
        headers=f.auth(token),
        json={
            "organization_id": ally.id,
            "title": "Hydroponic urban gardens fund",
            "description": "Grants for community hydroponic gardens on rooftops and in schools.",
            "language": "en",
            "modalities": ["grant"],
            "status": "published",
        },
    )
    assert offer.status_code == 201, offer.get_json()
    project_id, offer_id = project.get_json()["id"], offer.get_json()["id"]

    def best_project():
        body = client.get(
            "/api/v1/matches", query_string={"offer_id": offer_id}, headers=f.auth(token)
        ).get_json()
        return body["items"] and body["items"][0]["project"]["id"]

    assert wait_for(best_project, timeout=30, every=0.2, what="the new offer's matches")
    assert best_project() == project_id
    assert _job(db, job_id).status == "running"  # matched during the rebuild, not after it
    wait_for(lambda: _job(db, job_id).status == "done", timeout=240, every=0.5, what="finish")
    assert best_project() == project_id  # the rebuild's chunks did not withdraw it
    assert len(_chunks(db, job_id)) == _job(db, job_id).total == PROJECTS // CHUNK


def test_a_chunk_that_fails_for_good_fails_the_rebuild(db, settings, start_worker, worker_env):  # noqa: F811
    worker_env.update(COOPMATCH_TASK_MAX_RETRIES="1")
    start_worker("w1", concurrency=1)
    with db() as session:
        _seed_corpus(session, projects=PROJECTS, offers=OFFERS)
    _app(settings, db)
    job_id = _request(db)
    wait_for(lambda: _job(db, job_id).total, timeout=120, every=0.02, what="the fit")
    with db() as session:  # the chunks can no longer find the version they rank with
        session.execute(sa.delete(IndexVersion))
        session.commit()
    job = wait_for(
        lambda: (j := _job(db, job_id)).status == "failed" and j,
        timeout=120,
        every=0.5,
        what="the rebuild to be marked failed",
    )
    assert job.detail.startswith("a chunk failed: ChordError") and "LookupError" in job.detail
    assert job.done < job.total
    with db() as session:
        assert locks.holder(session, rebuild.REBUILD_LOCK) is None
        failures = session.scalars(sa.select(Job).where(Job.kind == "scoring.rebuild_chunk"))
        assert any("LookupError" in j.detail for j in failures)  # listed for staff too
