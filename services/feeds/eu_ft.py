"""EU Funding & Tenders portal JSON (search API and topic details) as call offers.

Two documents come from the portal:
- the search API (`POST https://api.tech.ec.europa.eu/search-api/prod/rest/search?apiKey=SEDIA`):
  an envelope with `results[]`, each a `metadata` map whose values are all arrays of strings,
  some of them JSON encoded again (`actions`, `budgetOverview`, `latestInfos`);
- topic details (`GET .../opportunities/data/topicDetails/{IDENTIFIER}.json`): one
  `TopicDetails` object with typed fields, dates in epoch milliseconds.

Grants (type 1) and cascade-funding calls (type 8) become offers; tenders (type 0, procurement),
funding updates, and the other datasets behind the same API (funded projects, FAQs, partner
search) are recognised and skipped, never imported as calls. One topic is indexed once per
language (`reference` ends in a language suffix), so results are de-duplicated on
`metadata.identifier`, the English copy preferred.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

from . import _input
from ._input import DEFAULT_MAX_JSON_BYTES, Source
from ._values import any_date, decimal, html_text, positive
from .errors import WrongKind
from .records import FeedOffer, Narrative, OfferState, OrgRef, ParseResult, Skip

KIND = "eu_ft"
ZONE = "Europe/Brussels"  # the portal's dates and deadlines are Brussels time
PORTAL_LINK = (
    "https://ec.europa.eu/info/funding-tenders/opportunities/portal/screen/opportunities/"
    "topic-details/{}"
)
FUNDER = OrgRef("XI-IATI-EC", (Narrative("European Commission", "en"),), "40")
# The portal's texts are published in English; `language` on a search result names the
# language copy of the index entry, not the text (the shared EUAF result is "bg", in English).
TEXT_LANGUAGE = "en"

STATUS_CODES = {
    "31094501": OfferState.FORTHCOMING,
    "31094502": OfferState.OPEN,
    "31094503": OfferState.CLOSED,
}
CALL_TYPES = {"1": "grant", "8": "cascade funding"}
OTHER_TYPES = {
    "0": "a tender (a procurement notice), not a call for proposals",
    "2": "a funding update, not a call",
    "6": "a funding update, not a call",
}
OTHER_DATASETS = {
    "SEDIA_FAQ": "an FAQ entry",
    "SEDIA_PERSON": "a partner-search profile",
    "SEDIA_NONH2020_PROD": "a funded project",
}
# frameworkProgramme ids of 2021-2027 (the portal's code list, eu_ft/docs/basic_code_list.xlsx)
PROGRAMMES = {
    "43251447": "Asylum, Migration and Integration Fund (AMIF)",
    "43251530": "Border Management and Visa Instrument (BMVI)",
    "43251589": "Citizens, Equality, Rights and Values Programme (CERV)",
    "43253979": "Customs Programme (CUST)",
    "43152860": "Digital Europe Programme (DIGITAL)",
    "42810547": "Europe Direct (ED)",
    "44181033": "European Defence Fund (EDF)",
    "43697167": "European Parliament (EP)",
    "43251842": "EU Anti-fraud Programme (EUAF)",
    "43254037": "European Solidarity Corps (ESC)",
    "43353764": "Erasmus+ Programme (ERASMUS)",
    "43332642": "EU4Health Programme (EU4H)",
    "43254019": "European Social Fund + (ESF)",
    "43392145": "European Maritime, Fisheries and Aquaculture Fund (EMFAF)",
    "43298916": "Euratom Research and Training Programme (EURATOM)",
    "43253995": "Fiscalis Programme (FISC)",
    "43089234": "Innovation Fund (INNOVFUND)",
    "43252368": "Internal Security Fund (ISF)",
    "43108390": "Horizon Europe (HORIZON)",
    "43252476": "Single Market Programme (SMP)",
    "43252517": "Social Prerogative and Specific Competencies Lines (SOCPL)",
    "111111": "EU External Action (RELEX)",
    "43251882": "Information Measures for the Common Agricultural Policy (IMCAP)",
    "44416173": "Interregional Innovation Investments (I3)",
    "43252386": "Justice Programme (JUST)",
    "43252433": "Protection of the Euro against Counterfeiting Programme (PERICLES)",
    "43637601": "Pilot Projects and Preparatory Actions (PPPA)",
    "43252405": "Programme for the Environment and Climate Action (LIFE)",
    "43298664": "Promotion of Agricultural Products (AGRIP)",
    "43252449": "Research Fund for Coal & Steel (RFCS)",
    "43253706": "Technical Support Instrument (TSI)",
    "43298203": "Union Civil Protection Mechanism (UCPM)",
    "43253967": "Renewable Energy Financing Mechanism (RENEWFM)",
    "44773133": "Information Measures for the EU Cohesion policy (IMREG)",
    "44773066": "Just Transition Mechanism (JTM)",
}


def parse(source: Source, *, max_bytes: int = DEFAULT_MAX_JSON_BYTES) -> ParseResult:
    """Read a search response, one search result, or a topic-details document.

    Raises WrongKind for JSON that is none of these (a World Bank or Grants.gov file, ...).
    """
    with _input.open_source(source, max_bytes) as stream:
        doc = _input.load_json(stream, "an EU Funding & Tenders file")
    if isinstance(doc, dict) and isinstance(doc.get("TopicDetails"), dict):
        result = ParseResult(KIND, "EU Funding & Tenders topic details")
        result.add(_topic_details(doc["TopicDetails"]))
        return result
    if isinstance(doc, dict) and isinstance(doc.get("results"), list) and "totalResults" in doc:
        result = ParseResult(
            KIND,
            "EU Funding & Tenders search response",
            total_available=_input.to_int(doc.get("totalResults")),
        )
        _search_results(result, doc["results"])
        return result
    if isinstance(doc, dict) and isinstance(doc.get("metadata"), dict) and "reference" in doc:
        result = ParseResult(KIND, "EU Funding & Tenders search result")
        _search_results(result, [doc])
        return result
    raise WrongKind(
        "not an EU Funding & Tenders search response or topic details: " + _input.describe_keys(doc)
    )


def _first(meta: dict, key: str) -> str | None:
    """Return the first string of a metadata array (every value is an array of strings)."""
    value = meta.get(key)
    if isinstance(value, list):
        value = value[0] if value else None
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def _embedded(meta: dict, key: str) -> object:
    """Decode a metadata value that holds JSON inside its string; None when absent or broken."""
    text = _first(meta, key)
    if not text:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return None


def _search_results(result: ParseResult, results: list) -> None:
    chosen: dict[str, tuple[dict, str]] = {}
    for item in results:
        if not isinstance(item, dict) or not isinstance(item.get("metadata"), dict):
            result.skipped.append(Skip(None, "a search result without metadata"))
            continue
        meta = item["metadata"]
        reference = str(item.get("reference") or _first(meta, "REFERENCE") or "") or None
        reason = _not_a_call(item, meta)
        if reason:
            result.skipped.append(Skip(_first(meta, "identifier") or reference, reason))
            continue
        identifier = _first(meta, "identifier")
        copy_lang = (item.get("language") or _first(meta, "language") or "").lower()
        if identifier in chosen:
            kept = chosen[identifier]
            if copy_lang == "en" and kept[1] != "en":
                result.skipped.append(Skip(identifier, _duplicate(kept[0], kept[1])))
                chosen[identifier] = (item, copy_lang)
            else:
                result.skipped.append(Skip(identifier, _duplicate(item, copy_lang)))
            continue
        chosen[identifier] = (item, copy_lang)
    for identifier, (item, _lang) in chosen.items():
        result.add(_search_offer(identifier, item, item["metadata"]))


def _duplicate(item: dict, copy_lang: str) -> str:
    return f"another language copy ({copy_lang or '?'}, reference {item.get('reference')})"


def _not_a_call(item: dict, meta: dict) -> str | None:
    database = str(item.get("database") or _first(meta, "DATASOURCE") or "")
    if database in OTHER_DATASETS:
        return f"not a call: {OTHER_DATASETS[database]} from the {database} dataset"
    kind = _first(meta, "type")
    if kind is None and _first(meta, "callIdentifier"):
        kind = "1"  # a topic of a call that does not say its type: a grant
    if kind in OTHER_TYPES:
        return f"not a call: {OTHER_TYPES[kind]}"
    if kind in ("PERSON", "ORGANISATION"):
        return "not a call: a partner-search profile"
    if kind not in CALL_TYPES:
        return f"not a call: a search result of type {kind!r}, not a grant or cascade funding"
    if not _first(meta, "identifier"):
        return "not a call: a search result without a topic identifier"
    return None


def _status(code: object) -> OfferState | None:
    return STATUS_CODES.get(str(code)) if code is not None else None


def _search_offer(identifier: str, item: dict, meta: dict) -> FeedOffer | Skip:
    status = _status(_first(meta, "status"))
    actions = _embedded(meta, "actions")
    actions = actions if isinstance(actions, list) else []
    if status is None:
        status = _action_status(actions)
    if status is None:
        return Skip(identifier, f"the call status {_first(meta, 'status')!r} is not known")
    deadlines = _action_deadlines(actions) or _dates([_first(meta, "deadlineDate")])
    budget = _budget(_embedded(meta, "budgetOverview"), identifier)
    programme_id = _first(meta, "frameworkProgramme")
    passages = _passages(
        (_first(meta, "descriptionByte"), "description"),
        (_first(meta, "topicConditions"), "conditions"),
    )
    title = _first(meta, "title") or item.get("summary") or identifier
    return FeedOffer(
        source=KIND,
        source_id=identifier,
        title=str(title),
        status=status,
        link=PORTAL_LINK.format(identifier.lower()),
        reference=_first(meta, "ccm2Id"),
        funder=FUNDER,
        programme=PROGRAMMES.get(programme_id or ""),
        programme_id=programme_id,
        call_id=_first(meta, "callIdentifier"),
        call_title=_first(meta, "callTitle"),
        passages=passages,
        language=TEXT_LANGUAGE,
        opens_on=any_date(_first(meta, "startDate"), ZONE) or _action_opening(actions),
        deadlines=deadlines,
        deadline_model=_first(meta, "deadlineModel"),
        amount_min=budget["min"],
        amount_max=budget["max"],
        currency="EUR" if budget["any"] else None,
        total_budget=budget["total"],
        expected_awards=budget["grants"],
        modalities=("grant",),
        closed_reason="closed at the source" if status == OfferState.CLOSED else None,
        keywords=tuple(str(k) for k in meta.get("keywords") or () if k and k != identifier),
        last_updated=_last_change(_embedded(meta, "latestInfos")),
        partial=False,
    )


def _topic_details(td: dict) -> FeedOffer | Skip:
    identifier = str(td.get("identifier") or "").strip()
    if not identifier:
        return Skip(None, "topic details without an identifier")
    kind = str(td.get("type")) if td.get("type") is not None else "1"
    if kind in OTHER_TYPES:
        return Skip(identifier, f"not a call: {OTHER_TYPES[kind]}")
    actions = td.get("actions") if isinstance(td.get("actions"), list) else []
    status = _action_status(actions)
    if status is None:
        return Skip(identifier, "the topic has no action with a known status")
    programme = td.get("frameworkProgramme") or {}
    programme = programme if isinstance(programme, dict) else {}
    budget = _budget(td.get("budgetOverviewJSONItem"), identifier)
    deadline_model = next(
        (
            entry.get("deadlineModel")
            for entry in _budget_entries(td.get("budgetOverviewJSONItem"), identifier)
            if entry.get("deadlineModel")
        ),
        None,
    )
    return FeedOffer(
        source=KIND,
        source_id=identifier,
        title=str(td.get("title") or identifier),
        status=status,
        link=PORTAL_LINK.format(identifier.lower()),
        reference=str(td["ccm2Id"]) if td.get("ccm2Id") is not None else None,
        funder=FUNDER,
        programme=programme.get("description"),
        programme_id=str(programme["id"]) if programme.get("id") is not None else None,
        call_id=td.get("callIdentifier"),
        call_title=td.get("callTitle"),
        passages=_passages(
            (td.get("description"), "description"), (td.get("conditions"), "conditions")
        ),
        language=TEXT_LANGUAGE,
        opens_on=_action_opening(actions),
        deadlines=_action_deadlines(actions),
        deadline_model=deadline_model or _deadline_model(actions),
        amount_min=budget["min"],
        amount_max=budget["max"],
        currency="EUR" if budget["any"] else None,
        total_budget=budget["total"],
        expected_awards=budget["grants"],
        modalities=("grant",),
        closed_reason="closed at the source" if status == OfferState.CLOSED else None,
        keywords=tuple(str(k) for k in td.get("keywords") or () if k),
        last_updated=_last_change(td.get("latestInfos")),
        partial=False,
    )


def _passages(*parts: tuple[object, str]) -> tuple[Narrative, ...]:
    out = []
    for markup, kind in parts:
        text = html_text(markup)
        if text:
            out.append(Narrative(text, TEXT_LANGUAGE, kind))
    return tuple(out)


def _action_status(actions: list) -> OfferState | None:
    """Return the most open status among a topic's actions (open > forthcoming > closed)."""
    found = set()
    for action in actions:
        if isinstance(action, dict) and isinstance(action.get("status"), dict):
            state = _status(action["status"].get("id"))
            if state:
                found.add(state)
    for state in (OfferState.OPEN, OfferState.FORTHCOMING, OfferState.CLOSED):
        if state in found:
            return state
    return None


