"""The JSON API under /api/v1."""

from web.api import auth, catalog, feeds, health, matching, openapi, work  # noqa: F401  (routes register)
from web.api.blueprint import bp

__all__ = ["bp"]
