"""The names of the domain's codes as people read them, in Spanish and English: one table per
kind of code (thematic lines, modalities, ally kinds, statuses, reasons, countries...), used by
every page, form, email and CSV of the web. The msgids live once, in the core catalogue
(web/translations/core); `label` and `choices` translate them in the page's language."""

from __future__ import annotations

import unicodedata

from flask import g
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from wtforms.fields.choices import SelectChoice


def N_(text: str) -> str:  # noqa: N802  (marks a msgid for extraction; translated at use)
    return text


def translate(text: str, **variables) -> str:
    """gettext, remembered for the rest of the request: a queue page asks for the same few
    strings hundreds of times, and Flask-Babel's lookup is the slow part of rendering it."""
    cache = g.setdefault("_vocabulary_translations", {})
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
    "loan": N_("Loan or credit (reimbursable)"),
    "technical_assistance": N_("Technical assistance"),
    "knowledge_exchange": N_("Knowledge exchange"),
    "in_kind": N_("In-kind donation"),
}
KINDS = {
    "bilateral": N_("Government or bilateral agency"),
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
    "document_added": N_("Document attached"),
    "document_removed": N_("Document removed"),
    "document_visibility": N_("Document shown or hidden"),
    "assign": N_("Owner changed"),
}
# The dated steps of an alliance (services.work.mine.ALLIANCE_DATES).
ALLIANCE_DATES = {
    "started_on": N_("Started"),
    "formalised_on": N_("Formalised"),
    "ended_on": N_("Ends"),
}
COMPONENTS = {
    "text": N_("Text"),
    "modality": N_("Modality"),
    "thematic": N_("Thematic"),
    "amount": N_("Amount"),
    "time": N_("Time"),
    "place": N_("Place"),
    "sector": N_("Sectors"),
    "profile": N_("Track record"),
    "group": N_("Group"),
    "record": N_("Size of record"),
    "history": N_("Past alliances in this field"),
    "feedback": N_("Past rejections"),
    "eligibility": N_("Eligibility"),
}
# The learned ranker's retrains (models.ranker_runs): how a run started, where it stands.
RANKER_TRIGGERS = {"weekly": N_("Weekly"), "admin": N_("Administrator")}
RANKER_STATES = {
    "queued": N_("Queued"),
    "running": N_("Running"),
    "done": N_("Done"),
    "failed": N_("Did not finish"),
}
# What a learned ranker leans on (matcher/ranker.py EXTRA_FEATURES besides the components).
RANKER_FEATURES = {
    **COMPONENTS,
    "score": N_("Weighted-mean score"),
    "prior": N_("The ally's share of accepted matches"),
    "query_terms": N_("Size of the project's text"),
}
CHARTS = {
    "year": N_("Per year"),
    "line": N_("Per thematic line"),
    "kind": N_("Per kind of ally"),
    "modality": N_("Per modality"),
}
# The offer rejection reasons as the partner reads them on the follow page: sentences.
OFFER_REJECT_EXPLANATIONS = {
    "out_of_scope": N_("It is outside the agency's scope."),
    "incomplete": N_("Some information was missing."),
    "not_eligible": N_("The city is not eligible."),
    "duplicate": N_("It duplicates another offer."),
    "other": N_("Another reason."),
}
SUBSCRIPTION_STATUSES = {
    "active": N_("Active"),
    "paused": N_("Paused"),
    "unsubscribed": N_("Unsubscribed"),
}
SDGS = {
    1: N_("No poverty"),
    2: N_("Zero hunger"),
    3: N_("Good health and well-being"),
    4: N_("Quality education"),
    5: N_("Gender equality"),
    6: N_("Clean water and sanitation"),
    7: N_("Affordable and clean energy"),
    8: N_("Decent work and economic growth"),
    9: N_("Industry, innovation and infrastructure"),
    10: N_("Reduced inequalities"),
    11: N_("Sustainable cities and communities"),
    12: N_("Responsible consumption and production"),
    13: N_("Climate action"),
    14: N_("Life below water"),
    15: N_("Life on land"),
    16: N_("Peace, justice and strong institutions"),
    17: N_("Partnerships for the goals"),
}
OFFER_LANGUAGES = {
    "es": N_("Spanish"),
    "en": N_("English"),
    "fr": N_("French"),
    "pt": N_("Portuguese"),
    "de": N_("German"),
    "it": N_("Italian"),
}
# The names of languages in their own language: what a person chooses to read the site in.
UI_LANGUAGES = {"es": "Español", "en": "English"}
# Latin America and the Caribbean, then the usual sources of cooperation (ISO 3166 alpha-2).
COUNTRIES = {
    "AR": N_("Argentina"),
    "BO": N_("Bolivia"),
    "BR": N_("Brazil"),
    "CL": N_("Chile"),
    "CO": N_("Colombia"),
    "CR": N_("Costa Rica"),
    "CU": N_("Cuba"),
    "DO": N_("Dominican Republic"),
    "EC": N_("Ecuador"),
    "SV": N_("El Salvador"),
    "GT": N_("Guatemala"),
    "HN": N_("Honduras"),
    "MX": N_("Mexico"),
    "NI": N_("Nicaragua"),
    "PA": N_("Panama"),
    "PY": N_("Paraguay"),
    "PE": N_("Peru"),
    "UY": N_("Uruguay"),
    "VE": N_("Venezuela"),
    "AU": N_("Australia"),
    "AT": N_("Austria"),
    "BE": N_("Belgium"),
    "CA": N_("Canada"),
    "CN": N_("China"),
    "DK": N_("Denmark"),
    "FI": N_("Finland"),
    "FR": N_("France"),
    "DE": N_("Germany"),
    "IE": N_("Ireland"),
    "IT": N_("Italy"),
    "JP": N_("Japan"),
    "KR": N_("South Korea"),
    "LU": N_("Luxembourg"),
    "NL": N_("Netherlands"),
    "NZ": N_("New Zealand"),
    "NO": N_("Norway"),
    "PT": N_("Portugal"),
    "ES": N_("Spain"),
    "SE": N_("Sweden"),
    "CH": N_("Switzerland"),
    "GB": N_("United Kingdom"),
    "US": N_("United States"),
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
    "alliance_date": ALLIANCE_DATES,
    "component": COMPONENTS,
    "chart": CHARTS,
    "ranker_trigger": RANKER_TRIGGERS,
    "ranker_state": RANKER_STATES,
    "ranker_feature": RANKER_FEATURES,
    "offer_reject_explanation": OFFER_REJECT_EXPLANATIONS,
    "subscription_status": SUBSCRIPTION_STATUSES,
    "sdg": SDGS,
    "offer_language": OFFER_LANGUAGES,
    "country": COUNTRIES,
}


