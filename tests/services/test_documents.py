"""Attaching documents, extracting their text in the task, and what the text feeds: the
matcher's passages and the public search. On SQLite and PostgreSQL, with real files."""

from __future__ import annotations

import io
from datetime import date

import pytest
import sqlalchemy as sa

from models import AuditEvent, Document, Match, OutboxMessage
from models.enums import ExtractionState
from services import opportunities, task_names
from services.documents import storage, store
from services.errors import NotFound
from services.matching import items, scoring
from tests import document_files as files
from tests import factories as f

WATER_CALL = [
    "Terms of reference: drinking water and sanitation",
    "Community aqueducts, rainwater harvesting and sewage networks for informal hillside "
    "settlements. Eligible costs include pipes, storage tanks and water quality monitoring.",
]


def attach(session, settings, owner, name, data, **kw):
    return store.attach(session, settings, owner, name, io.BytesIO(data), **kw)


def test_a_document_is_stored_by_hash_once_and_its_task_queued(session, settings):
    offer = f.offer(session)
    other = f.offer(session)
    data = files.pdf([WATER_CALL])
    first = attach(session, settings, offer, "../TdR agua.pdf", data, public=True)
    again = attach(session, settings, offer, "copy.pdf", data)
    elsewhere = attach(session, settings, other, "same.pdf", data)
    assert again.id == first.id  # the same content on the same offer: one row
    assert elsewhere.id != first.id and elsewhere.sha256 == first.sha256
    assert first.filename == "TdR agua.pdf"
    assert first.media_type == "application/pdf" and first.size == len(data)
    assert first.extraction_state == ExtractionState.PENDING
    stored = storage.path_of(settings.documents_path, first.sha256)
    assert stored.read_bytes() == data
    assert [p for p in settings.documents_path.rglob("*") if p.is_file()] == [stored]
    tasks = session.scalars(
        sa.select(OutboxMessage.args).where(OutboxMessage.task == task_names.EXTRACT_DOCUMENT)
    ).all()
    assert sorted(tasks) == sorted([[first.id], [elsewhere.id]])
    assert (
        session.scalar(sa.select(AuditEvent.action).where(AuditEvent.entity_id == offer.id))
        == "document_added"
    )


@pytest.mark.parametrize(
    ("name", "data", "status", "words"),
    [
        ("call.pdf", files.docx(["x"]), 422, "content is DOCX"),
        ("call.pdf", files.encrypted_pdf(["x"]), 422, "encrypted"),
        ("call.docx", files.bomb_docx(210), 422, "unpack"),
        ("call.exe", b"plain words", 422, "not accepted"),
    ],
)
def test_a_refused_file_keeps_nothing(session, settings, name, data, status, words):
    offer = f.offer(session)
    with pytest.raises(store.DocumentRefused) as caught:
        attach(session, settings, offer, name, data)
    assert caught.value.status == status
    assert words in caught.value.fields["file"][0]
    assert session.scalar(sa.select(sa.func.count()).select_from(Document)) == 0
    assert not [p for p in settings.documents_path.rglob("*") if p.is_file()]


def test_a_file_over_the_limit_is_a_413(session, settings):
    from dataclasses import replace

    small = replace(settings, document_max_mb=1)
    with pytest.raises(store.DocumentTooLarge) as caught:
        attach(session, small, f.offer(session), "big.txt", b"a" * (1024 * 1024 + 1))
    assert caught.value.status == 413 and "1 MB" in caught.value.message


def test_extraction_fills_the_text_and_rescores_the_owner(session, settings):
    offer = f.offer(session)
    document = attach(session, settings, offer, "tdr.docx", files.docx(WATER_CALL))
    session.execute(sa.delete(OutboxMessage))
    before = offer.updated_at
    store.extract(session, settings, document.id)
    assert document.extraction_state == ExtractionState.DONE
    assert document.text.startswith("Terms of reference")
    assert "rainwater harvesting" in document.search_text
    assert offer.updated_at >= before
    assert session.scalars(sa.select(OutboxMessage.task)).all() == [task_names.SCORE_OFFER]
    # Run again (a retried task): nothing changes, nothing is queued twice.
    store.extract(session, settings, document.id)
    assert session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 1


