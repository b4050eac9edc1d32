"""Fetching for real over HTTP from a local server on 127.0.0.1 (tests/unit/feeds/feed_server.py).

Conditional GET, retries, the size cap and broken bodies go through requests and a real socket;
only the waits between retries are recorded instead of slept where a test checks their length.
"""

from __future__ import annotations

import json
import socket

import pytest

from services.feeds import eu_ft, fetch, iati
from services.feeds.errors import FetchFailed, TooLarge

from .feed_server import LAST_MODIFIED, FeedServer

FAST = {"backoff": 0.01, "timeout": (2.0, 5.0)}


@pytest.fixture
def server(feeds):
    running = FeedServer(feeds).start()
    yield running
    running.stop()


@pytest.fixture
def workdir(tmp_path):
    """The folder the downloads go to; each test checks nothing is left there."""
    folder = tmp_path / "downloads"
    folder.mkdir()
    return folder


def test_download_goes_through_the_same_parser(server, workdir, feeds):
    rel = "iati/worldbank_dportal_4.xml"
    with fetch.fetch(f"{server.url}/files/{rel}", directory=workdir, **FAST) as got:
        assert got.status == 200 and not got.unchanged and got.attempts == 1
        assert got.path.read_bytes() == (feeds / rel).read_bytes()
        assert got.etag and got.last_modified == LAST_MODIFIED
        assert len(iati.parse(got.path).activities) == 100
    assert list(workdir.iterdir()) == []


def test_conditional_get_with_etag_and_last_modified(server, workdir):
    url = f"{server.url}/files/iati/iaf_organisation.xml"
    with fetch.fetch(url, directory=workdir, **FAST) as first:
        etag, modified = first.etag, first.last_modified
    with fetch.fetch(url, etag=etag, directory=workdir, **FAST) as second:
        assert second.unchanged and second.path is None and second.etag == etag
    with fetch.fetch(url, last_modified=modified, directory=workdir, **FAST) as third:
        assert third.unchanged and third.last_modified == modified
    with fetch.fetch(url, etag='"stale"', directory=workdir, **FAST) as changed:
        assert not changed.unchanged and changed.path.stat().st_size > 0
    sent = [headers for _m, _p, headers in server.requests]
    assert sent[1]["If-None-Match"] == etag and sent[2]["If-Modified-Since"] == modified


def test_retries_with_exponential_backoff_on_503(server, workdir):
    waits: list[float] = []
    url = f"{server.url}/flaky/2/eu_ft/search_result_PPPA-2024-SKILL-FOR-TOURISM.json"
    with fetch.fetch(url, directory=workdir, backoff=0.5, sleep=waits.append) as got:
        assert got.attempts == 3 and got.status == 200
        assert eu_ft.parse(got.path).offers[0].source_id == "PPPA-2024-SKILL-FOR-TOURISM"
    assert waits == [0.5, 1.0]
    assert server.hits("/flaky/2/eu_ft/search_result_PPPA-2024-SKILL-FOR-TOURISM.json") == 3


def test_retry_after_is_honoured_up_to_the_ceiling(server, workdir):
    waits: list[float] = []
    url = f"{server.url}/flaky/2/iati/iaf_organisation.xml?after=7"
    with fetch.fetch(url, directory=workdir, backoff=0.5, backoff_max=10, sleep=waits.append):
        pass
    assert waits == [7.0, 7.0]
    waits.clear()
    url = f"{server.url}/flaky/1/iati/iaf_organisation.xml?after=3600"
    with fetch.fetch(url, directory=workdir, backoff=0.5, backoff_max=10, sleep=waits.append):
        pass
    assert waits == [10]


def test_gives_up_after_the_retries(server, workdir):
    url = f"{server.url}/flaky/9/iati/iaf_organisation.xml"
    with pytest.raises(FetchFailed, match="503") as info:
        fetch.fetch(url, directory=workdir, retries=2, **FAST)
    assert info.value.attempts == 3 and info.value.status == 503
    assert server.hits("/flaky/9/iati/iaf_organisation.xml") == 3
    assert list(workdir.iterdir()) == []


def test_client_errors_are_not_retried_and_keys_stay_out_of_messages(server, workdir):
    with pytest.raises(FetchFailed, match="404") as info:
        fetch.fetch(f"{server.url}/status/404?apiKey=SECRET", directory=workdir, **FAST)
    assert info.value.attempts == 1 and "SECRET" not in str(info.value)
    assert server.hits("/status/404") == 1


def test_dropped_connection_and_cut_body_are_retried(server, workdir, feeds):
    rel = "iati/sida_dportal_49.xml"
    with fetch.fetch(f"{server.url}/drop/1/{rel}", directory=workdir, **FAST) as got:
        assert got.attempts == 2
    with fetch.fetch(f"{server.url}/cut/1/{rel}", directory=workdir, **FAST) as got:
        assert got.attempts == 2 and got.path.read_bytes() == (feeds / rel).read_bytes()
    with pytest.raises(FetchFailed, match="broke off"):
        fetch.fetch(f"{server.url}/cut/5/{rel}", directory=workdir, retries=1, **FAST)
    assert list(workdir.iterdir()) == []


def test_unreachable_host():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(FetchFailed, match="could not connect") as info:
        fetch.fetch(f"http://127.0.0.1:{port}/x", retries=1, **FAST)
    assert info.value.attempts == 2


def test_read_timeout_is_retried_then_reported(server, workdir):
    with pytest.raises(FetchFailed, match="did not answer in time") as info:
        fetch.fetch(
            f"{server.url}/slow/1.5", directory=workdir, retries=1, backoff=0.01, timeout=(2, 0.3)
        )
    assert info.value.attempts == 2


def test_size_cap_while_streaming(server, workdir):
    with pytest.raises(TooLarge, match="more than the limit"):
        fetch.fetch(f"{server.url}/stream/3000000", directory=workdir, max_bytes=1_000_000, **FAST)
    assert list(workdir.iterdir()) == []


def test_announced_size_over_the_cap_is_refused_before_reading(server, workdir):
    with pytest.raises(TooLarge, match="announces 50,000,000 bytes"):
        fetch.fetch(
            f"{server.url}/declared/50000000", directory=workdir, max_bytes=1_000_000, **FAST
        )


def test_gzip_is_decoded_and_a_gzip_bomb_stops_at_the_cap(server, workdir, feeds):
    rel = "world_bank/world_bank_projects.json"
    with fetch.fetch(f"{server.url}/gzip/{rel}", directory=workdir, **FAST) as got:
        assert got.path.read_bytes() == (feeds / rel).read_bytes()
    with pytest.raises(TooLarge):
        fetch.fetch(f"{server.url}/zeros/20000000", directory=workdir, max_bytes=1_000_000, **FAST)
    assert list(workdir.iterdir()) == []


def test_post_multipart_like_the_eu_search_api(server, workdir):
    query = {"bool": {"must": [{"terms": {"type": ["1", "8"]}}]}}
    parts = {"query": ("blob", json.dumps(query), "application/json")}
    with fetch.fetch(
        f"{server.url}/echo", method="POST", files=parts, directory=workdir, **FAST
    ) as got:
        echoed = json.loads(got.path.read_bytes())
    assert echoed["content_type"].startswith("multipart/form-data")
    assert '"terms": {"type": ["1", "8"]}' in echoed["body"]


def test_only_http_urls():
    with pytest.raises(FetchFailed, match="only http and https"):
        fetch.fetch("file:///etc/passwd")