def label(kind: str, code) -> str:
    """Return the translated name of `code` in the vocabulary `kind` (the code if unknown)."""
    code = getattr(code, "value", code)
    found = ALL.get(kind, {}).get(code)
    return translate(found) if found is not None else str(code)


def choices(kind: str, blank=None, only=None) -> list[SelectChoice]:
    """Select choices for a form: code and lazily translated name (`only` these codes, in the
    table's order; a first `blank` choice with an empty code when given)."""
    table = ALL[kind]
    codes = [code for code in table if only is None or code in only]
    items = [SelectChoice(str(code), _l(table[code])) for code in codes]
    return ([SelectChoice("", blank)] if blank is not None else []) + items


def sorted_choices(kind: str) -> list[SelectChoice]:
    """Choices translated now and sorted as people expect ("Bélgica" between "Austria" and
    "Bolivia"): for long lists such as countries. Call it while handling a request."""
    named = [(str(code), label(kind, code)) for code in ALL[kind]]
    return [SelectChoice(code, name) for code, name in sorted(named, key=lambda p: _fold(p[1]))]


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().casefold()


def ui_language_choices() -> list[SelectChoice]:
    """The languages of the site, each named in its own language."""
    return [SelectChoice(code, name) for code, name in UI_LANGUAGES.items()]