def _dates(values: list) -> tuple[date, ...]:
    return tuple(sorted({d for d in (any_date(v, ZONE) for v in values) if d}))


def _action_deadlines(actions: list) -> tuple[date, ...]:
    """Return every deadline of every action, in order: a two-stage topic gives two."""
    values = []
    for action in actions:
        if isinstance(action, dict) and isinstance(action.get("deadlineDates"), list):
            values.extend(action["deadlineDates"])
    return _dates(values)


def _deadline_model(actions: list) -> str | None:
    """Return the actions' submission procedure ("single-stage", "two-stage", ...) if named."""
    for action in actions:
        procedure = action.get("submissionProcedure") if isinstance(action, dict) else None
        if isinstance(procedure, dict) and procedure.get("abbreviation"):
            return str(procedure["abbreviation"])
    return "single-stage" if len(_action_deadlines(actions)) == 1 else None


def _action_opening(actions: list) -> date | None:
    dates = _dates([a.get("plannedOpeningDate") for a in actions if isinstance(a, dict)])
    return dates[0] if dates else None


def _budget_entries(overview: object, identifier: str) -> list[dict]:
    """Return the budget lines of this topic from a budget overview.

    Lines are keyed by budget id and either list entries or hold one; each names its action as
    "<topic identifier> - <type of action>" when a call shares one budget map between topics
    (only this topic's are kept), or just the type of action in topic details.
    """
    if not isinstance(overview, dict) or not isinstance(overview.get("budgetTopicActionMap"), dict):
        return []
    entries: list[dict] = []
    for value in overview["budgetTopicActionMap"].values():
        for entry in value if isinstance(value, list) else [value]:
            if not isinstance(entry, dict):
                continue
            action = str(entry.get("action") or "")
            named, sep, _rest = action.partition(" - ")
            if not sep or named.strip() == identifier:
                entries.append(entry)
    return entries


