"""Text analysis: normalisation, language detection, stop words, stemming and TF-IDF features.

The vectoriser works on a whole corpus at once with numpy (one regular-expression pass, one
dictionary pass over the tokens, stemming once per unique token and language) so that fitting
tens of thousands of documents costs seconds, not minutes. Features are word stems, stem
bigrams and, when a glossary is given, shared bilingual concept ids.
"""

from __future__ import annotations

import multiprocessing
import re
import unicodedata
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import Stemmer
from scipy import sparse
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.utils.sparsefuncs_fast import inplace_csr_row_normalize_l2

from ._stop_words import STOP_WORDS

DEFAULT_LANG = "en"
DEFAULT_TITLE_WEIGHT = 2.0
DEFAULT_CONCEPT_WEIGHT = 1.5
DEFAULT_BIGRAM_MIN_DF = 2
DEFAULT_MAX_PHRASE_LEN = 6
DEFAULT_DETECT_CHARS = 1500
DEFAULT_OVERRIDE_MIN_STOPS = 3  # a unit's own stop words overrule its given language from 3 on
DEFAULT_OVERRIDE_RATIO = 3.0  # ... and when 3 times as many as the given language's
DEFAULT_CHUNK_UNITS = 20_000
DEFAULT_SEARCHED_IDF_SHARE = 0.5  # share of the searched side's own IDF (see fit)

STEMMER_NAMES = {
    "en": "english",
    "es": "spanish",
    "fr": "french",
    "de": "german",
    "pt": "portuguese",
    "it": "italian",
    "nl": "dutch",
    "sv": "swedish",
    "fi": "finnish",
    "da": "danish",
    "no": "norwegian",
    "ca": "catalan",
}
# Glossary phrases are stemmed by every stemmer, each in its own space (plus one unstemmed space
# for languages without a stemmer), and a text unit is matched in its language's space only:
# a Spanish term found in an English text is stemmed as English, like the text, and what another
# language's stemmer makes of a term ("cooperativa" read as Catalan: "cooper") cannot fire in a
# text where the word merely looks the same ("cooperation" read as English: "cooper").
PHRASE_SPACES = tuple(sorted(STEMMER_NAMES))

DETECT_LANGS = tuple(STOP_WORDS)
ALWAYS_STOP = frozenset(STOP_WORDS["en"] | STOP_WORDS["es"])
_STOP_LANGS: dict[str, tuple[int, ...]] = {
    word: tuple(i for i, lang in enumerate(DETECT_LANGS) if word in STOP_WORDS[lang])
    for word in set().union(*STOP_WORDS.values())
}

_TOKEN = re.compile(r"[^\W_]{2,}")
_WORD = re.compile(r"[^\W_]+")
_COMBINING = re.compile(r"[\u0300-\u036f]")
_UNIT_MARK = " qqunitqq "
_HASH_MASK = (1 << 64) - 1


def normalise(text: str) -> str:
    """Return text case-folded, compatibility-decomposed and stripped of accents."""
    folded = text.casefold()
    if folded.isascii():  # nothing to decompose or strip (most English texts): skip both passes
        return folded
    return _COMBINING.sub("", unicodedata.normalize("NFKD", folded))


def tokenize(text: str) -> list[str]:
    """Return the normalised word tokens of a text (letters first, at least two characters)."""
    return _TOKEN.findall(normalise(text))


def detect_language(text: str) -> str:
    """Return the most likely language code of a text from its stop words (DEFAULT_LANG if none)."""
    counts = [0] * len(DETECT_LANGS)
    for token in tokenize(text[:DEFAULT_DETECT_CHARS]):
        for index in _STOP_LANGS.get(token, ()):
            counts[index] += 1
    best = max(range(len(counts)), key=lambda i: (counts[i], -i))
    return DETECT_LANGS[best] if counts[best] > 0 else DEFAULT_LANG


def stemmer_for(lang: str) -> Stemmer.Stemmer | None:
    """Return the Snowball stemmer for a language code, or None when there is none."""
    name = STEMMER_NAMES.get(lang)
    return Stemmer.Stemmer(name) if name else None


def phrase_space(lang: str) -> int:
    """Return the stemmer space a language's units are matched against glossary phrases in."""
    return PHRASE_SPACES.index(lang) if lang in PHRASE_SPACES else len(PHRASE_SPACES)


