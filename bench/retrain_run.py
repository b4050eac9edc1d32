"""Time the weekly retrain on an office made from a benchmark set, and print what it recorded.

    python bench/retrain_run.py [--data ../shared/benchdata/dac_sectors/dev] [--seed 1]
    python bench/retrain_run.py --demo
    python bench/retrain_run.py --alliances [--data ...]


Each supply item becomes an ally (organisation) with one published offer; each demand item a
project of the city. The labels become the staff's decisions: the projects in a random order
(seeded), one a day, each with its true offers accepted and, as staff would have seen them, the
three best other offers of a plain TF-IDF ranking rejected (reason "other": it teaches nothing
by itself). Then `services.matching.retrain.run_retrain` runs on that database (a temporary
SQLite file) as the weekly task does, and the script prints its wall time, peak RSS and the run:
sizes, the model in use (none: the weighted mean) against the candidate on the held-out
projects, the guard slices, adopted or not and why. With --demo the office is the bundled demo
data instead (`flask load-demo`: its alliances are the accepted decisions, none rejected). With
--alliances each accepted match is also an alliance, as in an office that records them: the
retrain measures both models with the profiles those allies' records teach (alliances before the
cutoff only).

Nothing here tunes the matcher: it shows what an office with this many decisions would get from
the retrain, on decisions it never learned from (the held-out newest quarter).
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import config as app_config  # noqa: E402
from matcher.evaluate import baseline_rank  # noqa: E402
from matcher.jsonl import read_items  # noqa: E402
from models import Alliance, Match, Offer, Organization, Project, migrate  # noqa: E402
from models.db import make_engine, make_session_factory  # noqa: E402
from models.enums import OrgKind, RankerTrigger  # noqa: E402
from services import demo  # noqa: E402
from services.matching import retrain  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "benchdata" / "dac_sectors" / "dev"
DEFAULT_REJECTED = 3  # other offers rejected per decided project
BASE = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
KINDS = {k.value for k in OrgKind}


def seed(
    session, supply: list[dict], demand: list[dict], rng: random.Random, alliances: bool = False
) -> int:
    """Write the office (with alliances: an alliance for each accepted match, started the day
    it was accepted); return the number of decisions."""
    city = Organization(name="City", kind="local_public", side="demand", country="CO")
    session.add(city)
    offer_of: dict[str, int] = {}
    for n, item in enumerate(supply):
        kind = item.get("kind") if item.get("kind") in KINDS else "multilateral"
        org = Organization(
            name=f"{item['title'][:150]} ({n})", kind=kind, side="supply", country="US"
        )
        session.add(org)
        session.flush()
        offer = Offer(
            organization_id=org.id,
            title=item["title"][:300],
            description=item.get("description") or item["title"],
            language=(item.get("lang") or "en")[:8],
            modalities=["grant"],
            lines=[],
            sdgs=[],
            status="published",
            source="import",
            deadline=date.today() + timedelta(days=365),
        )
        session.add(offer)
        session.flush()
        offer_of[item["id"]] = offer.id
    order = list(range(len(demand)))
    rng.shuffle(order)
    plain = baseline_rank(supply, demand, DEFAULT_REJECTED + 5)
    decisions = 0
    for day, k in enumerate(order):
        item = demand[k]
        project = Project(
            organization_id=city.id,
            title=item["title"][:300],
            description=item.get("description") or item["title"],
            language=(item.get("lang") or "en")[:8],
            lines=[],
            sdgs=[],
            modalities=["grant"],
            currency="USD",
            cofinancing=0,
            stage="formulation",
            status="open",
        )
        session.add(project)
        session.flush()
        at = BASE + timedelta(days=day)
        truths = [t for t in item["true_supply_ids"] if t in offer_of]
        others = [s for s in plain[k] if s not in truths][:DEFAULT_REJECTED]
        for sid, accepted in [*((t, True) for t in truths), *((s, False) for s in others)]:
            match = Match(
                project_id=project.id,
                offer_id=offer_of[sid],
                score=0.5,
                components={},
                status="accepted" if accepted else "rejected",
                decision_reason=None if accepted else "other",
                decided_at=at,
                matcher_version="bench",
            )
            session.add(match)
            if accepted and alliances:
                session.add(Alliance(match=match, started_on=at.date()))
            decisions += 1
    session.commit()
    return decisions


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--demo", action="store_true", help="the bundled demo data as the office")
    parser.add_argument(
        "--alliances",
        action="store_true",
        help="each accepted match also became an alliance (the allies' records teach profiles)",
    )
    args = parser.parse_args()
    if not args.demo:
        supply = read_items(args.data / "supply.jsonl")
        demand = read_items(args.data / "demand.jsonl")
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/retrain.sqlite3"
        migrate.upgrade(url)
        engine = make_engine(url)
        factory = make_session_factory(engine)
        settings = app_config.Settings(instance_path=Path(tmp), database_url=url)
        with factory() as session:
            started = time.perf_counter()
            if args.demo:
                counts = demo.load(session, demo.DEFAULT_DEMO_PATH, today=date.today())
                office = ", ".join(f"{v} {k}" for k, v in counts.items())
            else:
                n = seed(session, supply, demand, random.Random(args.seed), args.alliances)
                office = f"{len(supply)} offers, {len(demand)} projects, {n} decisions"
            print(f"office: {office} (seeded in {time.perf_counter() - started:.1f} s)")
            run = retrain.request_retrain(session, RankerTrigger.WEEKLY)
            started = time.perf_counter()
            run = retrain.run_retrain(session, settings, run.id)
            seconds = time.perf_counter() - started
        engine.dispose()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"retrain: {seconds:.1f} s, peak RSS of this process {peak:.0f} MiB")
    print(
        f"train: {run.n_train_accepted} accepted, {run.n_train_rejected} rejected; held out: "
        f"{run.n_heldout_accepted} accepted, {run.n_heldout_rejected} rejected, "
        f"{run.n_heldout_projects} projects measured"
    )
    print(f"MRR@10 held out: model in use {run.current_score}, candidate {run.candidate_score}")
    for s in run.slices:
        if s["guard"]:
            print(f"  {s['slice']:24s} n={s['n']:4d} {s['current']:.3f} -> {s['candidate']:.3f}")
    print(f"leaned on: {json.dumps(dict(list(run.importance.items())[:5]))}")
    print(run.reason)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
