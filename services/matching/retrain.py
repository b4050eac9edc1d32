"""Learning from the staff's decisions: the retrain of the learned ranker, weekly and on request.

A run reads every decided match (accepted and rejected, with their reasons), splits them in
time at a cutoff (the newest DEFAULT_HELD_OUT_SHARE of the accepted decisions and everything
decided with them are held out), fits one index over the open items and the items of every
decided pair, learns a candidate ranker from the decisions before the cutoff, and ranks the
held-out projects with the model in use and with the candidate (MRR@10 of the offers accepted
for them after the cutoff; offers decided for them before it are left out of their ranking). The
cutoff is never before the model in use's own: both are measured on decisions neither saw.
The candidate is adopted only if it beats the model in use overall (by DEFAULT_MIN_GAIN at
least, and with the 95 % paired bootstrap interval of the gain, projects resampled, above 0: a
few dozen held-out projects make chance gains of several points) and no guard slice (project
language, each of its lines, the accepted ally's kind) with at least DEFAULT_SLICE_MIN held-out
projects gets worse. Every run is recorded in `ranker_runs`, adopted or not and why; after an
adoption a rebuild is asked, and every later fit is given the adopted model
(`index_cache._fit_args`), so every index version carries it.

The candidate is learned on an index without allies' records (their alliances are these very
decisions: a profile learned from them would find its own answers, and a ranker trained on such
pairs leans on it). Both models are then measured on an index with the records the office had at
the cutoff (alliances of matches accepted before it, and the feeds' activities), as every fit
serves them: a ranker learned without profiles may rank worse than the weighted mean that uses
them, and must then be refused. Deadlines are left out (a decision was taken while its offer
was open).
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from config import Settings
from matcher import MatchIndex, MatchWeights
from matcher import ranker as rk
from matcher._version import __version__ as matcher_version
from matcher.evaluate import paired_interval
from models import Match, Offer, Project, RankerRun, User
from models.enums import MatchStatus, RankerRunState, RankerTrigger
from services import audit, clock, outbox, task_names
from services.db import committing
from services.errors import NotFound
from services.matching import rebuild
from services.matching.items import (
    ally_history,
    ally_records,
    offer_item,
    open_offers,
    open_projects,
    project_item,
    teaching_rejections,
)
from services.matching.ranker_runs import adopted_ranker, model_in_use

log = logging.getLogger(__name__)

DEFAULT_HELD_OUT_SHARE = 0.25  # the newest quarter of the accepted decisions is held out
DEFAULT_MIN_HELD_OUT = 5  # held-out projects with an accepted offer, at least
DEFAULT_SLICE_MIN = 5  # a guard slice counts from this many held-out projects
DEFAULT_MIN_GAIN = 0.005  # MRR@10 the candidate must gain over the model in use
DEFAULT_TOLERANCE = 1e-9  # a slice is worse when its MRR drops by more than rounding
DEFAULT_STALE = timedelta(hours=6)  # a run queued or running this long is taken as lost


@dataclass(frozen=True)
class Decision:
    project_id: int
    offer_id: int
    accepted: bool
    reason: str | None
    decided_at: datetime


@dataclass(frozen=True)
class Measure:
    """Mean reciprocal rank of the model in use and of the candidate over some projects, and
    the candidate's gain with its 95 % paired bootstrap interval (projects resampled)."""

    n: int
    current: float
    candidate: float
    interval: tuple[float, float, float] = (0.0, 0.0, 0.0)


