"""The bilingual concept layer: a curated glossary mapping Spanish and English terms to concepts.

The glossary is a CSV file people extend by hand (`matcher/data/glossary.csv`): a header
`concept,es,en` (more language columns such as `fr` are allowed), one concept per row, each
language cell a `|`-separated list of surface terms, `#` lines are comments. Both languages map
to the same concept feature, so a Spanish project and an English offer share features.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_GLOSSARY_PATH = Path(__file__).resolve().parent / "data" / "glossary.csv"


class GlossaryError(ValueError):
    """Raised when a glossary file cannot be read."""


@dataclass(frozen=True)
class Glossary:
    """Concept ids, their surface terms per language, and (phrase, concept index) pairs."""

    concepts: tuple[str, ...] = ()
    terms: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)

    @property
    def phrases(self) -> list[tuple[str, int]]:
        """Return every (surface term, concept index), in file order."""
        out: list[tuple[str, int]] = []
        for index, concept in enumerate(self.concepts):
            for lang_terms in self.terms[concept].values():
                out.extend((term, index) for term in lang_terms)
        return out

    def label(self, concept: str, lang: str) -> str:
        """Return the first term of a concept in a language (English, then the id, as fallback)."""
        terms = self.terms.get(concept, {})
        for code in (lang, "en"):
            if terms.get(code):
                return terms[code][0]
        return concept.replace("_", " ")


def parse_glossary(text: str) -> Glossary:
    """Parse glossary CSV text into a Glossary (rows for one concept are merged)."""
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    reader = csv.reader(io.StringIO("\n".join(lines)))
    header = next(reader, None)
    if not header or header[0].strip() != "concept" or len(header) < 2:
        raise GlossaryError("glossary header must start with 'concept' and a language column")
    langs = [h.strip() for h in header[1:]]
    order: list[str] = []
    terms: dict[str, dict[str, list[str]]] = {}
    for number, row in enumerate(reader, start=2):
        if not row:
            continue
        concept = row[0].strip()
        if not concept:
            raise GlossaryError(f"glossary row {number}: empty concept id")
        if concept not in terms:
            order.append(concept)
            terms[concept] = {lang: [] for lang in langs}
        for lang, cell in zip(langs, row[1:], strict=False):
            for term in cell.split("|"):
                term = term.strip()
                if term and term not in terms[concept][lang]:
                    terms[concept][lang].append(term)
    frozen = {c: {lang: tuple(v) for lang, v in t.items()} for c, t in terms.items()}
    return Glossary(tuple(order), frozen)


def load_glossary(path: str | Path | None = None) -> Glossary:
    """Read a glossary file (DEFAULT_GLOSSARY_PATH when none is given; empty if it is missing)."""
    path = Path(path) if path else DEFAULT_GLOSSARY_PATH
    if not path.exists():
        return Glossary()
    return parse_glossary(path.read_text(encoding="utf-8"))
