"""A learned ranker over the score components, fitted from the office's own decisions.

Without decisions a pair's score is the weighted mean of its components (index.py). Given the
staff's decisions (a project's accepted offers, and rejected ones), `fit_ranker` learns how the
components combine for this office: a gradient-boosted classifier (scikit-learn's
HistGradientBoostingClassifier, which reads absent components as missing values) over

- every component's value (NaN where absent) and the weighted-mean score;
- `prior`: how often the office accepted this ally's (or item's) offers, smoothed (an office
  that mostly works on five of its thirty lines says so through its decisions);
- `query_terms`: how much text the project has (log of its distinct features), so the ranker
  may lean on the record and the priors when a text is near-empty.

Rows are every pair of each decided project (its DEFAULT_RANKER_CANDIDATES best under the
default score when the supply is too large to score every pair; accepted: 1; every other pair
and every rejected pair: 0). The classifier is monotone: a better component, score or prior
never lowers a pair. The classifier's probability is mapped, monotonically,
onto the weighted-mean scale of the training pairs, so a threshold such as `min_score` keeps its
meaning. Nothing here depends on a benchmark: what it learns comes from the decisions passed to
`MatchIndex.fit`, and it is saved in the index with what it leaned on (`explain`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import pickle
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier

from ._version import __version__

DEFAULT_RANKER_CANDIDATES = 200  # per decided project in a large index: its best candidates
DEFAULT_RANKER_MIN_ACCEPTED = 20  # fewer accepted pairs than this: no ranker, the weights stay
DEFAULT_RANKER_ITERATIONS = 200
DEFAULT_RANKER_LEARNING_RATE = 0.05
DEFAULT_RANKER_LEAVES = 15
DEFAULT_PRIOR_SMOOTHING = 0.5
DEFAULT_SEED = 0
EXTRA_FEATURES = ("score", "prior", "query_terms")


@dataclass
class LearnedRanker:
    """A fitted ranker: the classifier, the office's acceptance prior and how it was learned."""

    model: HistGradientBoostingClassifier
    components: tuple[str, ...]
    prior: dict  # ally key (or item id) -> smoothed log share of the accepted pairs, in [0, 1]
    calibration: tuple[np.ndarray, np.ndarray]  # (ranker quantiles, default-score quantiles)
    n_accepted: int
    n_rejected: int
    n_rows: int
    importance: dict[str, float]  # feature -> loss increase when it is shuffled
    columns: np.ndarray | None = None  # the feature columns used (others never vary)
    model_id: str = ""  # the digest of its saved bytes (from_bytes), part of an index's version

    @property
    def features(self) -> tuple[str, ...]:
        return (*self.components, *EXTRA_FEATURES)

    def prior_of(self, keys: Sequence) -> np.ndarray:
        """Return the acceptance prior of supply items, given their ally keys (or ids)."""
        return np.array([self.prior.get(k, 0.0) for k in keys], np.float64)

    def score(self, x: np.ndarray) -> np.ndarray:
        """Return scores in [0, 1] of feature rows (see `rows`), on the weighted-mean scale."""
        if not len(x):
            return np.zeros(0)
        p = self.model.predict_proba(x[:, self.columns])[:, 1]
        qs, ss = self.calibration
        return np.interp(p, qs, ss)

    def explain(self) -> list[tuple[str, float]]:
        """Return the features by how much the ranker leans on them, most first."""
        return sorted(self.importance.items(), key=lambda kv: (-kv[1], kv[0]))

    def to_bytes(self) -> bytes:
        """Return the ranker saved as bytes (a pickle: keep them where only the service writes)."""
        return pickle.dumps((__version__, dataclasses.replace(self, model_id="")), protocol=5)

    @classmethod
    def from_bytes(cls, data: bytes) -> LearnedRanker:
        """Return a ranker saved by `to_bytes`, its model_id the digest of the bytes.

        Raises ValueError when the bytes are not a ranker or were saved by another matcher
        version (the components it reads may differ).
        """
        try:
            version, ranker = pickle.loads(data)  # noqa: S301 - our own bytes (see to_bytes)
        except Exception as exc:  # noqa: BLE001 - whatever unpickling raises
            raise ValueError(f"not a saved ranker: {exc}") from exc
        if not isinstance(ranker, cls):
            raise ValueError("not a saved ranker")
        if version != __version__:
            raise ValueError(f"a ranker of matcher {version}, not {__version__}")
        return dataclasses.replace(ranker, model_id=model_id_of(data))


