"""Attach documents to offers and projects, extract their text, and read them back.

Attaching stores the file first and answers at once: the quick checks of
services.documents.formats run while the upload is answered (a refused file is a clear
error and nothing is kept), then the row is committed in state `pending` with its extraction
task in the outbox. The worker reads the text (`extract`); a failure there leaves the file and
the row, in state `failed` with the reason, for staff to see. Once the text is in, the owner
is rescored: the matcher reads the text as passages of the offer or project
(services.matching.items.document_passages).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

import sqlalchemy as sa
from sqlalchemy.orm import Session

from config import Settings
from models import Document, Offer, Project
from models.enums import ExtractionState
from models.offers import search_key
from services import audit, clock, outbox, task_names
from services.db import committing, fetch
from services.documents import formats, storage
from services.errors import Invalid
from services.matching.queue import queue_scoring

DEFAULT_MAX_PER_OWNER = 20  # documents attached to one offer or project
DEFAULT_SEARCH_TEXT_MAX = 4_000_000  # characters of an offer's public documents searched


class DocumentRefused(Invalid):
    """An upload that is not taken; `fields["file"]` says why."""

    def __init__(self, message: str, code: str = "document_refused"):
        super().__init__(message, {"file": [message]})
        self.reason = code


class DocumentTooLarge(DocumentRefused):
    status = 413
    code = "too_large"


def _owner_key(owner: Offer | Project) -> dict:
    if isinstance(owner, Offer):
        return {"offer_id": owner.id}
    return {"project_id": owner.id}


def _entity(owner: Offer | Project) -> str:
    return "offer" if isinstance(owner, Offer) else "project"


def attach(
    session: Session,
    settings: Settings,
    owner: Offer | Project,
    filename: str | None,
    stream: BinaryIO,
    *,
    public: bool = False,
    user_id: int | None = None,
) -> Document:
    """Check and store one uploaded file for `owner`; its text is extracted by a task.

    Raises DocumentRefused (422) or DocumentTooLarge (413) with the reason under "file". The
    same content attached to the same owner again returns the row already there.
    """
    root = settings.documents_path
    try:
        upload = storage.receive(root, stream, settings.document_max_bytes)
    except storage.TooLarge as exc:
        raise DocumentTooLarge(
            f"The file is larger than {settings.document_max_mb} MB: attach a smaller one."
        ) from exc
    try:
        kind = formats.check(upload.path, filename)
    except formats.DocumentError as exc:
        upload.drop()
        raise DocumentRefused(exc.message, exc.code) from exc
    existing = session.scalar(
        sa.select(Document).filter_by(**_owner_key(owner), sha256=upload.sha256).limit(1)
    )
    if existing is not None:
        upload.drop()
        return existing
    held = session.scalar(
        sa.select(sa.func.count()).select_from(Document).filter_by(**_owner_key(owner))
    )
    if held >= DEFAULT_MAX_PER_OWNER:
        upload.drop()
        raise DocumentRefused(
            f"At most {DEFAULT_MAX_PER_OWNER} documents may be attached: remove one first.",
            "too_many",
        )
    storage.keep(root, upload)  # stored before anything can fail in extraction
    document = Document(
        **_owner_key(owner),
        filename=formats.safe_filename(filename, kind),
        media_type=formats.MEDIA_TYPES[kind],
        size=upload.size,
        sha256=upload.sha256,
        public=public,
        extraction_state=ExtractionState.PENDING,
    )
    with committing(session):
        session.add(document)
        session.flush()
        outbox.add(session, task_names.EXTRACT_DOCUMENT, [document.id])
        audit.record(
            session,
            user_id,
            _entity(owner),
            owner.id,
            "document_added",
            None,
            {"document": document.id, "filename": document.filename, "public": public},
        )
    outbox.dispatch(session)
    return document


def kind_of(document: Document) -> str:
    return formats.KIND_OF_MEDIA[document.media_type.split(";")[0]]


def file_path(settings: Settings, document: Document) -> Path:
    """Where the document's bytes are."""
    return storage.path_of(settings.documents_path, document.sha256)


