"""The shortcuts taken for speed give exactly what the plain path gives: chunks of text read by
forked processes, count blocks built by threads, and fitted demand items ranked from their
fitted rows."""

import multiprocessing
import random

from matcher import MatchIndex
from matcher import index as mi
from matcher import text as mt

from .conftest import TODAY

WORDS = [
    "agua",
    "potable",
    "movilidad",
    "water",
    "supply",
    "public",
    "transport",
    "early",
    "childhood",
    "primera",
    "infancia",
    "grants",
    "cities",
    "barrios",
    "rivers",
    "schools",
    "youth",
    "employment",
    "salud",
    "health",
    "educación",
    "education",
    "résilience",
    "climat",
    "vivienda",
    "housing",
]


def _corpus(n_supply: int, n_demand: int, seed: int = 5) -> tuple[list[dict], list[dict]]:
    rng = random.Random(seed)

    def text(n: int) -> str:
        return " ".join(rng.choice(WORDS) for _ in range(n))

    supply = [
        {
            "id": f"s{i}",
            "title": text(4),
            "description": "\n".join(text(12) for _ in range(rng.randint(1, 3))),
            "modalities": ["grant"],
        }
        for i in range(n_supply)
    ]
    demand = [
        {"id": f"d{i}", "title": text(4), "description": text(20), "modalities": ["grant"]}
        for i in range(n_demand)
    ]
    return supply, demand


def _plain(ranked):
    return [
        [(p.demand_id, p.supply_id, p.score, p.components, p.explanation) for p in row]
        for row in ranked
    ]


def test_forked_chunks_and_threaded_counts_equal_one_process(monkeypatch, glossary):
    supply, demand = _corpus(60, 40)
    monkeypatch.setattr(mt, "DEFAULT_CHUNK_UNITS", 25)  # several chunks and count blocks
    one = MatchIndex.fit(supply, demand, today=TODAY, glossary=glossary, threads=1)
    two = MatchIndex.fit(supply, demand, today=TODAY, glossary=glossary, threads=2)
    assert one.vectorizer.word_names == two.vectorizer.word_names
    assert (one.supply.rows != two.supply.rows).nnz == 0
    assert (one.demand.rows != two.demand.rows).nnz == 0
    assert _plain(one.rank_demand(demand, 5, explain=True)) == _plain(
        two.rank_demand(demand, 5, explain=True)
    )
    words, ids, unit = mt._surface_ids(["Agua potable", "water, water", "", "año 2030"], 2)
    assert [words[i] for i in ids] == ["agua", "potable", "water", "water", "ano", "2030"]
    assert unit.tolist() == [0, 0, 1, 1, 3, 3]


def test_fitted_demand_reuses_its_rows_and_changed_items_are_read_again(monkeypatch, glossary):
    supply, demand = _corpus(30, 40)
    index = MatchIndex.fit(supply, demand, today=TODAY, glossary=glossary)
    assert index._fitted_demand_rows(demand).tolist() == list(range(40))
    assert index._fitted_demand_rows(demand[::-1]).tolist() == list(range(39, -1, -1))
    edited = [dict(demand[0], description="housing for youth")] + demand[1:]
    assert index._fitted_demand_rows(edited) is None  # same id, other fields
    assert index._fitted_demand_rows([dict(d, id=f"new{d['id']}") for d in demand]) is None
    assert index._fitted_demand_rows(demand[:3]) is None  # a few items: read as they are
    reused = _plain(index.rank_demand(demand, 5, explain=True))
    # an edited item is read again: ranked as it is now, not as it was fitted
    first_edited = _plain(index.rank_demand(edited, 5, explain=True))[0]
    assert first_edited == _plain(index.rank_demand(edited[:1], 5, explain=True))[0]
    assert first_edited != reused[0]
    monkeypatch.setattr(mi, "DEFAULT_REUSE_MIN", 10**9)
    assert reused == _plain(index.rank_demand(demand, 5, explain=True))


def _read_in_daemon(queue) -> None:
    words, ids, unit = mt._surface_ids(["agua potable", "water supply", "salud"], 2)
    queue.put(([words[i] for i in ids], unit.tolist()))


def test_a_daemonic_process_reads_its_chunks_itself(monkeypatch):
    """A Celery worker's pool process is daemonic and may not fork children of its own."""
    monkeypatch.setattr(mt, "DEFAULT_CHUNK_UNITS", 1)  # three chunks: a pool would be asked
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_read_in_daemon, args=(queue,), daemon=True)
    child.start()
    tokens, units = queue.get(timeout=30)
    child.join(timeout=30)
    assert child.exitcode == 0
    assert tokens == ["agua", "potable", "water", "supply", "salud"]
    assert units == [0, 0, 1, 1, 2]
