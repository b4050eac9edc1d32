"""The JSON API under /api/v1."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from web.api import auth, catalog, health, matching, openapi  # noqa: E402,F401  (routes register)
