"""Command line: `python -m matcher rank|evaluate|tune ...`."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

import numpy as np

from . import evaluate as ev
from . import tune as tn
from .index import MatchIndex
from .jsonl import InputError, read_items
from .structured import FieldError

DEFAULT_TOP = 10
LEARN_FROM = ("decisions", "alliances")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m matcher", description="Rank cooperation offers against projects."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    rank = sub.add_parser("rank", help="write the best supply items per demand item (JSONL)")
    rank.add_argument("--supply", required=True)
    rank.add_argument("--demand", required=True)
    rank.add_argument("--top", type=int, default=DEFAULT_TOP)
    rank.add_argument("--explain", action="store_true")
    evaluate = sub.add_parser("evaluate", help="print Recall@k and MRR against a baseline")
    evaluate.add_argument("--supply", required=True)
    evaluate.add_argument("--demand", required=True)
    evaluate.add_argument(
        "--learn-halves",
        type=int,
        default=0,
        metavar="SPLITS",
        help="also learn from half the labels and measure on the other half, for SPLITS "
        "random splits (what: --learn-from)",
    )
    evaluate.add_argument(
        "--learn-from",
        choices=LEARN_FROM,
        default="decisions",
        help="decisions: the half's labels are the office's accepted decisions (a learned "
        "ranker); alliances: they are its alliances, each supply item's record of the projects "
        "it was allied with (learned profiles), as the service gives them",
    )
    tune = sub.add_parser("tune", help="learn the component weights from labelled matches")
    tune.add_argument("--supply", required=True)
    tune.add_argument("--demand", required=True)
    tune.add_argument("--folds", type=int, default=tn.DEFAULT_FOLDS)
    tune.add_argument(
        "--candidates",
        type=int,
        default=tn.DEFAULT_CANDIDATES,
        help="supply items scored per demand item besides its true ones",
    )
    return parser


def rank(supply_path: str, demand_path: str, top: int, explain: bool) -> None:
    """Fit on both files and write one JSON line per demand item to stdout, in input order."""
    supply = read_items(supply_path)
    demand = read_items(demand_path)
    index = MatchIndex.fit(supply, demand)
    out = sys.stdout
    for item, pairs in zip(demand, index.rank_demand(demand, top, explain=explain), strict=True):
        matches = []
        for p in pairs:
            match = {"supply_id": p.supply_id, "score": p.score}
            if explain:
                match["components"] = p.components
                match["explanation"] = p.explanation
            matches.append(match)
        out.write(
            json.dumps({"demand_id": item["id"], "matches": matches}, ensure_ascii=False) + "\n"
        )


def evaluate(
    supply_path: str, demand_path: str, learn_halves: int = 0, learn_from: str = "decisions"
) -> None:
    """Print metrics of the matcher and the plain TF-IDF baseline, overall and per slice.

    With learn_halves, then for each of that many random splits of the demand in two halves,
    and each half in turn: the matcher fitted with the other half's labels as the office's
    accepted decisions (learn_from "decisions": a learned ranker) or as its alliances
    ("alliances": each supply item's record, see evaluate.with_alliances), against the matcher
    without them, on this half only.
    """
    supply = read_items(supply_path)
    demand = read_items(demand_path, require=("id", "true_supply_ids"))
    index = MatchIndex.fit(supply, demand)
    ranked = [
        [p.supply_id for p in pairs] for pairs in index.rank_demand(demand, ev.DEFAULT_MRR_CUTOFF)
    ]
    base = ev.baseline_rank(supply, demand, ev.DEFAULT_MRR_CUTOFF)
    print(f"matcher {index.version}; {len(supply)} supply, {len(demand)} demand")
    for line in ev.report(supply, demand, {"matcher": ranked, "tfidf": base}):
        print(line)
    for split in range(learn_halves):
        order = np.random.default_rng(split + 1).permutation(len(demand))
        halves = (order[: len(order) // 2], order[len(order) // 2 :])
        for h, (test, learn) in enumerate((halves, halves[::-1])):  # h: the half measured
            pairs = [
                {"demand_id": demand[i]["id"], "supply_id": t, "accepted": True}
                for i in learn.tolist()
                for t in demand[i]["true_supply_ids"]
            ]
            if learn_from == "alliances":
                office = ev.with_alliances(supply, [demand[i] for i in learn.tolist()])
                learned, name = MatchIndex.fit(office, demand), "alliances"
                about = f"records of {len(pairs)} alliances of the other half"
            else:
                learned, name = MatchIndex.fit(supply, demand, decisions=pairs), "ranker"
                rows = learned.ranker.n_rows if learned.ranker else 0
                about = (
                    f"ranker learned from {len(pairs)} accepted pairs of the other half "
                    f"({rows} rows)"
                )
            part = [demand[i] for i in test.tolist()]
            top = ev.DEFAULT_MRR_CUTOFF
            systems = {
                name: [[p.supply_id for p in r] for r in learned.rank_demand(part, top)],
                "matcher": [ranked[i] for i in test.tolist()],
                "tfidf": [base[i] for i in test.tolist()],
            }
            print(f"split {split + 1} half {h + 1}: {about}, measured on {len(part)} demand items")
            for line in ev.report(supply, part, systems):
                print(line)


def tune(supply_path: str, demand_path: str, folds: int, candidates: int) -> None:
    """Print configured against learned weights (cross-validated) and the learned weights."""
    supply = read_items(supply_path)
    demand = read_items(demand_path, require=("id", "true_supply_ids"))
    if folds < 2:
        raise InputError(f"--folds {folds}: cross-validation needs at least 2 folds")
    index = MatchIndex.fit(supply, demand)
    table = tn.pair_table(index, demand, candidates)
    if table.n_groups < folds:
        raise InputError(
            f"{demand_path}: {table.n_groups} demand item(s) with a true supply "
            f"item among the open pairs; tuning needs at least {folds}"
        )
    labelled = [demand[i] for i in table.origin]
    configured = tn.ranked_ids(table, index, index.weights, ev.DEFAULT_MRR_CUTOFF)
    learned_cv, _ = tn.cross_validate(table, index, folds, ev.DEFAULT_MRR_CUTOFF)
    learned = tn.fit_weights(table, index.weights)
    print(
        f"matcher {index.version}; {len(supply)} supply, {table.n_groups} labelled demand "
        f"items, {len(table.group)} pairs; learned weights measured on held-out folds "
        f"({folds})"
    )
    for line in ev.report(supply, labelled, {"configured": configured, "learned-cv": learned_cv}):
        print(line)
    print("learned weights (all items), for COOPMATCH_MATCH_WEIGHTS:")
    print(",".join(f"{k}={v:g}" for k, v in learned.as_dict().items()))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (2 on malformed input)."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "rank":
            rank(args.supply, args.demand, args.top, args.explain)
        elif args.command == "evaluate":
            evaluate(args.supply, args.demand, args.learn_halves, args.learn_from)
        else:
            tune(args.supply, args.demand, args.folds, args.candidates)
    except (InputError, FieldError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
