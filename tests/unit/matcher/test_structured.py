"""Each structured component and the hard filters, on literal arrays."""

import datetime as dt
import math

import numpy as np
import pytest

from matcher import structured as st


def test_overlap_fit():
    got = st.overlap_fit(np.array([0b011, 0b001, 0, 0b1]), np.array([0b001, 0b010, 0b1, 0]))
    assert got[0] == 0.5 and got[1] == 0.0
    assert math.isnan(got[2]) and math.isnan(got[3])


def test_thematic_fit_averages_known_parts():
    got = st.thematic_fit(
        np.array([0b1, 0b1]), np.array([0b1, 0]), np.array([0b11, 0]), np.array([0b01, 0])
    )
    assert got[0] == 0.75
    assert math.isnan(got[1])


def test_amount_fit():
    need = np.array([1_200_000.0, 100_000.0, 100_000.0, 100_000.0])
    lo = np.array([100_000.0, 50_000.0, 400_000.0, math.nan])
    hi = np.array([420_000.0, 200_000.0, 800_000.0, math.nan])
    got = st.amount_fit(need, lo, hi)
    assert np.allclose(got[:3], [0.35, 1.0, 0.25])
    assert math.isnan(got[3])


def test_time_fit_and_open():
    got = st.time_fit(np.array([45.0, 12.0, 0.0, math.nan]))
    assert got[0] == 1.0 and 0.2 < got[1] < 1.0 and got[2] == st.DEFAULT_TIME_FLOOR
    assert math.isnan(got[3])
    today = dt.date(2026, 3, 1)
    dl = np.array([today.toordinal() - 1, today.toordinal(), math.nan])
    assert st.is_open(dl, today).tolist() == [False, True, True]


def test_currency_conversion_uses_rates():
    countries = {}
    enc = st.encode_items(
        [
            {"id": 1, "budget": 4_000_000, "currency": "COP"},
            {"id": 2, "amount_max": 100, "currency": "EUR"},
        ],
        countries,
        rates={"USD": 1.0, "EUR": 2.0, "COP": 0.001},
    )
    assert enc.need_usd[0] == 4000.0
    assert enc.max_usd[1] == 200.0


def test_eligibility_is_a_hard_filter():
    countries = {}
    s = st.encode_items(
        [{"eligible_kinds": ["local_public"], "eligible_countries": ["CO"]}, {}], countries
    )
    d = st.encode_items(
        [
            {"kind": "local_public", "country": "CO"},
            {"kind": "ngo", "country": "CO"},
            {"kind": "local_public", "country": "PE"},
        ],
        countries,
    )
    di = np.array([0, 1, 2, 0, 1, 2])
    sj = np.array([0, 0, 0, 1, 1, 1])
    assert st.eligible(d, s, di, sj).tolist() == [True, False, False, True, True, True]


def test_place_fit_weights_rare_countries():
    countries = {}
    s = st.encode_items(
        [{"top_countries": ["SY"]}, {"top_countries": ["SY", "CO"]}, {"top_countries": ["CO"]}, {}],
        countries,
    )
    d = st.encode_items([{"countries": ["SY"]}], countries)
    idf = st.place_idf(s.places)
    got = st.place_fit(d.places, s.places, idf, np.zeros(4, np.int64), np.arange(4))
    assert got[0] == got[1] > 0 and got[2] == 0.0 and math.isnan(got[3])


def test_record_prior_counts_only_the_record_beyond_the_text():
    record = np.array([586.0, 15.0, np.nan, 40.0])
    passages = np.array([40, 15, 12, 0])  # the last is a single offer text: no passage rows
    excess = st.record_excess(record, passages)
    assert excess[0] == pytest.approx(np.log(586 / 40))
    assert excess[1] == 0.0  # its whole record is in its text: the profile already knows it
    assert np.isnan(excess[2])
    assert excess[3] == pytest.approx(np.log(40))
    fit = st.record_fit(excess, np.array([0, 1, 2, 3]), float(np.nanmax(excess)))
    assert fit[0] == pytest.approx(np.log(586 / 40) / np.log(40)) and fit[3] == 1.0
    assert fit[1] == 0.0 and np.isnan(fit[2])
    assert np.isnan(st.record_fit(excess, np.array([0]), 0.0)).all()  # no ally has a record
