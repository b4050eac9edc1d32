"""The JSON API under /api/v1."""

from web.api import (  # noqa: F401  (routes register)
    auth,
    catalog,
    documents,
    feeds,
    health,
    matching,
    openapi,
    work,
)
from web.api.blueprint import bp

__all__ = ["bp"]
