"""What an office's alliances say of an ally: the sectors, lines and SDGs of its allied projects.

An ally's `record_fields` lists, for each project the office allied it with, that project's
structured fields (`sectors` / `dac_sectors`, `lines`, `sdgs`), as its `record` lists their
texts. The history component of a (project, ally) pair is the smoothed share of the ally's
allied projects that share a code with the project, for the best of the project's codes,
square-rooted like the text component:

    (n_jc + a * p_c) / (n_j + a),   p_c = (N_c + 1) / (N + 1)

where n_jc counts the ally's allied projects with code c, n_j all its allied projects, and N_c
and N the same over every ally's. An ally with few alliances is pulled toward how common the
code is among all alliances (a = 5), so one past project in a sector is not yet a speciality,
and an ally with none (a new one) scores that share, p_c: average, neither favoured nor absent.

The text and the profile say what an ally's projects were about in words; this says what the
office itself filed them under, which reads the same in every language and house style.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

# item field -> code kind; a project's codes are "kind:value" (a sector, a line, an SDG)
CODE_FIELDS = (("sectors", "sector"), ("dac_sectors", "sector"), ("lines", "line"), ("sdgs", "sdg"))
DEFAULT_HISTORY_SMOOTHING = 5.0
DEFAULT_HISTORY_POWER = 0.5


def item_codes(item: Mapping) -> list[str]:
    """Return an item's codes ("sector:12220", "line:social_inclusion", "sdg:3"), sorted."""
    codes = set()
    for name, kind in CODE_FIELDS:
        value = item.get(name)
        values = value if isinstance(value, (list, tuple, set)) else [value]
        for v in values:
            text = str(v).strip().lower() if v is not None else ""
            if text:
                codes.add(f"{kind}:{text}")
    return sorted(codes)


@dataclass
class History:
    """Per ally with a history: how many allied projects it has and how many carry each code."""

    codes: dict[str, int]  # code -> column
    counts: np.ndarray  # allies × codes: allied projects with the code (float64)
    sizes: np.ndarray  # per ally: its allied projects
    background: np.ndarray  # per code: p_c, its smoothed share among all allied projects
    allies: dict  # ally key -> row

    def encode(self, items: Sequence[Mapping]) -> sparse.csr_matrix:
        """Return items × codes, 1 where the item has the code (codes no ally has are left out)."""
        rows, cols = [], []
        for i, item in enumerate(items):
            for code in item_codes(item):
                col = self.codes.get(code)
                if col is not None:
                    rows.append(i)
                    cols.append(col)
        data = np.ones(len(rows), np.float64)
        return sparse.csr_matrix((data, (rows, cols)), shape=(len(items), len(self.codes)))

    def rows_of(self, keys: Iterable) -> np.ndarray:
        """Return per ally key its row (-1: no history)."""
        return np.array([self.allies.get(k, -1) for k in keys], np.int64)

    def fit_values(
        self, codes: sparse.csr_matrix, ally_rows: np.ndarray, di: np.ndarray, sj: np.ndarray
    ) -> np.ndarray:
        """Return the component of (project di, supply sj) pairs: NaN where the project has no
        code that any ally's history has. An ally without a history (row -1) is taken as one
        with no allied project yet: the code's share among all alliances, p_c."""
        out = np.full(len(di), np.nan)
        n_codes = np.diff(codes.indptr)[di]
        have = np.flatnonzero(n_codes > 0)
        if not len(have):
            return out
        counts = n_codes[have]
        pair_of = np.repeat(np.arange(len(have)), counts)
        starts = codes.indptr[di[have]]
        offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        code = codes.indices[np.repeat(starts, counts) + offsets]
        ally = ally_rows[sj[have]][pair_of]
        known = ally >= 0
        a = DEFAULT_HISTORY_SMOOTHING
        share = self.background[code].copy()  # no history: p_c
        k, c = ally[known], code[known]
        share[known] = (self.counts[k, c] + a * self.background[c]) / (self.sizes[k] + a)
        best = np.zeros(len(have))
        np.maximum.at(best, pair_of, share)
        out[have] = best**DEFAULT_HISTORY_POWER
        return out

    def best_code(self, code_cols: np.ndarray, ally_row: int) -> tuple[str, int, int] | None:
        """Return the project's code the ally has most allied projects in, that count and the
        ally's allied projects (None when none of them has any of the codes)."""
        if ally_row < 0 or not len(code_cols):
            return None
        counts = self.counts[ally_row, code_cols]
        k = int(np.argmax(counts))
        if counts[k] <= 0:
            return None
        names = {v: c for c, v in self.codes.items()}
        return names[int(code_cols[k])], int(counts[k]), int(self.sizes[ally_row])


def fit_history(records: Mapping[object, Sequence[Mapping]]) -> History | None:
    """Return the history of the allies' allied projects (per ally key, one mapping of fields
    per project), or None when no project has a code."""
    allies = {key: k for k, key in enumerate(records)}
    code_sets = {key: [item_codes(p) for p in projects] for key, projects in records.items()}
    vocab: dict[str, int] = {}
    for sets in code_sets.values():
        for codes in sets:
            for code in codes:
                vocab.setdefault(code, len(vocab))
    if not vocab:
        return None
    counts = np.zeros((len(allies), len(vocab)))
    sizes = np.zeros(len(allies))
    for key, sets in code_sets.items():
        row = allies[key]
        sizes[row] = len(sets)
        for codes in sets:
            counts[row, [vocab[c] for c in codes]] += 1
    total = sizes.sum()
    background = (counts.sum(axis=0) + 1) / (total + 1)
    return History(vocab, counts, sizes, background, allies)
