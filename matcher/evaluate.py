"""Ranking metrics and slices for a labelled benchmark, with a plain TF-IDF baseline beside."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from .history import CODE_FIELDS
from .profiles import DEFAULT_PROFILE_MIN_PASSAGES
from .topk import candidates

DEFAULT_CUTOFFS = (1, 5, 10)
DEFAULT_MRR_CUTOFF = 10
DEFAULT_BOOTSTRAP_ROUNDS = 2000
DEFAULT_BOOTSTRAP_SEED = 0
POOLED_FUND_KIND = "pooled-fund"
DEFAULT_ALLIANCE_RECORD = 100  # as services.matching.items.DEFAULT_RECORD_MAX


def metrics(ranked: Sequence[Sequence[object]], truths: Sequence[set]) -> dict[str, float]:
    """Return Recall@1/5/10 and MRR@10 of ranked id lists against sets of true ids."""
    first = _first_hits(ranked, truths)
    out = {f"R@{k}": float(np.mean(first < k)) if len(first) else 0.0 for k in DEFAULT_CUTOFFS}
    out["MRR@10"] = float(np.mean(_reciprocal(first))) if len(first) else 0.0
    return out


def _first_hits(ranked: Sequence[Sequence[object]], truths: Sequence[set]) -> np.ndarray:
    """Return per query the 0-based rank of its first true item (infinity if none)."""
    return np.array(
        [
            next((r for r, x in enumerate(ids) if x in truth), np.inf)
            for ids, truth in zip(ranked, truths, strict=True)
        ],
        float,
    )


def _reciprocal(first: np.ndarray) -> np.ndarray:
    return np.where(first < DEFAULT_MRR_CUTOFF, 1.0 / (first + 1), 0.0)


def reciprocal_ranks(ranked: Sequence[Sequence[object]], truths: Sequence[set]) -> np.ndarray:
    """Return per query 1 / rank of its first true item within the MRR cutoff (0 if none)."""
    return _reciprocal(_first_hits(ranked, truths))


def paired_interval(
    a: np.ndarray,
    b: np.ndarray,
    rounds: int = DEFAULT_BOOTSTRAP_ROUNDS,
    seed: int = DEFAULT_BOOTSTRAP_SEED,
) -> tuple[float, float, float]:
    """Return mean(a - b) and its 95 % paired bootstrap interval (queries resampled)."""
    diff = np.asarray(a, float) - np.asarray(b, float)
    if not len(diff):
        return 0.0, 0.0, 0.0
    rng = np.random.default_rng(seed)
    means = diff[rng.integers(0, len(diff), size=(rounds, len(diff)))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return float(diff.mean()), float(low), float(high)


def slices(
    supply: Sequence[Mapping], demand: Sequence[Mapping]
) -> dict[str, Callable[[Mapping], bool]]:
    """Return named predicates over demand items: overall, lang, self_reported, kind, hard, xl."""
    by_id = {s["id"]: s for s in supply}
    out: dict[str, Callable[[Mapping], bool]] = {"overall": lambda d: True}
    for lang in sorted({str(d.get("lang")) for d in demand if d.get("lang")}):
        out[f"lang={lang}"] = lambda d, lang=lang: d.get("lang") == lang
    if any(d.get("lang") for d in demand):
        out["non-English"] = lambda d: d.get("lang") not in (None, "en")
    if any("self_reported" in d for d in demand):
        for flag in (True, False):
            out[f"self_reported={flag}"] = lambda d, f=flag: d.get("self_reported") is f
    kinds = sorted({str(s.get("kind")) for s in supply if s.get("kind")})
    for kind in kinds:
        out[f"supply kind={kind}"] = lambda d, k=kind: any(
            by_id.get(t, {}).get("kind") == k for t in d["true_supply_ids"]
        )

    def hard(d: Mapping) -> bool:
        return d.get("self_reported") is False and all(
            by_id.get(t, {}).get("kind") != POOLED_FUND_KIND for t in d["true_supply_ids"]
        )

    def cross(d: Mapping) -> bool:
        langs = [by_id.get(t, {}).get("lang") for t in d["true_supply_ids"]]
        return bool(d.get("lang")) and all(x and x != d.get("lang") for x in langs)

    if any("self_reported" in d for d in demand):
        out["hard"] = hard
    out["cross-lingual"] = cross
    return out


def with_alliances(
    supply: Sequence[Mapping], learned: Sequence[Mapping], cap: int = DEFAULT_ALLIANCE_RECORD
) -> list[dict]:
    """Return the supply as an office whose alliances are the learned demand items' labels.

    What the service gives the matcher for an office with a history (services.matching.items.
    ally_records): each supply item is its own ally (`ally`, unless it has one) and carries as
    `record` the projects it was allied with ("title: description", at most `cap`), after the
    lines of its own text when it has enough of them to learn from (a funder's history, as the
    feeds' activities are). Items nobody chose keep no record.
    """
    chosen: dict[object, list[str]] = {}
    filed: dict[object, list[dict]] = {}
    for d in learned:
        text = f"{d.get('title') or ''}: {d.get('description') or ''}"
        fields = {k: d[k] for k, _ in CODE_FIELDS if d.get(k)}
        for t in d["true_supply_ids"]:
            chosen.setdefault(t, []).append(text)
            filed.setdefault(t, []).append(fields)
    out = []
    for item in supply:
        copy = dict(item)
        copy.setdefault("ally", f"item-{item['id']}")
        projects = chosen.get(item["id"], [])[:cap]
        if projects:
            own = list(item.get("record") or ()) or [
                x for x in str(item.get("description") or "").split("\n") if x.strip()
            ]
            copy["record"] = (own if len(own) >= DEFAULT_PROFILE_MIN_PASSAGES else []) + projects
            copy["record_fields"] = filed[item["id"]][:cap]
        out.append(copy)
    return out


def baseline_rank(
    supply: Sequence[Mapping], demand: Sequence[Mapping], top_k: int
) -> list[list[object]]:
    """Rank supply per demand with plain TF-IDF (word 1-2 grams, sublinear tf, cosine)."""
    if not supply or not demand:
        return [[] for _ in demand]
    vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, dtype=np.float32)
    texts = [_text(x) for x in supply] + [_text(x) for x in demand]
    vec.fit(texts)
    s_rows = vec.transform(texts[: len(supply)])
    d_rows = vec.transform(texts[len(supply) :])
    cols, _ = candidates(d_rows, s_rows.T.tocsr(), top_k, threads=1)
    ids = [s["id"] for s in supply]
    return [[ids[c] for c in row if c >= 0] for row in cols]


def _text(item: Mapping) -> str:
    return f"{item.get('title') or ''}\n{item.get('description') or ''}"


def report(
    supply: Sequence[Mapping],
    demand: Sequence[Mapping],
    systems: Mapping[str, Sequence[Sequence[object]]],
) -> list[str]:
    """Return table lines: one row per slice and system, metrics side by side.

    With two or more systems, a last column gives the first system's MRR@10 minus the second's
    with its 95 % paired bootstrap interval: a slice is only worse (or better) when its whole
    interval is below (or above) zero; a slice of a few queries rarely is.
    """
    truths = [set(d["true_supply_ids"]) for d in demand]
    names = list(systems)
    header = f"{'slice':28s} {'n':>5s} " + " ".join(
        f"{name + ' ' + m:>18s}" for m in ("R@1", "R@5", "R@10", "MRR@10") for name in names
    )
    if len(names) > 1:
        header += f"  {'MRR@10 ' + names[0] + ' - ' + names[1] + ' [95% CI]':>34s}"
        rr = {name: reciprocal_ranks(systems[name], truths) for name in names[:2]}
    lines = [header]
    for label, keep in slices(supply, demand).items():
        rows = [i for i, d in enumerate(demand) if keep(d)]
        if not rows:
            continue
        per = {
            name: metrics([systems[name][i] for i in rows], [truths[i] for i in rows])
            for name in names
        }
        cells = " ".join(
            f"{per[name][m]:18.3f}" for m in ("R@1", "R@5", "R@10", "MRR@10") for name in names
        )
        if len(names) > 1:
            mean, low, high = paired_interval(rr[names[0]][rows], rr[names[1]][rows])
            cells += f"  {f'{mean:+.3f} [{low:+.3f}, {high:+.3f}]':>34s}"
        lines.append(f"{label:28s} {len(rows):5d} {cells}")
    return lines
