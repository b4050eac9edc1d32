"""Running feeds: fetch, parse, store, and the run's record.

A run is recorded first (state running, its own commit), then the records are stored in one
transaction: any error (a FeedError from fetching or parsing, a database error) rolls all of
them back and marks the run failed with that first error, so nothing is half-imported. Only one
run holds a feed at a time (`Feed.running_since`, taken with a conditional UPDATE; a run older
than the lease is taken over). A 304 answer to the conditional GET ends the run as
not_modified, with nothing parsed.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from config import Settings
from models import Feed, FeedRun
from models.enums import FeedKind, FeedRunState
from services import clock, feeds, outbox, task_names
from services.db import fetch as fetch_row
from services.errors import Conflict
from services.feeds import FeedOffer, ParseResult, Skip, iati
from services.feeds.errors import FeedError, FetchFailed
from services.feeds.fetch import fetch
from services.ingest.store import Counts, close_unlisted, store

log = logging.getLogger(__name__)

DEFAULT_MAX_PAGES = 20  # paged search APIs (EU F&T, Grants.gov): at most this many pages a run
DEFAULT_GRANTS_DETAILS = "https://api.grants.gov/v1/api/fetchOpportunity"
DEFAULT_KEY_HEADER = "Ocp-Apim-Subscription-Key"  # the IATI Datastore's
STREAM_BATCH = 1000  # IATI records stored at a time while the file streams


@dataclass
class Request:
    """One HTTP request of a run, from the feed's URL and query."""

    method: str
    params: dict
    json: dict | None
    files: dict | None
    headers: dict


class _RunFailed(Exception):
    """A run stops: its first error, for people."""


# --- the run's record -----------------------------------------------------------------------


def _start(session: Session, kind: str, feed: Feed | None, trigger: str) -> FeedRun:
    run = FeedRun(
        kind=kind,
        feed_id=feed.id if feed else None,
        trigger=trigger,
        state=FeedRunState.RUNNING,
        started_at=clock.now(),
    )
    session.add(run)
    session.commit()
    return run


def _finish(
    session: Session,
    run_id: int,
    state: FeedRunState,
    counts: Counts,
    document: str | None,
    error: str | None = None,
) -> FeedRun:
    run = session.get(FeedRun, run_id)
    run.state = state
    run.document = (document or None) and document[:120]
    for name in FeedRun.COUNTS:
        setattr(run, name, getattr(counts, name))
    run.first_error = error or counts.first_error
    run.finished_at = clock.now()
    run.duration_ms = int((run.finished_at - clock.aware(run.started_at)).total_seconds() * 1000)
    return run


def _fail(session: Session, run_id: int, message: str, counts: Counts) -> FeedRun:
    session.rollback()
    failed = Counts(skipped=0, failed=max(1, counts.failed), first_error=message)
    run = _finish(session, run_id, FeedRunState.FAILED, failed, None, message)
    session.commit()
    return run


# --- one file --------------------------------------------------------------------------------


def _ingest(
    session: Session,
    kind: str,
    source: Path | str,
    today: date,
    counts: Counts,
    feed: Feed | None = None,
    details=None,
) -> tuple[ParseResult, int]:
    """Parse `source` as `kind` and store it in the caller's transaction; return the result
    (document and total; its records are not kept) and how many items it held.

    IATI files are streamed and stored STREAM_BATCH records at a time, so memory stays flat
    however large the file; a FeedError at its end (a truncated file) comes before the caller
    commits, which then rolls every batch back.
    """
    if kind != FeedKind.IATI:
        options = {"today": today} if kind == FeedKind.GRANTS_GOV else {}
        result = feeds.parse(kind, source, **options)
        store(session, kind, result, today, feed=feed, details=details, counts=counts)
        return result, len(result.records) + len(result.skipped)
    head = ParseResult(kind=kind, document="IATI XML")
    batch = ParseResult(kind=kind, document=head.document)
    read = 0
    for item in iati.iter_records(source, document=head):
        read += 1
        (batch.skipped if isinstance(item, Skip) else batch.records).append(item)
        if len(batch.records) >= STREAM_BATCH:
            store(session, kind, batch, today, feed=feed, counts=counts)
            batch = ParseResult(kind=kind, document=head.document)
    store(session, kind, batch, today, feed=feed, counts=counts)
    return head, read


