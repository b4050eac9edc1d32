"""Learned supplier profiles: what an ally funds, learned from its record of past activities.

A supplier described by many passages (one funded activity per line) is a labelled sample of
what it funds. A linear SVM (one-vs-rest) over those passages learns, per supplier, a weight
vector that separates its activities from everyone else's; the score of a project for a
supplier is then one sparse dot product, squashed into [0, 1]. Features are the word/concept
TF-IDF rows plus character n-grams, which carry names and acronyms, and "style" rows: word 1-3
grams that keep function words and numbers ("the objective of the program is", "covid 19"),
which carry the house style an ally writes its own activities in and the content features drop.

The feature groups are weighted before the SVM sees them (word rows × 0.5, style rows × 3): the
content words are already the text component, while the house style is what only a record can
teach, and a group's weight is how cheaply the SVM may lean on it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC

from .text import DETECT_LANGS, detect_language, normalise

DEFAULT_PROFILE_MIN_PASSAGES = 5
DEFAULT_PROFILE_MAX_ITEMS = 1000
DEFAULT_PROFILE_C = 1.0
DEFAULT_PROFILE_SLOPE = 3.0
DEFAULT_PROFILE_CENTER = -0.5
DEFAULT_CHAR_NGRAMS = (3, 5)
DEFAULT_CHAR_MAX_FEATURES = 150_000
DEFAULT_LANG_FEATURE_WEIGHT = 0.5
DEFAULT_STYLE_NGRAMS = (1, 3)
DEFAULT_STYLE_MAX_FEATURES = 300_000
DEFAULT_WORD_BLOCK_WEIGHT = 0.5
DEFAULT_STYLE_BLOCK_WEIGHT = 3.0
STYLE_TOKEN_PATTERN = r"(?u)\b\w\w+\b"


@dataclass
class Profiles:
    """Fitted supplier profiles: weights (features × profiles), intercepts, char vectoriser."""

    weights: sparse.csr_matrix
    intercepts: np.ndarray
    chars: TfidfVectorizer
    n_passages: np.ndarray  # per profile, how many passages it was learned from
    style: TfidfVectorizer | None = None  # word n-grams with function words (house style)
    # feature group weights; an index saved before they existed unpickles with 1.0 (unweighted)
    word_weight: float = 1.0
    style_weight: float = 1.0

    def features(self, word_rows: sparse.csr_matrix, texts: list[str]) -> sparse.csr_matrix:
        """Return the profile feature rows of items: word rows, char n-grams, language, style."""
        if not texts:  # scikit-learn refuses to transform nothing
            return sparse.csr_matrix((0, self.weights.shape[0]), dtype=np.float32)
        norm = [normalise(t) for t in texts]
        style = self.style.transform(norm) if self.style is not None else None
        return stack_features(
            word_rows,
            self.chars.transform(norm),
            language_rows(texts),
            style,
            self.word_weight,
            self.style_weight,
        )

    def scores(self, feats: sparse.csr_matrix, columns: np.ndarray) -> np.ndarray:
        """Return squashed profile scores of feature rows against the given profile columns."""
        raw = (feats.astype(np.float64) @ self.weights[:, columns]).toarray()
        raw += self.intercepts[columns][None, :]
        return squash(raw)


def stack_features(
    words: sparse.csr_matrix,
    chars: sparse.csr_matrix,
    langs: sparse.csr_matrix,
    style: sparse.csr_matrix | None,
    word_weight: float,
    style_weight: float,
) -> sparse.csr_matrix:
    """Return the profile feature rows: the weighted groups side by side (style None: none)."""
    blocks = [words * word_weight, chars, langs]
    if style is not None:  # None: too few repeated n-grams, or an older index
        blocks.append(style * style_weight)
    return sparse.hstack(blocks, format="csr", dtype=np.float32)


def language_rows(texts: list[str]) -> sparse.csr_matrix:
    """Return one-hot rows of each text's detected language (what languages an ally funds in)."""
    cols = [DETECT_LANGS.index(detect_language(t)) for t in texts]
    data = np.full(len(texts), DEFAULT_LANG_FEATURE_WEIGHT, np.float32)
    return sparse.csr_matrix(
        (data, (np.arange(len(texts)), cols)), shape=(len(texts), len(DETECT_LANGS))
    )


def squash(margin: np.ndarray) -> np.ndarray:
    """Map SVM margins into (0, 1) with a fixed logistic curve."""
    return 1.0 / (1.0 + np.exp(-DEFAULT_PROFILE_SLOPE * (margin - DEFAULT_PROFILE_CENTER)))


def profile_owners(passage_owners: np.ndarray, n_items: int) -> np.ndarray:
    """Return the items (sorted) that have enough passages to learn a profile from."""
    counts = np.bincount(passage_owners, minlength=n_items)
    return np.flatnonzero(counts >= DEFAULT_PROFILE_MIN_PASSAGES)


def fit_profiles(
    passages: sparse.csr_matrix,
    passage_texts: list[str],
    passage_owners: np.ndarray,
    owners: np.ndarray,
) -> Profiles | None:
    """Fit one linear profile per owner from its passages (None when fewer than two owners).

    Parameters
    ----------
    passages : passage rows (word TF-IDF), aligned with passage_texts and passage_owners
    owners : the items to learn a profile for, as returned by profile_owners
    """
    if len(owners) < 2 or len(owners) > DEFAULT_PROFILE_MAX_ITEMS:
        return None
    keep = np.isin(passage_owners, owners)
    labels = np.searchsorted(owners, passage_owners[keep])
    raw = [t for t, k in zip(passage_texts, keep, strict=True) if k]
    texts = [normalise(t) for t in raw]
    chars = TfidfVectorizer(
        analyzer="char_wb",
        ngram_range=DEFAULT_CHAR_NGRAMS,
        min_df=2,
        sublinear_tf=True,
        lowercase=False,
        dtype=np.float32,
        max_features=DEFAULT_CHAR_MAX_FEATURES,
    )
    style = TfidfVectorizer(
        ngram_range=DEFAULT_STYLE_NGRAMS,
        min_df=2,
        sublinear_tf=True,
        lowercase=False,
        dtype=np.float32,
        token_pattern=STYLE_TOKEN_PATTERN,
        max_features=DEFAULT_STYLE_MAX_FEATURES,
    )
    try:
        style_rows = style.fit_transform(texts)
    except ValueError:  # no n-gram occurs twice (a tiny corpus): no style features
        style, style_rows = None, None
    x = stack_features(
        passages[keep],
        chars.fit_transform(texts),
        language_rows(raw),
        style_rows,
        DEFAULT_WORD_BLOCK_WEIGHT,
        DEFAULT_STYLE_BLOCK_WEIGHT,
    )
    svm = LinearSVC(C=DEFAULT_PROFILE_C, random_state=0).fit(x, labels)
    coef = svm.coef_ if len(owners) > 2 else np.vstack([-svm.coef_, svm.coef_])
    icpt = svm.intercept_ if len(owners) > 2 else np.array([-svm.intercept_[0], svm.intercept_[0]])
    weights = sparse.csr_matrix(coef.T.astype(np.float64))
    weights.eliminate_zeros()
    return Profiles(
        weights,
        icpt.astype(np.float64),
        chars,
        np.bincount(labels, minlength=len(owners)),
        style,
        DEFAULT_WORD_BLOCK_WEIGHT,
        DEFAULT_STYLE_BLOCK_WEIGHT,
    )