def phrase_hash(ids: Sequence[int] | np.ndarray, space: int = 0) -> int:
    """Return the rolling hash the vectoriser uses for word feature ids read in a stemmer space."""
    h = space + 1
    for value in ids:  # plain ints modulo 2**64: the same value as uint64 arithmetic, faster
        h = (h * 1_000_003 + int(value) + 1) & _HASH_MASK
    return h


@dataclass
class Units:
    """Token streams of a batch of text units (titles, passages), as flat numpy arrays."""

    features: np.ndarray  # word feature id per kept token
    unit: np.ndarray  # unit index per kept token
    n_units: int
    langs: list[str]  # language per unit
    counts: sparse.csr_matrix | None = None  # unit × feature counts, once computed by fit

    def split(self, n_units: int) -> tuple[Units, Units]:
        """Return the streams of the first n_units units and of the rest (renumbered)."""
        cut = int(np.searchsorted(self.unit, n_units))  # units are numbered in stream order
        head = self.counts[:n_units] if self.counts is not None else None
        tail = self.counts[n_units:] if self.counts is not None else None
        return (
            Units(self.features[:cut], self.unit[:cut], n_units, self.langs[:n_units], head),
            Units(
                self.features[cut:],
                self.unit[cut:] - n_units,
                self.n_units - n_units,
                self.langs[n_units:],
                tail,
            ),
        )


