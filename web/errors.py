"""One JSON shape for every API error: {"error": {"status", "code", "message", "fields"}}."""

from __future__ import annotations

from flask import Flask, jsonify, request
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from services.errors import DomainError

MESSAGES = {
    400: "The request could not be read.",
    404: "Nothing here: check the address.",
    405: "This method is not allowed here.",
    413: "The request is too large.",
    429: "Too many requests: wait a moment and try again.",
}


def error_response(status: int, code: str, message: str, fields: dict | None = None):
    body = {"error": {"status": status, "code": code, "message": message, "fields": fields or {}}}
    return jsonify(body), status


def register(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain(exc: DomainError):
        return error_response(exc.status, exc.code, exc.message, exc.fields)

    @app.errorhandler(ValidationError)
    def _validation(exc: ValidationError):
        fields = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        return error_response(422, "validation_error", "Some fields are not valid.", fields)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        if not _wants_json():
            return _html_error(exc)
        status = exc.code or 500
        message = MESSAGES.get(status) or exc.description or exc.name
        if status == 413:
            limit = request.max_content_length or 0
            message = f"The request is too large: the limit is {limit // 1024} KB."
        response, status = error_response(status, exc.name.lower().replace(" ", "_"), message)
        for name, value in exc.get_headers():  # Allow on a 405, Retry-After on a 429...
            if name.lower() != "content-type":
                response.headers[name] = value
        return response, status


def _html_error(exc: HTTPException):
    from flask import render_template
    from flask_babel import gettext as _

    texts = {
        400: _("The request could not be read. Go back and try again."),
        403: _("You do not have access to this page."),
        404: _("Nothing here: check the address."),
        405: _("This action is not allowed here."),
        413: _("What you sent is too large. Shorten the texts and try again."),
        429: _("Too many requests: wait a few minutes and try again."),
    }
    status = exc.code or 500
    message = texts.get(status, exc.description or exc.name)
    return render_template("error.html", status=status, message=message), status


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"