def import_file(
    session: Session, kind: str, path: str | Path, settings: Settings, today: date | None = None
) -> FeedRun:
    """Import one file as a feed of `kind` would (no closing of unlisted calls); commits.

    Raises FeedError (after recording the failed run) when the file cannot be read as `kind`;
    nothing is stored then.
    """
    if kind not in feeds.KINDS:
        raise ValueError(f"unknown feed kind {kind!r}; one of {', '.join(feeds.KINDS)}")
    today = today or clock.agency_today(settings.timezone)
    run = _start(session, kind, None, "file")
    run_id = run.id
    counts = Counts()
    try:
        result, _read = _ingest(session, kind, path, today, counts)
        run = _finish(session, run_id, FeedRunState.SUCCEEDED, counts, result.document)
        session.commit()
    except FeedError as exc:
        _fail(session, run_id, str(exc), counts)
        raise
    except BaseException as exc:
        _fail(session, run_id, f"{type(exc).__name__}: {exc}", counts)
        raise
    outbox.dispatch(session)
    return session.get(FeedRun, run_id)


# --- a configured feed -------------------------------------------------------------------------


def _request(feed: Feed, settings: Settings) -> Request:
    query = dict(feed.query or {})
    method = str(query.pop("method", "POST" if feed.kind == FeedKind.EU_FT else "GET")).upper()
    params = dict(query.pop("params", {}) or {})
    body = query.pop("json", None)
    parts = query.pop("multipart", None)
    headers: dict[str, str] = {}
    if feed.api_key_env:
        key = settings.feed_keys.get(feed.api_key_env)
        if not key:
            raise _RunFailed(f"the API key variable {feed.api_key_env} is not set")
        if query.get("key_param"):
            params[str(query["key_param"])] = key
        else:
            headers[str(query.get("key_header") or DEFAULT_KEY_HEADER)] = key
    files = None
    if parts:
        files = {
            name: (
                "blob",
                json.dumps(value) if not isinstance(value, str) else value,
                "application/json",
            )
            for name, value in parts.items()
        }
    if feed.kind == FeedKind.GRANTS_GOV and method == "POST" and body is None:
        body = {"oppStatuses": "forecasted|posted", "rows": 100}
    return Request(method, params, body, files, headers)


def _next_page(feed: Feed, request: Request, page: int, got: int) -> Request | None:
    """The request of the next page of a paged search API, or None when not paged."""
    if feed.kind == FeedKind.EU_FT:
        size = int(request.params.get("pageSize", 50))
        params = {**request.params, "pageSize": size, "pageNumber": page + 1}
        return Request(request.method, params, request.json, request.files, request.headers)
    if feed.kind == FeedKind.GRANTS_GOV and request.json is not None:
        body = {**request.json, "startRecordNum": got}
        return Request(request.method, request.params, body, request.files, request.headers)
    return None


def _download(feed: Feed, request: Request, settings: Settings, conditional: bool):
    return fetch(
        feed.url,
        method=request.method,
        params=request.params or None,
        json=request.json,
        files=request.files,
        headers=request.headers or None,
        etag=feed.etag if conditional else None,
        last_modified=feed.last_modified if conditional else None,
        backoff=settings.feed_backoff,
        backoff_max=max(settings.feed_backoff * 8, 1.0),
    )


def _details(feed: Feed, settings: Settings, today: date):
    """Grants.gov search hits carry no text or eligibility: fetch each one's details."""
    if feed.kind != FeedKind.GRANTS_GOV:
        return None
    url = (feed.query or {}).get("details_url") or DEFAULT_GRANTS_DETAILS

    def details(record: FeedOffer) -> FeedOffer:
        with fetch(
            url,
            method="POST",
            json={"opportunityId": record.source_id},
            backoff=settings.feed_backoff,
        ) as got:
            found = [r for r in feeds.parse(feed.kind, got.path, today=today).offers]
        for full in found:
            if full.source_id == record.source_id:
                return full
        raise FetchFailed(f"no details for opportunity {record.source_id}")

    return details


def _max_pages(feed: Feed) -> int:
    try:
        return max(1, int((feed.query or {}).get("max_pages", DEFAULT_MAX_PAGES)))
    except (TypeError, ValueError):
        return DEFAULT_MAX_PAGES


def _read_all(session: Session, feed: Feed, settings: Settings, today: date, counts: Counts):
    """Fetch every page and store it; returns (state, document)."""
    request = _request(feed, settings)
    page, read, document, complete = 1, 0, None, True
    seen_first = False
    while request is not None:
        with _download(feed, request, settings, conditional=not seen_first) as got:
            if not seen_first:
                if got.unchanged:
                    return FeedRunState.NOT_MODIFIED, "not modified"
                feed.etag, feed.last_modified = got.etag, got.last_modified
                seen_first = True
            details = _details(feed, settings, today)
            result, held = _ingest(session, feed.kind, got.path, today, counts, feed, details)
        document = document or result.document
        read += held
        total = result.total_available
        if total is None or read >= total or not held:
            request = None
        elif page >= _max_pages(feed):
            complete, request = False, None
        else:
            request = _next_page(feed, request, page, read)
            page += 1
            if request is None:
                complete = False
    if complete:
        close_unlisted(session, feed, counts.seen, counts)
    return FeedRunState.SUCCEEDED, document


