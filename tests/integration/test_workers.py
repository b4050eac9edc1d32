"""The scoring pipeline on real Redis, PostgreSQL and `celery worker` processes."""

from __future__ import annotations

import os
import random

import pytest
import redis
import sqlalchemy as sa

import config as app_config
from models import Base, Job, Match, Offer, Organization, OutboxMessage, Project
from models.db import make_engine, make_session_factory
from services import outbox, task_names
from services.matching import rebuild
from tests import factories as f
from tests.conftest import OUTPUT_DIR, TEST_REDIS_URL, missing_service, scratch_database
from tests.integration.workers import WorkerProcess, assert_decisions_kept, wait_for

pytestmark = pytest.mark.integration

CLOSED_REDIS = "redis://127.0.0.1:1/0"


@pytest.fixture(scope="module")
def redis_url():
    try:
        redis.Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        missing_service(f"Redis is not reachable at {TEST_REDIS_URL}: {exc}")
    return TEST_REDIS_URL


@pytest.fixture(scope="module")
def pg_url(pg_admin):
    """A database of these tests' own: workers commit for real, so no shared rollback."""
    with scratch_database(pg_admin, "workers") as url:
        yield url


@pytest.fixture
def db(pg_url, redis_url):
    """This module's PostgreSQL database emptied, and the Redis test database flushed."""
    engine = make_engine(pg_url)
    with engine.begin() as conn:
        names = ", ".join(t.name for t in Base.metadata.sorted_tables)
        conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    redis.Redis.from_url(redis_url).flushdb()
    factory = make_session_factory(engine)
    yield factory
    engine.dispose()


def _settings(tmp_path, pg_url, redis_url, **kw) -> app_config.Settings:
    return app_config.Settings(
        instance_path=tmp_path / "instance",
        database_url=pg_url,
        redis_url=redis_url,
        match_min_score=0.0,
        **kw,
    )


@pytest.fixture
def worker_env(tmp_path, pg_url, redis_url):
    env = {k: v for k, v in os.environ.items() if not k.startswith("COOPMATCH_")}
    env.update(
        DATABASE_URL=pg_url,
        REDIS_URL=redis_url,
        COOPMATCH_INSTANCE_PATH=str(tmp_path),
        COOPMATCH_MATCH_MIN_SCORE="0",
        COOPMATCH_VISIBILITY_TIMEOUT="4",
        COOPMATCH_LOCK_TTL="4",
        COOPMATCH_REBUILD_CHUNK="10",
        COOPMATCH_TASK_MAX_RETRIES="3",
    )
    return env


@pytest.fixture
def start_worker(worker_env, request):
    started: list[WorkerProcess] = []

    def start(name: str = "w1", concurrency: int = 2) -> WorkerProcess:
        log = OUTPUT_DIR / "workers" / f"{request.node.name}-{name}.log"
        log.unlink(missing_ok=True)
        worker = WorkerProcess(worker_env, log, concurrency=concurrency, name=name).start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def _app(settings, factory):
    from web.app import create_app

    return create_app({"TESTING": True}, settings=settings, session_factory=factory)


def _seed_city(session) -> Organization:
    return f.organization(
        session, name="Alcaldía", kind="local_public", side="demand", country="CO"
    )


def _staff_token(session) -> str:
    return f.token(session, "staff")[1]


def test_offer_created_through_the_api_gets_matches_within_seconds(
    db, tmp_path, pg_url, redis_url, start_worker
):
    start_worker()
    with db() as session:
        city = _seed_city(session)
        project = f.project(
            session,
            city,
            title="Agua potable en ladera",
            description="Acueducto comunitario y saneamiento básico.",
        )
        ally = f.organization(session, name="Water Fund", kind="foundation")
        token = _staff_token(session)
    client = _app(_settings(tmp_path, pg_url, redis_url), db).test_client()
    created = client.post(
        "/api/v1/offers",
        headers=f.auth(token),
        json={
            "organization_id": ally.id,
            "title": "Drinking water grants",
            "language": "en",
            "description": "Grants for drinking water supply and sanitation.",
            "modalities": ["grant"],
            "status": "published",
        },
    )
    assert created.status_code == 201
    offer_id = created.get_json()["id"]

    def listed():
        body = client.get(
            "/api/v1/matches", query_string={"offer_id": offer_id}, headers=f.auth(token)
        ).get_json()
        return body["items"]

    items = wait_for(listed, timeout=30, what="the new offer's matches")
    assert items[0]["project"]["id"] == project.id
    offer = client.get(f"/api/v1/offers/{offer_id}", headers=f.auth(token)).get_json()
    assert offer["scoring"] == "scored"


