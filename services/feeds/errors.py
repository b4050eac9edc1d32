"""Why a feed file or response could not be read: one class per cause, each with a plain message.

Every error a parser or the fetcher raises on purpose is a FeedError. A run that meets one stores
nothing from that file and records `code` and `message`; the CLI prints the message and exits 2.
"""

from __future__ import annotations


class FeedError(Exception):
    """Base of the errors raised on a file or response that cannot be imported."""

    code = "feed_error"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class UnsafeFeed(FeedError):
    """The XML declares a DTD or entities (XXE, billion laughs): refused before expansion."""

    code = "unsafe"


class MalformedFeed(FeedError):
    """Not well-formed: truncated XML, broken JSON, an empty file."""

    code = "malformed"


class WrongEncoding(FeedError):
    """The bytes are not in the encoding the file declares (or JSON's UTF-8/16/32)."""

    code = "encoding"


class WrongKind(FeedError):
    """Readable, but not the kind of document the feed claims (JSON given as IATI, ...)."""

    code = "wrong_kind"


class TooLarge(FeedError):
    """The file or response is larger than the size cap."""

    code = "too_large"


class SourceError(FeedError):
    """The source answered with an error document instead of data."""

    code = "source_error"


class FetchFailed(FeedError):
    """The HTTP request failed: connection refused, time-out, a 4xx, or 5xx after every retry."""

    code = "fetch_failed"

    def __init__(self, message: str, status: int | None = None, attempts: int = 1):
        super().__init__(message)
        self.status = status
        self.attempts = attempts
