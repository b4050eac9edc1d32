"""Download a feed to a temporary file: timeouts, retries with backoff, conditional GET, a size cap.

Fetching is separate from parsing: `fetch()` leaves the body in a file, and that file goes
through the same parser as a file given on the command line. Conditional requests send the
ETag and Last-Modified of the previous run; a 304 answer means nothing changed and no body is
read. Retries (exponential backoff, Retry-After honoured up to the backoff ceiling) cover
connection errors, time-outs, 429 and 5xx answers and a body cut off mid-stream; urllib3's own
Retry is not used because it stops at the headers and cannot retry a broken body. The cap is
enforced while streaming, on the decoded bytes, so a gzip bomb stops at the cap too.

    with fetch(url, etag=feed.etag) as got:
        if not got.unchanged:
            result = parse(feed.kind, got.path)
        feed.etag, feed.last_modified = got.etag, got.last_modified
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urlsplit

import requests

from ._input import DEFAULT_MAX_XML_BYTES
from .errors import FetchFailed, TooLarge

DEFAULT_TIMEOUT = (10.0, 60.0)  # seconds to connect, seconds between bytes
DEFAULT_RETRIES = 3  # retries after the first attempt
DEFAULT_BACKOFF = 2.0  # first wait in seconds, doubled each retry
DEFAULT_BACKOFF_MAX = 60.0
DEFAULT_MAX_SECONDS = 900.0  # a whole download, however slowly the bytes trickle
DEFAULT_MAX_BYTES = DEFAULT_MAX_XML_BYTES
DEFAULT_USER_AGENT = "CoopMatch feed importer (python-requests)"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
CHUNK = 256 * 1024


@dataclass
class Fetched:
    """A finished download: the body in `path` (None when the answer was 304 Not Modified).

    Use as a context manager, or call close(), to delete the temporary file.
    """

    url: str
    status: int
    path: Path | None
    etag: str | None
    last_modified: str | None
    content_type: str | None
    size: int
    attempts: int

    @property
    def unchanged(self) -> bool:
        """Return whether the source said the feed has not changed since the given validators."""
        return self.status == 304

    def close(self) -> None:
        """Delete the temporary file."""
        if self.path is not None:
            self.path.unlink(missing_ok=True)
            self.path = None

    def __enter__(self) -> Fetched:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def display(url: str) -> str:
    """Return a URL without its query string (which may hold an API key), for messages."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def fetch(
    url: str,
    *,
    method: str = "GET",
    params: Mapping[str, str] | None = None,
    data: object = None,
    json: object = None,
    files: object = None,
    headers: Mapping[str, str] | None = None,
    etag: str | None = None,
    last_modified: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    timeout: tuple[float, float] = DEFAULT_TIMEOUT,
    retries: int = DEFAULT_RETRIES,
    backoff: float = DEFAULT_BACKOFF,
    backoff_max: float = DEFAULT_BACKOFF_MAX,
    max_seconds: float = DEFAULT_MAX_SECONDS,
    directory: str | os.PathLike | None = None,
    session: requests.Session | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Fetched:
    """Download `url` into a temporary file in `directory` and return it as a Fetched.

    Parameters
    ----------
    method, params, data, json, files : passed to requests (POST bodies for search APIs;
        `files` for multipart parts such as the EU search API's `query`)
    etag, last_modified : the validators of the previous download; sent as If-None-Match and
        If-Modified-Since, a 304 answer gives `unchanged`
    max_bytes : TooLarge when the body (decoded) would exceed it; nothing is kept
    timeout, retries, backoff, backoff_max, max_seconds : see the module constants

    Raises
    ------
    FetchFailed for an unreachable host, a 4xx, or a 5xx/429/broken body after every retry;
    TooLarge for an oversized body.
    """
    if urlsplit(url).scheme not in ("http", "https"):
        raise FetchFailed(f"only http and https addresses can be fetched, not {display(url)}")
    request_headers = {"User-Agent": DEFAULT_USER_AGENT, "Accept-Encoding": "gzip, deflate"}
    request_headers.update(headers or {})
    if etag:
        request_headers["If-None-Match"] = etag
    if last_modified:
        request_headers["If-Modified-Since"] = last_modified
    own_session = session is None
    session = session or requests.Session()
    started = time.monotonic()
    try:
        attempt = 0
        while True:
            attempt += 1
            try:
                got = _attempt(
                    session,
                    method,
                    url,
                    dict(params=params, data=data, json=json, files=files),
                    request_headers,
                    timeout,
                    max_bytes,
                    started,
                    max_seconds,
                    directory,
                    attempt,
                )
            except _Retryable as exc:
                if attempt > retries:
                    raise FetchFailed(
                        f"{exc.message} ({attempt} attempts)", exc.status, attempt
                    ) from exc.__cause__
                sleep(_delay(attempt, backoff, backoff_max, exc.retry_after))
                continue
            return got
    finally:
        if own_session:
            session.close()