def _seed_corpus(session, projects: int, offers: int) -> None:
    """Many plausible projects and offers, written directly for speed."""
    rng = random.Random(7)
    topics = [
        ("agua potable y saneamiento", "drinking water and sanitation"),
        ("movilidad eléctrica y ciclorrutas", "electric mobility and cycling"),
        ("primera infancia y nutrición", "early childhood and nutrition"),
        ("emprendimiento y empleo juvenil", "youth entrepreneurship and jobs"),
        ("seguridad ciudadana y convivencia", "citizen security and coexistence"),
        ("gestión del riesgo de desastres", "disaster risk management"),
        ("inclusión de población migrante", "inclusion of migrants"),
        ("transparencia y gobierno abierto", "transparency and open government"),
    ]
    city = _seed_city(session)
    allies = [f.organization(session, name=f"Ally {i}", kind="foundation") for i in range(20)]
    session.execute(
        sa.insert(Project),
        [
            {
                "organization_id": city.id,
                "title": f"Proyecto {i}: {es}",
                "description": f"Proyecto de {es} en la comuna {i % 16 + 1} con apoyo comunitario.",
                "language": "es",
                "lines": [],
                "sdgs": [],
                "modalities": ["grant"],
                "budget": 100000,
                "cofinancing": 0,
                "currency": "USD",
                "stage": "idea",
                "status": "open",
            }
            for i, (es, _) in ((i, rng.choice(topics)) for i in range(projects))
        ],
    )
    session.execute(
        sa.insert(Offer),
        [
            {
                "organization_id": rng.choice(allies).id,
                "title": f"Fund {i} for {en}",
                "description": f"Support for {en} projects in Latin American cities, call {i}.",
                "language": "en",
                "modalities": ["grant"],
                "lines": [],
                "sdgs": [],
                "eligible_kinds": [],
                "eligible_countries": [],
                "status": "published",
                "source": "api",
            }
            for i, (_, en) in ((i, rng.choice(topics)) for i in range(offers))
        ],
    )
    session.commit()


def _job(factory, job_id) -> Job:
    with factory() as session:
        return session.get(Job, job_id)


def test_rebuild_survives_a_killed_worker_and_keeps_decisions(
    db, tmp_path, pg_url, redis_url, start_worker
):
    settings = _settings(tmp_path, pg_url, redis_url, rebuild_chunk=10, lock_ttl=4)
    with db() as session:
        _seed_corpus(session, projects=600, offers=900)
        reviewer, _ = f.token(session, "staff")
        first = rebuild.request_rebuild(session)  # no sender installed: stays in the outbox
        rebuild.run_rebuild(session, settings, first.id)
        decided = {}
        for status, match in zip(
            ["accepted", "rejected", "shortlisted"] * 10,
            session.scalars(sa.select(Match).order_by(Match.id).limit(30)),
            strict=False,
        ):
            match.status, match.reviewer_id = status, reviewer.id
            match.decision_reason = f"decided {status}"
            decided[(match.project_id, match.offer_id)] = status
        session.execute(sa.delete(OutboxMessage))
        session.commit()
    worker = start_worker("w1")
    app = _app(settings, db)
    with db() as session:
        job_id = rebuild.request_rebuild(session).id
    wait_for(
        lambda: (_job(db, job_id).done or 0) > 0,
        timeout=60,
        every=0.02,
        what="the rebuild to commit its first chunk",
    )
    worker.kill()
    killed_at = _job(db, job_id)
    assert killed_at.status == "running" and killed_at.done < killed_at.total
    start_worker("w2")
    wait_for(
        lambda: _job(db, job_id).status == "done",
        timeout=120,
        every=0.5,
        what="the rebuild to finish on the new worker",
    )
    with db() as session:
        assert_decisions_kept(session, decided, reviewer.id)
        job = session.get(Job, job_id)
        assert job.done == job.total == 60  # chunks of 10 projects
    assert app is not None


