"""Learn the component weights from labelled matches instead of guessing them.

A pair's score is the weighted mean of the components present for it (see index.py). Given
demand items with their true supply ids, `fit_weights` finds the weights under which the true
items are likeliest to come first: a conditional logit over each demand item's candidates
(its best-scored supply items plus its true ones), P(true | demand) = softmax(tau * score),
maximised by L-BFGS over the log-weights and the temperature tau. The weighted mean does not
change when every weight is scaled, so the text weight stays as configured and the others are
learned relative to it; components that no pair has keep their configured weights.
`cross_validate` learns on k - 1 folds of demand items and ranks the fold left out, so the
reported gain is measured on items the weights never saw.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from .index import COMPONENTS, DEFAULT_SCORE_DECIMALS, MatchIndex, MatchWeights, weighted_mean

DEFAULT_CANDIDATES = 50
DEFAULT_FOLDS = 5
DEFAULT_TEMPERATURE = 20.0
DEFAULT_LOG_BOUNDS = (-12.0, 6.0)
DEFAULT_SEED = 0
FIXED_COMPONENT = "text"


@dataclass
class PairTable:
    """Candidate pairs of labelled demand items with their component values."""

    group: np.ndarray  # demand row per pair, ascending
    supply: np.ndarray  # supply row per pair
    values: np.ndarray  # pairs × components (NaN: component absent for the pair)
    truth: np.ndarray  # pair is a true match
    n_groups: int
    origin: np.ndarray  # per demand row of the table, its position in the labelled input

    def rows(self, groups: np.ndarray) -> PairTable:
        """Return the pairs of the given demand rows (renumbered 0..len(groups) - 1)."""
        keep = np.isin(self.group, groups)
        renumber = np.full(self.n_groups, -1)
        renumber[np.sort(groups)] = np.arange(len(groups))
        return PairTable(
            renumber[self.group[keep]],
            self.supply[keep],
            self.values[keep],
            self.truth[keep],
            len(groups),
            self.origin[np.sort(groups)],
        )


def pair_table(
    index: MatchIndex, demand: Sequence[Mapping], candidates: int = DEFAULT_CANDIDATES
) -> PairTable:
    """Score each labelled demand item's top candidates and true supply items, component-wise.

    Pairs filtered out (closed offers, ineligible applicants) are left out; so are demand items
    with no true supply item among the open, eligible pairs.
    """
    row_of = {sid: j for j, sid in enumerate(index.supply.ids)}
    queries = index.query_side(demand, as_supply=False)
    ranked = index._rank(queries, index.supply, candidates, 0.0, False, demand_is_query=True)
    gi, sj, truth = [], [], []
    for i, (item, pairs) in enumerate(zip(demand, ranked, strict=True)):
        true_rows = {row_of[t] for t in item.get("true_supply_ids") or () if t in row_of}
        rows = sorted({row_of[p.supply_id] for p in pairs} | true_rows)
        gi.extend([i] * len(rows))
        sj.extend(rows)
        truth.extend(j in true_rows for j in rows)
    gi_a, sj_a = np.array(gi, np.int64), np.array(sj, np.int64)
    truth = np.array(truth, bool)
    scores, comps = index.score_pairs(queries, index.supply, gi_a, sj_a)
    values = np.stack([comps[name] for name in COMPONENTS], axis=1)
    ok = ~np.isnan(scores)
    has_truth = np.zeros(len(demand), bool)
    has_truth[gi_a[ok & truth]] = True
    ok &= has_truth[gi_a]
    table = PairTable(
        gi_a[ok], sj_a[ok], values[ok], truth[ok], len(demand), np.arange(len(demand))
    )
    return table.rows(np.flatnonzero(has_truth))


def _loss(table: PairTable, weights: np.ndarray, tau: float) -> float:
    """Return the mean negative log-likelihood of the true items, per demand item."""
    s = tau * weighted_mean(table.values, weights)
    top = np.full(table.n_groups, -np.inf)
    np.maximum.at(top, table.group, s)
    e = np.exp(s - top[table.group])
    everyone = np.bincount(table.group, weights=e, minlength=table.n_groups)
    true = np.bincount(table.group, weights=e * table.truth, minlength=table.n_groups)
    return float(np.mean(np.log(everyone) - np.log(np.maximum(true, 1e-300))))


def fit_weights(table: PairTable, start: MatchWeights | None = None) -> MatchWeights:
    """Return the weights that maximise the likelihood of the true pairs (see module doc)."""
    start = start or MatchWeights()
    w0 = np.array([start.as_dict()[name] for name in COMPONENTS])
    present = (
        ~np.isnan(table.values).all(axis=0)
        if len(table.values)
        else np.zeros(len(COMPONENTS), bool)
    )
    free = np.flatnonzero(present & (np.array(COMPONENTS) != FIXED_COMPONENT))
    if not len(free) or not table.n_groups:
        return start

    def unpack(p: np.ndarray) -> tuple[np.ndarray, float]:
        w = w0.copy()
        w[free] = np.exp(p[:-1])
        return w, float(np.exp(p[-1]))

    floor = np.exp(DEFAULT_LOG_BOUNDS[0])
    p0 = np.append(np.log(np.maximum(w0[free], floor)), np.log(DEFAULT_TEMPERATURE))
    bounds = [DEFAULT_LOG_BOUNDS] * len(free) + [(0.0, 8.0)]
    result = minimize(lambda p: _loss(table, *unpack(p)), p0, method="L-BFGS-B", bounds=bounds)
    w, _ = unpack(result.x)
    learned = {name: round(float(w[k]), 4) for k, name in enumerate(COMPONENTS)}
    return MatchWeights.from_mapping(learned)


def ranked_ids(
    table: PairTable, index: MatchIndex, weights: MatchWeights, top_k: int
) -> list[list[object]]:
    """Return per demand row of the table its supply ids, best first, under the given weights."""
    w = np.array([weights.as_dict()[name] for name in COMPONENTS])
    s = np.round(weighted_mean(table.values, w), DEFAULT_SCORE_DECIMALS)
    order = np.lexsort((table.supply, -s, table.group))
    out: list[list[object]] = [[] for _ in range(table.n_groups)]
    for k in order:
        g = table.group[k]
        if len(out[g]) < top_k:
            out[g].append(index.supply.ids[table.supply[k]])
    return out


def cross_validate(
    table: PairTable,
    index: MatchIndex,
    folds: int = DEFAULT_FOLDS,
    top_k: int = 10,
    seed: int = DEFAULT_SEED,
) -> tuple[list[list[object]], list[MatchWeights]]:
    """Return out-of-fold rankings (per demand row of the table) and each fold's weights."""
    if folds < 2:
        raise ValueError("cross-validation needs at least 2 folds")
    fold_of = np.random.default_rng(seed).permutation(table.n_groups) % folds
    ranked: list[list[object]] = [[] for _ in range(table.n_groups)]
    learned = []
    for f in range(folds):
        train, test = np.flatnonzero(fold_of != f), np.flatnonzero(fold_of == f)
        if not len(train) or not len(test):
            continue
        weights = fit_weights(table.rows(train), index.weights)
        learned.append(weights)
        for row, ids in zip(test, ranked_ids(table.rows(test), index, weights, top_k), strict=True):
            ranked[row] = ids
    return ranked, learned
