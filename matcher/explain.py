"""Readable reasons for a match, in English and Spanish, one phrase per component."""

from __future__ import annotations

import math

DEFAULT_MAX_TERMS = 5
DEFAULT_MAX_CONCEPTS = 5
DEFAULT_PROFILE_SIMILAR = 0.5  # a profile score from here on reads "has funded similar projects"
DEFAULT_GROUP_FITS = 0.3  # a group score from here on reads "in the group ..., which fits"
DEFAULT_RECORD_MENTION = 5  # a record list this long or longer is named in the explanation
DEFAULT_HISTORY_MENTION = 2  # allied projects sharing a code, from which the history is named

LINE_LABELS = {
    "social_inclusion": ("social inclusion", "inclusión social"),
    "economic_development": ("economic development", "desarrollo económico"),
    "sustainable_territory": ("sustainable territory", "territorio sostenible"),
    "human_development": ("human development", "desarrollo humano"),
    "governance_peace": ("governance, peace and security", "gobernabilidad, paz y seguridad"),
}
MODALITY_LABELS = {
    "grant": ("a grant", "una donación"),
    "loan": ("a loan", "un crédito"),
    "technical_assistance": ("technical assistance", "la asistencia técnica"),
    "knowledge_exchange": ("knowledge exchange", "el intercambio de conocimiento"),
    "in_kind": ("an in-kind donation", "una donación en especie"),
}


def money(usd: float, lang: str) -> str:
    """Return an amount in USD written short: 'USD 1.2 M', 'USD 350 k' (Spanish: '1,2 M')."""
    if usd >= 1e6:
        text = f"{usd / 1e6:.1f} M"
    elif usd >= 1e3:
        text = f"{usd / 1e3:.0f} k"
    else:
        text = f"{usd:.0f}"
    if lang == "es":
        text = text.replace(".", ",")
    return f"USD {text}"


def text_phrases(
    terms: list[str], concepts_en: list[str], concepts_es: list[str]
) -> tuple[list[str], list[str]]:
    """Return the phrases naming the shared terms and concepts behind the text score."""
    en: list[str] = []
    es: list[str] = []
    if terms:
        en.append("shared terms: " + ", ".join(terms))
        es.append("términos en común: " + ", ".join(terms))
    if concepts_en:
        en.append("shared concepts: " + ", ".join(concepts_en))
        es.append("conceptos en común: " + ", ".join(concepts_es))
    return en, es


def thematic_phrase(lines: list[str], sdgs: list[int]) -> tuple[str, str] | None:
    """Return the phrase naming shared thematic lines and SDGs (None when nothing is shared)."""
    en = [LINE_LABELS.get(x, (x, x))[0] for x in lines] + [f"SDG {n}" for n in sdgs]
    es = [LINE_LABELS.get(x, (x, x))[1] for x in lines] + [f"ODS {n}" for n in sdgs]
    if not en:
        return None
    return "both: " + ", ".join(en), "ambos: " + ", ".join(es)


def modality_phrase(shared: list[str], needed: list[str]) -> tuple[str, str]:
    """Return the phrase saying whether the offer's modality is what the project needs."""
    if shared:
        en = " and ".join(MODALITY_LABELS.get(x, (x, x))[0] for x in shared)
        es = " y ".join(MODALITY_LABELS.get(x, (x, x))[1] for x in shared)
        return f"{en} is what the project needs", f"{es} es lo que el proyecto necesita"
    en = ", ".join(MODALITY_LABELS.get(x, (x, x))[0] for x in needed)
    es = ", ".join(MODALITY_LABELS.get(x, (x, x))[1] for x in needed)
    return (
        f"the project needs {en}, which this offer does not give",
        f"el proyecto necesita {es}, que esta oferta no da",
    )


def amount_phrase(need_usd: float, share: float, too_big: bool) -> tuple[str, str]:
    """Return the phrase on how much of the remaining need the offer covers."""
    pct = int(round(100 * share))
    if too_big:
        return (
            f"the offer's minimum exceeds the {money(need_usd, 'en')} still needed",
            f"el mínimo de la oferta supera los {money(need_usd, 'es')} que faltan",
        )
    return (
        f"covers {pct} % of the {money(need_usd, 'en')} still needed",
        f"cubre el {pct} % de los {money(need_usd, 'es')} que faltan",
    )


def time_phrase(days: float) -> tuple[str, str] | None:
    """Return the phrase on days left before the deadline (None when there is no deadline)."""
    if math.isnan(days):
        return None
    n = int(days)
    if n == 0:
        return "deadline today", "cierra hoy"
    if n == 1:
        return "deadline tomorrow", "cierra mañana"
    return f"deadline in {n} days", f"cierra en {n} días"


def place_phrase(codes: list[str]) -> tuple[str, str] | None:
    """Return the phrase naming countries where both the project and the ally work."""
    if not codes:
        return None
    joined = ", ".join(codes)
    return f"works where the project is: {joined}", f"trabaja donde está el proyecto: {joined}"


def profile_phrase(n_passages: int, score: float) -> tuple[str, str]:
    """Return the phrase for a supplier's learned profile: whether its record of funded
    projects resembles the project (score from DEFAULT_PROFILE_SIMILAR on) or not."""
    if score >= DEFAULT_PROFILE_SIMILAR:
        return (
            f"has funded similar projects (learned from {n_passages} past activities)",
            f"ha financiado proyectos similares (aprendido de {n_passages} actividades)",
        )
    return (
        f"its past activities are unlike this project (learned from {n_passages})",
        f"sus actividades anteriores no se parecen a este proyecto (aprendido de {n_passages})",
    )


def record_phrase(n: int) -> tuple[str, str] | None:
    """Return the phrase naming the size of an ally's record list (the office's alliances with
    it and the activities the feeds read for it), when it is long enough to count."""
    if n < DEFAULT_RECORD_MENTION:
        return None
    return (
        f"{n} past projects and activities on record",
        f"{n} proyectos y actividades anteriores en su historial",
    )


def history_phrase(code: str, count: int, size: int) -> tuple[str, str] | None:
    """Return the phrase naming how many of an ally's allied projects share one of the
    project's codes ("sector:12220", "line:social_inclusion", "sdg:3"), from a few on."""
    if count < DEFAULT_HISTORY_MENTION:
        return None
    kind, _, value = code.partition(":")
    if kind == "line":
        en_label, es_label = LINE_LABELS.get(value, (value, value))
        what = (f"line {en_label}", f"la línea {es_label}")
    elif kind == "sdg":
        what = (f"SDG {value}", f"el ODS {value}")
    else:
        what = (f"sector {value}", f"el sector {value}")
    return (
        f"{count} of the {size} projects allied with it share this project's {what[0]}",
        f"{count} de los {size} proyectos aliados con él comparten {what[1]} de este proyecto",
    )


def group_phrase(name: str, score: float) -> tuple[str, str] | None:
    """Return the phrase naming the item's group (a code's category, a call) when it fits."""
    if score < DEFAULT_GROUP_FITS:
        return None
    return (
        f"part of “{name}”, which fits the project",
        f"forma parte de «{name}», que encaja con el proyecto",
    )