def _budget(overview: object, identifier: str) -> dict:
    total = Decimal(0)
    mins, maxs, grants = [], [], 0
    any_value = False
    for entry in _budget_entries(overview, identifier):
        years = entry.get("budgetYearMap")
        if isinstance(years, dict):
            for value in years.values():
                amount = decimal(value)
                if amount:
                    total += amount
                    any_value = True
        if low := positive(decimal(entry.get("minContribution"))):
            mins.append(low)
        if high := positive(decimal(entry.get("maxContribution"))):
            maxs.append(high)
        grants += _input.to_int(entry.get("expectedGrants")) or 0
    low = min(mins) if mins else None
    high = max(maxs) if maxs else None
    if low is not None and high is not None and low > high:
        low = None
    return {
        "total": total if any_value else None,
        "min": low,
        "max": high,
        "grants": grants or None,
        "any": any_value or low is not None or high is not None,
    }


def _last_change(infos: object) -> str | None:
    """Return the latest lastChangeDate of the topic's news items, as the source writes it."""
    if not isinstance(infos, list):
        return None
    stamps = [
        str(i.get("lastChangeDate"))
        for i in infos
        if isinstance(i, dict) and i.get("lastChangeDate")
    ]
    return max(stamps, key=lambda s: (any_date(s, ZONE) or date.min, s)) if stamps else None
