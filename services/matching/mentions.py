"""Explanations that say what a call document adds: "the call document mentions …".

The matcher names the terms a pair shares (`explanation["terms"]`) without knowing which part
of an offer's text they came from. After ranking, a shared term found in the offer's documents
but not in its own title or description is named in one more phrase, in English and Spanish,
and listed under `explanation["document_terms"]`.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from matcher import ScoredPair
from models import Document, Offer
from models.enums import ExtractionState
from models.offers import search_key

DEFAULT_MAX_MENTIONS = 5


class DocumentWords:
    """The words of offers' call documents and of their own texts, read once per offer."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._words: dict[int, tuple[frozenset[str], frozenset[str]] | None] = {}

    def _load(self, offer_ids: set[int]) -> None:
        missing = offer_ids - set(self._words)
        if not missing:
            return
        for offer_id in missing:
            self._words[offer_id] = None
        documents: dict[int, set[str]] = {}
        rows = self.session.execute(
            sa.select(Document.offer_id, Document.search_text).where(
                Document.offer_id.in_(missing),
                Document.extraction_state == ExtractionState.DONE,
            )
        )
        for offer_id, text in rows:
            documents.setdefault(offer_id, set()).update((text or "").split())
        if not documents:
            return
        own = self.session.execute(
            sa.select(Offer.id, Offer.search_text).where(Offer.id.in_(list(documents)))
        )
        for offer_id, text in own:
            words = frozenset((text or "").split())
            self._words[offer_id] = (frozenset(documents[offer_id] - words), words)

    def annotate(self, pairs: Iterable[ScoredPair]) -> None:
        """Add the "call document mentions" phrase to the explanations of `pairs`."""
        pairs = [p for p in pairs if p.explanation and p.explanation.get("terms")]
        self._load({int(p.supply_id) for p in pairs})
        for pair in pairs:
            found = self._words.get(int(pair.supply_id))
            if found is None:
                continue
            only_documents, _own = found
            terms = [
                term
                for term in pair.explanation["terms"]
                if (keys := search_key(term).split())
                and any(k in only_documents for k in keys)
                and all(k in only_documents or k in _own for k in keys)
            ][:DEFAULT_MAX_MENTIONS]
            if not terms:
                continue
            pair.explanation["document_terms"] = terms
            pair.explanation.setdefault("en", []).append(
                "the call document mentions: " + ", ".join(terms)
            )
            pair.explanation.setdefault("es", []).append(
                "el documento de la convocatoria menciona: " + ", ".join(terms)
            )
