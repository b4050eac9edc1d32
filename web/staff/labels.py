"""Translated names of the domain's codes, for pages and CSV headers."""

from __future__ import annotations

from flask import g
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from wtforms.fields.choices import SelectChoice


def N_(text: str) -> str:  # noqa: N802  (marks a msgid for extraction; translated at use)
    return text


def translate(text: str, **variables) -> str:
    """gettext, remembered for the rest of the request: a queue page asks for the same few
    strings hundreds of times, and Flask-Babel's lookup is the slow part of rendering it."""
    cache = g.setdefault("_staff_translations", {})
    found = cache.get(text)
    if found is None:
        found = cache[text] = gettext(text)
    return found % variables if variables else found


LINES = {
    "social_inclusion": N_("Social inclusion and rights"),
    "economic_development": N_("Economic development"),
    "sustainable_territory": N_("Sustainable territory"),
    "human_development": N_("Human development"),
    "governance_peace": N_("Governance, peace and security"),
}
MODALITIES = {
    "grant": N_("Grant (non-reimbursable)"),
    "loan": N_("Loan (reimbursable)"),
    "technical_assistance": N_("Technical assistance"),
    "knowledge_exchange": N_("Knowledge exchange"),
    "in_kind": N_("In-kind donation"),
}
KINDS = {
    "bilateral": N_("Bilateral cooperation"),
    "multilateral": N_("Multilateral organisation"),
    "foundation": N_("Foundation"),
    "city_network": N_("City network"),
    "company": N_("Company"),
    "university": N_("University"),
    "ngo": N_("NGO"),
    "local_public": N_("Local public entity"),
}
MATCH_STATUSES = {
    "open": N_("To review (proposed or shortlisted)"),
    "proposed": N_("Proposed"),
    "shortlisted": N_("Shortlisted"),
    "accepted": N_("Accepted"),
    "rejected": N_("Rejected"),
    "withdrawn": N_("Withdrawn"),
    "all": N_("All"),
}
STAGES = {
    "negotiating": N_("Negotiating"),
    "formalised": N_("Formalised"),
    "in_execution": N_("In execution"),
    "closed": N_("Closed"),
    "dropped": N_("Dropped"),
}
REJECT_REASONS = {
    "not_eligible": N_("Not eligible"),
    "thematic_mismatch": N_("Thematic mismatch"),
    "amount_mismatch": N_("Amount does not fit"),
    "deadline_too_close": N_("Deadline too close"),
    "duplicate": N_("Duplicate"),
    "other": N_("Other"),
}
OFFER_REJECT_REASONS = {
    "out_of_scope": N_("Outside the agency's scope"),
    "incomplete": N_("Incomplete information"),
    "not_eligible": N_("The city is not eligible"),
    "duplicate": N_("Duplicate of another offer"),
    "other": N_("Other"),
}
OFFER_STATUSES = {
    "submitted": N_("Waiting for moderation"),
    "published": N_("Published"),
    "closed": N_("Closed"),
    "withdrawn": N_("Withdrawn"),
    "rejected": N_("Rejected"),
}
PROJECT_STAGES = {
    "idea": N_("Idea"),
    "formulation": N_("Formulation"),
    "ready": N_("Ready"),
    "execution": N_("In execution"),
}
ROLES = {"admin": N_("Administrator"), "staff": N_("Staff"), "partner": N_("Partner")}
ACTIONS = {
    "shortlist": N_("Shortlisted"),
    "accept": N_("Accepted"),
    "reject": N_("Rejected"),
    "undo": N_("Undone"),
    "create": N_("Created"),
    "update": N_("Changed"),
    "delete": N_("Deleted"),
    "publish": N_("Published"),
    "edit": N_("Edited"),
    "unlock": N_("Unlocked"),
}
COMPONENTS = {
    "text": N_("Text"),
    "modality": N_("Modality"),
    "thematic": N_("Thematic"),
    "amount": N_("Amount"),
    "time": N_("Time"),
    "place": N_("Place"),
    "profile": N_("Track record"),
    "eligibility": N_("Eligibility"),
}
CHARTS = {
    "year": N_("Per year"),
    "line": N_("Per thematic line"),
    "kind": N_("Per kind of ally"),
    "modality": N_("Per modality"),
}
ALL = {
    "line": LINES,
    "modality": MODALITIES,
    "kind": KINDS,
    "match_status": MATCH_STATUSES,
    "stage": STAGES,
    "reject_reason": REJECT_REASONS,
    "offer_reject_reason": OFFER_REJECT_REASONS,
    "offer_status": OFFER_STATUSES,
    "project_stage": PROJECT_STAGES,
    "role": ROLES,
    "action": ACTIONS,
    "component": COMPONENTS,
    "chart": CHARTS,
}


def label(kind: str, code) -> str:
    """Return the translated name of `code` in the vocabulary `kind` (the code if unknown)."""
    code = getattr(code, "value", code)
    found = ALL.get(kind, {}).get(code)
    return translate(found) if found is not None else str(code)


def choices(kind: str, blank=None) -> list[SelectChoice]:
    """Select choices for a form: code and lazily translated name."""
    items = [SelectChoice(code, _l(text)) for code, text in ALL[kind].items()]
    return ([SelectChoice("", blank)] if blank is not None else []) + items
