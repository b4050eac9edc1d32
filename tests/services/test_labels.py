"""Staff decisions exported as labelled matches for `python -m matcher tune`."""

from __future__ import annotations

import json
from datetime import date

import pytest

from matcher import cli as matcher_cli
from services.errors import Invalid
from services.matching import training_labels
from tests import factories


def _read(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_accepted_matches_become_labelled_items(session, tmp_path):
    published = factories.offer(session)
    closed = factories.offer(session, status="closed", deadline=date(2025, 1, 31))
    withdrawn_but_matched = factories.offer(session, status="withdrawn")
    never_published = factories.offer(session, status="submitted")
    labelled = factories.project(session)
    rejected_only = factories.project(session)
    factories.match(session, labelled, published, status="accepted")
    factories.match(session, labelled, closed, status="accepted")
    factories.match(session, labelled, withdrawn_but_matched, status="rejected")
    factories.match(session, rejected_only, published, status="rejected")

    found = training_labels.labelled_matches(session)
    supply_ids = [item["id"] for item in found.supply]
    assert supply_ids == sorted([published.id, closed.id, withdrawn_but_matched.id])
    assert never_published.id not in supply_ids
    assert [(d["id"], d["true_supply_ids"]) for d in found.demand] == [
        (labelled.id, sorted([published.id, closed.id]))
    ]
    assert found.accepted == 2
    assert all(item["deadline"] is None for item in found.supply)  # closed offers stay rankable

    supply_path, demand_path = training_labels.write_labels(found, tmp_path / "labels")
    assert _read(supply_path) == found.supply and _read(demand_path) == found.demand
    assert _read(demand_path)[0]["title"] == labelled.title


def test_no_accepted_match_is_a_clear_error(session):
    factories.match(
        session, factories.project(session), factories.offer(session), status="rejected"
    )
    with pytest.raises(Invalid, match="no accepted matches"):
        training_labels.labelled_matches(session)


def test_matcher_tune_reads_the_export(session, tmp_path, capsys):
    topics = [
        "electric buses and cycling lanes",
        "drinking water and sanitation",
        "early childhood education centres",
        "youth employment and entrepreneurship",
    ]
    offers = [
        factories.offer(session, title=f"Offer on {t}", description=f"Grants for {t}.")
        for t in topics
    ]
    for topic, offer in zip(topics, offers, strict=True):
        for k in range(2):
            project = factories.project(
                session, title=f"Proyecto {k}: {topic}", description=f"The city needs {topic}."
            )
            factories.match(session, project, offer, status="accepted")
    supply, demand = training_labels.write_labels(
        training_labels.labelled_matches(session), tmp_path
    )
    code = matcher_cli.main(
        ["tune", "--supply", str(supply), "--demand", str(demand), "--folds", "2"]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "learned weights" in out and "text=0.4" in out