@dataclass
class TextVectorizer:
    """Map texts to L2-normalised TF-IDF rows over stems, stem bigrams and glossary concepts.

    State after `fit`: the word vocabulary, the kept bigram keys, the concept table and the
    fitted IDF. `transform_*` never grows the vocabulary, so a new item can be scored against a
    fitted index without refitting.
    """

    concepts: list[str] = field(default_factory=list)
    phrases: list[tuple[str, int]] = field(default_factory=list)  # (surface phrase, concept id)
    title_weight: float = DEFAULT_TITLE_WEIGHT
    concept_weight: float = DEFAULT_CONCEPT_WEIGHT
    bigram_min_df: int = DEFAULT_BIGRAM_MIN_DF
    vocab: dict[str, int] = field(default_factory=dict)
    word_names: list[str] = field(default_factory=list)
    bigram_keys: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    phrase_keys: np.ndarray = field(default_factory=lambda: np.zeros(0, np.uint64))
    phrase_concepts: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    phrase_lengths: tuple[int, ...] = ()
    phrase_first: np.ndarray = field(default_factory=lambda: np.zeros(1, bool))
    tfidf: TfidfTransformer | None = None
    fitted: bool = False
    # cores used: chunks of text read by as many processes, blocks of counts built by as many
    # threads (numpy releases the GIL in their sorts)
    threads: int = 1
    _cache: dict[tuple[str, str], int] = field(default_factory=dict, repr=False)

    last_units: Units | None = field(default=None, repr=False)

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_cache"] = {}
        state["last_units"] = None
        return state

    @property
    def n_words(self) -> int:
        return len(self.word_names)

    @property
    def n_features(self) -> int:
        return self.n_words + len(self.bigram_keys) + len(self.concepts)

    def feature_name(self, index: int) -> str:
        """Return a readable name for a feature id (a word, a two-word phrase or a concept)."""
        if index < self.n_words:
            return self.word_names[index]
        index -= self.n_words
        if index < len(self.bigram_keys):
            a, b = divmod(int(self.bigram_keys[index]), self.n_words)
            return f"{self.word_names[a]} {self.word_names[b]}"
        return self.concepts[index - len(self.bigram_keys)]

    # -- token streams -----------------------------------------------------------------------

    def _units(
        self,
        texts: Sequence[str],
        langs: Sequence[str | None],
        grow: bool,
        groups: np.ndarray | None = None,
    ) -> Units:
        """Tokenise, drop stop words and map tokens to word ids, one pass over all units.

        Each unit's language comes from `_unit_languages` (given, detected, or corrected).
        """
        words, ids, unit = _surface_ids(texts, self.threads)
        langs = _unit_languages(list(langs), words, ids, unit, groups)
        lang_codes = sorted(set(langs))
        lang_of_unit = np.array([lang_codes.index(x) for x in langs], np.int64)
        token_lang = lang_of_unit[unit] if len(unit) else np.zeros(0, np.int64)
        width = max(len(words), 1)
        # (language, surface token) keys are dense, so a lookup table replaces a sort of all
        # tokens; the distinct keys come out in the same ascending order np.unique gives.
        keys = token_lang * width
        keys += ids
        del token_lang
        present = np.zeros(len(lang_codes) * width, bool)
        present[keys] = True
        uniq = np.flatnonzero(present)
        del present
        table = np.full(
            len(lang_codes) * width,
            -1,
            np.int32 if len(self.vocab) + len(uniq) < 2**31 else np.int64,
        )
        for li, lang in enumerate(lang_codes):
            sel = uniq[(uniq >= li * width) & (uniq < (li + 1) * width)]
            if len(sel):
                table[sel] = self._word_ids([words[k] for k in sel - li * width], lang, grow)
        feats = table[keys] if len(ids) else np.zeros(0, np.int64)
        del keys, table
        ok = feats >= 0
        return Units(feats[ok], unit[ok], len(texts), list(langs))

    def _word_ids(self, tokens: list[str], lang: str, grow: bool) -> list[int]:
        """Return word feature ids (-1 for stop words and unknown stems), caching per token."""
        stop = ALWAYS_STOP | STOP_WORDS.get(lang, frozenset())
        out: list[int] = []
        missing = [t for t in tokens if (lang, t) not in self._cache]
        if missing:
            stemmer = stemmer_for(lang)
            stems = stemmer.stemWords(missing) if stemmer else missing
            for token, stem in zip(missing, stems, strict=True):
                if token in stop or token.isdigit():
                    self._cache[(lang, token)] = -1
                    continue
                fid = self.vocab.get(stem, -1)
                if fid < 0 and grow:
                    fid = len(self.vocab)
                    self.vocab[stem] = fid
                    self.word_names.append(token)
                if fid >= 0 or not grow:
                    self._cache[(lang, token)] = fid
        for t in tokens:
            out.append(self._cache.get((lang, t), -1))
        return out

    # -- n-grams and concepts ----------------------------------------------------------------

    def _ngram_starts(self, units: Units, n: int) -> np.ndarray:
        """Return positions where n consecutive kept tokens lie in the same unit."""
        m = len(units.features) - n + 1
        if m <= 0:
            return np.zeros(0, np.int64)
        same = units.unit[:m] == units.unit[n - 1 :]
        return np.flatnonzero(same)

    def _bigram_keys(self, units: Units) -> tuple[np.ndarray, np.ndarray]:
        """Return (unit, key) of every within-unit bigram of word ids."""
        starts = self._ngram_starts(units, 2)
        keys = units.features[starts].astype(np.int64) * max(self.n_words, 1)
        keys += units.features[starts + 1]
        return units.unit[starts], keys

    def _phrase_matches(self, units: Units) -> tuple[np.ndarray, np.ndarray]:
        """Return (unit, concept id) of every glossary phrase found in the token streams."""
        if not len(self.phrase_keys):
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        rows, cols = [], []
        feats = (units.features + 1).astype(np.uint64)
        space = np.array([phrase_space(lang) + 1 for lang in units.langs], np.uint64)
        with np.errstate(over="ignore"):
            for n in self.phrase_lengths:
                starts = self._ngram_starts(units, n)
                starts = starts[self.phrase_first[units.features[starts]]]
                if not len(starts):
                    continue
                h = space[units.unit[starts]]
                for k in range(n):
                    h = h * np.uint64(1_000_003) + feats[starts + k]
                pos = np.searchsorted(self.phrase_keys, h)
                pos[pos >= len(self.phrase_keys)] = 0
                hit = self.phrase_keys[pos] == h
                rows.append(units.unit[starts[hit]])
                cols.append(self.phrase_concepts[pos[hit]])
        if not rows:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        return np.concatenate(rows), np.concatenate(cols)

    def _build_phrases(self) -> None:
        """Stem every glossary phrase in every stemmer space and index it by its rolling hash."""
        table: dict[int, int] = {}
        lengths: set[int] = set()
        firsts: set[int] = set()
        tokenised = [tokenize(text) for text, _ in self.phrases]
        words = [len(_WORD.findall(normalise(text))) for text, _ in self.phrases]
        flat = [t for toks in tokenised for t in toks]
        distinct = list(dict.fromkeys(flat))  # stemmed once each, in order of first use
        where = {t: k for k, t in enumerate(distinct)}
        flat_pos = [where[t] for t in flat]
        for space, lang in enumerate((*PHRASE_SPACES, "")):  # "": no stemmer
            distinct_ids = self._word_ids(distinct, lang, grow=True)
            ids = [distinct_ids[k] for k in flat_pos]
            start = 0
            for toks, n_words, (_, concept) in zip(tokenised, words, self.phrases, strict=True):
                kept = [i for i in ids[start : start + len(toks)] if i >= 0]
                start += len(toks)
                if len(kept) == 1 < n_words:
                    continue  # "co-funding", "open call", "e-government": what is left is generic
                if kept and len(kept) <= DEFAULT_MAX_PHRASE_LEN:
                    table.setdefault(phrase_hash(kept, space), concept)
                    lengths.add(len(kept))
                    firsts.add(kept[0])
        keys = np.array(sorted(table), np.uint64)
        self.phrase_keys = keys
        self.phrase_concepts = np.array([table[int(k)] for k in keys], np.int64)
        self.phrase_lengths = tuple(sorted(lengths))
        self.phrase_first = np.zeros(len(self.vocab) + 1, bool)
        self.phrase_first[list(firsts)] = True

    # -- counts ------------------------------------------------------------------------------

    def _counts(self, units: Units) -> sparse.csr_matrix:
        """Return the unit × feature count matrix (words, kept bigrams, concepts).

        Built DEFAULT_CHUNK_UNITS units at a time (n-grams never cross units, so the rows are
        the same) to bound the memory of the intermediate coordinate arrays.
        """
        if units.counts is not None:
            return units.counts
        if units.n_units <= DEFAULT_CHUNK_UNITS:
            return self._counts_block(units)
        cuts = np.arange(0, units.n_units + DEFAULT_CHUNK_UNITS, DEFAULT_CHUNK_UNITS)
        cuts[-1] = units.n_units
        token_cuts = np.searchsorted(units.unit, cuts)  # units are numbered in stream order

        def block(a: int, b: int, lo: int, hi: int) -> sparse.csr_matrix:
            return self._counts_block(
                Units(units.features[lo:hi], units.unit[lo:hi] - a, int(b - a), units.langs[a:b])
            )

        bounds = (cuts[:-1], cuts[1:], token_cuts[:-1], token_cuts[1:])
        if self.threads > 1:  # blocks are independent and only read the fitted tables
            with ThreadPoolExecutor(self.threads) as pool:
                parts = list(pool.map(block, *bounds))
        else:
            parts = list(map(block, *bounds))
        m = sparse.vstack(parts, format="csr")
        del parts
        m.sum_duplicates()  # already canonical: this only checks and sets the flag
        return m

    def _counts_block(self, units: Units) -> sparse.csr_matrix:
        """Return the count matrix of a batch of units in one pass (see _counts)."""
        rows = [units.unit]
        cols = [units.features]
        b_unit, b_keys = self._bigram_keys(units)
        if len(self.bigram_keys) and len(b_keys):
            pos = np.searchsorted(self.bigram_keys, b_keys)
            pos[pos >= len(self.bigram_keys)] = 0
            hit = self.bigram_keys[pos] == b_keys
            rows.append(b_unit[hit])
            cols.append(self.n_words + pos[hit])
        c_unit, c_ids = self._phrase_matches(units)
        rows.append(c_unit)
        cols.append(self.n_words + len(self.bigram_keys) + c_ids)
        r = np.concatenate(rows)
        c = np.concatenate(cols)
        data = np.ones(len(r), np.float32)
        m = sparse.csr_matrix((data, (r, c)), shape=(units.n_units, self.n_features))
        m.sum_duplicates()
        return m

    def _weight(self, counts: sparse.csr_matrix) -> sparse.csr_matrix:
        """Apply sublinear TF-IDF (the fitted IDF), boost concept columns, L2-normalise rows."""
        if self.n_features == 0 or counts.shape[0] == 0:
            return sparse.csr_matrix(counts.shape, dtype=np.float32)
        x = counts.tocsr().astype(np.float32)
        x.sum_duplicates()
        x.data = (1.0 + np.log(x.data)) * self._column_scale()[x.indices]
        inplace_csr_row_normalize_l2(x)  # what sklearn's normalize does, without its checks
        x.sort_indices()
        return x

    def _column_scale(self) -> np.ndarray:
        """Return (and keep) IDF times the concept boost per feature column."""
        scale = getattr(self, "_scale", None)
        if scale is None or len(scale) != self.n_features:
            scale = self.tfidf.idf_.astype(np.float32).copy()
            scale[self.n_words + len(self.bigram_keys) :] *= self.concept_weight
            self._scale = scale
        return scale

    # -- public ------------------------------------------------------------------------------

    def fit(
        self,
        docs: Sequence[Sequence[str]],
        titles: Sequence[str],
        langs: Sequence[str],
        idf_docs: int | None = None,
    ) -> TextVectorizer:
        """Fit vocabulary, bigrams and IDF on documents given as (passages, title, language).

        idf_docs: mix into the IDF (half and half) one learned from the first idf_docs
        documents only: the side that is searched. A word every project uses ("covid") is
        then still telling among thematic lines of one sentence each, where only one is about
        it; None: the IDF of all documents only.
        """
        self.vocab, self.word_names, self._cache = {}, [], {}
        unit_texts, unit_langs, _, _ = _flatten(docs, titles, langs)
        units = self._units(unit_texts, unit_langs, grow=True, groups=_doc_of_unit(docs))
        self.last_units = units
        self._build_phrases()
        b_unit, b_keys = self._bigram_keys(units)
        doc_of_unit = _doc_of_unit(docs)
        # distinct (document, bigram) pairs as one int64 key each (bigram keys < n_words ** 2)
        span = max(self.n_words, 1) ** 2
        if span * max(len(docs), 1) < 2**62:
            pair_keys = _sorted_unique(doc_of_unit[b_unit] * span + b_keys)
            keys, df = _sorted_unique(pair_keys % span, counts=True)
            del pair_keys
        else:  # too many words and documents for one int64 key
            pairs = np.unique(np.stack([doc_of_unit[b_unit], b_keys]), axis=1)
            keys, df = np.unique(pairs[1], return_counts=True)
        self.bigram_keys = keys[df >= self.bigram_min_df].astype(np.int64)
        self.tfidf = TfidfTransformer(sublinear_tf=True, norm=None)
        units.counts = self._counts(units)  # kept on last_units: transform reuses the rows
        counts = self._doc_counts(units, docs)
        searched = None
        if idf_docs is not None and idf_docs > 0:
            searched = TfidfTransformer(sublinear_tf=True, norm=None).fit(counts[:idf_docs])
        if counts.shape[0] == 0 or counts.shape[1] == 0:  # sklearn refuses an empty corpus
            counts = sparse.csr_matrix((1, max(self.n_features, 1)), dtype=np.float32)
        self.tfidf.fit(counts)
        if searched is not None:  # the mean of the two (log) IDFs
            share = DEFAULT_SEARCHED_IDF_SHARE
            self.tfidf.idf_ = share * searched.idf_ + (1 - share) * self.tfidf.idf_
        self.fitted = True
        return self

    def _doc_counts(self, units: Units, docs: Sequence[Sequence[str]]) -> sparse.csr_matrix:
        """Sum unit counts into document counts, the title weighted."""
        counts = self._counts(units)
        n_docs = len(docs)
        doc_of_unit = _doc_of_unit(docs)
        weights = np.ones(units.n_units, np.float32)
        weights[_title_units(docs)] = self.title_weight
        agg = sparse.csr_matrix(
            (weights, (doc_of_unit, np.arange(units.n_units))), shape=(n_docs, units.n_units)
        )
        return (agg @ counts).tocsr()

    def transform(
        self,
        docs: Sequence[Sequence[str]],
        titles: Sequence[str],
        langs: Sequence[str | None],
        passages: bool = False,
        units: Units | None = None,
    ) -> tuple[sparse.csr_matrix, sparse.csr_matrix | None, np.ndarray]:
        """Return document rows, passage rows (for documents with 2+ passages) and passage owners.

        Parameters
        ----------
        docs : per document, its passages (a one-passage document is a list of one string)
        titles, langs : per document
        passages : also return one row per passage of multi-passage documents
        units : token streams already computed for these documents (see Units.split)

        Returns
        -------
        (documents × features, passages × features or None, owner document per passage row)
        """
        if units is None:
            unit_texts, unit_langs, _, _ = _flatten(docs, titles, langs)
            units = self._units(unit_texts, unit_langs, grow=False, groups=_doc_of_unit(docs))
        if passages and units.counts is None:
            units.counts = self._counts(units)  # documents and passages both read these rows
        doc_x = self._weight(self._doc_counts(units, docs))
        if not passages:
            return doc_x, None, np.zeros(0, np.int64)
        counts = self._counts(units)
        rows, owners = _passage_units(docs)
        if not len(rows):
            return doc_x, sparse.csr_matrix((0, self.n_features), dtype=np.float32), owners
        return doc_x, self._weight(counts[rows]), owners


