"""MRR@10 of this checkout's matcher on each half of random splits of a labelled set.

Ranks every demand item once (the index fitted on the whole set, as `evaluate` does), then
reports the overall, non-English, hard and cross-lingual MRR@10 of each half of `--splits`
random splits (numpy default_rng(seed).permutation, seeds 1..splits: the halves `matcher
evaluate --learn-halves` uses). Run it in two checkouts (copy it into the older one's bench/,
e.g. a `git worktree add /tmp/old <commit>`) to see whether a change holds on every half, not
only on the whole set.

Usage: python bench/split_halves.py --data ../shared/benchdata/dac_sectors/dev [--splits 4]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from matcher import MatchIndex, __version__  # noqa: E402
from matcher import evaluate as ev  # noqa: E402
from matcher.jsonl import read_items  # noqa: E402

SLICES = ("overall", "non-English", "hard", "cross-lingual")


def main() -> None:
    """Print one line per half: matcher version, split, half and MRR@10 per slice."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", required=True)
    parser.add_argument("--splits", type=int, default=4)
    args = parser.parse_args()
    supply = read_items(Path(args.data) / "supply.jsonl")
    demand = read_items(Path(args.data) / "demand.jsonl", require=("id", "true_supply_ids"))
    index = MatchIndex.fit(supply, demand)
    ranked = [[p.supply_id for p in r] for r in index.rank_demand(demand, ev.DEFAULT_MRR_CUTOFF)]
    truths = [set(d["true_supply_ids"]) for d in demand]
    slices = ev.slices(supply, demand)
    for split in range(args.splits):
        order = np.random.default_rng(split + 1).permutation(len(demand))
        for h, part in enumerate((order[: len(order) // 2], order[len(order) // 2 :])):
            cells = []
            for name in SLICES:
                if name in slices:
                    rows = [i for i in part.tolist() if slices[name](demand[i])]
                    found = ev.metrics([ranked[i] for i in rows], [truths[i] for i in rows])
                    cells.append(f"{name} {found['MRR@10']:.3f}")
            print(__version__, f"split {split + 1} half {h + 1}", " ".join(cells))


if __name__ == "__main__":
    main()