def test_a_file_that_fails_extraction_is_kept_with_the_reason(session, settings):
    offer = f.offer(session)
    document = attach(session, settings, offer, "xxe.docx", files.xxe_docx())
    store.extract(session, settings, document.id)
    assert document.extraction_state == ExtractionState.FAILED
    assert "entities" in document.extraction_error
    assert document.text is None
    assert store.file_path(settings, document).exists()  # the upload is not lost
    store.retry(session, document)
    assert document.extraction_state == ExtractionState.PENDING


def test_removing_keeps_a_file_another_document_still_uses(session, settings):
    a, b = f.offer(session), f.project(session)
    data = files.odt(["Convocatoria"])
    first = attach(session, settings, a, "a.odt", data)
    second = attach(session, settings, b, "b.odt", data)
    path = store.file_path(settings, first)
    store.remove(session, settings, first)
    assert path.exists()
    store.remove(session, settings, second)
    assert not path.exists()


def english_project(session, title: str, description: str):
    """An open project of the city, written in English."""
    city = f.organization(
        session, name="Alcaldía", kind="local_public", side="demand", country="CO"
    )
    return f.project(session, city, title=title, description=description, language="en")


def test_the_matcher_reads_the_call_document(session, settings):
    project = english_project(
        session,
        "Community aqueducts for hillside settlements",
        "Drinking water, rainwater harvesting and sewage networks for informal hillside "
        "settlements.",
    )
    vague = f.offer(
        session,
        title="Urban resilience fund 2027",
        description="Support for cities in the region.",
        lines=[],
        modalities=[],
    )
    f.offer(session, title="Digital skills for youth", description="Coding bootcamps.", lines=[])
    f.offer(session, title="Museum twinning", description="Curators exchange.", lines=[])

    def score() -> float:
        scoring.score_project(session, settings, project.id)
        row = session.scalar(
            sa.select(Match.score).where(Match.project_id == project.id, Match.offer_id == vague.id)
        )
        return row or 0.0

    without = score()
    document = attach(session, settings, vague, "tdr.pdf", files.pdf([WATER_CALL]))
    store.extract(session, settings, document.id)
    with_document = score()
    assert with_document > without + 0.1
    best = session.scalars(
        sa.select(Match.offer_id).where(Match.project_id == project.id).order_by(Match.score.desc())
    ).first()
    assert best == vague.id


def test_document_passages_cover_long_texts_in_bounded_pieces():
    long_text = "\n".join(f"line {i} " + "word " * 20 for i in range(1000))
    passages = items.document_passages([long_text])
    assert len(passages) == items.DEFAULT_MAX_PASSAGES
    assert "line 999" in passages[-1]  # the end of the text is still read
    assert items.document_passages(["", "  \n "]) == []
    assert items.with_documents("desc", ["a b c"]) == "desc\na b c"


def test_public_search_covers_public_documents_only(session, settings):
    public = f.offer(session, title="Fondo A", description="Apoyo general.")
    internal = f.offer(session, title="Fondo B", description="Apoyo general.")
    for offer, is_public in ((public, True), (internal, False)):
        document = attach(
            session, settings, offer, "tdr.txt", b"Acueductos veredales", public=is_public
        )
        store.extract(session, settings, document.id)
    found = opportunities.search(session, opportunities.Filters(q="acueductos"), date.today())
    assert [o.id for o in found.items] == [public.id]


