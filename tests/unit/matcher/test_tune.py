"""Learning the component weights from labelled matches (matcher.tune and `matcher tune`)."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from matcher import MatchIndex, MatchWeights
from matcher import tune as tn
from matcher.index import COMPONENTS

ROOT = Path(__file__).resolve().parents[3]
TEXT, PROFILE, PLACE = (COMPONENTS.index(c) for c in ("text", "profile", "place"))


def _table(seed=0, groups=60, per=6):
    """Groups of candidates where `place` tells the true one, `text` and `profile` are noise."""
    rng = np.random.default_rng(seed)
    n = groups * per
    values = np.full((n, len(COMPONENTS)), np.nan)
    truth = np.tile(np.arange(per) == 0, groups)
    values[:, TEXT] = rng.uniform(0.2, 0.6, n)
    values[:, PROFILE] = rng.uniform(0.0, 1.0, n)
    values[:, PLACE] = np.where(truth, 0.9, 0.1) + rng.uniform(-0.1, 0.1, n)
    return tn.PairTable(
        np.repeat(np.arange(groups), per),
        np.tile(np.arange(per), groups),
        values,
        truth,
        groups,
        np.arange(groups),
    )


class _Index:
    """What ranked_ids needs of an index: supply ids and configured weights."""

    def __init__(self, n):
        self.supply = type("Side", (), {"ids": [f"s{j}" for j in range(n)]})()
        self.weights = MatchWeights()


def test_learns_to_trust_the_informative_component():
    table = _table()
    learned = tn.fit_weights(table, MatchWeights())
    assert learned.text == MatchWeights().text  # the scale is fixed by the text weight
    assert learned.place > MatchWeights().place and learned.place > learned.profile
    # components no pair has keep their configured weights
    assert learned.modality == MatchWeights().modality and learned.time == MatchWeights().time


def test_cross_validation_ranks_held_out_groups_and_is_deterministic():
    table = _table()
    index = _Index(6)
    ranked, weights = tn.cross_validate(table, index, folds=3, top_k=3)
    again, _ = tn.cross_validate(table, index, folds=3, top_k=3)
    assert ranked == again and len(weights) == 3
    assert all(len(row) == 3 for row in ranked)
    assert sum(row[0] == "s0" for row in ranked) >= 0.9 * len(ranked)
    configured = tn.ranked_ids(table, index, MatchWeights(), 3)
    assert sum(row[0] == "s0" for row in configured) < sum(row[0] == "s0" for row in ranked)
    with pytest.raises(ValueError):
        tn.cross_validate(table, index, folds=1)


def test_pair_table_keeps_true_pairs_and_drops_unlabelled_or_filtered_demand(glossary):
    supply = [
        {"id": "w", "title": "Water", "description": "drinking water supply"},
        {"id": "r", "title": "Roads", "description": "roads and bridges"},
        {"id": "c", "title": "Closed", "description": "water", "deadline": "2000-01-01"},
    ]
    demand = [
        {"id": 1, "title": "water", "description": "", "true_supply_ids": ["r"]},
        {"id": 2, "title": "roads", "description": "", "true_supply_ids": []},
        {"id": 3, "title": "water", "description": "", "true_supply_ids": ["c"]},
    ]
    index = MatchIndex.fit(supply, demand, glossary=glossary)
    table = tn.pair_table(index, demand, candidates=1)
    assert table.n_groups == 1 and list(table.origin) == [0]
    pairs = {index.supply.ids[j]: t for j, t in zip(table.supply, table.truth, strict=True)}
    assert pairs == {"w": False, "r": True}  # its best candidate and its true item


def _write(path, items):
    path.write_text("\n".join(json.dumps(x) for x in items) + "\n", encoding="utf-8")
    return str(path)


def _corpus(tmp_path):
    topics = ["water", "roads", "schools", "clinics", "parks", "markets"]
    supply = [{"id": t, "title": f"{t} fund", "description": f"grants for {t}"} for t in topics]
    demand = [
        {
            "id": f"{t}{k}",
            "title": f"{t} project {k}",
            "description": f"new {t}",
            "true_supply_ids": [t],
        }
        for t in topics
        for k in range(2)
    ]
    return _write(tmp_path / "s.jsonl", supply), _write(tmp_path / "d.jsonl", demand)


def test_tune_command_prints_metrics_and_weights(tmp_path):
    s, d = _corpus(tmp_path)
    out = subprocess.run(
        [sys.executable, "-m", "matcher", "tune", "--supply", s, "--demand", d, "--folds", "3"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "configured MRR@10" in out.stdout and "learned-cv MRR@10" in out.stdout
    weights = dict(x.split("=") for x in out.stdout.strip().splitlines()[-1].split(","))
    assert set(weights) == set(COMPONENTS)
    MatchWeights.from_mapping({k: float(v) for k, v in weights.items()})


def test_tune_command_refuses_unlabelled_demand(tmp_path):
    s, _ = _corpus(tmp_path)
    d = _write(tmp_path / "u.jsonl", [{"id": 1, "title": "water", "description": ""}])
    out = subprocess.run(
        [sys.executable, "-m", "matcher", "tune", "--supply", s, "--demand", d],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1
    assert "true_supply_ids" in out.stderr
