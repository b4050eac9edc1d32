"""The match index: fitted text features, learned profiles and structured fields of both sides.

Scoring a (demand, supply) pair combines components in [0, 1]:

- text: cosine of the TF-IDF rows (stems, bigrams, glossary concepts) of the whole texts, mixed
  with the mean of the best passage cosines of a multi-passage supply item;
- profile: for suppliers with a record of past activities (their own passages, or their ally's
  `record` shared by all its items), a learned linear profile;
- place: IDF-weighted share of the project's countries where the supplier works;
- modality, thematic (lines and SDGs), amount (range against remaining need in USD), time.

The score is the weighted mean of the components that apply to the pair (weights renormalised
over the components present), rounded to 6 decimals. Closed offers and ineligible applicants are
filtered out. Products always keep the demand on the left so a pair's score does not depend on
the direction it was ranked from.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import joblib
import numpy as np
from scipy import sparse

from . import explain as ex
from . import structured as st
from ._version import __version__
from .glossary import Glossary, load_glossary
from .profiles import DEFAULT_PROFILE_MIN_PASSAGES, Profiles, fit_profiles, profile_owners
from .text import TextVectorizer, Units, split_passages
from .topk import DEFAULT_THREADS, blocks, candidates

DEFAULT_TEXT_WEIGHT = 0.40
DEFAULT_PROFILE_WEIGHT = 0.55
DEFAULT_PLACE_WEIGHT = 0.10
DEFAULT_MODALITY_WEIGHT = 0.15
DEFAULT_THEMATIC_WEIGHT = 0.15
DEFAULT_AMOUNT_WEIGHT = 0.10
DEFAULT_TIME_WEIGHT = 0.05
DEFAULT_SECTOR_WEIGHT = 0.10
DEFAULT_RECORD_WEIGHT = 0.10
DEFAULT_WHOLE_SHARE = 0.5
DEFAULT_PASSAGE_TOP = 3
DEFAULT_TEXT_POWER = 0.5
DEFAULT_EXHAUSTIVE_MAX = 4000
DEFAULT_EXHAUSTIVE_BLOCK = 128
DEFAULT_CANDIDATE_FACTOR = 1
DEFAULT_CANDIDATE_EXTRA = 10
DEFAULT_PAIR_CHUNK = 16_384
DEFAULT_GRID_MAX = 20_000_000
DEFAULT_SCORE_DECIMALS = 6
STATE_FILE = "state.joblib"
META_FILE = "meta.json"

COMPONENTS = (
    "text",
    "profile",
    "place",
    "sector",
    "record",
    "modality",
    "thematic",
    "amount",
    "time",
)


@dataclass(frozen=True)
class MatchWeights:
    """Weights of the score components; each pair uses the ones that apply, renormalised."""

    text: float = DEFAULT_TEXT_WEIGHT
    profile: float = DEFAULT_PROFILE_WEIGHT
    place: float = DEFAULT_PLACE_WEIGHT
    modality: float = DEFAULT_MODALITY_WEIGHT
    thematic: float = DEFAULT_THEMATIC_WEIGHT
    amount: float = DEFAULT_AMOUNT_WEIGHT
    time: float = DEFAULT_TIME_WEIGHT
    sector: float = DEFAULT_SECTOR_WEIGHT
    record: float = DEFAULT_RECORD_WEIGHT

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, float] | None) -> MatchWeights:
        """Return the defaults overridden by a mapping of component name to weight (>= 0)."""
        mapping = dict(mapping or {})
        unknown = sorted(set(mapping) - set(COMPONENTS))
        if unknown:
            raise ValueError(
                f"unknown match weight(s): {', '.join(unknown)}; known: {', '.join(COMPONENTS)}"
            )
        values = {k: float(v) for k, v in mapping.items()}
        if any(v < 0 for v in values.values()):
            raise ValueError("match weights must be >= 0")
        weights = cls(**values)
        if weights.text <= 0:
            raise ValueError("the text weight must be > 0")
        return weights

    def as_dict(self) -> dict[str, float]:
        """Return the weights as a plain mapping."""
        return dataclasses.asdict(self)


@dataclass
class ScoredPair:
    """One proposed match: its score in [0, 1], the components behind it, and why."""

    demand_id: object
    supply_id: object
    score: float
    components: dict[str, float]
    explanation: dict | None = None


@dataclass
class Side:
    """One side of the index (or a batch of query items): ids, text rows and encoded fields."""

    ids: list
    rows: sparse.csr_matrix  # documents × features, L2-normalised, float32
    passages: sparse.csr_matrix  # passage rows of multi-passage items
    passage_ptr: np.ndarray  # item i's passages are rows passage_ptr[i]:passage_ptr[i + 1]
    fields: st.Encoded
    texts: list[str]
    profile_feats: sparse.csr_matrix | None = None
    profile_col: np.ndarray | None = None  # supply: profile column per item (-1 none)
    rows_t: sparse.csr_matrix | None = None  # features × items, for products against this side
    excess: np.ndarray | None = None  # supply: log of the record beyond the text (see record)

    def __len__(self) -> int:
        return len(self.ids)

    def record_excess(self) -> np.ndarray:
        """Return (and keep) per item its record beyond the passages of its text (log)."""
        if self.excess is None:
            self.excess = st.record_excess(self.fields.record, np.diff(self.passage_ptr))
        return self.excess

    def transposed(self) -> sparse.csr_matrix:
        """Return (and keep) the features × items matrix used as the right-hand product side."""
        if self.rows_t is None:
            self.rows_t = self.rows.T.tocsr()
        return self.rows_t


@dataclass
class MatchIndex:
    """Fitted matcher state: vectoriser, both sides, profiles, weights and a version id."""

    version: str
    weights: MatchWeights
    vectorizer: TextVectorizer
    glossary: Glossary
    supply: Side
    demand: Side
    profiles: Profiles | None
    place_idf: np.ndarray
    countries: dict[str, int]
    kinds_extra: dict[str, int]
    rates: dict[str, float]
    today: dt.date | None = None
    threads: int = DEFAULT_THREADS
    line_vocab: tuple[str, ...] = field(default=st.LINES)
    sectors: dict[str, int] = field(default_factory=dict)
    record_top: float = 0.0
    ally_cols: dict | None = None  # ally key -> profile column learned from its record

    # -- fitting -----------------------------------------------------------------------------

    @classmethod
    def fit(
        cls,
        supply: Sequence[Mapping],
        demand: Sequence[Mapping],
        weights: MatchWeights | None = None,
        today: dt.date | None = None,
        rates: Mapping[str, float] | None = None,
        glossary: Glossary | None = None,
        threads: int = DEFAULT_THREADS,
    ) -> MatchIndex:
        """Fit the index on all open supply and demand items (dicts with the JSONL fields)."""

        weights = weights or MatchWeights()
        glossary = glossary if glossary is not None else load_glossary()
        rates = dict(rates or st.DEFAULT_USD_RATES)
        vec = TextVectorizer(concepts=list(glossary.concepts), phrases=glossary.phrases)
        s_docs, s_titles, s_langs = _docs(supply, passages=True)
        d_docs, d_titles, d_langs = _docs(demand, passages=False)
        vec.fit(s_docs + d_docs, s_titles + d_titles, s_langs + d_langs)
        s_units, d_units = vec.last_units.split(sum(1 + len(d) for d in s_docs))
        vec.last_units = None
        countries: dict[str, int] = {}
        kinds_extra: dict[str, int] = {}
        index = cls(
            version="",
            weights=weights,
            vectorizer=vec,
            glossary=glossary,
            supply=None,
            demand=None,
            profiles=None,
            place_idf=np.zeros(0),
            countries=countries,
            kinds_extra=kinds_extra,
            rates=rates,
            today=today,
            threads=threads,
        )
        index.supply = index._side(supply, s_docs, s_titles, s_langs, True, s_units)
        index._fit_profiles(s_docs, supply)
        index.demand = index._side(demand, d_docs, d_titles, d_langs, False, d_units)
        if index.profiles is not None:
            index.demand.profile_feats = index.profiles.features(
                index.demand.rows, index.demand.texts
            )
        index.place_idf = st.place_idf(index.supply.fields.places)
        excess = index.supply.record_excess()
        index.record_top = float(np.nanmax(excess)) if np.isfinite(excess).any() else 0.0
        index.supply.transposed()
        index.demand.transposed()
        index.version = _version(__version__, supply, demand, weights, today, rates, glossary)
        return index

    def _side(
        self,
        items: Sequence[Mapping],
        docs: list[list[str]],
        titles: list[str],
        langs: list[str | None],
        passages: bool,
        units: Units | None = None,
    ) -> Side:
        """Vectorise and encode a batch of items."""
        rows, prow, owners = self.vectorizer.transform(docs, titles, langs, passages, units)
        if prow is None:
            prow = sparse.csr_matrix((0, rows.shape[1]), dtype=np.float32)
        ptr = np.concatenate([[0], np.cumsum(np.bincount(owners, minlength=len(items)))])
        fields = st.encode_items(items, self.countries, self.rates, self.kinds_extra, self.sectors)
        texts = [t + "\n" + "\n".join(d) for t, d in zip(titles, docs, strict=True)]
        return Side([item["id"] for item in items], rows, prow, ptr.astype(np.int64), fields, texts)

    def _fit_profiles(self, s_docs: list[list[str]], supply: Sequence[Mapping]) -> None:
        """Learn supplier profiles, when there are a few: one per ally with a record of past
        activities (shared by all its items, and by its new items ranked later), one per other
        item whose own text has many passages."""
        side = self.supply
        n = len(side)
        allies, records = _ally_records(supply)
        keys = [_ally_key(item) for item in supply]
        with_ally = np.array([k in records for k in keys], bool)
        owners_of_rows = np.repeat(np.arange(n), np.diff(side.passage_ptr))
        owners = profile_owners(owners_of_rows, n)
        owners = owners[~with_ally[owners]]  # an ally's record speaks for its items
        texts = [p for d in s_docs if len(d) > 1 for p in d]
        passages = side.passages
        if allies:
            record_texts = [t for a in allies for t in records[a]]
            rows, _, _ = self.vectorizer.transform(
                [[t] for t in record_texts], [""] * len(record_texts), [None] * len(record_texts)
            )
            passages = sparse.vstack([passages, rows], format="csr")
            texts += record_texts
            owners_of_rows = np.concatenate(
                [
                    owners_of_rows,
                    n + np.repeat(np.arange(len(allies)), [len(records[a]) for a in allies]),
                ]
            )
            owners = np.concatenate([owners, n + np.arange(len(allies))])  # stays sorted
        self.profiles = fit_profiles(passages, texts, owners_of_rows, owners)
        side.profile_col = np.full(n, -1, np.int64)
        self.ally_cols = {}
        if self.profiles is None:
            return
        items = owners[owners < n]
        side.profile_col[items] = np.arange(len(items))
        self.ally_cols = {a: len(items) + k for k, a in enumerate(allies)}
        for i in np.flatnonzero(with_ally):
            side.profile_col[i] = self.ally_cols[keys[i]]

    # -- persistence -------------------------------------------------------------------------

    def save(self, path: str | Path) -> Path:
        """Write the index to a directory (state.joblib and meta.json); return the directory."""

        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        joblib.dump(self, path / STATE_FILE, compress=3)
        meta = {
            "version": self.version,
            "matcher_version": __version__,
            "n_supply": len(self.supply),
            "n_demand": len(self.demand),
            "weights": self.weights.as_dict(),
        }
        (path / META_FILE).write_text(json.dumps(meta, indent=2), encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: str | Path) -> MatchIndex:
        """Read an index written by save, checking its version id against its metadata."""
        path = Path(path)
        meta = json.loads((path / META_FILE).read_text(encoding="utf-8"))
        index = joblib.load(path / STATE_FILE)
        if not isinstance(index, cls) or index.version != meta["version"]:
            raise ValueError(f"{path}: index state does not match its metadata")
        return index

    # -- ranking -----------------------------------------------------------------------------

    def query_side(self, items: Sequence[Mapping], as_supply: bool) -> Side:
        """Vectorise and encode new items (no refit) as supply or demand queries."""
        docs, titles, langs = _docs(items, passages=as_supply)
        side = self._side(items, docs, titles, langs, passages=as_supply)
        if as_supply:
            col = np.full(len(items), -1, np.int64)
            fitted = {sid: j for j, sid in enumerate(self.supply.ids)}
            allies = self.ally_cols or {}
            for i, (sid, item) in enumerate(zip(side.ids, items, strict=True)):
                j = fitted.get(sid)
                if j is not None:
                    col[i] = self.supply.profile_col[j]
                else:  # a new item of an ally with a learned record gets its profile
                    col[i] = allies.get(_ally_key(item), -1)
            side.profile_col = col
        elif self.profiles is not None:
            side.profile_feats = self.profiles.features(side.rows, side.texts)
        return side

    def rank_demand(
        self, demand: Sequence[Mapping], top_k: int, min_score: float = 0.0, explain: bool = False
    ) -> list[list[ScoredPair]]:
        """Return, per demand item, its best supply items (best first), without refitting."""
        if not demand:
            return []
        queries = self.query_side(demand, as_supply=False)
        return self._rank(queries, self.supply, top_k, min_score, explain, demand_is_query=True)

    def rank_supply(
        self, supply: Sequence[Mapping], top_k: int, min_score: float = 0.0, explain: bool = False
    ) -> list[list[ScoredPair]]:
        """Return, per supply item, its best demand items (best first), without refitting."""
        if not supply:
            return []
        queries = self.query_side(supply, as_supply=True)
        return self._rank(queries, self.demand, top_k, min_score, explain, demand_is_query=False)

    def similar_supply(
        self, supply: Sequence[Mapping] | None, top_k: int, min_score: float = 0.0
    ) -> list[list[tuple[object, float]]]:
        """Return, per supply item, the fitted supply items whose text is nearest, best first.

        The text side only ("more like this"): the cosine of the whole-text rows (stems,
        bigrams, glossary concepts, so it crosses languages), rounded to 6 decimals; an item
        is never its own neighbour (same id), and scores <= `min_score` are left out.

        Parameters
        ----------
        supply : items to find neighbours for (dicts with the JSONL fields), or None for every
            fitted supply item, in the index's order
        """
        side = self.supply if supply is None else self.query_side(supply, as_supply=True)
        if not len(side) or not len(self.supply) or top_k <= 0:
            return [[] for _ in range(len(side))]
        cols, vals = candidates(
            side.rows, self.supply.transposed(), top_k + 1, threads=self.threads
        )
        out: list[list[tuple[object, float]]] = []
        for own, row_cols, row_vals in zip(side.ids, cols.tolist(), vals.tolist(), strict=True):
            found = [
                (self.supply.ids[c], round(v, DEFAULT_SCORE_DECIMALS))
                for c, v in zip(row_cols, row_vals, strict=True)
                if c >= 0 and v > min_score and self.supply.ids[c] != own
            ]
            out.append(found[:top_k])
        return out

    def _today(self) -> dt.date:
        return self.today or dt.date.today()

    def _rank(
        self,
        queries: Side,
        others: Side,
        top_k: int,
        min_score: float,
        explain: bool,
        demand_is_query: bool,
    ) -> list[list[ScoredPair]]:
        """Score candidate pairs block by block and keep the best top_k per query."""
        results: list[list[ScoredPair]] = [[] for _ in range(len(queries))]
        if not len(others) or top_k <= 0:
            return results
        d_side, s_side = (queries, others) if demand_is_query else (others, queries)
        exhaustive = len(others) <= DEFAULT_EXHAUSTIVE_MAX
        step = DEFAULT_EXHAUSTIVE_BLOCK if exhaustive else 2048
        for part in blocks(len(queries), step):
            q = np.arange(part.start, part.stop)
            if exhaustive:
                qi = np.repeat(q, len(others))
                oj = np.tile(np.arange(len(others)), len(q))
            else:
                qi, oj = self._candidates(queries, others, q, top_k, demand_is_query)
            di, sj = (qi, oj) if demand_is_query else (oj, qi)
            scores, comps = self.score_pairs(d_side, s_side, di, sj)
            keep = ~np.isnan(scores) & (scores > 0) & (scores >= min_score)
            qi, oj, scores = qi[keep], oj[keep], scores[keep]
            comps = {k: v[keep] for k, v in comps.items()}
            order = np.lexsort((oj, -scores, qi))
            take = order[_rank_in_group(qi[order]) < top_k]  # the top_k best of every query
            # Python lists once per block: indexing numpy scalars per pair costs far more
            q_list, o_list = qi[take].tolist(), oj[take].tolist()
            s_list = scores[take].tolist()
            c_lists = [(c, v[take].tolist()) for c, v in comps.items()]
            for k, (qrow, orow) in enumerate(zip(q_list, o_list, strict=True)):
                values = {c: v[k] for c, v in c_lists if v[k] == v[k]}  # NaN: not present
                results[qrow].append(
                    self._pair(
                        d_side,
                        s_side,
                        queries,
                        others,
                        qrow,
                        orow,
                        s_list[k],
                        values,
                        explain,
                        demand_is_query,
                    )
                )
        return results

    def _candidates(
        self, queries: Side, others: Side, q: np.ndarray, top_k: int, demand_is_query: bool
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return candidate (query, other) pairs: best text cosines and, if any, best profiles."""
        k = top_k * DEFAULT_CANDIDATE_FACTOR + DEFAULT_CANDIDATE_EXTRA
        cols, _ = candidates(queries.rows[q], others.transposed(), k, threads=self.threads)
        qi = np.repeat(q, k)
        oj = cols.ravel()
        ok = oj >= 0
        qi, oj = qi[ok], oj[ok]
        if self.profiles is not None and demand_is_query:
            have = np.flatnonzero(others.profile_col >= 0)
            prof = self.profiles.scores(queries.profile_feats[q], others.profile_col[have])
            best = np.argsort(-prof, axis=1, kind="stable")[:, :k]
            qi = np.concatenate([qi, np.repeat(q, best.shape[1])])
            oj = np.concatenate([oj, have[best].ravel()])
        width = max(len(others), 1)
        pairs = np.sort(qi * width + oj)  # distinct pairs, ordered by query then other item
        first = np.ones(len(pairs), bool)
        first[1:] = pairs[1:] != pairs[:-1]
        pairs = pairs[first]
        return pairs // width, pairs % width

    def score_pairs(
        self, d: Side, s: Side, di: np.ndarray, sj: np.ndarray
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Return final scores (NaN for filtered pairs) and component arrays for (di, sj) pairs."""
        comps = {"text": self._text(d, s, di, sj)}
        comps["profile"] = self._profile(d, s, di, sj)
        comps["place"] = st.place_fit(d.fields.places, s.fields.places, self.place_idf, di, sj)
        comps["sector"] = st.sector_fit(d.fields.sectors, s.fields.sectors, di, sj)
        comps["record"] = st.record_fit(s.record_excess(), sj, self.record_top)
        df, sf = d.fields, s.fields
        comps["modality"] = st.overlap_fit(df.modalities[di], sf.modalities[sj])
        comps["thematic"] = st.thematic_fit(df.lines[di], sf.lines[sj], df.sdgs[di], sf.sdgs[sj])
        comps["amount"] = st.amount_fit(df.need_usd[di], sf.min_usd[sj], sf.max_usd[sj])
        days = sf.deadline[sj] - self._today().toordinal()
        comps["time"] = st.time_fit(days)
        w = self.weights.as_dict()
        scores = np.round(
            weighted_mean(
                np.stack([comps[c] for c in COMPONENTS], axis=1),
                np.array([w[c] for c in COMPONENTS]),
            ),
            DEFAULT_SCORE_DECIMALS,
        )
        ok = st.is_open(sf.deadline[sj], self._today()) & st.eligible(df, sf, di, sj)
        scores[~ok] = np.nan
        return scores, comps

    def _text(self, d: Side, s: Side, di: np.ndarray, sj: np.ndarray) -> np.ndarray:
        """Return the text component: whole-text cosine mixed with the best passage cosines."""
        whole = _pair_dot(d.rows, s.rows, di, sj)
        n_pass = np.diff(s.passage_ptr)[sj]
        passage = whole.copy()
        multi = np.flatnonzero(n_pass > 0)
        if len(multi):
            counts = n_pass[multi]
            pair_of = np.repeat(np.arange(len(multi)), counts)
            offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
            prow = np.repeat(s.passage_ptr[sj[multi]], counts) + offsets
            drow = np.repeat(di[multi], counts)
            vals = _grid_or_pair_dot(d.rows, s.passages, drow, prow)
            passage[multi] = _group_top_mean(vals, pair_of, len(multi), DEFAULT_PASSAGE_TOP)
        mixed = DEFAULT_WHOLE_SHARE * whole + (1 - DEFAULT_WHOLE_SHARE) * passage
        return np.clip(mixed, 0.0, 1.0) ** DEFAULT_TEXT_POWER

    def _profile(self, d: Side, s: Side, di: np.ndarray, sj: np.ndarray) -> np.ndarray:
        """Return the learned-profile component (NaN for suppliers without a profile)."""
        out = np.full(len(di), np.nan)
        if self.profiles is None or s.profile_col is None or d.profile_feats is None:
            return out
        col = s.profile_col[sj]
        have = np.flatnonzero(col >= 0)
        if not len(have):
            return out
        rows, row_inv = np.unique(di[have], return_inverse=True)
        cols, col_inv = np.unique(col[have], return_inverse=True)
        table = self.profiles.scores(d.profile_feats[rows], cols)
        out[have] = table[row_inv, col_inv]
        return out

    # -- explanations ------------------------------------------------------------------------

    def _pair(
        self,
        d: Side,
        s: Side,
        queries: Side,
        others: Side,
        qrow: int,
        orow: int,
        score: float,
        comps: dict[str, float],
        explain: bool,
        demand_is_query: bool,
    ) -> ScoredPair:
        """Build one ScoredPair (with its explanation when asked)."""
        di, sj = (qrow, orow) if demand_is_query else (orow, qrow)
        comps = {k: round(v, DEFAULT_SCORE_DECIMALS) for k, v in comps.items()}
        why = self.explain_pair(d, s, di, sj, comps) if explain else None
        return ScoredPair(d.ids[di], s.ids[sj], score, comps, why)

    def explain_pair(self, d: Side, s: Side, di: int, sj: int, comps: dict[str, float]) -> dict:
        """Return the terms, concepts and per-component phrases (en, es) behind a pair."""
        vec = self.vectorizer
        # Intersect the two CSR rows directly: slicing scipy rows per pair costs far more.
        d_cols, d_vals = _csr_row(d.rows, di)
        s_cols, s_vals = _csr_row(s.rows, sj)
        cols, ia, ib = np.intersect1d(d_cols, s_cols, assume_unique=True, return_indices=True)
        order = np.lexsort((cols, -(d_vals[ia] * s_vals[ib])))
        concept_start = vec.n_words + len(vec.bigram_keys)
        terms, concepts = [], []
        for k in order:
            col = int(cols[k])
            if col >= concept_start:
                if len(concepts) < ex.DEFAULT_MAX_CONCEPTS:
                    concepts.append(vec.concepts[col - concept_start])
            elif len(terms) < ex.DEFAULT_MAX_TERMS:
                terms.append(vec.feature_name(col))
        en, es = ex.text_phrases(
            terms,
            [self.glossary.label(c, "en") for c in concepts],
            [self.glossary.label(c, "es") for c in concepts],
        )
        for phrase in self._field_phrases(d, s, di, sj, comps):
            en.append(phrase[0])
            es.append(phrase[1])
        return {"terms": terms, "concepts": concepts, "en": en, "es": es}

    def _field_phrases(
        self, d: Side, s: Side, di: int, sj: int, comps: dict[str, float]
    ) -> list[tuple[str, str]]:
        """Return one (en, es) phrase per structured component present in the pair."""
        df, sf = d.fields, s.fields
        out: list[tuple[str, str] | None] = []
        if "profile" in comps:
            col = int(s.profile_col[sj])
            out.append(ex.profile_phrase(int(self.profiles.n_passages[col]), comps["profile"]))
        if "place" in comps:
            names = {v: k for k, v in self.countries.items()}
            shared = sorted(
                set(_csr_row(d.fields.places, di)[0]) & set(_csr_row(s.fields.places, sj)[0])
            )
            out.append(ex.place_phrase([names[c] for c in shared]))
        if "thematic" in comps:
            lines = [x for b, x in enumerate(st.LINES) if df.lines[di] & sf.lines[sj] & (1 << b)]
            sdgs = [n for b, n in enumerate(st.SDGS) if df.sdgs[di] & sf.sdgs[sj] & (1 << b)]
            out.append(ex.thematic_phrase(lines, sdgs))
        if "modality" in comps:
            both = [
                x
                for b, x in enumerate(st.MODALITIES)
                if df.modalities[di] & sf.modalities[sj] & (1 << b)
            ]
            need = [x for b, x in enumerate(st.MODALITIES) if df.modalities[di] & (1 << b)]
            out.append(ex.modality_phrase(both, need))
        if "amount" in comps:
            need = float(df.need_usd[di])
            lo = float(sf.min_usd[sj])
            too_big = not np.isnan(lo) and lo > need
            out.append(ex.amount_phrase(need, st.coverage(need, float(sf.max_usd[sj])), too_big))
        if "time" in comps:
            out.append(ex.time_phrase(float(sf.deadline[sj]) - self._today().toordinal()))
        return [p for p in out if p is not None]


def weighted_mean(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Return per row (pair) the weighted mean of its components present (NaN: absent).

    values is pairs × components in COMPONENTS order; weights renormalise over the present
    ones, so a pair without, say, an amount is scored on the rest. 0 when none is present.
    """
    known = ~np.isnan(values)
    total = np.where(known, values, 0.0) @ weights
    norm = known @ weights
    return np.divide(total, norm, out=np.zeros(len(values)), where=norm > 0)


def _docs(
    items: Sequence[Mapping], passages: bool
) -> tuple[list[list[str]], list[str], list[str | None]]:
    """Return per item its passages (or whole description), title and language (None: detect)."""
    docs, titles, langs = [], [], []
    for item in items:
        title = str(item.get("title") or "")
        desc = str(item.get("description") or "")
        docs.append(split_passages(desc) if passages else [desc])
        titles.append(title)
        langs.append(str(item["lang"]) if item.get("lang") else None)
    return docs, titles, langs


def _ally_key(item: Mapping) -> str | None:
    ally = item.get("ally")
    return None if ally is None or ally == "" else str(ally)


def _ally_records(supply: Sequence[Mapping]) -> tuple[list[str], dict[str, list[str]]]:
    """Return the allies with a record long enough to learn from, and their records.

    An item's `record` lists its ally's past activities (one text each); items of one ally may
    all carry it, and the first non-empty one is used.
    """
    records: dict[str, list[str]] = {}
    for item in supply:
        key = _ally_key(item)
        if key is not None and key not in records and item.get("record"):
            records[key] = [str(t) for t in item["record"] if str(t).strip()]
    allies = [a for a, r in records.items() if len(r) >= DEFAULT_PROFILE_MIN_PASSAGES]
    return allies, {a: records[a] for a in allies}


def _csr_row(matrix: sparse.csr_matrix, row: int) -> tuple[np.ndarray, np.ndarray]:
    """Return the column ids and values of one CSR row, without building a matrix."""
    start, end = matrix.indptr[row], matrix.indptr[row + 1]
    return matrix.indices[start:end], matrix.data[start:end]


def _pair_dot(
    a: sparse.csr_matrix, b: sparse.csr_matrix, ia: np.ndarray, ib: np.ndarray
) -> np.ndarray:
    """Return the dot products of rows a[ia[k]] and b[ib[k]], in float64, chunk by chunk."""
    out = np.zeros(len(ia))
    for start in range(0, len(ia), DEFAULT_PAIR_CHUNK):
        stop = start + DEFAULT_PAIR_CHUNK
        x = a[ia[start:stop]].astype(np.float64)
        y = b[ib[start:stop]].astype(np.float64)
        out[start:stop] = np.asarray(x.multiply(y).sum(axis=1)).ravel()
    return out


def _grid_or_pair_dot(
    a: sparse.csr_matrix, b: sparse.csr_matrix, ia: np.ndarray, ib: np.ndarray
) -> np.ndarray:
    """Return row dot products, through one sparse product when the pairs fill a small grid."""
    ua, inv_a = np.unique(ia, return_inverse=True)
    ub, inv_b = np.unique(ib, return_inverse=True)
    if len(ua) * len(ub) > DEFAULT_GRID_MAX or len(ia) * 4 < len(ua) * len(ub):
        return _pair_dot(a, b, ia, ib)
    grid = (a[ua].astype(np.float64) @ b[ub].astype(np.float64).T).toarray()
    return grid[inv_a, inv_b]


def _rank_in_group(groups: np.ndarray) -> np.ndarray:
    """Return each position's rank within its run of equal values (groups given sorted)."""
    n = len(groups)
    if not n:
        return np.zeros(0, np.int64)
    starts = np.flatnonzero(np.concatenate([[True], groups[1:] != groups[:-1]]))
    return np.arange(n) - np.repeat(starts, np.diff(np.append(starts, n)))


def _group_top_mean(values: np.ndarray, groups: np.ndarray, n_groups: int, m: int) -> np.ndarray:
    """Return, per group, the mean of its m largest values (groups given as ids 0..n-1)."""
    order = np.lexsort((-values, groups))
    g = groups[order]
    v = values[order]
    first = np.searchsorted(g, np.arange(n_groups))
    rank = np.arange(len(g)) - first[g]
    keep = rank < m
    sums = np.bincount(g[keep], weights=v[keep], minlength=n_groups)
    counts = np.bincount(g[keep], minlength=n_groups)
    return sums / np.maximum(counts, 1)


def _version(
    matcher_version: str,
    supply: Sequence[Mapping],
    demand: Sequence[Mapping],
    weights: MatchWeights,
    today: dt.date | None,
    rates: Mapping[str, float],
    glossary: Glossary,
) -> str:
    """Return a stable id of a fitted state: matcher version plus a hash of its inputs."""
    h = hashlib.sha256()
    for part in (
        matcher_version,
        json.dumps(weights.as_dict(), sort_keys=True),
        str(today),
        json.dumps(dict(rates), sort_keys=True),
        json.dumps(glossary.concepts),
        json.dumps(glossary.terms, sort_keys=True),
    ):
        h.update(part.encode())
    for tag, items in (("s", supply), ("d", demand)):
        for item in items:
            h.update(tag.encode())
            h.update(json.dumps(item, sort_keys=True, default=str).encode())
    return f"{matcher_version}-{h.hexdigest()[:16]}"
