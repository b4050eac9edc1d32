"""Configuring feeds and reading their runs: what the /staff/feeds page and the API use."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from config import FEED_KEY_PREFIX
from models import Feed, FeedRun
from services.db import committing, fetch
from services.errors import Invalid, NotFound

FIELDS = (
    "name",
    "kind",
    "url",
    "query",
    "api_key_env",
    "interval_minutes",
    "countries",
    "keywords",
    "programmes",
    "publish_at_once",
    "enabled",
)
MIN_INTERVAL = 5


def _check(values: Mapping[str, Any]) -> None:
    errors: dict[str, list[str]] = {}
    url = values.get("url") or ""
    if not url.startswith(("http://", "https://")):
        errors["url"] = ["Give an http:// or https:// address."]
    key = values.get("api_key_env")
    if key and not (key.startswith(FEED_KEY_PREFIX) and key[len(FEED_KEY_PREFIX) :]):
        errors["api_key_env"] = [
            f"Name an environment variable starting with {FEED_KEY_PREFIX} (the key stays there)."
        ]
    interval = values.get("interval_minutes")
    if interval is not None and interval < MIN_INTERVAL:
        errors["interval_minutes"] = [f"At least {MIN_INTERVAL} minutes."]
    if not isinstance(values.get("query") or {}, dict):
        errors["query"] = ["Give a JSON object."]
    if errors:
        raise Invalid("some fields of the feed are not valid", errors)


def _clean(data: Mapping[str, Any]) -> dict[str, Any]:
    values = {k: v for k, v in data.items() if k in FIELDS}
    for name in ("countries", "keywords", "programmes"):
        if name in values:
            items = [str(x).strip() for x in values[name] or [] if str(x).strip()]
            values[name] = [x.upper() for x in items] if name == "countries" else items
    if "api_key_env" in values:
        values["api_key_env"] = (values["api_key_env"] or "").strip() or None
    return values


def _unique_name(session: Session, name: str, feed_id: int | None) -> None:
    query = sa.select(Feed.id).where(Feed.name == name)
    if feed_id is not None:
        query = query.where(Feed.id != feed_id)
    if session.scalar(query) is not None:
        raise Invalid("a feed has that name", {"name": ["Another feed has this name."]})


def create(session: Session, data: Mapping[str, Any]) -> Feed:
    """Configure a new feed; commits."""
    values = _clean(data)
    _check(values)
    _unique_name(session, values["name"], None)
    feed = Feed(**values)
    with committing(session):
        session.add(feed)
    return feed


def update(session: Session, feed: Feed, data: Mapping[str, Any]) -> Feed:
    """Change a feed's configuration; a changed URL or query forgets the validators. Commits."""
    values = _clean(data)
    merged = {name: getattr(feed, name) for name in FIELDS} | values
    _check(merged)
    if "name" in values:
        _unique_name(session, values["name"], feed.id)
    with committing(session):
        if values.get("url", feed.url) != feed.url or values.get("query", feed.query) != feed.query:
            feed.etag = feed.last_modified = None
        for key, value in values.items():
            setattr(feed, key, value)
    return feed


def delete(session: Session, feed: Feed) -> None:
    """Remove a feed and its runs; its offers stay (they lose the link to it). Commits."""
    with committing(session):
        session.delete(feed)


def get(session: Session, feed_id: int) -> Feed:
    return fetch(session, Feed, feed_id, "feed")


def by_name_or_id(session: Session, key: str) -> Feed:
    """The feed named `key`, or with id `key`; NotFound otherwise."""
    found = session.scalar(sa.select(Feed).where(Feed.name == key))
    if found is None and key.isdigit():
        found = session.get(Feed, int(key))
    if found is None:
        raise NotFound(f"feed {key} does not exist")
    return found


def all_feeds(session: Session) -> list[Feed]:
    return list(session.scalars(sa.select(Feed).order_by(Feed.name)))


def runs(session: Session, feed_id: int | None = None, limit: int = 50) -> list[FeedRun]:
    """The newest runs (of one feed, or of every feed and file import), newest first."""
    query = sa.select(FeedRun).order_by(FeedRun.id.desc()).limit(limit)
    if feed_id is not None:
        query = query.where(FeedRun.feed_id == feed_id)
    return list(session.scalars(query))


def last_runs(session: Session) -> dict[int, FeedRun]:
    """Each feed's newest run."""
    newest = (
        sa.select(sa.func.max(FeedRun.id))
        .where(FeedRun.feed_id.is_not(None))
        .group_by(FeedRun.feed_id)
    )
    return {r.feed_id: r for r in session.scalars(sa.select(FeedRun).where(FeedRun.id.in_(newest)))}
