"""Document tasks (queue `scoring`): read an attached file's text, then rescore its owner."""

from __future__ import annotations

from services import task_names
from services.documents import formats, store
from workers.celery_app import app, runtime

# A hard stop beyond the extractor's own time limit (checked between pages), for a file that
# stalls inside one page: the worker child is replaced and the task retried, then recorded.
HARD_TIME_LIMIT = formats.DEFAULT_EXTRACT_SECONDS + 60


@app.task(name=task_names.EXTRACT_DOCUMENT, time_limit=HARD_TIME_LIMIT)
def extract_document(document_id: int) -> str | None:
    rt = runtime()
    with rt.session() as session:
        document = store.extract(session, rt.settings, document_id)
        return None if document is None else str(document.extraction_state)