def extract(
    session: Session, settings: Settings, document_id: int, limits: formats.Limits | None = None
) -> Document | None:
    """Read the text of a pending document and rescore its owner; None when it is gone.

    A file that cannot be read leaves the document `failed` with the reason. A document
    whose content was read before (same hash) takes that text without reading it again.
    """
    document = session.get(Document, document_id)
    if document is None or document.extraction_state != ExtractionState.PENDING:
        return document
    done = session.scalar(
        sa.select(Document.text)
        .where(
            Document.sha256 == document.sha256,
            Document.extraction_state == ExtractionState.DONE,
            Document.id != document.id,
        )
        .limit(1)
    )
    text, error = done, None
    if text is None:
        session.commit()  # hold no transaction while reading a large file
        try:
            text = formats.extract_text(file_path(settings, document), kind_of(document), limits)
        except formats.DocumentError as exc:
            error = exc.message
    owner = session.get(Offer, document.offer_id) if document.offer_id else None
    owner = owner or (session.get(Project, document.project_id) if document.project_id else None)
    with committing(session):
        document.extracted_at = clock.now()
        if error is not None:
            document.extraction_state = ExtractionState.FAILED
            document.extraction_error = error
        else:
            document.extraction_state = ExtractionState.DONE
            document.extraction_error = None
            document.text = text
            document.search_text = search_key(text)
            if owner is not None:  # its text changed: the matcher's corpus drifted
                owner.updated_at = clock.now()
                queue_scoring(session, owner)
            if document.offer_id and document.public:
                _refresh_search(session, document.offer_id)
    outbox.dispatch(session)
    return document


def retry(session: Session, document: Document) -> Document:
    """Queue a failed document's extraction again."""
    with committing(session):
        document.extraction_state = ExtractionState.PENDING
        document.extraction_error = None
        outbox.add(session, task_names.EXTRACT_DOCUMENT, [document.id])
    outbox.dispatch(session)
    return document


def get(session: Session, document_id: int) -> Document:
    return fetch(session, Document, document_id, "document")


def of(session: Session, owner: Offer | Project) -> list[Document]:
    """The owner's documents, oldest first."""
    return list(
        session.scalars(sa.select(Document).filter_by(**_owner_key(owner)).order_by(Document.id))
    )


def public_of(session: Session, offer_ids: Iterable[int]) -> dict[int, list[Document]]:
    """Per offer, its public documents (oldest first)."""
    ids = list(offer_ids)
    if not ids:
        return {}
    out: dict[int, list[Document]] = {}
    rows = session.scalars(
        sa.select(Document)
        .where(Document.offer_id.in_(ids), Document.public.is_(True))
        .order_by(Document.id)
    )
    for document in rows:
        out.setdefault(document.offer_id, []).append(document)
    return out


def set_public(
    session: Session, document: Document, public: bool, user_id: int | None = None
) -> Document:
    """Show the document on the public page (or keep it for staff only)."""
    with committing(session):
        before = {"public": document.public}
        document.public = public
        if document.offer_id:
            _refresh_search(session, document.offer_id)
        owner_type = "offer" if document.offer_id else "project"
        audit.record(
            session,
            user_id,
            owner_type,
            document.offer_id or document.project_id,
            "document_visibility",
            before,
            {"document": document.id, "public": public},
        )
    return document


def remove(
    session: Session, settings: Settings, document: Document, user_id: int | None = None
) -> None:
    """Delete the document, and its file when no other document has the same content."""
    owner = session.get(Offer, document.offer_id) if document.offer_id else None
    owner = owner or (session.get(Project, document.project_id) if document.project_id else None)
    sha = document.sha256
    with committing(session):
        audit.record(
            session,
            user_id,
            "offer" if document.offer_id else "project",
            document.offer_id or document.project_id,
            "document_removed",
            {"document": document.id, "filename": document.filename},
            None,
        )
        session.delete(document)
        if document.offer_id and document.public:
            _refresh_search(session, document.offer_id)
        if owner is not None and document.extraction_state == ExtractionState.DONE:
            owner.updated_at = clock.now()
            queue_scoring(session, owner)
    others = session.scalar(
        sa.select(sa.func.count()).select_from(Document).where(Document.sha256 == sha)
    )
    if not others:
        storage.remove(settings.documents_path, sha)
    outbox.dispatch(session)


def _refresh_search(session: Session, offer_id: int) -> None:
    """Within the caller's transaction, rewrite the offer's searched documents text
    (Offer.documents_text) from its public documents whose text is read."""
    session.flush()
    texts = session.scalars(
        sa.select(Document.search_text)
        .where(
            Document.offer_id == offer_id,
            Document.public.is_(True),
            Document.extraction_state == ExtractionState.DONE,
        )
        .order_by(Document.id)
    )
    joined = "\n".join(t for t in texts if t)[:DEFAULT_SEARCH_TEXT_MAX]
    session.execute(sa.update(Offer).where(Offer.id == offer_id).values(documents_text=joined))
