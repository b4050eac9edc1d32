"""Top-k selection over sparse products, in row blocks with bounded memory."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from scipy import sparse
from sparse_dot_topn import sp_matmul_topn

DEFAULT_BLOCK_ROWS = 2048
DEFAULT_THREADS = 2
DEFAULT_DIRECT_ROWS = 32  # below this many rows a plain scipy product is cheaper to set up


def top_k(similarity: sparse.csr_matrix, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Return, per row, the column ids and scores of the k best entries, best first.

    Rows with fewer than k stored entries are padded with column -1 and score -inf. Ties are
    broken by the lower column id, so the result is deterministic.
    """
    n = similarity.shape[0]
    cols = np.full((n, k), -1, np.int64)
    vals = np.full((n, k), -np.inf, np.float64)
    indptr, indices, data = similarity.indptr, similarity.indices, similarity.data
    lengths = np.diff(indptr)
    if k <= 0 or not len(data):
        return cols, vals
    if n <= DEFAULT_DIRECT_ROWS and lengths.max() > 4 * k:
        for r in range(n):
            c, v = _row_top_k(
                indices[indptr[r] : indptr[r + 1]], data[indptr[r] : indptr[r + 1]], k
            )
            cols[r, : len(c)], vals[r, : len(v)] = c, v
        return cols, vals
    rows = np.repeat(np.arange(n), lengths)
    order = np.lexsort((indices, -data.astype(np.float64), rows))
    rank = np.arange(len(order)) - np.repeat(indptr[:-1], lengths)
    keep = rank < k
    cols[rows[keep], rank[keep]] = indices[order][keep]
    vals[rows[keep], rank[keep]] = data[order][keep]
    return cols, vals


def _row_top_k(indices: np.ndarray, data: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Return the k best (column, value) of one sparse row, ties to the lower column."""
    if len(data) > k:
        kth = np.partition(data, len(data) - k)[len(data) - k]
        keep = data >= kth  # every entry tied with the k-th survives, so ties stay exact
        indices, data = indices[keep], data[keep]
    order = np.lexsort((indices, -data.astype(np.float64)))[:k]
    return indices[order], data[order]


def _row_candidates(
    indices: np.ndarray, data: np.ndarray, right_t: sparse.csr_matrix, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Return the k best positive products of one sparse row with right_t, ties to lower column.

    The row is a dense accumulation over the rows of right_t it touches: one pass instead of the
    two a sparse product makes, with the same float32 sums in the same order (feature by
    feature), so the values equal those of `row @ right_t`.
    """
    if not len(indices):
        return np.zeros(0, np.int64), np.zeros(0, np.float32)
    touched = right_t[indices]  # the row's features, in order
    sums = touched.T @ data  # CSC mat-vec: out[item] += data[f] * touched[f, item], f ascending
    hit = np.flatnonzero(sums > 0)
    return _row_top_k(hit, sums[hit], k)


def blocks(n: int, size: int = DEFAULT_BLOCK_ROWS) -> Iterator[slice]:
    """Yield consecutive row slices of at most size rows covering range(n)."""
    for start in range(0, n, size):
        yield slice(start, min(n, start + size))


def candidates(
    left: sparse.csr_matrix,
    right_t: sparse.csr_matrix,
    k: int,
    block_rows: int = DEFAULT_BLOCK_ROWS,
    threads: int = DEFAULT_THREADS,
) -> tuple[np.ndarray, np.ndarray]:
    """Return, per row of left, the k columns of left @ right_t with the largest products.

    right_t is the transposed right-hand matrix in CSR (features × items), so the product is
    never a dense matrix: each block of rows keeps only its k best entries (sparse_dot_topn);
    a block of fewer than DEFAULT_DIRECT_ROWS rows (one new item) is done row by row, each as
    one dense vector over the items. Both give the same float32 products.
    """
    n = left.shape[0]
    cols = np.full((n, k), -1, np.int64)
    vals = np.full((n, k), -np.inf, np.float64)
    k_eff = min(k, right_t.shape[1])
    if n == 0 or k_eff == 0:
        return cols, vals
    for part in blocks(n, block_rows):
        if part.stop - part.start < DEFAULT_DIRECT_ROWS:  # a few rows: one at a time
            for r in range(part.start, part.stop):
                lo, hi = left.indptr[r], left.indptr[r + 1]
                c, v = _row_candidates(left.indices[lo:hi], left.data[lo:hi], right_t, k)
                cols[r, : len(c)], vals[r, : len(v)] = c, v
            continue
        product = sp_matmul_topn(
            left[part],
            right_t,
            top_n=k_eff,
            threshold=0.0,
            n_threads=threads if threads > 1 else None,
        ).tocsr()
        c, v = top_k(product, k)
        cols[part], vals[part] = c, v
    return cols, vals
