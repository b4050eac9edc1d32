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
    return subprocess.run([sys.executable, "-m", "matcher", *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=60)


def test_rank_writes_one_line_per_demand_in_order(tmp_path):
    s = _write(tmp_path / "s.jsonl", [{"id": 1, "title": "Water", "description": "water"},
                                      {"id": "x", "title": "Roads", "description": "roads"}])
    d = _write(tmp_path / "d.jsonl", [{"id": "b", "title": "roads", "description": ""},
                                      {"id": "a", "title": "water", "description": ""}])
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
    code = ("import sys, matcher; "
            "print(sorted(m for m in ('flask', 'sqlalchemy', 'celery') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
