"""Negative feedback: what the staff's rejections of an ally's offers teach about similar pairs.

A rejection given as "not eligible" or "out of scope" says more than "not this time": a project
like that one should not be offered an offer like that one from that ally. `Rejections` keeps
each such rejected pair's text rows and ally; a pair (project d, offer s of ally a) is similar to
a rejected pair (d', s') of the same ally when sqrt(cos(d, d') · cos(s, s')) reaches
DEFAULT_SIMILAR (the same offer counts as cos 1). Each similar rejection lowers the pair's score
by DEFAULT_PENALTY of itself, at most DEFAULT_PENALTY_MAX in all, and the explanation says so:
"similar offers from this ally were rejected as out of scope twice".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

TEACHING_REASONS: dict[str, tuple[str, str]] = {
    "out_of_scope": ("as out of scope", "por estar fuera de alcance"),
    "not_eligible": ("as not eligible", "por no ser elegible"),
}
DEFAULT_SIMILAR = 0.5
DEFAULT_PENALTY = 0.15
DEFAULT_PENALTY_MAX = 0.5


@dataclass
class Rejections:
    """Rejected pairs that teach: text rows of both sides, ally key, offer id and reason."""

    demand_rows: sparse.csr_matrix  # rejections × features
    supply_rows: sparse.csr_matrix  # rejections × features
    keys: list  # ally key (or offer id) of the rejected offer
    supply_ids: list
    reasons: list[str]

    def __len__(self) -> int:
        return len(self.keys)

    def counts(
        self,
        d_rows: sparse.csr_matrix,
        s_rows: sparse.csr_matrix,
        keys: list,
        supply_ids: list,
    ) -> dict[str, np.ndarray]:
        """Return per teaching reason how many similar rejections each pair has (rows aligned)."""
        n = d_rows.shape[0]
        out = {reason: np.zeros(n, np.int64) for reason in TEACHING_REASONS}
        if not len(self) or not n:
            return out
        mine = set(self.keys)
        pairs = np.array([k in mine for k in keys], bool)
        idx = np.flatnonzero(pairs)
        if not len(idx):
            return out
        same_ally = np.array([[k == r for r in self.keys] for k in (keys[i] for i in idx)], bool)
        same_offer = np.array(
            [[x == r for r in self.supply_ids] for x in (supply_ids[i] for i in idx)], bool
        )
        cos_d = (d_rows[idx].astype(np.float64) @ self.demand_rows.T.astype(np.float64)).toarray()
        cos_s = (s_rows[idx].astype(np.float64) @ self.supply_rows.T.astype(np.float64)).toarray()
        cos_s[same_offer] = 1.0
        sim = np.sqrt(np.clip(cos_d, 0, 1) * np.clip(cos_s, 0, 1))
        similar = same_ally & (sim >= DEFAULT_SIMILAR)
        reasons = np.array(self.reasons)
        for reason in TEACHING_REASONS:
            out[reason][idx] = (similar & (reasons == reason)[None, :]).sum(axis=1)
        return out


def factor(counts: dict[str, np.ndarray]) -> np.ndarray:
    """Return the score multiplier per pair from its similar rejections (1: none)."""
    total = sum(counts.values())
    return 1.0 - np.minimum(DEFAULT_PENALTY * total, DEFAULT_PENALTY_MAX)


def times(n: int) -> tuple[str, str]:
    """Return 'once', 'twice', 'N times' in English and Spanish."""
    if n == 1:
        return "once", "una vez"
    if n == 2:
        return "twice", "dos veces"
    return f"{n} times", f"{n} veces"


def phrase(counts: dict[str, int]) -> tuple[str, str] | None:
    """Return the explanation of a pair lowered by similar rejections (None when none)."""
    parts_en, parts_es = [], []
    for reason, (en, es) in TEACHING_REASONS.items():
        n = counts.get(reason, 0)
        if n:
            t_en, t_es = times(n)
            parts_en.append(f"{en} {t_en}")
            parts_es.append(f"{es} {t_es}")
    if not parts_en:
        return None
    return (
        "similar offers from this ally were rejected " + " and ".join(parts_en),
        "ofertas similares de este aliado se rechazaron " + " y ".join(parts_es),
    )
