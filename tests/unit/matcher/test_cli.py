"""The command line: rank output shape, malformed input, and import isolation."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def _write(path, items):
    path.write_text("\n".join(json.dumps(x) for x in items) + "\n", encoding="utf-8")
    return str(path)


def _run(*args):
    return subprocess.run(
        [sys.executable, "-m", "matcher", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )


def test_rank_writes_one_line_per_demand_in_order(tmp_path):
    s = _write(
        tmp_path / "s.jsonl",
        [
            {"id": 1, "title": "Water", "description": "water"},
            {"id": "x", "title": "Roads", "description": "roads"},
        ],
    )
    d = _write(
        tmp_path / "d.jsonl",
        [
            {"id": "b", "title": "roads", "description": ""},
            {"id": "a", "title": "water", "description": ""},
        ],
    )
    out = _run("rank", "--supply", s, "--demand", d, "--top", "1", "--explain")
    assert out.returncode == 0, out.stderr
    lines = [json.loads(x) for x in out.stdout.splitlines()]
    assert [x["demand_id"] for x in lines] == ["b", "a"]
    assert lines[1]["matches"][0]["supply_id"] == 1
    assert set(lines[1]["matches"][0]) >= {"supply_id", "score", "explanation"}


def test_malformed_file_exits_2_naming_the_line(tmp_path):
    s = tmp_path / "s.jsonl"
    s.write_text('{"id": 1, "title": "a", "description": ""}\n{"id": 2, "title": \n')
    d = _write(tmp_path / "d.jsonl", [{"id": 1, "title": "a", "description": ""}])
    out = _run("rank", "--supply", str(s), "--demand", d, "--top", "3")
    assert out.returncode == 2
    assert f"{s}:2:" in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_import_does_not_load_web_stack():
    code = (
        "import sys, matcher; "
        "print(sorted(m for m in ('flask', 'sqlalchemy', 'celery') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_paired_interval_separates_real_differences_from_noise():
    import numpy as np

    from matcher import evaluate as ev

    better = np.array([1.0] * 50 + [0.5] * 50)
    mean, low, high = ev.paired_interval(better, better - 0.5)
    assert mean == 0.5 and low == high == 0.5
    coin = np.array([1.0, 0.0, 0.5, 1.0])
    mean, low, high = ev.paired_interval(coin, coin[::-1])
    assert low < 0 < high  # four queries: no conclusion either way
    assert ev.paired_interval(np.zeros(0), np.zeros(0)) == (0.0, 0.0, 0.0)
    assert list(ev.reciprocal_ranks([["a", "b"], ["c"], []], [{"b"}, {"x"}, {"a"}])) == [
        0.5,
        0.0,
        0.0,
    ]


def test_evaluate_prints_slices_with_a_paired_interval(tmp_path):
    s = _write(
        tmp_path / "s.jsonl",
        [
            {"id": "w", "title": "Water", "description": "water", "kind": "bank"},
            {"id": "r", "title": "Roads", "description": "roads"},
        ],
    )
    d = _write(
        tmp_path / "d.jsonl",
        [
            {"id": 1, "title": "water", "description": "", "lang": "en", "true_supply_ids": ["w"]},
            {"id": 2, "title": "roads", "description": "", "lang": "en", "true_supply_ids": ["r"]},
        ],
    )
    out = _run("evaluate", "--supply", s, "--demand", d)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert "matcher MRR@10" in lines[1] and "[95% CI]" in lines[1]
    overall = next(x for x in lines if x.startswith("overall"))
    assert overall.split()[1] == "2" and "[" in overall
    assert any(x.startswith("supply kind=bank") for x in lines)


def _topic_files(tmp_path):
    """Four one-topic offers and 96 projects, each labelled with its topic's offer."""
    topics = ["water", "roads", "schools", "clinics"]
    s = _write(
        tmp_path / "s.jsonl",
        [{"id": t, "title": t.title(), "description": f"{t} works"} for t in topics],
    )
    d = _write(
        tmp_path / "d.jsonl",
        [
            {"id": n, "title": topics[n % 4], "description": "", "true_supply_ids": [topics[n % 4]]}
            for n in range(96)
        ],
    )
    return s, d


def test_evaluate_learn_halves_measures_a_ranker_on_the_half_it_never_saw(tmp_path):
    s, d = _topic_files(tmp_path)
    out = _run("evaluate", "--supply", s, "--demand", d, "--learn-halves", "1")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    heads = [x for x in lines if x.startswith("split ")]
    assert [h.split(":")[0] for h in heads] == ["split 1 half 1", "split 1 half 2"]
    assert all("ranker learned from 48 accepted pairs of the other half" in h for h in heads)
    assert all("measured on 48 demand items" in h for h in heads)
    header = lines[lines.index(heads[0]) + 1]
    assert "ranker MRR@10" in header and "matcher MRR@10" in header and "tfidf MRR@10" in header


def test_evaluate_learn_halves_from_alliances_gives_each_item_its_projects_as_record(tmp_path):
    s, d = _topic_files(tmp_path)
    args = ("--learn-halves", "1", "--learn-from", "alliances")
    out = _run("evaluate", "--supply", s, "--demand", d, *args)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    heads = [x for x in lines if x.startswith("split ")]
    assert all("records of 48 alliances of the other half" in h for h in heads), heads
    header = lines[lines.index(heads[0]) + 1]
    assert "alliances MRR@10" in header and "matcher MRR@10" in header
    bad = _run("evaluate", "--supply", s, "--demand", d, "--learn-from", "gossip")
    assert bad.returncode == 2 and "invalid choice: 'gossip'" in bad.stderr
