"""Measure the bilingual concept layer: Recall@5 with and without the glossary, same matcher.

"text" columns drop the structured fields (lines, SDGs, modalities) so that only the text
side, and so only the concept layer, can bridge the languages.

Usage: python bench/evaluate_bilingual.py [--data bench/data/bilingual]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from matcher import MatchIndex  # noqa: E402
from matcher import evaluate as ev  # noqa: E402
from matcher.glossary import Glossary, load_glossary  # noqa: E402
from matcher.jsonl import read_items  # noqa: E402

TEXT_FIELDS = ("id", "title", "description", "lang")
DEFAULT_DATA = Path(__file__).resolve().parent / "data" / "bilingual"


def main() -> None:
    """Print metrics with and without the glossary (all fields, and text only) and the baseline."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", default=str(DEFAULT_DATA))
    args = parser.parse_args()
    supply = read_items(Path(args.data) / "supply.jsonl")
    demand = read_items(Path(args.data) / "demand.jsonl", require=("id", "true_supply_ids"))
    systems = {}
    text_s = [{k: x[k] for k in TEXT_FIELDS if k in x} for x in supply]
    text_d = [{k: x[k] for k in TEXT_FIELDS if k in x} for x in demand]
    for name, glossary in (("concepts", load_glossary()), ("no-concepts", Glossary())):
        for suffix, s_items, d_items in (("", supply, demand), (" text", text_s, text_d)):
            index = MatchIndex.fit(s_items, d_items, glossary=glossary)
            systems[name + suffix] = [
                [p.supply_id for p in row] for row in index.rank_demand(d_items, 10)
            ]
    systems["tfidf"] = ev.baseline_rank(supply, demand, 10)
    print(f"{len(supply)} supply, {len(demand)} demand")
    for line in ev.report(supply, demand, systems):
        print(line)


if __name__ == "__main__":
    main()
