"""Scoring writes one row per pair, keeps people's decisions, and never deletes."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from models import IndexVersion, Job, Match, Offer, OutboxMessage, RebuildChunk
from models.enums import JobStatus, MatchStatus, ScoringState
from services import catalog, jobs, locks, outbox, task_names
from services.matching import index_cache, items, rebuild, scoring
from services.matching.index_cache import IndexCache
from tests import factories as f


@pytest.fixture
def corpus(session):
    city = f.organization(
        session, name="Alcaldía", kind="local_public", side="demand", country="CO"
    )
    water = f.project(
        session,
        city,
        title="Agua potable para barrios de ladera",
        description="Acueducto comunitario y saneamiento básico para familias "
        "en asentamientos informales de ladera.",
        lines=["sustainable_territory"],
        modalities=["grant"],
    )
    school = f.project(
        session,
        city,
        title="Alimentación escolar y primera infancia",
        description="Centros de primera infancia con nutrición y educación "
        "inicial para niñas y niños.",
        lines=["human_development"],
        modalities=["technical_assistance"],
    )
    ally = f.organization(session, name="Water Fund", kind="foundation")
    o_water = f.offer(
        session,
        ally,
        title="Drinking water and sanitation grants",
        description="Grants for community water supply and sanitation in "
        "informal hillside settlements.",
        modalities=["grant"],
        lines=["sustainable_territory"],
        sdgs=[6],
    )
    o_child = f.offer(
        session,
        ally,
        title="Early childhood nutrition programme",
        description="Technical assistance for early childhood centres, school meals and nutrition.",
        modalities=["technical_assistance"],
        lines=["human_development"],
        sdgs=[2, 4],
    )
    return {"water": water, "school": school, "o_water": o_water, "o_child": o_child}


@pytest.fixture
def low_threshold(settings):
    from dataclasses import replace

    return replace(settings, match_min_score=0.0)


def matches(session) -> dict[tuple[int, int], Match]:
    session.expire_all()
    return {(m.project_id, m.offer_id): m for m in session.scalars(sa.select(Match))}


def test_score_offer_stores_ranked_matches_with_reasons(session, corpus, low_threshold):
    stored = scoring.score_offer(session, low_threshold, corpus["o_water"].id)
    assert stored >= 1
    rows = matches(session)
    best = rows[(corpus["water"].id, corpus["o_water"].id)]
    assert best.status == MatchStatus.PROPOSED
    assert 0 < best.score <= 1 and "text" in best.components
    assert best.explanation["en"] and best.explanation["es"]
    other = rows.get((corpus["school"].id, corpus["o_water"].id))
    assert other is None or other.score < best.score
    session.refresh(corpus["o_water"])
    assert corpus["o_water"].scoring_state == ScoringState.SCORED


def test_rescoring_keeps_decisions_and_one_row_per_pair(session, corpus, low_threshold):
    reviewer, _ = f.token(session, "staff")
    scoring.score_project(session, low_threshold, corpus["water"].id)
    pair = (corpus["water"].id, corpus["o_water"].id)
    row = matches(session)[pair]
    row.status, row.reviewer_id, row.decision_reason = "rejected", reviewer.id, "not eligible"
    row.matcher_version = "old"
    session.commit()
    for _ in range(3):
        scoring.score_project(session, low_threshold, corpus["water"].id)
        scoring.score_offer(session, low_threshold, corpus["o_water"].id)
    rows = matches(session)
    again = rows[pair]
    assert again.status == "rejected" and again.reviewer_id == reviewer.id
    assert again.decision_reason == "not eligible" and again.matcher_version != "old"
    count = session.scalar(sa.select(sa.func.count()).select_from(Match))
    assert count == len(rows)


def test_pairs_that_drop_out_are_withdrawn_not_deleted(session, corpus, settings):
    from dataclasses import replace

    scoring.score_project(session, replace(settings, match_min_score=0.0), corpus["water"].id)
    before = matches(session)
    decided = before[(corpus["water"].id, corpus["o_water"].id)]
    decided.status, decided.decision_reason = "shortlisted", "promising"
    session.commit()
    scoring.score_project(session, replace(settings, match_min_score=0.999), corpus["water"].id)
    after = matches(session)
    assert set(after) == set(before)
    assert after[(corpus["water"].id, corpus["o_water"].id)].status == "shortlisted"
    assert all(
        m.status == "withdrawn"
        for k, m in after.items()
        if k != (corpus["water"].id, corpus["o_water"].id)
    )


def test_rebuild_scores_everything_with_progress(session, corpus, low_threshold):
    job = rebuild.request_rebuild(session)  # in-process on the embedded default
    job = rebuild.run_rebuild(session, low_threshold, job.id) if job.status != "done" else job
    session.refresh(job)
    assert job.status == JobStatus.DONE and job.total == job.done == 1  # chunks of 200
    rows = matches(session)
    assert (corpus["water"].id, corpus["o_water"].id) in rows
    assert (corpus["school"].id, corpus["o_child"].id) in rows
    assert rebuild.run_rebuild(session, low_threshold, job.id).status == JobStatus.DONE


def test_every_chunk_keeps_its_share_of_more_like_this(session, corpus, low_threshold):
    from dataclasses import replace

    from models import OfferNeighbours, RebuildChunk

    extra = [f.offer(session, title=f"Water and sanitation {n}") for n in range(3)]
    settings = replace(low_threshold, rebuild_chunk=1)  # two projects: two chunks
    job = rebuild.request_rebuild(session)
    plan = rebuild.start_rebuild(session, settings, job.id, IndexCache())
    assert plan.chunks == 2

    def kept():
        session.expire_all()
        return {n.offer_id: n for n in session.scalars(sa.select(OfferNeighbours))}

    rebuild.run_chunk(session, settings, job.id, plan.version, 0, IndexCache())
    assert len(kept()) == 3  # five offers over two chunks: three, then two
    rebuild.run_chunk(session, settings, job.id, plan.version, 1, IndexCache())
    offers = [corpus["o_water"], corpus["o_child"], *extra]
    assert set(kept()) == {o.id for o in offers}
    assert corpus["o_water"].id in kept()[extra[0].id].neighbour_ids
    rebuild.finish_rebuild(session, settings, job.id, IndexCache())
    assert [c.chunk for c in session.scalars(sa.select(RebuildChunk))] == [0, 1]


def test_only_one_rebuild_at_a_time_and_requests_meanwhile_coalesce(session, corpus, low_threshold):
    first = rebuild.request_rebuild(session, dedupe_key="a")
    assert rebuild.request_rebuild(session, dedupe_key="a").id == first.id
    assert rebuild.request_rebuild(session).id == first.id  # not started yet: the same one
    assert locks.acquire(session, rebuild.REBUILD_LOCK, "someone-else", ttl=60)
    waiting = rebuild.run_rebuild(session, low_threshold, first.id)
    assert waiting.status == JobStatus.QUEUED and "someone-else" in waiting.detail
    locks.release(session, rebuild.REBUILD_LOCK, "someone-else")
    assert locks.acquire(session, rebuild.REBUILD_LOCK, first.id, ttl=60)
    with pytest.raises(rebuild.Busy):
        rebuild.run_rebuild(session, low_threshold, first.id)
    locks.release(session, rebuild.REBUILD_LOCK, first.id)


def test_a_request_while_a_rebuild_runs_is_recorded_once_and_runs_after(
    session, corpus, low_threshold
):
    sent = []
    session.info[outbox.SENDER_KEY] = lambda task, args, countdown=None: sent.append(args[0])
    try:
        running = rebuild.request_rebuild(session)
        assert sent == [running.id]
        plan = rebuild.start_rebuild(session, low_threshold, running.id, IndexCache())
        later = rebuild.request_rebuild(session)
        assert rebuild.request_rebuild(session).id == later.id != running.id
        assert later.status == JobStatus.QUEUED and sent == [running.id]  # not sent yet
        for chunk in range(plan.chunks):
            rebuild.run_chunk(session, low_threshold, running.id, plan.version, chunk, IndexCache())
        with pytest.raises(rebuild.Unfinished):  # nothing is finished before its chunks
            session.execute(sa.delete(RebuildChunk))
            session.commit()
            rebuild.finish_rebuild(session, low_threshold, running.id)
        for chunk in range(plan.chunks):
            rebuild.run_chunk(session, low_threshold, running.id, plan.version, chunk, IndexCache())
        assert rebuild.finish_rebuild(session, low_threshold, running.id).status == "done"
        assert sent == [running.id, later.id]  # the coalesced request runs once, after
    finally:
        session.info.pop(outbox.SENDER_KEY, None)


def test_a_chunk_run_twice_writes_its_rows_once(session, corpus, low_threshold):
    job = rebuild.request_rebuild(session)
    plan = rebuild.start_rebuild(session, low_threshold, job.id, IndexCache())
    assert rebuild.run_chunk(session, low_threshold, job.id, plan.version, 0, IndexCache()) > 0
    before = matches(session)
    assert rebuild.run_chunk(session, low_threshold, job.id, plan.version, 0, IndexCache()) == 0
    assert matches(session).keys() == before.keys()
    session.refresh(job)
    assert job.done == job.total == 1


def test_expired_lease_can_be_taken_over(session):
    assert locks.acquire(session, "x", "a", ttl=-1)
    assert locks.acquire(session, "x", "b", ttl=60)
    assert not locks.acquire(session, "x", "c", ttl=60)
    assert locks.holder(session, "x") == "b"


def test_expire_offers_closes_and_withdraws_only_undecided(session, corpus, low_threshold):
    scoring.score_offer(session, low_threshold, corpus["o_water"].id)
    rows = [m for m in matches(session).values() if m.offer_id == corpus["o_water"].id]
    rows[0].status = "accepted"
    session.commit()
    corpus["o_water"].deadline = date.today() - timedelta(days=3)
    session.commit()
    assert scoring.expire_offers(session, low_threshold) == 1
    session.refresh(corpus["o_water"])
    assert corpus["o_water"].status == "closed"
    statuses = sorted(
        m.status for m in matches(session).values() if m.offer_id == corpus["o_water"].id
    )
    assert statuses[0] == "accepted" and set(statuses[1:]) <= {"withdrawn"}
    assert scoring.expire_offers(session, low_threshold) == 0


def test_broker_down_keeps_the_task_in_the_outbox(session, corpus):
    def refuse(task, args, countdown=None):
        raise ConnectionError("broker unreachable")

    sent = []
    session.info[outbox.SENDER_KEY] = refuse
    try:
        offer = catalog.create(
            session,
            Offer,
            {
                "organization_id": corpus["o_water"].organization_id,
                "title": "New water call",
                "description": "Water and sanitation grants.",
                "language": "en",
                "modalities": ["grant"],
                "status": "published",
            },
        )
        assert offer.id and offer.scoring_state == ScoringState.WAITING
        waiting = session.scalars(sa.select(OutboxMessage)).all()
        assert [(m.task, m.args) for m in waiting] == [("scoring.score_offer", [offer.id])]
        assert waiting[0].attempts == 1 and "unreachable" in waiting[0].last_error
        session.info[outbox.SENDER_KEY] = lambda task, args, countdown=None: sent.append(
            (task, args)
        )
        assert outbox.dispatch(session) == 1
        assert sent == [("scoring.score_offer", [offer.id])]
        session.refresh(offer)
        assert offer.scoring_state == ScoringState.QUEUED
        assert outbox.pending(session) == 0
    finally:
        session.info.pop(outbox.SENDER_KEY, None)


def test_final_failure_is_recorded_for_staff(session, corpus):
    job = jobs.record_failure(
        session,
        "scoring.score_offer",
        [corpus["o_water"].id],
        "OperationalError: database went away",
    )
    session.refresh(corpus["o_water"])
    assert corpus["o_water"].scoring_state == ScoringState.FAILED
    assert job.status == "failed" and job.subject == f"offer:{corpus['o_water'].id}"


def test_two_beats_sending_the_nightly_rebuild_make_one_job(app, session, corpus):
    runtime = app.extensions["coopmatch"]  # its tasks run in-process on the embedded default
    runtime.send(task_names.NIGHTLY_REBUILD, [])
    runtime.send(task_names.NIGHTLY_REBUILD, [])
    jobs = session.scalars(sa.select(Job).where(Job.kind == "rebuild")).all()
    assert len(jobs) == 1 and jobs[0].dedupe_key.startswith("nightly-rebuild:")
    assert jobs[0].status == JobStatus.DONE  # in-process on the embedded default


def _alliance(session, offer, project, started_on, stage="in_execution"):
    from models import Alliance

    match = f.match(session, project, offer, status="accepted")
    session.add(Alliance(match_id=match.id, stage=stage, started_on=started_on))
    session.commit()


@pytest.fixture
def records(session):
    """Two allies with a record of six past alliances each, and one generic open call each."""
    city = f.organization(
        session, name="Secretaría de Salud", kind="local_public", side="demand", country="CO"
    )
    allies = {}
    for name, topic, line in (
        ("Health Fund", "vaccination campaign and cold chain for clinics", "social_inclusion"),
        ("Schools Fund", "teacher training and school meals", "human_development"),
    ):
        ally = f.organization(session, name=name, kind="foundation")
        past = f.offer(
            session, ally, title=f"{name} 2020 call", status="closed", deadline=date(2020, 12, 31)
        )
        for k in range(6):
            project = f.project(
                session,
                city,
                title=f"Proyecto {k}: {topic}",
                description=f"Past project on {topic} in district {k}.",
                status="closed",
                lines=[line],
                sdgs=[3],
            )
            _alliance(session, past, project, date(2020, 1, 1) + timedelta(days=k))
        allies[name] = f.offer(
            session,
            ally,
            title="Open call for cities",
            description="Support for local governments in Latin America.",
        )
    need = f.project(
        session,
        city,
        title="Vacunación en zonas rurales",
        description="Vaccination campaign with a cold chain for rural clinics.",
        lines=["social_inclusion"],
    )
    return {
        "health": allies["Health Fund"],
        "schools": allies["Schools Fund"],
        "need": need,
        "city": city,
    }


def test_allies_records_teach_the_matcher_what_they_fund(session, records, low_threshold):
    texts = items.ally_records(session)[records["health"].organization_id]
    assert len(texts) == 6 and texts[0].startswith("Proyecto 5: vaccination")  # newest first
    scoring.score_project(session, low_threshold, records["need"].id)
    rows = matches(session)
    health = rows[(records["need"].id, records["health"].id)]
    schools = rows[(records["need"].id, records["schools"].id)]
    assert health.components["profile"] > schools.components["profile"]
    assert health.score > schools.score  # the two offers' own texts are the same
    assert any("6 past activities" in x for x in health.explanation["en"])


def test_the_lines_of_an_allys_projects_are_its_history(session, records, low_threshold):
    health_id = records["health"].organization_id
    dropped = f.project(session, records["city"], title="Dropped", lines=["governance"])
    _alliance(session, records["health"], dropped, date(2026, 1, 1), stage="dropped")
    history = items.ally_history(session)
    assert history[health_id] == [{"lines": ["social_inclusion"], "sdgs": [3]}] * 6  # no drop
    assert len(history[health_id]) == len(items.ally_records(session)[health_id])
    scoring.score_project(session, low_threshold, records["need"].id)
    rows = matches(session)
    health = rows[(records["need"].id, records["health"].id)]
    schools = rows[(records["need"].id, records["schools"].id)]
    assert health.components["history"] > schools.components["history"]
    line = "6 of the 6 projects allied with it share this project's line social inclusion"
    assert line in health.explanation["en"]


def test_every_offer_of_an_ally_shares_its_profile(session, records, low_threshold):
    fresh = f.offer(
        session,
        records["health"].organization,
        title="Another open call",
        description="Support for local governments in Latin America.",
    )
    scoring.score_offer(session, low_threshold, fresh.id)
    assert "profile" in matches(session)[(records["need"].id, fresh.id)].components


def test_a_new_alliance_makes_a_new_version(session, records, low_threshold):
    first = index_cache.fit_version(session, low_threshold)
    assert index_cache.fit_version(session, low_threshold).id == first.id  # never refit
    project = f.project(session, records["city"], title="Otro proyecto", status="closed")
    _alliance(session, records["schools"], project, date(2026, 1, 1))
    assert index_cache.fit_version(session, low_threshold).id != first.id


def test_versions_are_saved_loaded_by_id_and_pruned(session, corpus, low_threshold):
    cache = IndexCache()
    first = cache.current(session, low_threshold)  # none yet: fitted and saved here
    assert first.version == index_cache.latest(session).id
    path = index_cache.version_path(low_threshold, first.version)
    assert (path / "meta.json").exists() and list((path / "arrays").glob("*.npy"))
    assert cache.current(session, low_threshold).index is first.index  # loaded once
    assert IndexCache().load(low_threshold, first.version).version == first.version
    made = [first.version]
    for k in range(3):
        f.project(session, corpus["water"].organization, title=f"Proyecto de agua {k}")
        made.append(index_cache.fit_version(session, low_threshold).id)
    rows = {v.id: v.state for v in session.scalars(sa.select(IndexVersion))}
    assert [rows[v] for v in made] == ["pruned", "pruned", "ready", "ready"]
    kept = sorted(p.name for p in low_threshold.index_path.iterdir())
    assert kept == sorted(made[2:])
    assert cache.current(session, low_threshold).version == made[-1]


def test_a_project_and_an_offer_added_after_the_fit_meet_without_a_refit(
    session, corpus, low_threshold
):
    from dataclasses import replace

    settings = replace(low_threshold, refit_drift=100.0)  # never refit on drift here
    scoring.score_project(session, settings, corpus["water"].id)  # fits the first version
    fitted = index_cache.latest(session).id
    city = corpus["water"].organization
    project = f.project(
        session,
        city,
        title="Movilidad eléctrica y ciclorrutas",
        description="Buses eléctricos y ciclorrutas protegidas para la ciudad.",
        modalities=["grant"],
    )
    offer = f.offer(
        session,
        corpus["o_water"].organization,
        title="Electric mobility grants",
        description="Grants for electric buses and protected cycling lanes in cities.",
        modalities=["grant"],
    )
    scoring.score_offer(session, settings, offer.id)
    rows = matches(session)
    best = max(
        (m for (p, o), m in rows.items() if o == offer.id and m.status == "proposed"),
        key=lambda m: m.score,
    )
    assert best.project_id == project.id and best.matcher_version == fitted
    scoring.score_project(session, settings, project.id)
    assert (project.id, offer.id) in matches(session)
    assert index_cache.latest(session).id == fitted  # no refit
    assert session.scalar(sa.select(sa.func.count()).select_from(Job)) == 0


def test_offers_closed_after_the_fit_are_left_out(session, corpus, low_threshold):
    scoring.score_offer(session, low_threshold, corpus["o_water"].id)  # fits
    corpus["o_water"].status = "closed"
    session.commit()
    scoring.score_project(session, low_threshold, corpus["water"].id)
    water = corpus["water"].id
    live = [k for k, m in matches(session).items() if m.status == "proposed" and k[0] == water]
    assert live == [(water, corpus["o_child"].id)]  # the closed offer's fitted row is left out


def test_drift_asks_for_one_rebuild(session, corpus, low_threshold):
    from dataclasses import replace

    settings = replace(low_threshold, refit_drift=0.3)
    scoring.score_project(session, settings, corpus["water"].id)  # 4 items fitted
    city = corpus["water"].organization
    first = f.project(session, city, title="Huertas urbanas", description="Agricultura urbana.")
    scoring.score_project(session, settings, first.id)  # 1 new of 4: 25%, no refit
    assert session.scalar(sa.select(sa.func.count()).select_from(Job)) == 0
    second = f.project(session, city, title="Reciclaje", description="Reciclaje en barrios.")
    scoring.score_project(session, settings, second.id)  # 2 of 4: over 30%
    scoring.score_project(session, settings, second.id)  # asked again: the same job
    queued = session.scalars(sa.select(Job).where(Job.kind == "rebuild")).all()
    assert [j.status for j in queued] == [JobStatus.QUEUED]
    rebuild.run_rebuild(session, settings, queued[0].id)
    latest = index_cache.latest(session)
    assert latest.n_projects == 4 and latest.n_offers == 2  # the refit holds them all


def test_a_failed_rebuild_lets_the_next_one_run(session, corpus, low_threshold):
    sent = []
    session.info[outbox.SENDER_KEY] = lambda task, args, countdown=None: sent.append(args[0])
    try:
        running = rebuild.request_rebuild(session)
        rebuild.start_rebuild(session, low_threshold, running.id, IndexCache())
        later = rebuild.request_rebuild(session)
        failed = rebuild.fail_rebuild(session, running.id, "LookupError: gone")
        assert failed.status == JobStatus.FAILED and "LookupError" in failed.detail
        assert locks.holder(session, rebuild.REBUILD_LOCK) is None
        assert sent == [running.id, later.id]
        assert rebuild.fail_rebuild(session, running.id, "again").detail == failed.detail
    finally:
        session.info.pop(outbox.SENDER_KEY, None)
