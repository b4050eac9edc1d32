"""Time `rank` at scale against a plain TF-IDF baseline, in the same run.

Builds a corpus of DEFAULT_DEMAND demand × DEFAULT_SUPPLY supply items by recombining sentences
of the texts in the shared benchmark data (seeded, so every run sees the same corpus), then
measures, each in its own forked process so that peak memory is per system:

- baseline: scikit-learn TfidfVectorizer (word 1-2 grams, sublinear tf) fitted on all texts,
  one scipy sparse product per block of demand rows, per-row top-k;
- matcher: MatchIndex.fit on both sides, then rank_demand for every demand item, top k;
- single: median time to rank one new demand item against the fitted index (no refit).

Memory: each system runs in a forked child, which starts out sharing (and counting in its RSS)
the parent's pages, including the generated corpus. A system's own peak is therefore reported
as the child's peak resident set (VmHWM) minus its resident set right after the fork and a
garbage collection (VmRSS), the same way for both systems; the child's raw peak RSS, which
includes the corpus, is printed beside it.

Usage: python bench/rank_speed.py [--data ../shared/benchdata] [--demand N] [--supply M]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import re
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from matcher import MatchIndex  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "benchdata"
DEFAULT_DEMAND = 10_000
DEFAULT_SUPPLY = 50_000
DEFAULT_TOP = 20
DEFAULT_SEED = 7
DEFAULT_BLOCK = 1000
DEFAULT_SINGLE_RUNS = 50
DEFAULT_MULTI_SHARE = 0.1
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def sentences(data: Path) -> list[str]:
    """Return the distinct sentences (20-400 characters) of every JSONL text under data."""
    out: set[str] = set()
    for path in sorted(data.rglob("*.jsonl")):
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                item = json.loads(line)
                for part in (item.get("description") or "").splitlines():
                    out.update(
                        s.strip() for s in _SENTENCE.split(part) if 20 <= len(s.strip()) <= 400
                    )
    return sorted(out)


def corpus(
    pool: list[str], n_demand: int, n_supply: int, seed: int
) -> tuple[list[dict], list[dict]]:
    """Return generated (supply, demand) items; some supply items have several passages."""
    rng = random.Random(seed)

    def title() -> str:
        return " ".join(rng.choice(pool).split()[:8])

    supply = []
    for i in range(n_supply):
        if rng.random() < DEFAULT_MULTI_SHARE:
            n_lines = rng.randint(2, 4)
            lines = [" ".join(rng.sample(pool, rng.randint(1, 3))) for _ in range(n_lines)]
            text = "\n".join(lines)
        else:
            text = " ".join(rng.sample(pool, rng.randint(3, 8)))
        supply.append({"id": f"s{i}", "title": title(), "description": text})
    demand = [
        {
            "id": f"d{i}",
            "title": title(),
            "description": " ".join(rng.sample(pool, rng.randint(2, 6))),
        }
        for i in range(n_demand)
    ]
    return supply, demand


def baseline(supply: list[dict], demand: list[dict], top: int) -> None:
    """Rank with plain TF-IDF: one sparse product per block of rows, per-row top-k."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = [f"{x['title']}\n{x['description']}" for x in supply + demand]
    vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    vec.fit(texts)
    s_rows = vec.transform(texts[: len(supply)])
    d_rows = vec.transform(texts[len(supply) :])
    s_t = s_rows.T.tocsr()
    for start in range(0, d_rows.shape[0], DEFAULT_BLOCK):
        product = (d_rows[start : start + DEFAULT_BLOCK] @ s_t).tocsr()
        for r in range(product.shape[0]):
            lo, hi = product.indptr[r], product.indptr[r + 1]
            data = product.data[lo:hi]
            best = np.argpartition(-data, top)[:top] if len(data) > top else np.arange(len(data))
            product.indices[lo:hi][best[np.argsort(-data[best])]]


def matcher(supply: list[dict], demand: list[dict], top: int) -> None:
    """Rank with the matcher: fit on both sides, then rank every demand item."""
    index = MatchIndex.fit(supply, demand)
    index.rank_demand(demand, top)