def test_the_public_page_lists_and_serves_only_public_documents(session, settings):
    offer = f.offer(session)
    shown = attach(session, settings, offer, "tdr.pdf", files.pdf([["a"]]), public=True)
    hidden = attach(session, settings, offer, "notes.txt", b"internal notes")
    page = opportunities.get(session, offer.id, date.today())
    assert [(d.id, d.name, d.kind) for d in page.documents] == [(shown.id, "tdr.pdf", "pdf")]
    today = date.today()
    assert opportunities.public_document(session, offer.id, shown.id, today).id == shown.id
    with pytest.raises(NotFound):
        opportunities.public_document(session, offer.id, hidden.id, today)
    draft = f.offer(session, status="submitted")
    draft_doc = attach(session, settings, draft, "d.pdf", files.pdf([["a"]]), public=True)
    with pytest.raises(NotFound):
        opportunities.public_document(session, draft.id, draft_doc.id, today)
    with pytest.raises(NotFound):  # another offer's document through this offer's address
        opportunities.public_document(session, draft.id, shown.id, today)


def test_more_like_this_lists_the_nearest_open_offers(session, settings):
    water = f.offer(
        session, title="Drinking water for hillside settlements", description="Aqueducts."
    )
    twin = f.offer(session, title="Agua potable para barrios de ladera", description="Acueductos.")
    f.offer(session, title="Museum twinning", description="Curators exchange programme.")
    closed = f.offer(
        session, title="Drinking water fund", description="Aqueducts.", status="closed"
    )
    scoring.score_offer(session, settings, water.id)
    near = opportunities.more_like_this(session, water.id, date.today())
    assert [o.id for o in near] == [twin.id]  # across languages; never itself, never closed
    assert closed.id not in [o.id for o in near]
    assert opportunities.more_like_this(session, twin.id, date.today()) == []  # not scored yet


def test_a_call_document_makes_offers_alike(session, settings):
    from services.matching import rebuild

    a = f.offer(session, title="Urban resilience", description="General support.", lines=[])
    b = f.offer(session, title="Rainwater harvesting", description="Tanks for schools.", lines=[])
    f.offer(session, title="Museum twinning", description="Curators exchange.", lines=[])
    job = rebuild.request_rebuild(session)
    rebuild.run_rebuild(session, settings, job.id)
    assert opportunities.more_like_this(session, a.id, date.today()) == []
    document = attach(session, settings, a, "tdr.txt", b"Rainwater harvesting for schools")
    store.extract(session, settings, document.id)
    scoring.score_offer(session, settings, a.id)
    assert [o.id for o in opportunities.more_like_this(session, a.id, date.today())] == [b.id]


def test_the_explanation_says_what_the_call_document_mentions(session, settings):
    project = english_project(
        session,
        "Rainwater harvesting for hillside schools",
        "Community aqueducts and rainwater tanks for schools.",
    )
    offer = f.offer(session, title="Urban resilience for schools", description="General support.")
    document = attach(session, settings, offer, "tdr.txt", b"Rainwater harvesting tanks")
    store.extract(session, settings, document.id)
    scoring.score_project(session, settings, project.id)
    explanation = session.scalar(
        sa.select(Match.explanation).where(
            Match.project_id == project.id, Match.offer_id == offer.id
        )
    )
    assert "rainwater" in explanation["document_terms"]
    assert "schools" not in explanation["document_terms"]  # the offer's own title has it
    assert any(p.startswith("the call document mentions: rainwater") for p in explanation["en"])
    assert any(p.startswith("el documento de la convocatoria menciona:") for p in explanation["es"])


def test_search_follows_a_document_shown_hidden_or_removed(session, settings):
    offer = f.offer(session, title="Fondo C", description="Apoyo general.")
    document = attach(session, settings, offer, "tdr.txt", b"Manglares costeros", public=True)
    store.extract(session, settings, document.id)

    def found() -> list[int]:
        page = opportunities.search(session, opportunities.Filters(q="manglares"), date.today())
        return [o.id for o in page.items]

    assert found() == [offer.id]
    store.set_public(session, document, False)
    assert found() == []
    store.set_public(session, document, True)
    assert found() == [offer.id]
    store.remove(session, settings, document)
    assert found() == []
