"""Hostile input stopped at the door: NUL characters, integers past 64 bits, deep JSON.

PostgreSQL refuses a NUL character in text (a 500 if it got that far) and SQLite stores it
silently; neither is something a person means to send, so every query parameter, form field and
JSON string is checked before a view runs. Route integers are bounded to what a database id can
hold, so `/offers/99999999999999999999` is a 404 like any other missing id.
"""

from __future__ import annotations

from flask import Flask, abort, request
from werkzeug.routing import IntegerConverter

from services.errors import Invalid

MAX_ID = 2**63 - 1  # a BIGINT; SQLite's INTEGER is the same size
NUL = "\x00"
MAX_JSON_DEPTH = 32


class BoundedInt(IntegerConverter):
    """`<int:...>` whose numbers past 2^63-1 become -1: an id no row has, so every method
    answers 404 (a `max` here would make werkzeug answer 405 for some methods), and the
    database never sees a number it cannot hold."""

    def to_python(self, value: str) -> int:
        number = super().to_python(value)
        return number if number <= MAX_ID else -1


def _nul_field(pairs) -> str | None:
    for key, value in pairs:
        if NUL in key or NUL in value:
            return key.replace(NUL, "?")
    return None


def json_problem(value, depth: int = 0) -> str | None:
    """Why a parsed JSON value is refused (NUL in a string, nesting too deep), or None."""
    if depth > MAX_JSON_DEPTH:
        return f"the JSON is nested more than {MAX_JSON_DEPTH} levels deep"
    if isinstance(value, str):
        return "text may not contain NUL characters (\\u0000)" if NUL in value else None
    if isinstance(value, dict):
        items = list(value.keys()) + list(value.values())
    elif isinstance(value, list):
        items = value
    else:
        return None
    for item in items:
        problem = json_problem(item, depth + 1)
        if problem:
            return problem
    return None


def _check_request() -> None:
    field = _nul_field(request.args.items(multi=True))
    if field is None and request.mimetype in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        field = _nul_field(request.form.items(multi=True))
    if field is None:
        return
    message = "text may not contain NUL characters"
    if request.path.startswith("/api/"):
        raise Invalid(message, {field: ["Contains a NUL character (\\u0000)."]})
    abort(400, description=message)


def init_app(app: Flask) -> None:
    app.url_map.converters["int"] = BoundedInt
    app.before_request(_check_request)