def test_offer_saved_while_broker_is_down_is_scored_once_it_is_back(
    db, tmp_path, pg_url, redis_url, start_worker
):
    with db() as session:
        city = _seed_city(session)
        f.project(
            session,
            city,
            title="Movilidad eléctrica",
            description="Buses eléctricos y ciclorrutas para la ciudad.",
        )
        ally = f.organization(session, name="Mobility Fund", kind="foundation")
        token = _staff_token(session)
    down = _app(_settings(tmp_path, pg_url, CLOSED_REDIS), db).test_client()
    created = down.post(
        "/api/v1/offers",
        headers=f.auth(token),
        json={
            "organization_id": ally.id,
            "title": "Electric bus grants",
            "language": "en",
            "description": "Grants for electric buses and cycling lanes.",
            "modalities": ["grant"],
            "status": "published",
        },
    )
    assert created.status_code == 201
    assert created.get_json()["scoring"] == "waiting"
    offer_id = created.get_json()["id"]
    with db() as session:
        assert session.get(Offer, offer_id) is not None
        assert outbox.pending(session) == 1
    assert down.get("/healthz").status_code == 503

    start_worker()  # the worker sends what waits when it starts
    up = _app(_settings(tmp_path, pg_url, redis_url), db).test_client()

    def scored():
        body = up.get(f"/api/v1/offers/{offer_id}", headers=f.auth(token)).get_json()
        return body["scoring"] == "scored"

    wait_for(scored, timeout=30, what="the waiting offer to be scored")
    # And the periodic sweep picks up what was saved later while the broker was down again.
    down = _app(_settings(tmp_path, pg_url, CLOSED_REDIS), db).test_client()
    later = down.post(
        "/api/v1/offers",
        headers=f.auth(token),
        json={
            "organization_id": ally.id,
            "title": "Cycling lanes fund",
            "language": "en",
            "description": "Support for protected cycling lanes.",
            "modalities": ["grant"],
            "status": "published",
        },
    ).get_json()["id"]
    sender = _app(_settings(tmp_path, pg_url, redis_url), db).extensions["coopmatch"]
    sender.send(task_names.SWEEP_OUTBOX, [])
    wait_for(
        lambda: (
            up.get(f"/api/v1/offers/{later}", headers=f.auth(token)).get_json()["scoring"]
            == "scored"
        ),
        timeout=30,
        what="the sweep to score it",
    )


def test_the_same_task_twice_at_once_gives_the_same_rows(
    db, tmp_path, pg_url, redis_url, start_worker
):
    with db() as session:
        _seed_corpus(session, projects=120, offers=60)
        offer_id = session.scalar(sa.select(Offer.id).order_by(Offer.id))
    start_worker(concurrency=2)
    from workers.celery_app import broker_client

    client = broker_client(_settings(tmp_path, pg_url, redis_url))

    def send():
        return client.send_task(task_names.SCORE_OFFER, args=[offer_id], retry=False)

    results = [send() for _ in range(2)]
    assert [r.get(timeout=60) for r in results] == [results[0].get(), results[0].get()]

    def snapshot():
        with db() as session:
            return sorted(
                session.execute(
                    sa.select(Match.project_id, Match.offer_id, Match.score, Match.status)
                ).all()
            )

    concurrent = snapshot()
    assert concurrent and len({(p, o) for p, o, _, _ in concurrent}) == len(concurrent)
    send().get(timeout=60)
    assert snapshot() == concurrent
