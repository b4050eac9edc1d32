"""The retrain of the learned ranker on the staff's decisions: compared on held-out decisions,
adopted only when better with no guard slice worse, every run recorded."""

from __future__ import annotations

import sqlalchemy as sa

from matcher import ranker as rk
from models import Alliance, AuditEvent, Match, OutboxMessage, RankerRun
from models.enums import MatchStatus, RankerRunState, RankerTrigger
from services import task_names
from services.matching import index_cache, items, ranker_runs, retrain
from services.matching.index_cache import IndexCache
from tests import factories as f
from tests import retrain_world


def _run(session, settings, trigger=RankerTrigger.WEEKLY, user=None):
    run = retrain.request_retrain(session, trigger, user)
    return retrain.run_retrain(session, settings, run.id)


def _first(session, settings, project) -> int:
    index = IndexCache().current(session, settings).index
    return index.rank_demand([items.project_item(project)], 3)[0][0].supply_id


def test_decisions_that_favour_the_money_are_learned_and_adopted(session, settings):
    world = retrain_world.build(session, pattern="amount")
    fresh = retrain_world.new_project(session, world, "water")
    index_cache.fit_version(session, settings)
    assert _first(session, settings, fresh) == world["rich"]["water"].id  # the weighted mean

    run = _run(session, settings)

    assert run.state == RankerRunState.DONE and run.adopted is True, run.reason
    assert run.reason.startswith("adopted: ")
    assert run.n_train_accepted == 75 and run.n_heldout_accepted == 25
    assert run.n_train_rejected == 75 and run.n_heldout_rejected == 25
    assert run.n_heldout_projects == 25
    assert run.candidate_score == 1.0 and run.current_score < 0.8
    assert run.cutoff is not None and run.started_at <= run.finished_at
    assert {s["slice"] for s in run.slices} >= {"lang=es", "line=sustainable_territory"}
    assert any(s["slice"].startswith("kind=") for s in run.slices)
    assert "amount" in run.importance or "score" in run.importance
    assert run.model_id == rk.model_id_of(run.model)
    assert ranker_runs.model_in_use(session).id == run.id
    # a rebuild was asked, and the next fit carries the model: the ranking moved
    assert session.scalar(
        sa.select(OutboxMessage).where(OutboxMessage.task == task_names.REBUILD_MATCHES)
    )
    version = index_cache.fit_version(session, settings)
    assert IndexCache().load(settings, version.id).ranker.model_id == run.model_id
    assert _first(session, settings, fresh) == world["money"]["water"].id
    # nothing decided since: the same decisions teach the same model, which is no better
    again = _run(session, settings)
    assert again.cutoff == run.cutoff and again.adopted is False
    assert again.reason.startswith("refused: not better (1.000 → 1.000")
    assert ranker_runs.model_in_use(session).id == run.id


def _alliances(session) -> list:
    """An alliance for every accepted match, started the day it was accepted."""
    accepted = session.scalars(sa.select(Match).where(Match.status == MatchStatus.ACCEPTED))
    rows = [Alliance(match_id=m.id, started_on=m.decided_at.date()) for m in accepted]
    session.add_all(rows)
    session.commit()
    return rows


def test_both_models_are_measured_with_the_profiles_the_office_had_at_the_cutoff(session, settings):
    # the same office, whose accepted matches became alliances: the funds' records (their
    # projects) teach their profiles what the candidate learns from the decisions, so the
    # weighted mean as served already puts the money first and the candidate is no better
    world = retrain_world.build(session, pattern="amount")
    _alliances(session)
    run = _run(session, settings)
    assert run.state == RankerRunState.DONE and run.adopted is False, run.reason
    assert run.reason.startswith("refused: not better"), run.reason
    assert run.current_score >= 0.9 and run.n_heldout_projects == 25
    # the held-out projects' own alliances (after the cutoff) are not in the records measured on
    records = items.ally_records(session, decided_before=run.cutoff)
    texts = [t for r in records.values() for t in r]
    held_out = world["projects"][75:]
    assert len(texts) == 75 and not any(
        t.startswith(f"{p.title}:") for p in held_out for t in texts
    )
    assert len([t for r in items.ally_records(session).values() for t in r]) == 100


