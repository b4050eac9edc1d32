"""A configured feed's run over HTTP (a local server): Grants.gov hits with their details, the
EU search API's pages, API keys from the environment's variables, not-modified answers."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
import sqlalchemy as sa

from models import Feed, Offer
from models.enums import FeedRunState
from services.ingest import runs
from tests.unit.feeds.feed_server import FeedServer

GRANTS_SEARCH = "grants_gov/search_response_2020-10-09.json"
GRANTS_DETAILS = "grants_gov/opportunity_detail_329382.json"
EU_SEARCH = "eu_ft/search_response_EUAF-2023-TRAI-03.json"


@pytest.fixture
def server(shared_feeds):
    running = FeedServer(shared_feeds).start()
    yield running
    running.stop()


def _feed(session, **kw) -> Feed:
    feed = Feed(**kw)
    session.add(feed)
    session.commit()
    return feed


def test_grants_gov_hits_are_stored_with_their_details(session, settings, server):
    feed = _feed(
        session,
        name="grants",
        kind="grants_gov",
        url=f"{server.url}/post/{GRANTS_SEARCH}",
        query={
            "method": "POST",
            "details_url": f"{server.url}/post/{GRANTS_DETAILS}",
            "max_pages": 1,
        },
        publish_at_once=True,
    )
    run = runs.run_feed(
        session, feed.id, replace(settings, feed_backoff=0.01), today=date(2020, 10, 10)
    )
    # The server answers every details request with opportunity 329382's: the other 24 hits
    # fail alone (counted, the first error kept), the run goes on.
    assert (run.state, run.new, run.failed) == (FeedRunState.SUCCEEDED, 1, 24)
    assert run.first_error.startswith("328459") or "no details" in run.first_error
    offer = session.scalars(sa.select(Offer).where(Offer.source == "grants_gov")).one()
    assert offer.source_id == "329382" and "ROSES" in offer.title.upper() + offer.description
    assert offer.status == "published" and offer.eligible_countries == ["US"]
    assert server.hits(f"/post/{GRANTS_DETAILS}") == 25


def test_paged_search_stops_at_the_page_cap_and_closes_nothing(session, settings, server):
    feed = _feed(
        session,
        name="eu",
        kind="eu_ft",
        url=f"{server.url}/post/{EU_SEARCH}",
        query={"params": {"apiKey": "SEDIA", "text": "***", "pageSize": 1}},
    )
    run = runs.run_feed(session, feed.id, settings)
    # The recorded answer says 510,841 results and holds one: 20 pages are asked, no more, and
    # the listing is not complete, so nothing is closed for being unlisted.
    assert server.hits(f"/post/{EU_SEARCH}") == runs.DEFAULT_MAX_PAGES
    assert run.state == FeedRunState.SUCCEEDED and run.closed == 0
    pages = [p for m, p, h in server.requests if p.startswith(f"/post/{EU_SEARCH}")]
    assert "pageNumber=2" in pages[1] and "pageNumber=20" in pages[-1]


def test_an_api_key_comes_from_the_named_variable(session, settings, server):
    feed = _feed(
        session,
        name="datastore",
        kind="iati",
        url=f"{server.url}/files/iati/sida_dportal_49.xml",
        query={},
        api_key_env="COOPMATCH_FEED_KEY_DATASTORE",
    )
    missing = runs.run_feed(session, feed.id, settings)
    assert missing.state == FeedRunState.FAILED
    assert missing.first_error == "the API key variable COOPMATCH_FEED_KEY_DATASTORE is not set"
    session.get(Feed, feed.id).next_run_at = None
    session.commit()
    keyed = replace(settings, feed_keys={"COOPMATCH_FEED_KEY_DATASTORE": "s3cret"})
    run = runs.run_feed(session, feed.id, keyed)
    assert (run.state, run.new) == (FeedRunState.SUCCEEDED, 100)
    headers = server.requests[-1][2]
    assert headers.get("Ocp-Apim-Subscription-Key") == "s3cret"
    assert "s3cret" not in repr(keyed)  # never in logs through the settings' repr
    again = runs.run_feed(session, feed.id, keyed)
    assert again.state == FeedRunState.NOT_MODIFIED and again.summary().startswith("new=0")
