"""External feeds: parsers, fetching and IATI export, with no database or web dependency.

`parse(kind, source)` reads a file on disk (a path), a response body (bytes) or a binary stream
as the feed of that kind would, and returns a ParseResult of normalised records; anything it
cannot read raises one FeedError subclass with a message for people (services.feeds.errors).
`fetch.fetch(...)` downloads to a temporary file that goes through the same parser.
"""

from __future__ import annotations

from collections.abc import Callable

from . import eu_ft, grants_gov, iati, world_bank
from ._input import Source
from .errors import (
    FeedError,
    FetchFailed,
    MalformedFeed,
    SourceError,
    TooLarge,
    UnsafeFeed,
    WrongEncoding,
    WrongKind,
)
from .records import (
    ActivityStatus,
    FeedActivity,
    FeedOffer,
    FeedOrganisation,
    Narrative,
    OfferState,
    OrgRef,
    OrgRole,
    ParseResult,
    Sector,
    Skip,
)

PARSERS: dict[str, Callable[..., ParseResult]] = {
    iati.KIND: iati.parse,
    eu_ft.KIND: eu_ft.parse,
    grants_gov.KIND: grants_gov.parse,
    world_bank.KIND: world_bank.parse,
}
KINDS = tuple(PARSERS)


def parse(kind: str, source: Source, **options) -> ParseResult:
    """Parse `source` as feed `kind` (one of KINDS); options go to that parser.

    Raises ValueError for an unknown kind, a FeedError for an input that cannot be read as it.
    """
    try:
        parser = PARSERS[kind]
    except KeyError:
        raise ValueError(f"unknown feed kind {kind!r}; one of {', '.join(KINDS)}") from None
    return parser(source, **options)


__all__ = [
    "KINDS",
    "PARSERS",
    "ActivityStatus",
    "FeedActivity",
    "FeedError",
    "FeedOffer",
    "FeedOrganisation",
    "FetchFailed",
    "MalformedFeed",
    "Narrative",
    "OfferState",
    "OrgRef",
    "OrgRole",
    "ParseResult",
    "Sector",
    "Skip",
    "Source",
    "SourceError",
    "TooLarge",
    "UnsafeFeed",
    "WrongEncoding",
    "WrongKind",
    "parse",
]
