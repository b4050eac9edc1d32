"""What every page and the API share about call documents: the larger request size of the
routes that take them, the refusal messages in the reader's language, and the download.

A multipart request to a route in UPLOAD_ENDPOINTS may carry that many documents beyond the
usual MAX_CONTENT_LENGTH; every other request keeps the small limit. The hook runs before the CSRF
check reads the form, so it is registered by create_app before the extensions.
"""

from __future__ import annotations

from flask import Flask, request, send_file
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from models import Document
from services.documents import formats, store
from web.db import settings

PUBLIC_FORM_FILES = 3  # documents the public offer form takes at once
UPLOAD_ENDPOINTS = {
    "staff.upload_offer_document": 1,
    "staff.upload_project_document": 1,
    "api.create_offer_document": 1,
    "api.create_project_document": 1,
    "public.new_offer": PUBLIC_FORM_FILES,
    "public.add_document": 1,
}
ACCEPT = ".pdf,.docx,.odt,.txt," + ",".join(sorted(formats.KIND_OF_MEDIA))
REASONS = {
    "empty": _l("The file is empty."),
    "unsupported_type": _l(
        "This kind of file is not accepted: attach a PDF, DOCX, ODT or TXT file."
    ),
    "wrong_type": _l(
        "The file's name says one kind of document but its content is another: attach the real "
        "file, or rename it."
    ),
    "encrypted": _l(
        "The document is encrypted or password-protected: attach a version without protection."
    ),
    "broken": _l("The file is damaged or incomplete and cannot be read: send it again."),
    "too_many_pages": _l("The PDF has too many pages."),
    "zip_bomb": _l(
        "The document unpacks to far more than its size or holds too many parts: refused."
    ),
    "unsafe_xml": _l(
        "The document declares XML entities or a DTD, which could read files or exhaust "
        "memory: refused."
    ),
    "too_slow": _l("Reading the document took too long: it may be damaged."),
    "too_many": _l("This item has as many documents as it may have: remove one first."),
}
STATES = {
    "pending": _l("Reading its text…"),
    "done": _l("Text read"),
    "failed": _l("Its text could not be read"),
}


def init_app(app: Flask) -> None:
    @app.before_request
    def _allow_documents() -> None:
        files = UPLOAD_ENDPOINTS.get(request.endpoint or "")
        # Only multipart bodies: their text fields stay under MAX_FORM_MEMORY_SIZE each, while
        # a urlencoded body is read whole and keeps the small limit.
        if files and request.mimetype == "multipart/form-data":
            base = app.config.get("MAX_CONTENT_LENGTH") or 0
            request.max_content_length = base + files * settings().document_max_bytes

    app.jinja_env.globals.update(
        document_size=size_text, document_state=state_text, document_kind=kind_text
    )
    app.context_processor(lambda: {"document_max_mb": settings().document_max_mb})


def refusal(exc: store.DocumentRefused) -> str:
    """Why a file was refused, in the reader's language."""
    if isinstance(exc, store.DocumentTooLarge):
        return _(
            "The file is larger than %(mb)s MB: attach a smaller one.",
            mb=settings().document_max_mb,
        )
    return str(REASONS.get(exc.reason) or exc.message)


def size_text(size: int) -> str:
    if size < 1024 * 1024:
        return _("%(n)s KB", n=format_decimal(max(round(size / 1024), 1)))
    return _("%(n)s MB", n=format_decimal(round(size / (1024 * 1024), 1)))


def state_text(document: Document) -> str:
    return str(STATES[str(document.extraction_state)])


def kind_text(document: Document) -> str:
    return store.kind_of(document).upper()


def send(document: Document):
    """The document as a download: never shown inline, never sniffed, never cached by others."""
    response = send_file(
        store.file_path(settings(), document),
        mimetype=document.media_type,
        as_attachment=True,
        download_name=document.filename,
        conditional=True,
        etag=document.sha256,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