def _surface_ids(
    texts: Sequence[str], processes: int = 1
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Return distinct surface tokens, the token id stream and its unit index, chunk by chunk.

    Working in chunks keeps only one chunk's token strings alive at a time (bounded memory).
    With `processes` > 1 and more than one chunk, chunks are read by forked processes (regular
    expressions hold the GIL, so threads would not help); each sends back its own token list
    and id stream, which are renumbered here in chunk order: the same ids as read in one process.
    """
    position: dict[str, int] = {_UNIT_MARK.strip(): 0}
    id_parts: list[np.ndarray] = []
    unit_parts: list[np.ndarray] = []
    starts = range(0, len(texts), DEFAULT_CHUNK_UNITS)
    chunks = (texts[start : start + DEFAULT_CHUNK_UNITS] for start in starts)
    # int32 streams (half the memory of int64) whenever the ids fit
    unit_type = np.int32 if len(texts) < 2**31 else np.int64
    with _chunk_pool(processes if len(starts) > 1 else 1) as pool:
        read = pool.map(_chunk_tokens, chunks) if pool is not None else map(_chunk_tokens, chunks)
        for start, (words, local) in zip(starts, read, strict=True):
            remap = np.fromiter(
                (position.setdefault(w, len(position)) for w in words), np.int64, len(words)
            )
            id_type = np.int32 if len(position) < 2**31 else np.int64
            ids = remap.astype(id_type)[local]
            del local
            is_mark = ids == 0
            id_parts.append(ids[~is_mark])
            unit_parts.append((np.cumsum(is_mark, dtype=unit_type) + unit_type(start))[~is_mark])
    words = list(position)
    if not id_parts:
        return words, np.zeros(0, np.int64), np.zeros(0, np.int64)
    return words, np.concatenate(id_parts), np.concatenate(unit_parts)


def _chunk_tokens(chunk: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """Return a chunk's distinct tokens (the unit mark first) and its stream of their ids."""
    tokens = _TOKEN.findall(_UNIT_MARK.join(map(normalise, chunk)))
    local: dict[str, int] = {_UNIT_MARK.strip(): 0}
    for token in dict.fromkeys(tokens):
        local.setdefault(token, len(local))
    id_type = np.int32 if len(local) < 2**31 else np.int64
    ids = np.fromiter(map(local.__getitem__, tokens), id_type, count=len(tokens))
    return list(local), ids


@contextmanager
def _chunk_pool(processes: int) -> Iterator[ProcessPoolExecutor | None]:
    """A pool of forked processes, or None when one process will do: one asked for, no fork
    (not Linux), or a daemonic process, such as a Celery worker's pool process, which may not
    have children (there the workers are the parallelism)."""
    if (
        processes <= 1
        or "fork" not in multiprocessing.get_all_start_methods()
        or multiprocessing.current_process().daemon
    ):
        yield None
        return
    with ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("fork")) as pool:
        yield pool


