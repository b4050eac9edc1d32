"""A saved search's parameters: read and checked by the rules of its scope's own page."""

from __future__ import annotations

from collections.abc import Mapping

from models.searches import SearchScope
from services import opportunities, reviews
from services.errors import Invalid


def normalise(scope: str, params: Mapping[str, object]) -> dict[str, str]:
    """The set filters of a search of `scope`, checked; Invalid names each bad one."""
    if scope == SearchScope.OPPORTUNITIES:
        return opportunities.Filters.from_params(params).params()
    if scope == SearchScope.QUEUE:
        return reviews.QueueFilters.from_params(params).params()
    raise Invalid("unknown kind of search", {"scope": ["Choose the queue or the opportunities."]})


def opportunity_filters(params: Mapping[str, object]) -> opportunities.Filters:
    return opportunities.Filters.from_params(params)


def queue_filters(params: Mapping[str, object]) -> reviews.QueueFilters:
    return reviews.QueueFilters.from_params(params)
