"""Documents of offers and projects: list, attach (multipart/form-data), read, download, remove.

Partners reach the documents of their own organisation's offers; projects' documents and
every other are for staff. Refused files answer in the one error shape: 422 (with the reason
under `fields.file`) or 413 past COOPMATCH_DOCUMENT_MAX_MB.
"""

from __future__ import annotations

from flask import request, url_for
from marshmallow import Schema, fields

from models import Document, Offer, Project
from services import catalog
from services.documents import store
from services.documents.formats import MEDIA_TYPES
from services.errors import Invalid, NotFound
from web import documents
from web.api.auth import current_user, require_staff
from web.api.blueprint import bp
from web.db import db_session, settings
from web.schemas import UtcDateTime

TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off"}


class DocumentOut(Schema):
    id = fields.Integer()
    offer_id = fields.Integer(allow_none=True)
    project_id = fields.Integer(allow_none=True)
    filename = fields.String()
    media_type = fields.String()
    size = fields.Integer()
    sha256 = fields.String()
    public = fields.Boolean()
    extraction_state = fields.Function(lambda d: str(d.extraction_state))
    extraction_error = fields.String(allow_none=True)
    extracted_at = UtcDateTime(allow_none=True)
    created_at = UtcDateTime()
    links = fields.Function(
        lambda d: {
            "self": url_for("api.get_document", document_id=d.id),
            "content": url_for("api.document_content", document_id=d.id),
        }
    )


def _owner(model, item_id: int):
    """The offer or project, if the caller may see it (a partner: its own offers only)."""
    user = current_user()
    if model is Project:
        require_staff()
    obj = catalog.get(db_session(), model, item_id)
    if not user.is_staff and obj.organization_id != user.organization_id:
        raise NotFound(f"{catalog.NAMES[model]} {item_id} does not exist")
    return obj


def _document(document_id: int) -> Document:
    document = store.get(db_session(), document_id)
    model, key = (Offer, document.offer_id) if document.offer_id else (Project, document.project_id)
    try:
        _owner(model, key)
    except NotFound:
        raise NotFound(f"document {document_id} does not exist") from None
    return document


def _list(model, item_id: int):
    return {"items": DocumentOut(many=True).dump(store.of(db_session(), _owner(model, item_id)))}


def _public_flag() -> bool:
    """The form's `public` value: absent is false; anything but a boolean word is a 422."""
    raw = request.form.get("public")
    if raw is None:
        return False
    if raw.strip().lower() not in TRUE | FALSE:
        raise Invalid("public must be true or false", {"public": ["Give true or false."]})
    return raw.strip().lower() in TRUE


def _create(model, item_id: int):
    owner = _owner(model, item_id)
    upload = request.files.get("file")
    if upload is None:
        raise Invalid(
            "send the document as multipart/form-data in a field named 'file'",
            {"file": ["Missing file."]},
        )
    document = store.attach(
        db_session(),
        settings(),
        owner,
        upload.filename,
        upload.stream,
        public=_public_flag(),
        user_id=current_user().id,
    )
    location = url_for("api.get_document", document_id=document.id)
    return DocumentOut().dump(document), 201, {"Location": location}


@bp.get("/offers/<int:item_id>/documents")
def list_offer_documents(item_id: int):
    return _list(Offer, item_id)


@bp.post("/offers/<int:item_id>/documents")
def create_offer_document(item_id: int):
    return _create(Offer, item_id)


@bp.get("/projects/<int:item_id>/documents")
def list_project_documents(item_id: int):
    return _list(Project, item_id)


@bp.post("/projects/<int:item_id>/documents")
def create_project_document(item_id: int):
    return _create(Project, item_id)


@bp.get("/documents/<int:document_id>")
def get_document(document_id: int):
    return DocumentOut().dump(_document(document_id))


@bp.get("/documents/<int:document_id>/content")
def document_content(document_id: int):
    return documents.send(_document(document_id))


@bp.delete("/documents/<int:document_id>")
def delete_document(document_id: int):
    store.remove(db_session(), settings(), _document(document_id), current_user().id)
    return "", 204


_ERR = {"$ref": "#/components/responses/Error"}
_ONE = {"description": "A document", "content": {"application/json": {"schema": "DocumentOut"}}}
_UPLOAD = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "file": {
                        "type": "string",
                        "format": "binary",
                        "description": "PDF, DOCX, ODT or TXT; the kind is read from the "
                        "content. At most COOPMATCH_DOCUMENT_MAX_MB (20 MB by default).",
                    },
                    "public": {
                        "type": "boolean",
                        "description": "Offers only: downloadable from the public "
                        "opportunities page once published (default false).",
                    },
                },
            }
        }
    },
}


def _owner_paths(plural: str) -> dict:
    param = [{"in": "path", "name": "item_id", "required": True, "schema": {"type": "integer"}}]
    return {
        "parameters": param,
        "get": {
            "tags": ["documents"],
            "summary": f"The documents of one of the {plural}",
            "responses": {
                "200": {"description": "Documents"},
                "401": _ERR,
                "403": _ERR,
                "404": _ERR,
            },
        },
        "post": {
            "tags": ["documents"],
            "summary": "Attach a document; its text is read by a background task",
            "requestBody": _UPLOAD,
            "responses": {
                "201": _ONE,
                **{str(code): _ERR for code in (401, 403, 404, 413, 422)},
            },
        },
    }


_DOC_PARAM = [
    {"in": "path", "name": "document_id", "required": True, "schema": {"type": "integer"}}
]
OPENAPI_PATHS = {
    "/offers/{item_id}/documents": _owner_paths("offers"),
    "/projects/{item_id}/documents": _owner_paths("projects"),
    "/documents/{document_id}": {
        "parameters": _DOC_PARAM,
        "get": {
            "tags": ["documents"],
            "summary": "A document and the state of its text extraction",
            "responses": {"200": _ONE, "401": _ERR, "403": _ERR, "404": _ERR},
        },
        "delete": {
            "tags": ["documents"],
            "summary": "Remove a document",
            "responses": {"204": {"description": "Removed"}, "401": _ERR, "403": _ERR, "404": _ERR},
        },
    },
    "/documents/{document_id}/content": {
        "parameters": _DOC_PARAM,
        "get": {
            "tags": ["documents"],
            "summary": "Download the document (as an attachment)",
            "responses": {
                "200": {
                    "description": "The file",
                    "content": {
                        media.split(";")[0]: {"schema": {"type": "string", "format": "binary"}}
                        for media in MEDIA_TYPES.values()
                    },
                },
                "401": _ERR,
                "403": _ERR,
                "404": _ERR,
            },
        },
    },
}