def request_retrain(
    session: Session, trigger: RankerTrigger, user: User | None = None
) -> RankerRun:
    """Record a queued retrain and send it to a worker after the commit; a run already queued
    or running is returned instead (requests coalesce), unless it has waited DEFAULT_STALE: then
    it is marked failed and a new one is asked. An admin's request is audited."""
    waiting = session.scalar(
        sa.select(RankerRun)
        .where(RankerRun.state.in_([RankerRunState.QUEUED, RankerRunState.RUNNING]))
        .order_by(RankerRun.id)
        .limit(1)
    )
    if waiting is not None:
        since = clock.aware(waiting.started_at or waiting.created_at)
        if clock.now() - since < DEFAULT_STALE:
            return waiting
        with committing(session):  # its worker died and no other took it: let a new one run
            waiting.state, waiting.finished_at = RankerRunState.FAILED, clock.now()
            waiting.reason = (
                f"failed: not finished {DEFAULT_STALE.total_seconds() / 3600:.0f} hours after it "
                f"was {'started' if waiting.started_at else 'asked for'}"
            )
    with committing(session):
        run = RankerRun(
            trigger=trigger,
            requested_by_id=user.id if user is not None else None,
            state=RankerRunState.QUEUED,
            slices=[],
            importance={},
        )
        session.add(run)
        session.flush()
        outbox.add(session, task_names.RETRAIN, [run.id])
        if user is not None:
            audit.record(
                session,
                user.id,
                "ranker_run",
                run.id,
                "retrain_requested",
                None,
                {"trigger": str(trigger)},
            )
    outbox.dispatch(session)
    session.refresh(run)
    return run


def read_decisions(session: Session) -> list[Decision]:
    """Every accepted or rejected match with the time it was decided, oldest first."""
    rows = session.execute(
        sa.select(
            Match.project_id,
            Match.offer_id,
            Match.status,
            Match.decision_reason,
            Match.decided_at,
        )
        .where(
            Match.status.in_([MatchStatus.ACCEPTED, MatchStatus.REJECTED]),
            Match.decided_at.is_not(None),
        )
        .order_by(Match.decided_at, Match.id)
    ).all()
    return [
        Decision(p, o, status == MatchStatus.ACCEPTED, reason, clock.aware(at))
        for p, o, status, reason, at in rows
    ]


def request_weekly_retrain(session: Session) -> RankerRun:
    """The weekly schedule's request (beat entry `weekly-retrain`)."""
    return request_retrain(session, RankerTrigger.WEEKLY)


def cutoff_of(decisions: list[Decision], share: float = DEFAULT_HELD_OUT_SHARE) -> datetime | None:
    """The time from which decisions are held out: that of the newest `share` of the accepted
    ones (None: no accepted decision)."""
    accepted = [d.decided_at for d in decisions if d.accepted]
    if not accepted:
        return None
    return accepted[min(len(accepted) - 1, math.floor(len(accepted) * (1 - share)))]


def run_retrain(session: Session, settings: Settings, run_id: int) -> RankerRun:
    """Run a queued retrain (see the module's docstring); a run already finished is returned
    as it is. A failure is recorded on the run (state failed, the error as its reason) and
    logged, not raised: the next week's run tries again."""
    run = session.get(RankerRun, run_id)
    if run is None:
        raise NotFound(f"no retrain {run_id}")
    if run.state in (RankerRunState.DONE, RankerRunState.FAILED):
        return run
    with committing(session):
        run.state, run.started_at = RankerRunState.RUNNING, clock.now()
        run.matcher_version = matcher_version
    try:
        result = _compare(session, settings)
    except Exception as exc:  # noqa: BLE001 - recorded on the run, where staff see it
        log.exception("retrain %s failed", run_id)
        session.rollback()
        with committing(session):
            run.state, run.finished_at = RankerRunState.FAILED, clock.now()
            run.reason = f"failed: {type(exc).__name__}: {exc}"[:2000]
        return run
    with committing(session):
        for name, value in result.items():
            setattr(run, name, value)
        run.state, run.finished_at = RankerRunState.DONE, clock.now()
    if run.adopted:
        rebuild.request_rebuild(session)  # every index version from now on carries the model
    return run


