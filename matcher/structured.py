"""Structured fit between a project (demand) and an offer (supply), as arrays over pairs.

Each item's fields are encoded once into numpy arrays (`encode_items`); each component is a
small pure function over aligned arrays of pairs returning values in [0, 1], NaN where the
component does not apply (a field missing on either side). Eligibility and closed deadlines are
hard filters, not components.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

DEFAULT_USD_RATES: dict[str, float] = {"USD": 1.0, "EUR": 1.08, "COP": 0.00025}
DEFAULT_CURRENCY = "USD"
DEFAULT_TIME_FULL_DAYS = 30
DEFAULT_TIME_FLOOR = 0.2

MODALITIES = ("grant", "loan", "technical_assistance", "knowledge_exchange", "in_kind")
LINES = (
    "social_inclusion",
    "economic_development",
    "sustainable_territory",
    "human_development",
    "governance_peace",
)
KINDS = (
    "bilateral",
    "multilateral",
    "foundation",
    "city_network",
    "company",
    "university",
    "ngo",
    "local_public",
)
SDGS = tuple(range(1, 18))


class FieldError(ValueError):
    """Raised when an item's structured field cannot be read."""


@dataclass
class Encoded:
    """Structured fields of a list of items as arrays (bitmasks, USD amounts, day numbers)."""

    modalities: np.ndarray  # int64 bitmask over MODALITIES
    lines: np.ndarray  # int64 bitmask over LINES
    sdgs: np.ndarray  # int64 bitmask over SDGS
    kind: np.ndarray  # int64 bitmask of the item's own kind (KINDS, then other kinds seen)
    eligible_kinds: np.ndarray  # int64 bitmask of applicant kinds allowed (0 = anyone)
    need_usd: np.ndarray  # demand: budget - cofinancing in USD (NaN unknown)
    min_usd: np.ndarray  # supply: amount_min in USD (NaN unknown)
    max_usd: np.ndarray  # supply: amount_max in USD (NaN unknown)
    deadline: np.ndarray  # day ordinal of the deadline (NaN none)
    country: np.ndarray  # demand: own country id (-1 none)
    eligible_countries: sparse.csr_matrix  # supply × country id (empty row = anyone)
    places: sparse.csr_matrix  # item × country id: where it works (countries / top_countries)
    sectors: sparse.csr_matrix | None = None  # item × sector code id (sectors / DAC sectors)
    record: np.ndarray | None = None  # supply: size of the ally's record of activities (NaN)


def _mask(values: object, vocab: Sequence, field_name: str, extra: dict | None = None) -> int:
    """Return the bitmask of a list of vocabulary values (unknown values ignored, or added)."""
    mask = 0
    for value in values or ():
        key = int(value) if field_name == "sdgs" else str(value)
        if key in vocab:
            mask |= 1 << vocab.index(key)
        elif extra is not None:
            mask |= 1 << extra.setdefault(key, len(vocab) + len(extra))
    return mask


def _usd(value: object, currency: str, rates: Mapping[str, float], name: str) -> float:
    """Return an amount converted to USD (NaN when missing)."""
    if value is None or value == "":
        return math.nan
    try:
        amount = float(value)
    except (TypeError, ValueError) as exc:
        raise FieldError(f"{name} must be a number, got {value!r}") from exc
    if currency not in rates:
        raise FieldError(f"unknown currency {currency!r} (known: {', '.join(sorted(rates))})")
    return amount * rates[currency]


def _day(value: object) -> float:
    """Return the day ordinal of an ISO date (NaN when missing)."""
    if not value:
        return math.nan
    try:
        return float(dt.date.fromisoformat(str(value)[:10]).toordinal())
    except ValueError as exc:
        raise FieldError(f"deadline must be YYYY-MM-DD, got {value!r}") from exc


def _list(value: object) -> list:
    """Return a field as a list (a single value becomes a one-item list)."""
    if value is None or value == "":
        return []
    return list(value) if isinstance(value, (list, tuple, set)) else [value]