def single(supply: list[dict], demand: list[dict], top: int, runs: int) -> dict:
    """Return the median and p90 milliseconds to rank one new item against a fitted index."""
    index = MatchIndex.fit(supply, demand)
    rng = random.Random(DEFAULT_SEED + 1)
    new = [dict(rng.choice(demand), id=f"new{i}") for i in range(runs)]
    index.rank_demand(new[:1], top)
    times = []
    for item in new:
        start = time.perf_counter()
        index.rank_demand([item], top)
        times.append(1000 * (time.perf_counter() - start))
    return {
        "median_ms": statistics.median(times),
        "p90_ms": sorted(times)[int(0.9 * len(times)) - 1],
    }


def memory_mib() -> tuple[float, float]:
    """Return this process's (current, peak) resident set in MiB (VmRSS, VmHWM on Linux)."""
    values = {}
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                name, _, rest = line.partition(":")
                if name in ("VmRSS", "VmHWM"):
                    values[name] = int(rest.split()[0]) / 1024
    except OSError:
        pass
    peak = values.get("VmHWM", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return values.get("VmRSS", peak), peak


def in_child(func, *args) -> dict:
    """Run func in a forked process; return its wall time, own and raw peak RSS and result."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        gc.collect()
        start_rss, _ = memory_mib()
        start = time.perf_counter()
        result = func(*args)
        seconds = time.perf_counter() - start
        _, peak = memory_mib()
        # its own forked helpers (the matcher's text readers): the largest peak RSS among them,
        # pages shared with this process at the fork included
        helpers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        out = {
            "helpers_peak_mib": helpers,
            "seconds": seconds,
            "peak_mib": peak,
            "start_mib": start_rss,
            "own_peak_mib": peak - start_rss,
            "result": result,
        }
        with os.fdopen(write, "w") as handle:
            json.dump(out, handle)
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as handle:
        payload = handle.read()
    os.waitpid(pid, 0)
    return json.loads(payload)


def main() -> None:
    """Generate the corpus, time both systems and print times, ratio and peak memory."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA))
    parser.add_argument("--demand", type=int, default=DEFAULT_DEMAND)
    parser.add_argument("--supply", type=int, default=DEFAULT_SUPPLY)
    parser.add_argument("--top", type=int, default=DEFAULT_TOP)
    parser.add_argument("--single-runs", type=int, default=DEFAULT_SINGLE_RUNS)
    parser.add_argument("--skip-baseline", action="store_true")
    args = parser.parse_args()
    pool = sentences(Path(args.data))
    supply, demand = corpus(pool, args.demand, args.supply, DEFAULT_SEED)
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(
        f"corpus: {len(demand)} demand x {len(supply)} supply from {len(pool)} sentences; "
        f"top {args.top}; corpus in memory before fork: {base_rss:.0f} MiB"
    )
    runs = {}
    if not args.skip_baseline:
        runs["baseline"] = in_child(baseline, supply, demand, args.top)
    runs["matcher"] = in_child(matcher, supply, demand, args.top)
    print(
        "memory: own peak = child's peak RSS (VmHWM) - its RSS after fork and gc; "
        "raw peak includes the corpus"
    )
    for name, run in runs.items():
        print(
            f"{name:9s} {run['seconds']:8.1f} s   own peak {run['own_peak_mib']:7.0f} MiB   "
            f"(raw peak RSS {run['peak_mib']:.0f} MiB, {run['start_mib']:.0f} at start)"
            + (
                f"; its forked text readers' peak RSS {run['helpers_peak_mib']:.0f} MiB each"
                " (shared pages included)"
                if run["helpers_peak_mib"]
                else ""
            )
        )
    if "baseline" in runs:
        ratio = runs["matcher"]["seconds"] / runs["baseline"]["seconds"]
        print(f"ratio matcher/baseline: {ratio:.3f}")
    one = in_child(single, supply, demand, args.top, args.single_runs)["result"]
    print(
        f"single new item against the fitted index: median {one['median_ms']:.1f} ms, "
        f"p90 {one['p90_ms']:.1f} ms"
    )
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
