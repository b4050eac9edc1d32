"""The match index: fitted text features, learned profiles and structured fields of both sides.

Scoring a (demand, supply) pair combines components in [0, 1]:

- text: cosine of the TF-IDF rows (stems, bigrams, glossary concepts) of the whole texts, mixed
  with the mean of the best passage cosines of a multi-passage supply item;
- profile: for suppliers with a record of past activities (their own passages, or their ally's
  `record` shared by all its items), a learned linear profile;
- place: IDF-weighted share of the project's countries where the supplier works;
- history: for allies with `record_fields` (the office's allied projects), the smoothed share
  of those projects that share a sector, line or SDG with the project (history.py);
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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import sparse

from . import explain as ex
from . import feedback as fb
from . import history as hs
from . import ranker as rk
from . import structured as st
from ._version import __version__
from .glossary import Glossary, load_glossary
from .persist import DEFAULT_MMAP_MODE, load_state, save_state
from .profiles import DEFAULT_PROFILE_MIN_PASSAGES, Profiles, fit_profiles, profile_owners
from .text import STEMMER_NAMES, TextVectorizer, Units, split_passages
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
DEFAULT_HISTORY_WEIGHT = 0.20
DEFAULT_GROUP_WEIGHT = 0.20
DEFAULT_WHOLE_SHARE = 0.5
DEFAULT_PASSAGE_TOP = 3
DEFAULT_TEXT_POWER = 0.5
DEFAULT_EXHAUSTIVE_MAX = 4000
DEFAULT_EXHAUSTIVE_BLOCK = 128
DEFAULT_CANDIDATE_FACTOR = 1
DEFAULT_CANDIDATE_EXTRA = 10
# From this many demand queries on, rank_demand looks whether they are the fitted items (a
# rebuild) and reuses their rows; a few new items are read as they are.
DEFAULT_REUSE_MIN = 32
DEFAULT_COMPARE_TOP = 10  # rankers are compared by MRR@10 on held-out decisions
DEFAULT_PAIR_CHUNK = 16_384
DEFAULT_GRID_MAX = 20_000_000
DEFAULT_SCORE_DECIMALS = 6
META_FILE = "meta.json"

COMPONENTS = (
    "text",
    "profile",
    "place",
    "sector",
    "record",
    "history",
    "group",
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
    history: float = DEFAULT_HISTORY_WEIGHT
    group: float = DEFAULT_GROUP_WEIGHT

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
    positions: dict | None = None  # id -> row, made when first needed
    versions: sparse.csr_matrix | None = None  # supply: rows of its other-language versions
    version_ptr: np.ndarray | None = None  # item i's versions: version_ptr[i]:version_ptr[i + 1]
    group_of: np.ndarray | None = None  # supply: row of its group in MatchIndex.groups (-1 none)
    keys: list | None = None  # supply: ally key, or the item's id (what decisions teach about)
    listed: np.ndarray | None = None  # supply: record size counted from the ally's `record`
    history_rows: np.ndarray | None = None  # supply: row of its ally in MatchIndex.history
    history_codes: sparse.csr_matrix | None = None  # demand: its codes (MatchIndex.history)

    def __len__(self) -> int:
        return len(self.ids)

    def position(self, item_id) -> int | None:
        """Return the row of `item_id` (None when the side does not hold it)."""
        if self.positions is None:
            self.positions = {i: j for j, i in enumerate(self.ids)}
        return self.positions.get(item_id)

    def mask_of(self, ids: Iterable) -> np.ndarray | None:
        """Return a boolean mask of the rows whose id is among `ids` (None when none is)."""
        rows = [j for j in map(self.position, ids) if j is not None]
        if not rows:
            return None
        mask = np.zeros(len(self.ids), bool)
        mask[rows] = True
        return mask

    def record_excess(self) -> np.ndarray:
        """Return (and keep) per item its record beyond the passages of its text (log)."""
        if self.excess is None:
            shown = np.diff(self.passage_ptr)
            if self.listed is not None:  # a record list is apart from the item's own text
                shown = np.where(self.listed, 1, shown)
            self.excess = st.record_excess(self.fields.record, shown)
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
    # ally key (or item id) -> how many texts its `record` lists; None: no item has a record
    record_sizes: dict | None = None
    group_keys: dict | None = None  # group key -> row of group_rows
    group_rows: sparse.csr_matrix | None = None  # one text row per group of supply items
    group_names: list | None = None  # per group row, its name (or key)
    ranker: rk.LearnedRanker | None = None  # learned from the office's decisions, if given
    # per fitted demand item, a digest of its fields: a query equal to a fitted item reuses its rows
    demand_digests: np.ndarray | None = None
    rejections: fb.Rejections | None = None  # rejections that teach (not eligible, out of scope)
    history: hs.History | None = None  # what the allies' allied projects were filed under

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
        decisions: Sequence[Mapping] | None = None,
        ranker: rk.LearnedRanker | None = None,
    ) -> MatchIndex:
        """Fit the index on all open supply and demand items (dicts with the JSONL fields).

        decisions: the office's decisions on pairs, `{"demand_id", "supply_id", "accepted":
        bool, "reason"}`; with enough accepted ones a ranker is learned from them (ranker.py).
        ranker: a ranker learned before (from an earlier fit's decisions, saved with
        `to_bytes`), used instead of the weighted mean (and of one learned from `decisions`):
        its features are the components, the score, the acceptance prior by ally key and the
        project's text size, so it applies to any later fit.
        """

        weights = weights or MatchWeights()
        glossary = glossary if glossary is not None else load_glossary()
        rates = dict(rates or st.DEFAULT_USD_RATES)
        vec = TextVectorizer(
            concepts=list(glossary.concepts), phrases=glossary.phrases, threads=threads
        )
        s_docs, s_titles, s_langs = _docs(supply, passages=True)
        d_docs, d_titles, d_langs = _docs(demand, passages=False)
        v_docs, v_titles, v_langs, _ = _version_docs(supply)
        g_docs, g_titles, g_langs, _ = _group_docs(supply)
        n_s = sum(1 + len(d) for d in s_docs)
        n_v = sum(1 + len(d) for d in v_docs)
        n_g = sum(1 + len(d) for d in g_docs)
        vec.fit(
            s_docs + v_docs + g_docs + d_docs,
            s_titles + v_titles + g_titles + d_titles,
            s_langs + v_langs + g_langs + d_langs,
            idf_docs=len(s_docs) + len(v_docs),  # the supply, not the groups' repeats
        )
        s_units, rest = vec.last_units.split(n_s)
        _, d_units = rest.split(n_v + n_g)
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
        index.record_sizes = _record_sizes(supply)
        index.history = hs.fit_history(_history_records(supply))
        index.supply = index._side(supply, s_docs, s_titles, s_langs, True, s_units)
        index._fit_groups(supply)
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
        d_dumps = [_dump(item) for item in demand]
        index.demand_digests = _digests(d_dumps)
        index.version = _version(
            __version__,
            supply,
            demand,
            weights,
            today,
            rates,
            glossary,
            decisions or (),
            d_dumps,
            ranker.model_id if ranker is not None else "",
        )
        if decisions:
            index._fit_rejections(decisions)
            index._fit_ranker(decisions)
        if ranker is not None:
            index.ranker = ranker
        return index

    @staticmethod
    def version_for(
        supply: Sequence[Mapping],
        demand: Sequence[Mapping],
        weights: MatchWeights | None = None,
        today: dt.date | None = None,
        rates: Mapping[str, float] | None = None,
        glossary: Glossary | None = None,
        decisions: Sequence[Mapping] | None = None,
        ranker: rk.LearnedRanker | None = None,
    ) -> str:
        """Return the version id `fit` would give these inputs, without fitting."""
        return _version(
            __version__,
            supply,
            demand,
            weights or MatchWeights(),
            today,
            dict(rates or st.DEFAULT_USD_RATES),
            glossary if glossary is not None else load_glossary(),
            decisions or (),
            ranker_id=ranker.model_id if ranker is not None else "",
        )

    def reciprocal_ranks(
        self,
        held_out: Mapping[object, set],
        rankers: Mapping[str, rk.LearnedRanker | None],
        known: Mapping[object, set] | None = None,
        top_k: int = DEFAULT_COMPARE_TOP,
    ) -> dict[str, dict[object, float]]:
        """Compare rankers on held-out decisions: per ranker, per fitted project of `held_out`,
        1 / rank of the first of its accepted offers within the top_k (0 if none).

        held_out: project id -> ids of the offers accepted for it (after a cutoff);
        known: project id -> ids of offers already decided for it (before the cutoff), left
        out of its ranking; rankers: name -> a ranker, or None for the weighted mean. Projects
        or offers not in the index are skipped.
        """
        known = known or {}
        ids = [d for d in held_out if self.demand.position(d) is not None]
        if not ids:
            return {name: {} for name in rankers}
        queries = _side_rows(self.demand, np.array([self.demand.position(d) for d in ids]))
        extra = max((len(known.get(d, ())) for d in ids), default=0)
        out: dict[str, dict[object, float]] = {}
        saved = self.ranker
        try:
            for name, ranker in rankers.items():
                self.ranker = ranker
                ranked = self._rank(queries, self.supply, top_k + extra, 0.0, False, True)
                out[name] = {}
                for d, row in zip(ids, ranked, strict=True):
                    kept = [p.supply_id for p in row if p.supply_id not in known.get(d, ())]
                    first = next((r for r, x in enumerate(kept[:top_k]) if x in held_out[d]), None)
                    out[name][d] = 0.0 if first is None else 1.0 / (first + 1)
        finally:
            self.ranker = saved
        return out

    def _fit_rejections(self, decisions: Sequence[Mapping]) -> None:
        """Keep the rejections whose reason teaches (feedback.py) with both sides' text rows.

        A decision names fitted items by `demand_id` / `supply_id`; one whose project or offer
        is no longer in the index (closed, withdrawn) is read from its `demand` / `supply` item
        when given, and skipped otherwise.
        """
        d_row = {x: i for i, x in enumerate(self.demand.ids)}
        s_row = {x: j for j, x in enumerate(self.supply.ids)}
        d_parts, s_parts, keys, ids, reasons = [], [], [], [], []
        for dec in decisions:
            if dec.get("accepted") or dec.get("reason") not in fb.TEACHING_REASONS:
                continue
            i, j = d_row.get(dec.get("demand_id")), s_row.get(dec.get("supply_id"))
            if i is not None:
                d = self.demand.rows[i]
            elif dec.get("demand"):
                d = self.query_side([dec["demand"]], as_supply=False).rows
            else:
                continue
            if j is not None:
                s_item_rows, key = self.supply.rows[j], self.supply.keys[j]
            elif dec.get("supply"):
                side = self.query_side([dec["supply"]], as_supply=True)
                s_item_rows, key = side.rows, side.keys[0]
            else:
                continue
            d_parts.append(d)
            s_parts.append(s_item_rows)
            keys.append(key)
            ids.append(dec.get("supply_id"))
            reasons.append(str(dec["reason"]))
        if keys:
            self.rejections = fb.Rejections(
                sparse.vstack(d_parts, format="csr"),
                sparse.vstack(s_parts, format="csr"),
                keys,
                ids,
                reasons,
            )

    def rejection_counts(
        self, d: Side, s: Side, di: np.ndarray, sj: np.ndarray
    ) -> dict[str, np.ndarray]:
        """Return per teaching reason the similar rejections of each pair's ally (feedback.py)."""
        out = {r: np.zeros(len(di), np.int64) for r in fb.TEACHING_REASONS}
        if self.rejections is None or s.keys is None or not len(di):
            return out
        mine = set(self.rejections.keys)
        has = np.array([k in mine for k in s.keys], bool)[sj]
        idx = np.flatnonzero(has)
        if len(idx):
            keys = [s.keys[j] for j in sj[idx].tolist()]
            ids = [s.ids[j] for j in sj[idx].tolist()]
            found = self.rejections.counts(d.rows[di[idx]], s.rows[sj[idx]], keys, ids)
            for r in out:
                out[r][idx] = found[r]
        return out

    def _fit_ranker(self, decisions: Sequence[Mapping]) -> None:
        """Learn a ranker from decisions on fitted pairs (see ranker.py); none if too few."""
        d_row = {x: i for i, x in enumerate(self.demand.ids)}
        s_row = {x: j for j, x in enumerate(self.supply.ids)}
        accepted: dict[int, set[int]] = {}
        rejected: set[tuple[int, int]] = set()
        for dec in decisions:
            i, j = d_row.get(dec.get("demand_id")), s_row.get(dec.get("supply_id"))
            if i is None or j is None:
                continue
            if dec.get("accepted"):
                accepted.setdefault(i, set()).add(j)
            else:
                rejected.add((i, j))
        n_acc = sum(len(v) for v in accepted.values())
        if n_acc < rk.DEFAULT_RANKER_MIN_ACCEPTED:
            return
        queries = np.array(sorted(accepted), np.int64)
        pairs = set(rejected)
        if len(self.supply) <= DEFAULT_EXHAUSTIVE_MAX:  # every pair, as ranking scores them
            pairs.update((q, j) for q in queries.tolist() for j in range(len(self.supply)))
        else:
            sub = _side_rows(self.demand, queries)
            top = rk.DEFAULT_RANKER_CANDIDATES
            ranked = self._rank(sub, self.supply, top, 0.0, False, demand_is_query=True)
            for q, row in zip(queries.tolist(), ranked, strict=True):
                pairs.update((q, s_row[p.supply_id]) for p in row)
        for q in queries.tolist():
            pairs.update((q, j) for j in accepted[q])
        di, sj = (np.array(x, np.int64) for x in zip(*sorted(pairs), strict=True))
        label = np.array([j in accepted.get(i, ()) for i, j in zip(di, sj, strict=True)])
        rejections, self.rejections = self.rejections, None  # features as ranking sees them
        scores, comps = self.score_pairs(self.demand, self.supply, di, sj)
        self.rejections = rejections
        ok = ~np.isnan(scores)
        di, sj, label, scores = di[ok], sj[ok], label[ok], scores[ok]
        values = np.stack([comps[c][ok] for c in COMPONENTS], axis=1)
        counts = {k: 0 for k in self.supply.keys}
        for js in accepted.values():
            for j in js:
                counts[self.supply.keys[j]] += 1
        keys = [self.supply.keys[j] for j in sj]
        prior = rk.acceptance_prior(counts, own=label.astype(np.float64), keys=keys)
        terms = np.diff(self.demand.rows.indptr)[di]
        x = rk.rows(values, scores, prior, terms)
        everyone = dict(zip(counts, rk.acceptance_prior(counts).tolist(), strict=True))
        self.ranker = rk.fit_ranker(
            x, label, scores, COMPONENTS, everyone, int(label.sum()), len(rejected)
        )

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
        side = Side([item["id"] for item in items], rows, prow, ptr.astype(np.int64), fields, texts)
        if passages:  # supply: its versions in other languages, read in their own language
            side.versions, side.version_ptr = self._versions(items)
            side.keys = [_ally_key(item) or item["id"] for item in items]
            if self.record_sizes is not None:  # the size of an ally's record, where not given
                unknown = np.isnan(fields.record)
                sizes = [self.record_sizes.get(k, 0) for k in side.keys]
                fields.record[unknown] = np.asarray(sizes, np.float64)[unknown]
                side.listed = unknown
        if self.history is not None:
            if passages:
                side.history_rows = self.history.rows_of(side.keys)
            else:
                side.history_codes = self.history.encode(items)
        return side

    def _versions(self, items: Sequence[Mapping]) -> tuple[sparse.csr_matrix, np.ndarray]:
        """Return the rows of the items' other-language versions and where each item's start."""
        docs, titles, langs, owner = _version_docs(items)
        ptr = np.concatenate([[0], np.cumsum(np.bincount(owner, minlength=len(items)))])
        if not docs:
            return sparse.csr_matrix((0, self.vectorizer.n_features), dtype=np.float32), ptr
        rows, _, _ = self.vectorizer.transform(docs, titles, langs)
        return rows, ptr.astype(np.int64)

    def _fit_groups(self, supply: Sequence[Mapping]) -> None:
        """Give each group of supply items (a code's category, a call's topics) one text row."""
        docs, titles, langs, keys = _group_docs(supply)
        self.group_keys = {key: g for g, key in enumerate(keys)}
        self.group_names = [name or key for name, key in zip(titles, keys, strict=True)]
        self.supply.group_of = self._group_rows_of(supply)
        self.group_rows = None
        if docs:
            self.group_rows, _, _ = self.vectorizer.transform(docs, titles, langs)

    def _group_rows_of(self, items: Sequence[Mapping]) -> np.ndarray:
        """Return per supply item the row of its group (-1: none, or a group not fitted)."""
        keys = self.group_keys or {}
        return np.array([keys.get(_group_key(item), -1) for item in items], np.int64)

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
        """Write the index to a directory (meta.json, a skeleton and one .npy per large array,
        see matcher.persist); return the directory."""

        path = Path(path)
        save_state(self, path)
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
    def load(cls, path: str | Path, mmap_mode: str | None = DEFAULT_MMAP_MODE) -> MatchIndex:
        """Read an index written by save, checking its version id against its metadata.

        Large arrays are memory-mapped (`mmap_mode`, copy-on-write by default, nothing writes
        to them): processes loading one directory share its pages.
        """
        path = Path(path)
        meta = json.loads((path / META_FILE).read_text(encoding="utf-8"))
        index = load_state(path, mmap_mode)
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
            side.group_of = self._group_rows_of(items)
        elif self.profiles is not None:
            side.profile_feats = self.profiles.features(side.rows, side.texts)
        return side

    def rank_demand(
        self,
        demand: Sequence[Mapping],
        top_k: int,
        min_score: float = 0.0,
        explain: bool = False,
        *,
        added: Sequence[Mapping] = (),
        stale: Iterable = (),
    ) -> list[list[ScoredPair]]:
        """Return, per demand item, its best supply items (best first), without refitting.

        `added` are supply items the index was not fitted on (new or edited since), ranked with
        the fitted ones; fitted supply rows whose id is in `stale` (edited or closed since the
        fit) are left out.
        """
        if not demand:
            return []
        rows = self._fitted_demand_rows(demand)
        if rows is not None:  # the fitted items themselves (a rebuild): no need to read them again
            queries = _side_rows(self.demand, rows)
        else:
            queries = self.query_side(demand, as_supply=False)
        return self._rank_with_added(queries, top_k, min_score, explain, True, added, stale)

    def _fitted_demand_rows(self, demand: Sequence[Mapping]) -> np.ndarray | None:
        """Return the fitted demand rows of these items when every one of them is a fitted item
        with the same fields (by digest), else None."""
        if self.demand_digests is None or len(demand) < DEFAULT_REUSE_MIN:
            return None
        rows = np.fromiter(
            (self.demand.position(item.get("id")) if "id" in item else None for item in demand),
            object,
            count=len(demand),
        )
        if any(r is None for r in rows):
            return None
        rows = rows.astype(np.int64)
        same = _digests([_dump(item) for item in demand]) == self.demand_digests[rows]
        return rows if same.all() else None

    def rank_supply(
        self,
        supply: Sequence[Mapping],
        top_k: int,
        min_score: float = 0.0,
        explain: bool = False,
        *,
        added: Sequence[Mapping] = (),
        stale: Iterable = (),
    ) -> list[list[ScoredPair]]:
        """Return, per supply item, its best demand items (best first), without refitting;
        `added` and `stale` are demand items, as in rank_demand."""
        if not supply:
            return []
        queries = self.query_side(supply, as_supply=True)
        return self._rank_with_added(queries, top_k, min_score, explain, False, added, stale)

    def _rank_with_added(
        self,
        queries: Side,
        top_k: int,
        min_score: float,
        explain: bool,
        demand_is_query: bool,
        added: Sequence[Mapping],
        stale: Iterable,
    ) -> list[list[ScoredPair]]:
        """Rank queries against the fitted other side (less its stale rows) and added items."""
        fitted = self.supply if demand_is_query else self.demand
        args = (top_k, min_score, explain, demand_is_query)
        ranked = self._rank(queries, fitted, *args, fitted.mask_of(stale))
        if added:
            extra = self.query_side(added, as_supply=demand_is_query)
            ranked = _merge(ranked, self._rank(queries, extra, *args), top_k)
        return ranked

    def similar_supply(
        self,
        supply: Sequence[Mapping] | None,
        top_k: int,
        min_score: float = 0.0,
        rows: slice | None = None,
    ) -> list[list[tuple[object, float]]]:
        """Return, per supply item, the fitted supply items whose text is nearest, best first.

        The text side only ("more like this"): the cosine of the whole-text rows (stems,
        bigrams, glossary concepts, so it crosses languages), rounded to 6 decimals; an item
        is never its own neighbour (same id), and scores <= `min_score` are left out.

        Parameters
        ----------
        supply : items to find neighbours for (dicts with the JSONL fields), or None for every
            fitted supply item, in the index's order
        rows : with supply None, only these fitted supply items (a rebuild's chunk of them)
        """
        if supply is None:
            picked = rows or slice(None)
            ids, matrix = self.supply.ids[picked], self.supply.rows[picked]
        else:
            side = self.query_side(supply, as_supply=True)
            ids, matrix = side.ids, side.rows
        if not len(ids) or not len(self.supply) or top_k <= 0:
            return [[] for _ in range(len(ids))]
        cols, vals = candidates(matrix, self.supply.transposed(), top_k + 1, threads=self.threads)
        out: list[list[tuple[object, float]]] = []
        for own, row_cols, row_vals in zip(ids, cols.tolist(), vals.tolist(), strict=True):
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
        skip: np.ndarray | None = None,
    ) -> list[list[ScoredPair]]:
        """Score candidate pairs block by block and keep the best top_k per query; others' rows
        where `skip` is True are left out."""
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
            if skip is not None:
                keep &= ~skip[oj]
            qi, oj, scores = qi[keep], oj[keep], scores[keep]
            comps = {k: v[keep] for k, v in comps.items()}
            order = np.lexsort((oj, -scores, qi))
            take = order[_rank_in_group(qi[order]) < top_k]  # the top_k best of every query
            # Python lists once per block: indexing numpy scalars per pair costs far more
            q_list, o_list = qi[take].tolist(), oj[take].tolist()
            s_list = scores[take].tolist()
            c_lists = [(c, v[take].tolist()) for c, v in comps.items()]
            d_ids, s_ids, places = d_side.ids, s_side.ids, DEFAULT_SCORE_DECIMALS
            for k, (qrow, orow) in enumerate(zip(q_list, o_list, strict=True)):
                values = {c: round(v[k], places) for c, v in c_lists if v[k] == v[k]}  # NaN: absent
                di, sj = (qrow, orow) if demand_is_query else (orow, qrow)
                why = self.explain_pair(d_side, s_side, di, sj, values) if explain else None
                results[qrow].append(ScoredPair(d_ids[di], s_ids[sj], s_list[k], values, why))
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
        comps["history"] = self._history(d, s, di, sj)
        comps["group"] = self._group(d, s, di, sj)
        df, sf = d.fields, s.fields
        comps["modality"] = st.overlap_fit(df.modalities[di], sf.modalities[sj])
        comps["thematic"] = st.thematic_fit(df.lines[di], sf.lines[sj], df.sdgs[di], sf.sdgs[sj])
        comps["amount"] = st.amount_fit(df.need_usd[di], sf.min_usd[sj], sf.max_usd[sj])
        days = sf.deadline[sj] - self._today().toordinal()
        comps["time"] = st.time_fit(days)
        w = self.weights.as_dict()
        values = np.stack([comps[c] for c in COMPONENTS], axis=1)
        scores = np.round(
            weighted_mean(values, np.array([w[c] for c in COMPONENTS])), DEFAULT_SCORE_DECIMALS
        )
        if self.ranker is not None and len(di):
            prior = self.ranker.prior_of([s.keys[j] for j in sj.tolist()])
            x = rk.rows(values, scores, prior, np.diff(d.rows.indptr)[di])
            scores = np.round(self.ranker.score(x), DEFAULT_SCORE_DECIMALS)
        if self.rejections is not None:
            lower = fb.factor(self.rejection_counts(d, s, di, sj))
            scores = np.round(scores * lower, DEFAULT_SCORE_DECIMALS)
            comps["feedback"] = np.where(lower < 1, lower, np.nan)
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
        if s.version_ptr is not None and len(s.versions.indices):
            n_ver = np.diff(s.version_ptr)[sj]
            multi = np.flatnonzero(n_ver > 0)
            if len(multi):  # the best of the item's language versions
                counts = n_ver[multi]
                pair_of = np.repeat(np.arange(len(multi)), counts)
                offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
                vrow = np.repeat(s.version_ptr[sj[multi]], counts) + offsets
                vals = _grid_or_pair_dot(d.rows, s.versions, np.repeat(di[multi], counts), vrow)
                best = np.full(len(multi), -np.inf)
                np.maximum.at(best, pair_of, vals)
                mixed[multi] = np.maximum(mixed[multi], best)
        return np.clip(mixed, 0.0, 1.0) ** DEFAULT_TEXT_POWER

    def _group(self, d: Side, s: Side, di: np.ndarray, sj: np.ndarray) -> np.ndarray:
        """Return the group component: the project's cosine with its group's text (NaN none)."""
        out = np.full(len(di), np.nan)
        if self.group_rows is None or s.group_of is None:
            return out
        g = s.group_of[sj]
        have = np.flatnonzero(g >= 0)
        if len(have):
            vals = _grid_or_pair_dot(d.rows, self.group_rows, di[have], g[have])
            out[have] = np.clip(vals, 0.0, 1.0) ** DEFAULT_TEXT_POWER
        return out

    def _history(self, d: Side, s: Side, di: np.ndarray, sj: np.ndarray) -> np.ndarray:
        """Return the history component (NaN: the ally has no history, or the project no code)."""
        if self.history is None or d.history_codes is None or s.history_rows is None:
            return np.full(len(di), np.nan)
        return self.history.fit_values(d.history_codes, s.history_rows, di, sj)

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
        if "record" in comps and s.listed is not None and s.listed[sj]:
            out.append(ex.record_phrase(int(sf.record[sj])))
        if "history" in comps:
            row = int(s.history_rows[sj])
            best = self.history.best_code(_csr_row(d.history_codes, di)[0], row)
            out.append(ex.history_phrase(*best) if best else None)
        if "feedback" in comps:
            counts = self.rejection_counts(d, s, np.array([di]), np.array([sj]))
            out.append(fb.phrase({r: int(v[0]) for r, v in counts.items()}))
        if "group" in comps:
            name = self.group_names[int(s.group_of[sj])]
            out.append(ex.group_phrase(name, comps["group"]))
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


def _merge(
    first: list[list[ScoredPair]], second: list[list[ScoredPair]], top_k: int
) -> list[list[ScoredPair]]:
    """Return per query the top_k best of two rankings (ties: the first ranking's pair first)."""
    return [
        sorted(a + b, key=lambda p: -p.score)[:top_k] for a, b in zip(first, second, strict=True)
    ]


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


GROUP_KEY_FIELDS = ("group", "category", "call_id")
GROUP_NAME_FIELDS = ("group_name", "category_name")
GROUP_DESCRIPTION_FIELDS = ("group_description", "category_description")


def _first_field(item: Mapping, names: Sequence[str]) -> str:
    for name in names:
        if item.get(name):
            return str(item[name])
    return ""


def _group_key(item: Mapping) -> str | None:
    key = _first_field(item, GROUP_KEY_FIELDS)
    return key or None


def _version_docs(
    items: Sequence[Mapping],
) -> tuple[list[list[str]], list[str], list[str], np.ndarray]:
    """Return the items' versions in other languages (`title_fr`, `description_fr`; any
    language with a stemmer) as documents, with their language and owner item."""
    docs, titles, langs, owner = [], [], [], []
    for i, item in enumerate(items):
        for lang in _version_langs(item):
            docs.append([str(item.get(f"description_{lang}") or "")])
            titles.append(str(item.get(f"title_{lang}") or ""))
            langs.append(lang)
            owner.append(i)
    return docs, titles, langs, np.array(owner, np.int64)


def _group_docs(
    supply: Sequence[Mapping],
) -> tuple[list[list[str]], list[str], list[str | None], list[str]]:
    """Return one document per group of supply items (`group`, or a code's `category`, or a
    call's `call_id`): the group's name as title, its description and its members' titles."""
    members: dict[str, list[int]] = {}
    for i, item in enumerate(supply):
        key = _group_key(item)
        if key is not None:
            members.setdefault(key, []).append(i)
    docs, titles, langs = [], [], []
    for rows in members.values():
        head = supply[rows[0]]
        parts = [_first_field(head, GROUP_DESCRIPTION_FIELDS)]
        parts += [str(supply[i].get("title") or "") for i in rows]
        docs.append(["\n".join(p for p in parts if p)])
        titles.append(_first_field(head, GROUP_NAME_FIELDS))
        langs.append(str(head["lang"]) if head.get("lang") else None)
    return docs, titles, langs, list(members)


def _version_langs(item: Mapping) -> list[str]:
    """Return the languages an item has another version in (`title_fr`, `description_fr`)."""
    own = item.get("lang")
    found = {
        key.split("_", 1)[1]
        for key, value in item.items()
        if value and key.startswith(("title_", "description_"))
    }
    return [lang for lang in STEMMER_NAMES if lang in found and lang != own]


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


def _history_records(supply: Sequence[Mapping]) -> dict:
    """Return per ally key (or item id, for an item without an ally) the fields of its allied
    projects (`record_fields`, the first non-empty list; entries that are not mappings skipped)."""
    records: dict = {}
    for item in supply:
        key = _ally_key(item) or item["id"]
        fields = item.get("record_fields")
        if key not in records and isinstance(fields, (list, tuple)):
            projects = [f for f in fields if isinstance(f, Mapping)]
            if projects:
                records[key] = projects
    return records


def _record_sizes(supply: Sequence[Mapping]) -> dict | None:
    """Return per ally key (or item id, for an item without an ally) how many texts its
    `record` lists (the first non-empty one), or None when no item has a record."""
    sizes: dict = {}
    for item in supply:
        key = _ally_key(item) or item["id"]
        if key not in sizes and item.get("record"):
            sizes[key] = sum(1 for t in item["record"] if str(t).strip())
    return sizes or None


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


def _side_rows(side: Side, rows: np.ndarray) -> Side:
    """Return the demand side restricted to some rows (text rows, fields, profile rows and
    history codes)."""
    f = side.fields
    fields = st.Encoded(
        *(
            (getattr(f, name)[rows] if getattr(f, name) is not None else None)
            for name in (x.name for x in dataclasses.fields(st.Encoded))
        )
    )
    ptr = np.zeros(len(rows) + 1, np.int64)  # demand items have no passage rows
    out = Side(
        [side.ids[i] for i in rows.tolist()],
        side.rows[rows],
        sparse.csr_matrix((0, side.rows.shape[1]), dtype=np.float32),
        ptr,
        fields,
        [side.texts[i] for i in rows.tolist()],
    )
    if side.profile_feats is not None:
        out.profile_feats = side.profile_feats[rows]
    if side.history_codes is not None:
        out.history_codes = side.history_codes[rows]
    return out


def _version(
    matcher_version: str,
    supply: Sequence[Mapping],
    demand: Sequence[Mapping],
    weights: MatchWeights,
    today: dt.date | None,
    rates: Mapping[str, float],
    glossary: Glossary,
    decisions: Sequence[Mapping] = (),
    demand_dumps: Sequence[bytes] | None = None,
    ranker_id: str = "",
) -> str:
    """Return a stable id of a fitted state: matcher version plus a hash of its inputs.

    demand_dumps: the demand items already serialised by `_dump`, when the caller has them;
    ranker_id: the model id of a ranker given to the fit (none: the id is as without).
    """
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
    if ranker_id:
        h.update(f"ranker:{ranker_id}".encode())
    if demand_dumps is None:
        demand_dumps = [_dump(item) for item in demand]
    for tag, dumps in (
        ("s", map(_dump, supply)),
        ("d", demand_dumps),
        ("x", map(_dump, decisions)),
    ):
        for dump in dumps:
            h.update(tag.encode())
            h.update(dump)
    return f"{matcher_version}-{h.hexdigest()[:16]}"


def _dump(item: Mapping) -> bytes:
    """Return an item's fields as canonical JSON bytes (what versions and digests hash)."""
    return json.dumps(item, sort_keys=True, default=str).encode()


def _digests(dumps: Sequence[bytes]) -> np.ndarray:
    """Return a 64-bit digest of each serialised item."""
    return np.frombuffer(
        b"".join(hashlib.blake2b(d, digest_size=8).digest() for d in dumps), np.uint64
    ).copy()
