# ruff: noqa: F811  (the fixtures db, pg_url and redis_url come from test_workers)
"""Feeds run by a real `celery worker` against a local HTTP server with ETags, on PostgreSQL
and Redis: the scheduled look for due feeds, conditional GET (304: nothing re-parsed), a 503
retried, one run at a time, malformed answers failing the run with nothing half-imported, and
new offers scored through the outbox."""

from __future__ import annotations

import os
import shutil
from datetime import timedelta

import pytest
import sqlalchemy as sa

import config as app_config
from models import AllyActivity, Feed, FeedRun, Offer
from models.enums import FeedRunState, ScoringState
from services import clock, task_names
from tests.conftest import OUTPUT_DIR
from tests.integration.test_workers import db, pg_url, redis_url  # noqa: F401  (fixtures)
from tests.integration.workers import WorkerProcess, wait_for
from tests.unit.feeds.feed_server import FeedServer
from workers.celery_app import broker_client

pytestmark = pytest.mark.integration

IAF = "iati/iaf_colombia.xml"
WORLD_BANK = "world_bank/world_bank_projects.json"
HORIZON = "eu_ft/topic_details_HORIZON-WIDERA-2025-ACCESS-01-01-two-stage.json"


@pytest.fixture
def files(tmp_path, shared_feeds):
    """The shared files as the server's root, plus malformed variants written here."""
    root = tmp_path / "served"
    for rel in (IAF, WORLD_BANK, HORIZON, "iati/sida_dportal_49.xml"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(shared_feeds / rel, root / rel)
    # The call's deadlines moved to 2033 and 2034, so that it is open and gets scored.
    topic = (root / HORIZON).read_text()
    (root / HORIZON).write_text(
        topic.replace("1744236000000", "2000000000000").replace("1768863600000", "2030000000000")
    )
    whole = (shared_feeds / "iati/sida_dportal_49.xml").read_bytes()
    (root / "bad").mkdir()
    (root / "bad/truncated.xml").write_bytes(whole[: int(len(whole) * 0.6)])
    (root / "bad/not_eu.json").write_text('{"projects": {"P1": {"id": "P1"}}}')
    return root


@pytest.fixture
def server(files):
    running = FeedServer(files).start()
    yield running
    running.stop()


@pytest.fixture
def worker(tmp_path, pg_url, redis_url, request):
    env = {k: v for k, v in os.environ.items() if not k.startswith("COOPMATCH_")}
    env.update(
        DATABASE_URL=pg_url,
        REDIS_URL=redis_url,
        COOPMATCH_INSTANCE_PATH=str(tmp_path / "worker"),
        COOPMATCH_FEED_BACKOFF="0.2",
        COOPMATCH_MATCH_MIN_SCORE="0",
    )
    log = OUTPUT_DIR / "workers" / f"{request.node.name}.log"
    log.unlink(missing_ok=True)
    started = WorkerProcess(env, log, concurrency=2, name="feeds").start()
    yield started
    started.stop()


def _send(pg_url, redis_url, tmp_path, task: str, args: list) -> None:
    settings = app_config.Settings(
        instance_path=tmp_path / "client", database_url=pg_url, redis_url=redis_url
    )
    broker_client(settings).send_task(task, args=args)


def _runs(db, feed_id: int) -> list[FeedRun]:
    with db() as session:
        return list(
            session.scalars(
                sa.select(FeedRun).where(FeedRun.feed_id == feed_id).order_by(FeedRun.id)
            )
        )


def _finished(db, feed_id: int, n: int):
    def check():
        done = [r for r in _runs(db, feed_id) if r.state != FeedRunState.RUNNING]
        return done if len(done) >= n else None

    return check


def _count(db, model, *where) -> int:
    with db() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def _make_due(db, feed_id: int) -> None:
    with db() as session:
        session.get(Feed, feed_id).next_run_at = clock.now() - timedelta(minutes=1)
        session.commit()


def test_scheduled_feeds_run_on_a_real_worker(db, server, worker, pg_url, redis_url, tmp_path):
    with db() as session:
        iaf = Feed(name="iaf", kind="iati", url=f"{server.url}/files/{IAF}", query={})
        flaky = Feed(
            name="wb", kind="world_bank", url=f"{server.url}/flaky/1/{WORLD_BANK}", query={}
        )
        calls = Feed(
            name="horizon",
            kind="eu_ft",
            url=f"{server.url}/files/{HORIZON}",
            query={"method": "GET"},
            publish_at_once=True,
        )
        session.add_all([iaf, flaky, calls])
        session.commit()
        ids = (iaf.id, flaky.id, calls.id)
    # What beat sends every minute: every feed is due (never run).
    _send(pg_url, redis_url, tmp_path, task_names.FEEDS_RUN_DUE, [])
    for feed_id in ids:
        wait_for(_finished(db, feed_id, 1), timeout=120, what=f"feed {feed_id}'s run")
    first_iaf, first_wb, first_eu = (_runs(db, i)[0] for i in ids)
    assert (first_iaf.state, first_iaf.summary()) == (
        FeedRunState.SUCCEEDED,
        "new=387 updated=0 unchanged=0 closed=0 skipped=0 failed=0",
    )
    assert first_iaf.trigger == "schedule" and first_iaf.duration_ms > 0
    # The World Bank answer was a 503 first; the retry read it.
    assert (first_wb.state, first_wb.new) == (FeedRunState.SUCCEEDED, 500)
    assert server.hits(f"/flaky/1/{WORLD_BANK}") == 2
    assert _count(db, AllyActivity) == 887
    # The call was published at once and scored by the worker through the outbox.
    assert (first_eu.state, first_eu.new) == (FeedRunState.SUCCEEDED, 1)

    def scored():
        with db() as session:
            offer = session.scalars(sa.select(Offer)).one()
            return offer.scoring_state == ScoringState.SCORED and offer

    offer = wait_for(scored, timeout=60, what="the new offer scored")
    assert offer.source == "eu_ft" and offer.status == "published"

    # Not due again: the schedule sends nothing. Due again: a conditional GET, a 304, nothing
    # parsed, nothing changed.
    _send(pg_url, redis_url, tmp_path, task_names.FEEDS_RUN_DUE, [])
    _make_due(db, ids[0])
    _send(pg_url, redis_url, tmp_path, task_names.FEEDS_RUN_DUE, [])
    wait_for(_finished(db, ids[0], 2), timeout=60, what="the second run")
    second = _runs(db, ids[0])[1]
    assert second.state == FeedRunState.NOT_MODIFIED and second.new == second.unchanged == 0
    conditional = [h for m, p, h in server.requests if p == f"/files/{IAF}"][-1]
    assert conditional.get("If-None-Match")
    assert len(_runs(db, ids[1])) == len(_runs(db, ids[2])) == 1

    # One run at a time: the same scheduled run sent twice at once runs once.
    _make_due(db, ids[0])
    for _ in range(2):
        _send(pg_url, redis_url, tmp_path, task_names.FEEDS_RUN, [ids[0], "schedule"])
    wait_for(_finished(db, ids[0], 3), timeout=60, what="the third run")
    wait_for(lambda: "not run" in worker.log_path.read_text(), timeout=30, what="the skip")
    assert len(_runs(db, ids[0])) == 3


def test_malformed_answers_fail_the_run_and_store_nothing(
    db, server, worker, pg_url, redis_url, tmp_path
):
    with db() as session:
        cut = Feed(name="cut", kind="iati", url=f"{server.url}/files/bad/truncated.xml", query={})
        wrong = Feed(
            name="wrong",
            kind="eu_ft",
            url=f"{server.url}/files/bad/not_eu.json",
            query={"method": "GET"},
        )
        gone = Feed(name="gone", kind="iati", url=f"{server.url}/status/503", query={})
        session.add_all([cut, wrong, gone])
        session.commit()
        ids = (cut.id, wrong.id, gone.id)
    _send(pg_url, redis_url, tmp_path, task_names.FEEDS_RUN_DUE, [])
    runs = [wait_for(_finished(db, i, 1), timeout=120, what=f"feed {i}")[0] for i in ids]
    assert all(r.state == FeedRunState.FAILED for r in runs)
    assert "truncated" in runs[0].first_error
    assert runs[1].first_error.startswith("not an EU Funding & Tenders search response")
    assert "503" in runs[2].first_error
    assert all(r.new == 0 and r.failed >= 1 for r in runs)
    # The truncated file's first 60 activities were read before the end came: none is kept.
    assert _count(db, AllyActivity) == 0 and _count(db, Offer) == 0
    with db() as session:
        feeds = {f.id: f for f in session.scalars(sa.select(Feed))}
        assert all(f.running_since is None and f.next_run_at for f in feeds.values())
        assert feeds[ids[0]].etag is None  # a failed run does not keep the validators