def model_id_of(data: bytes) -> str:
    """Return the id of a saved ranker: the first 16 hex digits of the SHA-256 of its bytes."""
    return hashlib.sha256(data).hexdigest()[:16]


def rows(
    values: np.ndarray, scores: np.ndarray, prior: np.ndarray, query_terms: np.ndarray
) -> np.ndarray:
    """Return the ranker's feature rows: component values, default score, prior, query terms."""
    return np.column_stack([values, scores, prior, np.log1p(query_terms)])


def acceptance_prior(counts: Mapping, own: np.ndarray | None = None, keys=None) -> np.ndarray:
    """Return the smoothed log share of accepted pairs of the given keys, scaled to [0, 1].

    counts: accepted pairs per key (every known key present, 0 allowed); own: per key asked,
    how many of its counts to leave out (a training row must not see its own decision).
    """
    total = sum(counts.values())
    n = max(len(counts), 1)
    keys = list(counts) if keys is None else list(keys)
    c = np.array([counts.get(k, 0) for k in keys], np.float64)
    if own is not None:
        c = c - own
    norm = total + DEFAULT_PRIOR_SMOOTHING * n
    low = np.log(DEFAULT_PRIOR_SMOOTHING / norm)
    high = np.log((max(counts.values(), default=0) + DEFAULT_PRIOR_SMOOTHING) / norm)
    span = high - low if high > low else 1.0
    return (np.log((c + DEFAULT_PRIOR_SMOOTHING) / norm) - low) / span


def fit_ranker(
    x: np.ndarray,
    label: np.ndarray,
    scores: np.ndarray,
    components: Sequence[str],
    prior: Mapping,
    n_accepted: int,
    n_rejected: int,
) -> LearnedRanker | None:
    """Fit the classifier on feature rows and labels; None when too few accepted pairs."""
    if n_accepted < DEFAULT_RANKER_MIN_ACCEPTED or label.all() or not label.any():
        return None
    known = ~np.isnan(x)
    varies = known.any(axis=0) & (
        np.nanmax(np.where(known, x, -np.inf), axis=0)
        > np.nanmin(np.where(known, x, np.inf), axis=0)
    )
    columns = np.flatnonzero(varies)
    names_all = (*components, *EXTRA_FEATURES)
    x = x[:, columns]
    model = HistGradientBoostingClassifier(
        max_iter=DEFAULT_RANKER_ITERATIONS,
        learning_rate=DEFAULT_RANKER_LEARNING_RATE,
        max_leaf_nodes=DEFAULT_RANKER_LEAVES,
        random_state=DEFAULT_SEED,
        # a better component, score or prior never lowers a pair (query_terms: either way)
        monotonic_cst=[0 if names_all[k] == "query_terms" else 1 for k in columns],
    ).fit(x, label)
    p = model.predict_proba(x)[:, 1]
    grid = np.linspace(0, 1, 101)
    calibration = (np.quantile(p, grid), np.quantile(scores, grid))
    names = [(*components, *EXTRA_FEATURES)[k] for k in columns]
    base = _log_loss(label, p)
    rng = np.random.default_rng(DEFAULT_SEED)
    importance = {}
    for k, name in enumerate(names):
        shuffled = x.copy()
        shuffled[:, k] = shuffled[rng.permutation(len(x)), k]
        importance[name] = round(_log_loss(label, model.predict_proba(shuffled)[:, 1]) - base, 6)
    return LearnedRanker(
        model,
        tuple(components),
        dict(prior),
        calibration,
        n_accepted,
        n_rejected,
        len(x),
        importance,
        columns,
    )


def _log_loss(label: np.ndarray, p: np.ndarray) -> float:
    p = np.clip(p, 1e-9, 1 - 1e-9)
    return float(-np.mean(np.where(label, np.log(p), np.log(1 - p))))