def test_noise_is_refused_and_the_model_in_use_stays(session, settings):
    retrain_world.build(session, pattern="noise")
    run = _run(session, settings)
    assert run.state == RankerRunState.DONE and run.adopted is False
    assert run.reason.startswith("refused: not better"), run.reason
    assert run.candidate_score is not None and run.current_score is not None
    assert run.model is not None  # the candidate is kept with its run, not used
    assert ranker_runs.model_in_use(session) is None
    assert ranker_runs.adopted_ranker(session) is None


def test_a_guard_slice_made_worse_is_refused_naming_it(session, settings):
    retrain_world.build(session, pattern="language split")
    run = _run(session, settings)
    assert run.adopted is False, run.reason
    assert run.candidate_score > run.current_score  # better overall ...
    assert "lang=en" in run.reason and run.reason.startswith("refused: worse on ")  # ... but
    english = next(s for s in run.slices if s["slice"] == "lang=en")
    assert english["guard"] and english["candidate"] < english["current"]


def test_too_few_decisions_are_a_refusal_not_an_error(session, settings):
    world = retrain_world.build(session, n_projects=12, pattern="amount")
    run = _run(session, settings)
    assert run.state == RankerRunState.DONE and run.adopted is False
    assert run.reason == (
        "refused: 12 accepted decisions, 25 needed (20 to learn from and 5 to measure on)"
    )
    assert run.model is None and len(world["projects"]) == 12


def test_requests_coalesce_and_an_admins_request_is_audited(session, settings):
    admin, _ = f.token(session, role="admin")
    first = retrain.request_retrain(session, RankerTrigger.ADMIN, admin)
    again = retrain.request_retrain(session, RankerTrigger.WEEKLY)
    assert again.id == first.id and first.state == RankerRunState.QUEUED
    assert first.requested_by_id == admin.id and first.trigger == RankerTrigger.ADMIN
    sent = session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.task == task_names.RETRAIN)
    ).all()
    assert [m.args for m in sent] == [[first.id]]
    event = session.scalar(
        sa.select(AuditEvent).where(
            AuditEvent.entity_type == "ranker_run", AuditEvent.entity_id == first.id
        )
    )
    assert event.user_id == admin.id and event.action == "retrain_requested"
    done = retrain.run_retrain(session, settings, first.id)
    assert done.state == RankerRunState.DONE  # nothing decided: refused
    later = retrain.request_retrain(session, RankerTrigger.WEEKLY)
    assert later.id != first.id
    assert retrain.run_retrain(session, settings, first.id) is done  # finished: as it is


def test_a_failure_is_recorded_on_the_run(session, settings, monkeypatch):
    retrain_world.build(session, n_projects=40, pattern="amount")

    def broken(*_args, **_kwargs):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(retrain, "_items", broken)
    run = _run(session, settings)
    assert run.state == RankerRunState.FAILED and run.adopted is None
    assert run.reason == "failed: RuntimeError: the disk is full"
    assert session.get(RankerRun, run.id).finished_at is not None


def test_a_model_of_another_matcher_version_is_not_used(session, settings):
    retrain_world.build(session, pattern="amount")
    run = _run(session, settings)
    assert ranker_runs.adopted_ranker(session).model_id == run.model_id
    run.matcher_version = "0.9.0"
    session.commit()
    assert ranker_runs.adopted_ranker(session) is None


def test_a_run_lost_for_hours_does_not_block_the_next(session, settings):
    from datetime import timedelta

    from services import clock

    lost = retrain.request_retrain(session, RankerTrigger.WEEKLY)
    lost.state, lost.started_at = RankerRunState.RUNNING, clock.now() - timedelta(hours=7)
    session.commit()
    fresh = retrain.request_retrain(session, RankerTrigger.WEEKLY)
    assert fresh.id != lost.id and fresh.state == RankerRunState.QUEUED
    session.refresh(lost)
    assert lost.state == RankerRunState.FAILED
    assert lost.reason == "failed: not finished 6 hours after it was started"
    assert retrain.request_retrain(session, RankerTrigger.WEEKLY).id == fresh.id