class _Retryable(Exception):
    def __init__(self, message: str, status: int | None = None, retry_after: float | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.retry_after = retry_after


def _delay(attempt: int, backoff: float, backoff_max: float, retry_after: float | None) -> float:
    delay = backoff * 2 ** (attempt - 1)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return min(delay, backoff_max)


def _retry_after(value: str | None) -> float | None:
    """Return the seconds of a Retry-After header (a number or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _attempt(
    session,
    method,
    url,
    body,
    headers,
    timeout,
    max_bytes,
    started,
    max_seconds,
    directory,
    attempt,
) -> Fetched:
    where = display(url)
    try:
        response = session.request(
            method, url, headers=headers, timeout=timeout, stream=True, **body
        )
    except requests.Timeout as exc:
        raise _Retryable(f"{where} did not answer in time") from exc
    except requests.ConnectionError as exc:
        raise _Retryable(f"could not connect to {where}: {_reason(exc)}") from exc
    except requests.RequestException as exc:
        raise FetchFailed(f"the request to {where} failed: {_reason(exc)}") from exc
    with response:
        status = response.status_code
        if status == 304:
            return Fetched(
                url=response.url,
                status=304,
                path=None,
                etag=response.headers.get("ETag") or headers.get("If-None-Match"),
                last_modified=response.headers.get("Last-Modified")
                or headers.get("If-Modified-Since"),
                content_type=None,
                size=0,
                attempts=attempt,
            )
        if status in RETRY_STATUSES:
            raise _Retryable(
                f"{where} answered {status} {response.reason}",
                status,
                _retry_after(response.headers.get("Retry-After")),
            )
        if status >= 400:
            raise FetchFailed(f"{where} answered {status} {response.reason}", status, attempt)
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > max_bytes:
            raise TooLarge(
                f"{where} announces {int(declared):,} bytes, more than the limit of "
                f"{max_bytes:,} bytes"
            )
        path = _download(response, where, max_bytes, started, max_seconds, directory)
        return Fetched(
            url=response.url,
            status=status,
            path=path,
            etag=response.headers.get("ETag"),
            last_modified=response.headers.get("Last-Modified"),
            content_type=response.headers.get("Content-Type"),
            size=path.stat().st_size,
            attempts=attempt,
        )


def _download(response, where, max_bytes, started, max_seconds, directory) -> Path:
    """Stream the body into a temporary file; delete it if anything goes wrong."""
    fd, name = tempfile.mkstemp(prefix="coopmatch-feed-", suffix=".body", dir=directory)
    path = Path(name)
    try:
        size = 0
        with os.fdopen(fd, "wb") as out:
            for chunk in response.iter_content(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise TooLarge(f"{where} sent more than the limit of {max_bytes:,} bytes")
                if time.monotonic() - started > max_seconds:
                    raise FetchFailed(f"downloading {where} took longer than {max_seconds:.0f} s")
                out.write(chunk)
        return path
    except requests.exceptions.ContentDecodingError as exc:
        path.unlink(missing_ok=True)
        raise FetchFailed(f"{where} sent a body that cannot be decoded: {_reason(exc)}") from exc
    except (requests.exceptions.ChunkedEncodingError, requests.ConnectionError) as exc:
        path.unlink(missing_ok=True)
        raise _Retryable(f"the answer from {where} broke off: {_reason(exc)}") from exc
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def _reason(exc: BaseException) -> str:
    """Return the innermost, most specific message of a requests/urllib3 error chain."""
    inner = exc
    while inner.__context__ is not None and inner.__context__ is not inner:
        inner = inner.__context__
    text = str(inner) or type(inner).__name__
    return text if len(text) < 200 else text[:200] + "..."
