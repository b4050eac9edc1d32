"""Allies with and without a learned profile, ranked together: is renormalising right?

In the service an ally with five or more past alliances gets a `profile` component and one
without does not; the score is the weighted mean over the components present, so the two kinds
of offer are scored on different mixes. This check makes that situation from the IATI dev set:
for a seeded random half of the funders it keeps only the first three activities of their record
(too few for a profile), fits the matcher, scores every pair once, and ranks every query with
each way of treating a missing profile:

- renormalise: the weighted mean over the components present (what the matcher does);
- fill with the query's mean, median or 75th / 90th percentile of the profiled allies' scores;
- fill with a constant;
- renormalise, then scale the scores of pairs without a profile by 0.9 or 1.1 (a penalty or a
  bonus for having no record).

It prints MRR@10 overall and for the queries whose true funders are all cut (unprofiled) or all
kept (profiled), per seed.

Usage: python bench/profile_mix.py [--data ../shared/benchdata/iati_covid_donors/dev]
                                   [--seeds 1 2 3]
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from matcher import MatchIndex  # noqa: E402
from matcher import evaluate as ev  # noqa: E402
from matcher.index import COMPONENTS, weighted_mean  # noqa: E402
from matcher.jsonl import read_items  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "benchdata" / "iati_covid_donors" / "dev"
KEEP_LINES = 4  # the record's header line and three activities: below the five a profile needs
PROFILE = COMPONENTS.index("profile")


def ranked_ids(
    scores: np.ndarray, ids: list[str], k: int = ev.DEFAULT_MRR_CUTOFF
) -> list[list[str]]:
    """Return per query the ids of its k best supply items (ties by supply order, as `rank`)."""
    out = []
    for row in scores:
        ok = np.flatnonzero(~np.isnan(row) & (row > 0))
        order = ok[np.lexsort((ok, -row[ok]))][:k]
        out.append([ids[j] for j in order])
    return out


def main() -> None:
    """Print MRR@10 per way of treating a missing profile, per seed and query group."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA))
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    args = parser.parse_args()
    full = read_items(Path(args.data) / "supply.jsonl")
    demand = read_items(Path(args.data) / "demand.jsonl", require=("id", "true_supply_ids"))
    truths = [set(d["true_supply_ids"]) for d in demand]
    ids = [s["id"] for s in full]
    print(f"{'seed':>4s} {'missing profile':24s} {'all':>7s} {'unprofiled':>11s} {'profiled':>9s}")
    for seed in args.seeds:
        cut = set(random.Random(seed).sample(ids, len(ids) // 2))
        supply = [
            dict(s, description="\n".join(s["description"].splitlines()[:KEEP_LINES]))
            if s["id"] in cut
            else s
            for s in full
        ]
        index = MatchIndex.fit(supply, demand)
        nd, ns = len(demand), len(supply)
        di, sj = np.repeat(np.arange(nd), ns), np.tile(np.arange(ns), nd)
        scores, comps = index.score_pairs(index.demand, index.supply, di, sj)
        values = np.stack([comps[c] for c in COMPONENTS], axis=1)
        weights = np.array([index.weights.as_dict()[c] for c in COMPONENTS])
        filtered = np.isnan(scores).reshape(nd, ns)
        profile = values[:, PROFILE].reshape(nd, ns)
        groups = {
            "all": list(range(nd)),
            "unprofiled": [i for i, t in enumerate(truths) if t and t <= cut],
            "profiled": [i for i, t in enumerate(truths) if t and not t & cut],
        }
        fills = {
            "renormalise (matcher)": None,
            "query mean": np.nanmean(profile, axis=1),
            "query median": np.nanmedian(profile, axis=1),
            "query 75th percentile": np.nanpercentile(profile, 75, axis=1),
            "query 90th percentile": np.nanpercentile(profile, 90, axis=1),
        }
        fills.update({f"constant {c}": np.full(nd, c) for c in (0.1, 0.2, 0.3, 0.5)})
        fills.update({f"renormalise x {a}": a for a in (0.9, 1.1)})
        missing = np.isnan(values[:, PROFILE])
        for name, fill in fills.items():
            v = values.copy()
            if isinstance(fill, np.ndarray):
                v[:, PROFILE] = np.where(np.isnan(profile), fill[:, None], profile).ravel()
            total = weighted_mean(v, weights)
            if isinstance(fill, float):
                total[missing] *= fill
            total = total.reshape(nd, ns)
            total[filtered] = np.nan
            rr = ev.reciprocal_ranks(ranked_ids(total, ids), truths)
            cells = " ".join(
                f"{rr[rows].mean():{w}.3f}"
                for rows, w in zip(groups.values(), (7, 11, 9), strict=True)
            )
            print(f"{seed:4d} {name:24s} {cells}")
        true_pairs = [profile[i, j] for i, t in enumerate(truths) for j in range(ns) if ids[j] in t]
        print(
            f"{seed:4d} queries: {len(groups['unprofiled'])} unprofiled, "
            f"{len(groups['profiled'])} profiled; profile score mean "
            f"{np.nanmean(profile):.3f}, on true pairs {np.nanmean(true_pairs):.3f}"
        )


if __name__ == "__main__":
    main()
