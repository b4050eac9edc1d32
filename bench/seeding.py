"""What the benchmarks that seed a database share: the domain's codes, topic words, percentiles.

Imported by the scripts in this folder (run as `python bench/NAME.py`, which puts it on the
path).
"""

from __future__ import annotations

from models.enums import Line, Modality, OrgKind

LINES = [line.value for line in Line]
MODALITIES = [modality.value for modality in Modality]
# The kinds of ally that offer support (a local public body is the office's own side).
KINDS = [kind.value for kind in OrgKind if kind != OrgKind.LOCAL_PUBLIC]
# Topic words, Spanish and English, of which seeded titles and descriptions are made.
WORDS = (
    "movilidad",
    "eléctrica",
    "agua",
    "potable",
    "educación",
    "inicial",
    "empleo",
    "juvenil",
    "seguridad",
    "ciudadana",
    "resiliencia",
    "climática",
    "vivienda",
    "salud",
    "mental",
    "emprendimiento",
    "cultura",
    "deporte",
    "paz",
    "transport",
    "climate",
    "resilience",
    "water",
    "education",
    "youth",
    "employment",
    "housing",
    "health",
    "peace",
    "innovation",
    "digital",
    "governance",
    "gender",
    "inclusion",
    "migrants",
    "nutrition",
    "energy",
)


def percentile(values: list[float], share: float) -> float:
    """The value at `share` (0-1) of the sorted values, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]