SECTOR_FIELDS = ("sectors", "dac_sectors", "top_dac_sectors")
RECORD_FIELDS = ("record_size", "profile_activities")


def _record_size(item: Mapping) -> float:
    for name in RECORD_FIELDS:
        value = item.get(name)
        if value not in (None, ""):
            try:
                return float(value) if float(value) >= 0 else math.nan
            except (TypeError, ValueError):
                raise FieldError(f"{name} must be a number, not {value!r}") from None
    return math.nan


def _codes(rows: list[int], cols: list[int], n: int, width: int) -> sparse.csr_matrix:
    matrix = sparse.csr_matrix(
        (np.ones(len(rows), np.float32), (rows, cols)), shape=(n, max(width, 1))
    )
    matrix.data[:] = 1.0
    return matrix


def encode_items(
    items: Sequence[Mapping],
    countries: dict[str, int],
    rates: Mapping[str, float] = DEFAULT_USD_RATES,
    kinds_extra: dict[str, int] | None = None,
    sectors: dict[str, int] | None = None,
) -> Encoded:
    """Encode the structured fields of items; `countries` maps country codes to ids and grows."""
    n = len(items)
    mod = np.zeros(n, np.int64)
    lin = np.zeros(n, np.int64)
    sdg = np.zeros(n, np.int64)
    kin = np.zeros(n, np.int64)
    ekin = np.zeros(n, np.int64)
    need = np.full(n, np.nan)
    lo = np.full(n, np.nan)
    hi = np.full(n, np.nan)
    dead = np.full(n, np.nan)
    own = np.full(n, -1, np.int64)
    elig_rows: list[int] = []
    elig_cols: list[int] = []
    place_rows: list[int] = []
    place_cols: list[int] = []
    sector_rows: list[int] = []
    sector_cols: list[int] = []
    record = np.full(n, np.nan)
    sectors = sectors if sectors is not None else {}
    extra = kinds_extra if kinds_extra is not None else {}
    for i, item in enumerate(items):
        mod[i] = _mask(_list(item.get("modalities")), MODALITIES, "modalities")
        lin[i] = _mask(_list(item.get("lines")), LINES, "lines")
        sdg[i] = _mask(_list(item.get("sdgs")), SDGS, "sdgs")
        kin[i] = _mask(_list(item.get("kind")), KINDS, "kinds", extra)
        ekin[i] = _mask(_list(item.get("eligible_kinds")), KINDS, "kinds", extra)
        currency = str(item.get("currency") or DEFAULT_CURRENCY).upper()
        budget = _usd(item.get("budget"), currency, rates, "budget")
        cofin = _usd(item.get("cofinancing"), currency, rates, "cofinancing")
        need[i] = budget - (0.0 if math.isnan(cofin) else cofin)
        lo[i] = _usd(item.get("amount_min"), currency, rates, "amount_min")
        hi[i] = _usd(item.get("amount_max"), currency, rates, "amount_max")
        dead[i] = _day(item.get("deadline"))
        if item.get("country"):
            own[i] = countries.setdefault(str(item["country"]).upper(), len(countries))
        for code in _list(item.get("eligible_countries")):
            elig_rows.append(i)
            elig_cols.append(countries.setdefault(str(code).upper(), len(countries)))
        for code in _list(item.get("countries")) + _list(item.get("top_countries")):
            place_rows.append(i)
            place_cols.append(countries.setdefault(str(code).upper(), len(countries)))
        for name in SECTOR_FIELDS:
            for code in _list(item.get(name)):
                sector_rows.append(i)
                sector_cols.append(sectors.setdefault(str(code), len(sectors)))
        record[i] = _record_size(item)
    width = max(len(countries), 1)
    elig = sparse.csr_matrix(
        (np.ones(len(elig_rows), np.float32), (elig_rows, elig_cols)), shape=(n, width)
    )
    places = sparse.csr_matrix(
        (np.ones(len(place_rows), np.float32), (place_rows, place_cols)), shape=(n, width)
    )
    places.data[:] = 1.0
    return Encoded(
        mod,
        lin,
        sdg,
        kin,
        ekin,
        need,
        lo,
        hi,
        dead,
        own,
        elig,
        places,
        _codes(sector_rows, sector_cols, n, len(sectors)),
        record,
    )