def _sorted_unique(
    values: np.ndarray, counts: bool = False
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Return the sorted distinct values (and how often each occurs), by one in-place sort.

    Same result as np.unique, which on large int64 arrays hashes first and is slower.
    """
    values = np.sort(values)
    first = np.ones(len(values), bool)
    np.not_equal(values[1:], values[:-1], out=first[1:])
    uniq = values[first]
    if not counts:
        return uniq
    return uniq, np.diff(np.append(np.flatnonzero(first), len(values)))


def _unit_languages(
    langs: list[str | None],
    words: list[str],
    ids: np.ndarray,
    unit: np.ndarray,
    groups: np.ndarray | None,
) -> list[str]:
    """Return the language each unit is read in, from the given ones and the units' stop words.

    A unit without a language takes the one whose stop words its group (document) uses most. A
    given language is a hint, not a rule: a unit whose own stop words clearly say another one (at
    least DEFAULT_OVERRIDE_MIN_STOPS of them, DEFAULT_OVERRIDE_RATIO times as many as of the given
    language) is read in that one, so an English offer filed as Spanish is not stemmed as Spanish
    and an ally's record can mix languages passage by passage.
    """
    n_units = len(langs)
    member = np.zeros((len(words), len(DETECT_LANGS)), bool)
    for w, word in enumerate(words):
        for li in _STOP_LANGS.get(word, ()):
            member[w, li] = True
    counts = np.zeros((n_units, len(DETECT_LANGS)), np.int64)
    for li in range(len(DETECT_LANGS)):
        counts[:, li] = np.bincount(unit[member[:, li][ids]], minlength=n_units)
    out = list(langs)
    if not all(out):
        groups = np.arange(n_units) if groups is None else groups
        n_groups = int(groups.max()) + 1 if n_units else 0
        by_group = np.stack(
            [
                np.bincount(groups, weights=counts[:, li], minlength=n_groups)
                for li in range(len(DETECT_LANGS))
            ],
            axis=1,
        )
        best, found = by_group.argmax(axis=1), by_group.max(axis=1) > 0
        out = [
            lang or (DETECT_LANGS[best[g]] if found[g] else DEFAULT_LANG)
            for lang, g in zip(out, groups, strict=True)
        ]
    given = np.array([DETECT_LANGS.index(x) if x in DETECT_LANGS else -1 for x in out], np.int64)
    best, top = counts.argmax(axis=1), counts.max(axis=1)
    own = np.where(given >= 0, counts[np.arange(n_units), given.clip(0)], 0)
    switch = (
        (best != given)
        & (top >= DEFAULT_OVERRIDE_MIN_STOPS)
        & (top >= DEFAULT_OVERRIDE_RATIO * own)
    )
    for u in np.flatnonzero(switch):
        out[u] = DETECT_LANGS[best[u]]
    return out


def _flatten(
    docs: Sequence[Sequence[str]], titles: Sequence[str], langs: Sequence[str | None]
) -> tuple[list[str], list, None, None]:
    """Return unit texts and languages: per document its title, then its passages."""
    texts: list[str] = []
    unit_langs: list[str] = []
    for passages, title, lang in zip(docs, titles, langs, strict=True):
        texts.append(title)
        texts.extend(passages)
        unit_langs.extend([lang] * (1 + len(passages)))
    return texts, unit_langs, None, None


def _doc_of_unit(docs: Sequence[Sequence[str]]) -> np.ndarray:
    """Return the document index of every unit (title first, then passages)."""
    sizes = np.array([1 + len(p) for p in docs], np.int64)
    return np.repeat(np.arange(len(docs)), sizes)


def _title_units(docs: Sequence[Sequence[str]]) -> np.ndarray:
    """Return the unit index of every document's title."""
    sizes = np.array([1 + len(p) for p in docs], np.int64)
    return (
        np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        if len(docs)
        else np.zeros(0, np.int64)
    )


def _passage_units(docs: Sequence[Sequence[str]]) -> tuple[np.ndarray, np.ndarray]:
    """Return unit indices and owners of the passages of documents with two or more passages."""
    rows: list[int] = []
    owners: list[int] = []
    start = 0
    for i, passages in enumerate(docs):
        if len(passages) > 1:
            rows.extend(range(start + 1, start + 1 + len(passages)))
            owners.extend([i] * len(passages))
        start += 1 + len(passages)
    return np.array(rows, np.int64), np.array(owners, np.int64)


def split_passages(text: str) -> list[str]:
    """Split a description into its non-empty lines (one passage per line)."""
    lines = [line.strip() for line in text.splitlines()]
    return [line for line in lines if line] or [""]
