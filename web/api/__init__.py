"""The JSON API under /api/v1."""

from web.api import auth, catalog, documents, health, matching, openapi  # noqa: F401  (routes register)
from web.api.blueprint import bp

__all__ = ["bp"]