def overlap_fit(demand_mask: np.ndarray, supply_mask: np.ndarray) -> np.ndarray:
    """Return the share of the demand's set bits the supply also has (NaN if either is empty)."""
    shared = np.bitwise_count(demand_mask & supply_mask).astype(np.float64)
    wanted = np.bitwise_count(demand_mask).astype(np.float64)
    out = np.divide(shared, wanted, out=np.full(len(shared), np.nan), where=wanted > 0)
    out[supply_mask == 0] = np.nan
    return out


def thematic_fit(
    d_lines: np.ndarray, s_lines: np.ndarray, d_sdgs: np.ndarray, s_sdgs: np.ndarray
) -> np.ndarray:
    """Return the mean of line overlap and SDG overlap, over those known on both sides."""
    parts = np.stack([overlap_fit(d_lines, s_lines), overlap_fit(d_sdgs, s_sdgs)])
    known = ~np.isnan(parts)
    total = np.where(known, parts, 0.0).sum(axis=0)
    count = known.sum(axis=0)
    return np.divide(total, count, out=np.full(parts.shape[1], np.nan), where=count > 0)


def amount_fit(need_usd: np.ndarray, min_usd: np.ndarray, max_usd: np.ndarray) -> np.ndarray:
    """Return how well an offer's range fits the remaining need, in [0, 1] (NaN if unknown).

    1 when the need lies in [min, max]; the share of the need covered when the offer is smaller
    (max < need); need / min when the offer's floor is above what is needed.
    """
    lo = np.where(np.isnan(min_usd), 0.0, min_usd)
    hi = np.where(np.isnan(max_usd), np.inf, max_usd)
    need = np.where(need_usd > 0, need_usd, np.nan)
    covered = np.minimum(hi, need) / need
    too_big = np.where(lo > need, need / np.where(lo > 0, lo, 1.0), 1.0)
    out = np.minimum(covered, too_big)
    out[np.isnan(min_usd) & np.isnan(max_usd)] = np.nan
    return np.clip(out, 0.0, 1.0)


def coverage(need_usd: float, max_usd: float) -> float:
    """Return the share of the need an offer's maximum covers (1 if no maximum)."""
    if math.isnan(max_usd) or need_usd <= 0:
        return 1.0
    return min(1.0, max_usd / need_usd)


def time_fit(days_left: np.ndarray, full_days: int = DEFAULT_TIME_FULL_DAYS) -> np.ndarray:
    """Return 1 when the deadline is full_days or more away, less when closer (NaN: none)."""
    ramp = DEFAULT_TIME_FLOOR + (1 - DEFAULT_TIME_FLOOR) * np.clip(days_left / full_days, 0, 1)
    return np.where(np.isnan(days_left), np.nan, np.where(days_left < 0, 0.0, ramp))


def is_open(deadline: np.ndarray, today: dt.date) -> np.ndarray:
    """Return True for offers without a deadline or whose deadline is today or later."""
    return np.isnan(deadline) | (deadline >= today.toordinal())


def eligible(d: Encoded, s: Encoded, di: np.ndarray, sj: np.ndarray) -> np.ndarray:
    """Return, per pair, whether the demand's kind and country are allowed by the supply."""
    d_kind = d.kind[di]
    s_kinds = s.eligible_kinds[sj]
    kind_ok = (s_kinds == 0) | (d_kind == 0) | ((d_kind & s_kinds) != 0)
    country_ok = np.ones(len(di), bool)
    n_elig = np.diff(s.eligible_countries.indptr)[sj]
    restricted = n_elig > 0
    if restricted.any():
        own = d.country[di[restricted]]
        rows = sj[restricted]
        width = s.eligible_countries.shape[1]
        hit = np.zeros(restricted.sum(), bool)
        known = (own >= 0) & (own < width)
        if known.any():
            hit[known] = np.asarray(s.eligible_countries[rows[known], own[known]]).ravel() > 0
        country_ok[restricted] = hit | (own < 0)
    return kind_ok & country_ok


