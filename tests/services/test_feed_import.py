"""Feeds stored: idempotent imports, updates, closures, duplicates, org mappings, activities."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from models import AllyActivity, AuditEvent, Feed, FeedRun, Match, Offer, OrgMapping, OutboxMessage
from models.enums import FeedRunState, MappingState, OfferStatus
from services import feeds, task_names
from services.feeds import OfferState
from services.feeds.errors import FeedError
from services.ingest import activities, duplicates, orgs, runs, store
from services.matching import items
from tests import factories as f
from tests.feed_helpers import HORIZON, hand_entered_copy

TODAY = date(2025, 1, 15)


def count(session, model, *where) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def _feed(session, **kw) -> Feed:
    values = dict(name="EU calls", kind="eu_ft", url="https://example.org/search", query={})
    values.update(kw)
    feed = Feed(**values)
    session.add(feed)
    session.commit()
    return feed


def test_the_same_file_twice_changes_nothing(session, settings, shared_feeds):
    first = runs.import_file(session, "iati", shared_feeds / "iati/iaf_colombia.xml", settings)
    assert (first.state, first.new, first.unchanged) == (FeedRunState.SUCCEEDED, 387, 0)
    stamps = session.execute(sa.select(sa.func.max(AllyActivity.updated_at))).scalar()
    second = runs.import_file(session, "iati", shared_feeds / "iati/iaf_colombia.xml", settings)
    assert second.summary() == "new=0 updated=0 unchanged=387 closed=0 skipped=0 failed=0"
    assert count(session, AllyActivity) == 387
    assert session.execute(sa.select(sa.func.max(AllyActivity.updated_at))).scalar() == stamps
    # The funder's reference is suggested for staff, with no ally of that name yet.
    mapping = session.scalar(sa.select(OrgMapping).where(OrgMapping.ref == "18"))
    assert mapping.state == MappingState.SUGGESTED and mapping.name == "Inter-American Foundation"


def test_calls_become_offers_with_source_id_and_link(session, settings, shared_feeds):
    run = runs.import_file(session, "eu_ft", shared_feeds / HORIZON, settings, today=TODAY)
    assert (run.new, run.document) == (1, "EU Funding & Tenders topic details")
    offer = session.scalar(sa.select(Offer).where(Offer.source == "eu_ft"))
    assert offer.source_id == "HORIZON-WIDERA-2025-ACCESS-01-01-two-stage"
    assert offer.link.startswith("https://ec.europa.eu/")
    assert offer.status == OfferStatus.SUBMITTED  # no feed said "publish at once"
    assert offer.organization.name == "European Commission"
    assert (offer.currency, offer.amount_min, offer.amount_max) == ("EUR", 8000000, 15000000)
    assert offer.deadline == date(2025, 4, 10)  # the first of the two stages
    assert "2026-01-20" in offer.description  # the second stage is kept in the text
    # The EC's reference now names that ally, confirmed since the import made it.
    mapping = orgs.mapping(session, "XI-IATI-EC")
    assert (mapping.organization_id, mapping.state) == (offer.organization_id, "confirmed")


def _horizon(shared_feeds):
    return feeds.parse("eu_ft", shared_feeds / HORIZON)


def test_a_feed_publishing_at_once_queues_scoring(session, settings, shared_feeds):
    feed = _feed(session, publish_at_once=True)
    counts = store.store(session, "eu_ft", _horizon(shared_feeds), TODAY, feed=feed)
    session.commit()
    offer = session.get(Offer, counts.new_offer_ids[0])
    assert offer.status == OfferStatus.PUBLISHED and offer.feed_id == feed.id
    tasks = session.execute(sa.select(OutboxMessage.task, OutboxMessage.args)).all()
    assert (task_names.SCORE_OFFER, [offer.id]) in [(t, list(a)) for t, a in tasks]


def test_a_changed_call_updates_its_offer_and_keeps_staff_decisions(
    session, settings, shared_feeds
):
    result = _horizon(shared_feeds)
    store.store(session, "eu_ft", result, TODAY)
    session.commit()
    offer = session.scalar(sa.select(Offer).where(Offer.source == "eu_ft"))
    offer.status = OfferStatus.PUBLISHED  # staff published it
    offer.lines = ["human_development"]
    session.commit()
    changed = dataclasses.replace(result.records[0], title="Twinning for research excellence")
    counts = store.store(session, "eu_ft", dataclasses.replace(result, records=[changed]), TODAY)
    session.commit()
    assert (counts.updated, counts.new) == (1, 0)
    session.refresh(offer)
    assert offer.title == "Twinning for research excellence"
    assert offer.status == OfferStatus.PUBLISHED and offer.lines == ["human_development"]
    event = session.scalar(
        sa.select(AuditEvent).where(
            AuditEvent.entity_id == offer.id, AuditEvent.action == "feed_update"
        )
    )
    assert event.after["title"] == "Twinning for research excellence"


def test_closed_at_source_or_no_longer_listed_is_closed_never_deleted(
    session, settings, shared_feeds
):
    feed = _feed(session)
    result = _horizon(shared_feeds)
    store.store(session, "eu_ft", result, TODAY, feed=feed)
    other = dataclasses.replace(result.records[0], source_id="OTHER-TOPIC", title="Another topic")
    store.store(session, "eu_ft", dataclasses.replace(result, records=[other]), TODAY, feed=feed)
    session.commit()
    closed = dataclasses.replace(
        result.records[0], status=OfferState.CLOSED, closed_reason="closed by the portal"
    )
    counts = store.store(
        session, "eu_ft", dataclasses.replace(result, records=[closed]), TODAY, feed=feed
    )
    store.close_unlisted(session, feed, counts.seen, counts)
    session.commit()
    assert counts.closed == 2
    rows = {
        o.source_id: o for o in session.scalars(sa.select(Offer).where(Offer.feed_id == feed.id))
    }
    assert (
        rows["HORIZON-WIDERA-2025-ACCESS-01-01-two-stage"].closed_reason == "closed by the portal"
    )
    assert rows["OTHER-TOPIC"].closed_reason == store.NOT_LISTED
    assert {o.status for o in rows.values()} == {OfferStatus.CLOSED}
    # Closing again is no change.
    again = store.store(session, "eu_ft", dataclasses.replace(result, records=[closed]), TODAY)
    assert (again.closed, again.unchanged) == (0, 1)


def test_a_hand_entered_copy_is_flagged_and_merged_keeping_decisions(
    session, settings, shared_feeds
):
    manual = hand_entered_copy(session, shared_feeds)
    ec = manual.organization
    project = f.project(session)
    decided = f.match(session, project, manual, status="shortlisted")
    counts = store.store(session, "eu_ft", _horizon(shared_feeds), TODAY)
    session.commit()
    new = session.get(Offer, counts.new_offer_ids[0])
    assert new.duplicate_of_id == manual.id and new.organization_id == ec.id
    assert new in duplicates.flagged(session)
    kept = duplicates.merge(session, manual.id, new.id, None)
    session.refresh(manual)
    assert (
        manual.status == OfferStatus.WITHDRAWN and manual.closed_reason == f"merged into #{new.id}"
    )
    moved = session.get(Match, decided.id)
    assert moved.offer_id == kept.id and moved.status == "shortlisted"
    actions = set(
        session.scalars(sa.select(AuditEvent.action).where(AuditEvent.entity_type == "offer"))
    )
    assert {"merge", "merged"} <= actions


def test_confirmed_mappings_feed_allies_records_and_active_here(session, settings, shared_feeds):
    runs.import_file(session, "iati", shared_feeds / "iati/sida_dportal_49.xml", settings)
    sweden = f.organization(session, name="Sida", kind="bilateral", country="SE")
    mapping = orgs.mapping(session, "SE-0")
    assert mapping.state == MappingState.SUGGESTED and mapping.organization_id is None
    assert sweden.id not in items.ally_records(session)
    orgs.decide(session, mapping.id, True, sweden.id)
    record = items.ally_records(session)[sweden.id]
    assert len(record) == 100 and all(isinstance(text, str) and text for text in record)
    here = activities.active_here(session, sweden.id, "BO")
    assert here and all(a.title for a in here)
    assert all("BO" in session.get(AllyActivity, a.id).recipient_countries for a in here)
    assert activities.count(session, sweden.id) == 100
    # Rejected or unconfirmed references give an ally nothing.
    other = f.organization(session, name="Other ally")
    assert activities.active_here(session, other.id, "BO") == []


def test_a_truncated_file_fails_the_run_and_stores_nothing(
    session, settings, shared_feeds, tmp_path, monkeypatch
):
    # Small batches: several are stored before the cut is found, and all are rolled back.
    monkeypatch.setattr(runs, "STREAM_BATCH", 10)
    whole = (shared_feeds / "iati/iaf_colombia.xml").read_bytes()
    broken = tmp_path / "cut.xml"
    broken.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(FeedError) as raised:
        runs.import_file(session, "iati", broken, settings)
    run = session.scalar(sa.select(FeedRun).order_by(FeedRun.id.desc()))
    assert run.state == FeedRunState.FAILED and run.new == 0
    assert run.first_error == str(raised.value) and "truncated" in run.first_error
    assert count(session, AllyActivity) == 0 and count(session, OrgMapping) == 0


def test_wrong_json_fails_the_run_and_stores_nothing(session, settings, shared_feeds, tmp_path):
    wrong = tmp_path / "wrong.json"
    wrong.write_text('{"projects": "not what a search answers"}')
    with pytest.raises(FeedError):
        runs.import_file(session, "eu_ft", wrong, settings)
    run = session.scalar(sa.select(FeedRun).order_by(FeedRun.id.desc()))
    assert run.state == FeedRunState.FAILED and run.first_error
    assert count(session, Offer) == 0


def test_one_run_at_a_time_and_due_feeds(session, settings):
    feed = _feed(session)
    assert runs.due(session, settings) == [feed.id]
    assert runs._take(session, feed.id, settings)
    assert not runs._take(session, feed.id, settings)
    assert runs.due(session, settings) == []
    session.refresh(feed)
    feed.running_since = feed.running_since - timedelta(hours=2)  # a run that died
    session.commit()
    assert runs.due(session, settings) == [feed.id]