def _take(session: Session, feed_id: int, settings: Settings, only_if_due: bool = False) -> bool:
    """Hold the feed for one run (a conditional UPDATE, committed); False if another run has it
    (or, `only_if_due`, when its next run has not come: a scheduled task sent twice runs once)."""
    now = clock.now()
    stale = now - timedelta(minutes=settings.feed_lease_minutes)
    query = (
        sa.update(Feed)
        .where(Feed.id == feed_id)
        .where(sa.or_(Feed.running_since.is_(None), Feed.running_since < stale))
    )
    if only_if_due:
        query = query.where(sa.or_(Feed.next_run_at.is_(None), Feed.next_run_at <= now))
    taken = session.execute(
        query.values(running_since=now).execution_options(synchronize_session=False)
    ).rowcount
    session.commit()
    return bool(taken)


def _release(session: Session, feed: Feed, settings: Settings) -> None:
    now = clock.now()
    session.execute(
        sa.update(Feed)
        .where(Feed.id == feed.id)
        .values(
            running_since=None,
            next_run_at=now + timedelta(minutes=feed.interval_minutes),
            etag=feed.etag,
            last_modified=feed.last_modified,
        )
        .execution_options(synchronize_session=False)
    )
    session.commit()


def run_feed(
    session: Session,
    feed_id: int,
    settings: Settings,
    trigger: str = "manual",
    today: date | None = None,
) -> FeedRun:
    """Run feed `feed_id` now: fetch, parse and store, recording the run; commits.

    Raises Conflict when another run holds the feed. A failure is recorded on the run (state
    failed, first error), never raised.
    """
    feed = fetch_row(session, Feed, feed_id, "feed")
    if not _take(session, feed.id, settings, only_if_due=trigger == "schedule"):
        raise Conflict(f"feed {feed.name} is already running or not due")
    today = today or clock.agency_today(settings.timezone)
    run = _start(session, feed.kind, feed, trigger)
    run_id, started = run.id, time.monotonic()
    counts = Counts()
    etag, last_modified = feed.etag, feed.last_modified
    try:
        state, document = _read_all(session, feed, settings, today, counts)
        _finish(session, run_id, state, counts, document)
        session.commit()
    except (FeedError, _RunFailed) as exc:
        _fail(session, run_id, str(exc), counts)
        feed = session.get(Feed, feed_id)
        feed.etag, feed.last_modified = etag, last_modified  # read again next time
    except Exception as exc:
        log.exception("feed %s run %s failed", feed_id, run_id)
        _fail(session, run_id, f"{type(exc).__name__}: {exc}", counts)
        feed = session.get(Feed, feed_id)
        feed.etag, feed.last_modified = etag, last_modified
    finally:
        _release(session, session.get(Feed, feed_id), settings)
    log.info(
        "feed %s run %s: %s in %.1fs", feed_id, run_id, counts.line(), time.monotonic() - started
    )
    outbox.dispatch(session)
    return session.get(FeedRun, run_id)


def due(session: Session, settings: Settings, now=None) -> list[int]:
    """Enabled feeds whose next run has come (or that never ran) and that no run holds."""
    now = now or clock.now()
    stale = now - timedelta(minutes=settings.feed_lease_minutes)
    return list(
        session.scalars(
            sa.select(Feed.id)
            .where(Feed.enabled.is_(True))
            .where(sa.or_(Feed.running_since.is_(None), Feed.running_since < stale))
            .where(sa.or_(Feed.next_run_at.is_(None), Feed.next_run_at <= now))
            .order_by(Feed.id)
        )
    )


def request_run(session: Session, send, feed_id: int, trigger: str = "manual") -> bool:
    """Hand a run of feed `feed_id` to the workers now (`send`, a runtime's); when the broker
    cannot take it, leave it in the outbox for the sweep. Returns whether it was sent."""
    fetch_row(session, Feed, feed_id, "feed")
    session.commit()  # hold no transaction while the run may happen in-process
    try:
        send(task_names.FEEDS_RUN, [feed_id, trigger])
    except Exception as exc:  # any broker failure: the outbox keeps the task
        log.warning("broker unavailable, feed %s run waits in the outbox: %s", feed_id, exc)
        outbox.add(session, task_names.FEEDS_RUN, [feed_id, trigger])
        session.commit()
        return False
    return True