def _compare(session: Session, settings: Settings) -> dict:
    """Fit the candidate and measure it against the model in use; the run's new fields."""
    decisions = read_decisions(session)
    cutoff = cutoff_of(decisions)
    in_use = model_in_use(session)
    if cutoff is not None and in_use is not None and in_use.cutoff is not None:
        # the model in use learned from what came before its own cutoff: measure both on
        # decisions it never saw
        cutoff = max(cutoff, clock.aware(in_use.cutoff))
    n_accepted = sum(d.accepted for d in decisions)
    needed = rk.DEFAULT_RANKER_MIN_ACCEPTED + DEFAULT_MIN_HELD_OUT
    if cutoff is None or n_accepted < needed:
        return {
            "cutoff": cutoff,
            "n_train_accepted": n_accepted,
            "n_train_rejected": sum(not d.accepted for d in decisions),
            "adopted": False,
            "reason": (
                f"refused: {n_accepted} accepted decisions, {needed} needed "
                f"({rk.DEFAULT_RANKER_MIN_ACCEPTED} to learn from and "
                f"{DEFAULT_MIN_HELD_OUT} to measure on)"
            ),
        }
    train = [d for d in decisions if d.decided_at < cutoff]
    held = [d for d in decisions if d.decided_at >= cutoff]
    held_out: dict[int, set[int]] = defaultdict(set)
    for d in held:
        if d.accepted:
            held_out[d.project_id].add(d.offer_id)
    known: dict[int, set[int]] = defaultdict(set)
    for d in train:
        if d.project_id in held_out:
            known[d.project_id].add(d.offer_id)
    counts = {
        "cutoff": cutoff,
        "n_train_accepted": sum(d.accepted for d in train),
        "n_train_rejected": sum(not d.accepted for d in train),
        "n_heldout_accepted": sum(d.accepted for d in held),
        "n_heldout_rejected": sum(not d.accepted for d in held),
        "n_heldout_projects": len(held_out),
    }
    supply, served, demand, kinds = _items(session, settings, decisions, cutoff)
    pairs = {(d.project_id, d.offer_id) for d in train}
    # rejections that teach, of the training period only (both models use them)
    teaching = [
        r for r in teaching_rejections(session) if (r["demand_id"], r["supply_id"]) in pairs
    ]
    fit_args = {
        "weights": MatchWeights.from_mapping(settings.match_weights),
        "today": clock.agency_today(settings.timezone),
        "rates": settings.usd_rates,
    }
    learned = MatchIndex.fit(
        supply,
        demand,
        decisions=[
            *teaching,
            *(
                {"demand_id": d.project_id, "supply_id": d.offer_id, "accepted": d.accepted}
                for d in train
            ),
        ],
        **fit_args,
    )
    candidate = learned.ranker
    if candidate is None:
        return {
            **counts,
            "adopted": False,
            "reason": (
                f"refused: {counts['n_train_accepted']} accepted decisions before the cutoff "
                f"on items still known, {rk.DEFAULT_RANKER_MIN_ACCEPTED} needed to learn"
            ),
        }
    current = adopted_ranker(session)
    # Both are measured as they would be served: with the profiles of the alliances made
    # before the cutoff, when the office has any (a ranker that ignores what the profiles know
    # would otherwise be adopted over a weighted mean that uses it).
    index = (
        learned
        if served is None
        else MatchIndex.fit(served, demand, decisions=teaching, **fit_args)
    )
    rr = index.reciprocal_ranks(held_out, {"current": current, "candidate": candidate}, known=known)
    measured = list(rr["candidate"])
    overall = _measure(rr, measured)
    slices = _slices(rr, measured, demand, held_out, kinds)
    data = candidate.to_bytes()
    fields = {
        **counts,
        "n_heldout_projects": overall.n,
        "current_score": round(overall.current, 4),
        "candidate_score": round(overall.candidate, 4),
        "slices": [
            {
                "slice": name,
                "n": m.n,
                "current": round(m.current, 4),
                "candidate": round(m.candidate, 4),
                "guard": m.n >= DEFAULT_SLICE_MIN,
            }
            for name, m in slices.items()
        ],
        "importance": dict(candidate.explain()),
        "model": data,
        "model_id": rk.model_id_of(data),
    }
    return {**fields, **_verdict(overall, slices)}


