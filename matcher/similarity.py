"""How alike a few texts are, read the way the matcher reads them (stems, bigrams, languages).

Used to flag an offer that may be the same call as another (a feed item and a hand-entered
offer, or one call from two sources): a handful of documents, fitted and compared at once.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from matcher.text import TextVectorizer

DEFAULT_DUPLICATE_SIMILARITY = 0.6  # cosine of TF-IDF rows at or above which two offers look alike


def similarities(
    first: tuple[str, str, str | None], others: Sequence[tuple[str, str, str | None]]
) -> np.ndarray:
    """Return the cosine similarity of `first` to each of `others`.

    Parameters
    ----------
    first, others : documents as (title, text, language or None)

    Returns
    -------
    One float in [0, 1] per document of `others`, in their order (empty for no others).
    """
    if not others:
        return np.zeros(0, np.float64)
    everything = [first, *others]
    docs = [[text or title] for title, text, _ in everything]
    titles = [title for title, _, _ in everything]
    langs = [lang for _, _, lang in everything]
    vectorizer = TextVectorizer(bigram_min_df=1).fit(docs, titles, langs)
    rows, _, _ = vectorizer.transform(docs, titles, langs)
    norms = np.sqrt(np.asarray(rows.multiply(rows).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    scores = np.asarray((rows[1:] @ rows[0].T).todense()).ravel() / (norms[1:] * norms[0])
    return np.clip(scores, 0.0, 1.0)
