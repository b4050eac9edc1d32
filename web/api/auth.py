"""Bearer-token authentication for the API, and role checks."""

from __future__ import annotations

from flask import g, request

from models import User
from services import api_tokens
from services.errors import Forbidden, Unauthorized
from web.api.blueprint import bp
from web.db import db_session

PUBLIC_ENDPOINTS = {"api.openapi_document"}


@bp.before_request
def _authenticate() -> None:
    if request.endpoint in PUBLIC_ENDPOINTS:
        return
    header = request.headers.get("Authorization", "")
    scheme, _, raw = header.partition(" ")
    if scheme.lower() != "bearer" or not raw.strip():
        raise Unauthorized("send an API token as 'Authorization: Bearer TOKEN'")
    user = api_tokens.authenticate_token(db_session(), raw.strip())
    if user is None:
        raise Unauthorized("the API token is unknown or revoked")
    g.api_user = user


def current_user() -> User:
    return g.api_user


def require_staff() -> User:
    """Return the caller if staff or admin; raise Forbidden for partners."""
    user = current_user()
    if not user.is_staff:
        raise Forbidden("this needs a staff token")
    return user