def _verdict(overall: Measure, slices: dict[str, Measure]) -> dict:
    """Adopt only a candidate better overall with no guard slice worse; say why in one line."""
    change = f"{overall.current:.3f} → {overall.candidate:.3f}"
    if overall.n < DEFAULT_MIN_HELD_OUT:
        return {
            "adopted": False,
            "reason": f"refused: {overall.n} held-out projects, {DEFAULT_MIN_HELD_OUT} needed",
        }
    gain, low, high = overall.interval
    if low <= 0 or gain < DEFAULT_MIN_GAIN:
        return {
            "adopted": False,
            "reason": (
                f"refused: not better ({change} on {overall.n} held-out projects, "
                f"difference {gain:+.3f}, 95 % interval [{low:+.3f}, {high:+.3f}])"
            ),
        }
    worse = [
        f"{name} {m.current:.3f} → {m.candidate:.3f}"
        for name, m in slices.items()
        if m.n >= DEFAULT_SLICE_MIN and m.candidate < m.current - DEFAULT_TOLERANCE
    ]
    if worse:
        return {"adopted": False, "reason": "refused: worse on " + "; ".join(worse)}
    return {
        "adopted": True,
        "reason": (
            f"adopted: {change} on {overall.n} held-out projects "
            f"(difference {gain:+.3f}, 95 % interval [{low:+.3f}, {high:+.3f}])"
        ),
    }


def _measure(rr: dict[str, dict[int, float]], projects: list[int]) -> Measure:
    if not projects:
        return Measure(0, 0.0, 0.0)
    current = np.array([rr["current"][p] for p in projects])
    candidate = np.array([rr["candidate"][p] for p in projects])
    return Measure(
        len(projects),
        float(current.mean()),
        float(candidate.mean()),
        paired_interval(candidate, current),
    )


def _slices(
    rr: dict[str, dict[int, float]],
    measured: list[int],
    demand: list[dict],
    held_out: dict[int, set[int]],
    kinds: dict[int, str],
) -> dict[str, Measure]:
    """Per guard slice (lang=, line=, kind=), the held-out projects' measure, by name."""
    items = {d["id"]: d for d in demand}
    members: dict[str, list[int]] = defaultdict(list)
    for p in measured:
        item = items[p]
        names = [f"lang={item.get('lang') or 'unknown'}"]
        names += [f"line={line}" for line in item.get("lines") or ()]
        names += sorted({f"kind={kinds[o]}" for o in held_out[p] if o in kinds})
        for name in names:
            members[name].append(p)
    return {name: _measure(rr, members[name]) for name in sorted(members)}


def _items(
    session: Session, settings: Settings, decisions: list[Decision], cutoff: datetime
) -> tuple[list, list | None, list, dict[int, str]]:
    """The retrain's items: open offers and projects plus those of every decision (closed ones
    too), without deadlines; the offers without records (to learn from) and with the records
    the office had at the cutoff, on one offer per ally as every fit gives them (to measure on;
    None when no ally has one); and each offer's organisation kind."""
    today = clock.agency_today(settings.timezone)
    offers = _with(session, Offer, open_offers(today), {d.offer_id for d in decisions})
    projects = _with(session, Project, open_projects(), {d.project_id for d in decisions})
    supply = [dict(offer_item(offers[k]), deadline=None) for k in sorted(offers)]
    records = ally_records(session, decided_before=cutoff)
    history = ally_history(session, decided_before=cutoff)
    served = None
    if records or history:  # the same items, an organisation's record on its first offer
        served = []
        for k, item in zip(sorted(offers), supply, strict=True):
            extra = {}
            if record := records.pop(offers[k].organization_id, None):
                extra["record"] = record
            if fields := history.pop(offers[k].organization_id, None):
                extra["record_fields"] = fields
            served.append(dict(item, **extra))
    demand = [project_item(projects[k]) for k in sorted(projects)]
    kinds = {k: str(o.organization.kind) for k, o in offers.items()}
    return supply, served, demand, kinds


def _with(session: Session, model: type[Offer | Project], open_rows: sa.Select, ids: set[int]):
    """The open rows by id, plus the rows of `ids` that are not open (closed, withdrawn...)."""
    rows = {row.id: row for row in session.scalars(open_rows).unique()}
    missing = ids - rows.keys()
    if missing:
        found = session.scalars(
            sa.select(model).where(model.id.in_(missing)).options(selectinload(model.organization))
        )
        rows.update((row.id, row) for row in found)
    return rows