def _take(matrix: sparse.csr_matrix, rows: np.ndarray, width: int) -> sparse.csr_matrix:
    """Return matrix[rows][:, :width]: the pairs' rows first, so a query never copies a side."""
    taken = matrix[rows]
    return taken if taken.shape[1] == width else taken[:, :width]


def place_fit(
    d_places: sparse.csr_matrix,
    s_places: sparse.csr_matrix,
    idf: np.ndarray,
    di: np.ndarray,
    sj: np.ndarray,
) -> np.ndarray:
    """Return the IDF-weighted share of the demand's countries where the supply works.

    A country most suppliers work in says little; one only a few work in says much, so each
    shared country counts by its inverse document frequency among suppliers, normalised by the
    largest possible IDF. NaN when either side lists no country.
    """
    width = min(d_places.shape[1], s_places.shape[1], len(idf))
    shared = np.asarray(
        _take(d_places, di, width).multiply(_take(s_places, sj, width))
        @ idf[:width].astype(np.float64)
    ).ravel()
    n_d = np.diff(d_places.indptr)[di].astype(np.float64)
    n_s = np.diff(s_places.indptr)[sj]
    top = float(idf.max()) if len(idf) else 1.0
    out = np.divide(shared, n_d * top, out=np.full(len(di), np.nan), where=n_d > 0)
    out[n_s == 0] = np.nan
    return np.clip(out, 0.0, 1.0)


def place_idf(s_places: sparse.csr_matrix) -> np.ndarray:
    """Return the smoothed inverse document frequency of each country among suppliers."""
    n = s_places.shape[0]
    df = np.bincount(s_places.indices, minlength=s_places.shape[1]).astype(np.float64)
    return np.log((1 + n) / (1 + df))


def sector_fit(
    d_sectors: sparse.csr_matrix, s_sectors: sparse.csr_matrix, di: np.ndarray, sj: np.ndarray
) -> np.ndarray:
    """Return the share of the demand's sector codes the supply works in (NaN if none given)."""
    width = min(d_sectors.shape[1], s_sectors.shape[1])
    shared = np.asarray(
        _take(d_sectors, di, width).multiply(_take(s_sectors, sj, width)).sum(axis=1)
    ).ravel()
    n_d = np.diff(d_sectors.indptr)[di].astype(np.float64)
    n_s = np.diff(s_sectors.indptr)[sj]
    out = np.divide(shared, n_d, out=np.full(len(di), np.nan), where=n_d > 0)
    out[n_s == 0] = np.nan
    return np.clip(out, 0.0, 1.0)


def record_excess(record: np.ndarray, passages: np.ndarray) -> np.ndarray:
    """Return per ally the log of its record of activities beyond the passages its text holds.

    A learned profile already knows an ally through the activities it was fitted on; what its
    text does not show is how many more there are when the text is a sample of a longer record
    (40 of 586 activities, say). log(record / passages) is that correction of the prior, 0 for an
    ally whose whole record is in its text, NaN where the record size is unknown.
    """
    shown = np.maximum(passages.astype(np.float64), 1.0)
    return np.maximum(np.log(np.maximum(record, 1.0) / shown), 0.0)  # NaN stays NaN


def record_fit(excess: np.ndarray, sj: np.ndarray, top: float) -> np.ndarray:
    """Return the record prior in [0, 1]: record_excess against the index's largest (NaN unknown).

    An ally whose record runs far beyond what its text shows is, all else equal, the likelier
    partner. NaN for every pair when no ally in the index has such a record.
    """
    if not top or math.isnan(top):
        return np.full(len(sj), np.nan)
    return np.clip(excess[sj] / top, 0.0, 1.0)
