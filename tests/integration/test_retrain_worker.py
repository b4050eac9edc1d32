"""The weekly retrain on a real `celery worker` process (Redis, PostgreSQL): decisions that
favour the money are learned, the model is adopted, the rebuild it asks for moves the ranking,
and the run is recorded; decisions made at random are refused."""

from __future__ import annotations

from dataclasses import replace

import pytest
import sqlalchemy as sa

from models import Job, Match, RankerRun
from models.enums import RankerRunState, RankerTrigger
from services import task_names
from services.matching import ranker_runs, rebuild, retrain
from tests import retrain_world
from tests.integration.test_workers import (  # noqa: F401  (fixtures)
    _app,
    _settings,
    db,
    pg_url,
    redis_url,
    start_worker,
    worker_env,
)
from tests.integration.workers import wait_for

pytestmark = pytest.mark.integration


@pytest.fixture
def settings(tmp_path, pg_url, redis_url):  # noqa: F811
    # The workers' instance folder (worker_env): the same index directory for all.
    return replace(_settings(tmp_path, pg_url, redis_url), instance_path=tmp_path)


def _best(factory, project_id: int) -> tuple[int, str]:
    with factory() as session:
        match = session.scalars(
            sa.select(Match)
            .where(Match.project_id == project_id, Match.status == "proposed")
            .order_by(Match.score.desc(), Match.id)
        ).first()
        return match.offer_id, match.matcher_version


def _rebuilt(factory, count: int) -> None:
    """Wait until `count` rebuilds are done."""

    def done():
        with factory() as session:
            return (
                session.scalar(
                    sa.select(sa.func.count())
                    .select_from(Job)
                    .where(Job.kind == rebuild.REBUILD_KIND, Job.status == "done")
                )
                >= count
            )

    wait_for(done, timeout=120, every=0.5, what=f"{count} rebuild(s) done")


def _finished_run(factory) -> RankerRun:
    def finished():
        with factory() as session:
            return session.scalar(
                sa.select(RankerRun).where(
                    RankerRun.state.in_([RankerRunState.DONE, RankerRunState.FAILED])
                )
            )

    return wait_for(finished, timeout=180, every=0.5, what="the retrain finished")


def test_the_weekly_retrain_is_adopted_on_the_worker_and_moves_the_ranking(
    db,  # noqa: F811
    settings,
    start_worker,  # noqa: F811
):
    with db() as session:
        world = retrain_world.build(session, pattern="amount")
        fresh = retrain_world.new_project(session, world, "water")
    start_worker()
    _app(settings, db)  # its sender sends tasks to the broker
    with db() as session:
        rebuild.request_rebuild(session)
    _rebuilt(db, 1)
    before, version_before = _best(db, fresh.id)
    assert before == world["rich"]["water"].id  # the weighted mean prefers the rich text

    # what beat sends once a week
    from workers.celery_app import broker_client

    broker_client(settings).send_task(task_names.WEEKLY_RETRAIN)
    run = _finished_run(db)
    assert run.trigger == RankerTrigger.WEEKLY and run.state == RankerRunState.DONE
    assert run.adopted is True, run.reason
    assert run.candidate_score > run.current_score and run.n_heldout_projects == 25
    # the rebuild the adoption asked for ran on the worker with the model: the ranking moved
    _rebuilt(db, 2)
    after, version_after = _best(db, fresh.id)
    assert after == world["money"]["water"].id
    assert version_after != version_before
    with db() as session:
        assert ranker_runs.model_in_use(session).id == run.id


def test_decisions_made_at_random_are_refused_on_the_worker(
    db,  # noqa: F811
    settings,
    start_worker,  # noqa: F811
):
    with db() as session:
        retrain_world.build(session, pattern="noise")
    start_worker()
    _app(settings, db)
    with db() as session:
        asked = retrain.request_retrain(session, RankerTrigger.ADMIN)
    run = _finished_run(db)
    assert run.id == asked.id and run.state == RankerRunState.DONE
    assert run.adopted is False and run.reason.startswith("refused: not better"), run.reason
    with db() as session:
        assert ranker_runs.model_in_use(session) is None
        assert not session.scalar(sa.select(Job).where(Job.kind == rebuild.REBUILD_KIND))
