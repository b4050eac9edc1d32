"""Grants.gov opportunities as offers: the JSON API (search2, fetchOpportunity) and the XML extract.

- search2 (`POST https://api.grants.gov/v1/api/search2`): `oppHits[]` summaries, answered inside
  `{"errorcode": 0, "msg": ..., "data": {...}}` (older web-API answers, like the shared file,
  have no envelope). A hit has no text, eligibility or amounts: its offer is `partial`, and the
  importer fetches the details of new or changed ids.
- fetchOpportunity (`POST .../v1/api/fetchOpportunity`): one opportunity with its `synopsis`
  (posted) or `forecast`.
- the daily XML extract (`GrantsDBExtractYYYYMMDDv2.zip`, schema OpportunityDetail-V1.0): root
  `Grants` with OpportunitySynopsisDetail_1_0 and OpportunityForecastDetail_1_0 records; read
  zipped or not, streamed.

Forecasts become forthcoming offers, posted opportunities open ones; closed and archived ones
are returned closed (with the reason) so a stored offer can be closed. Eligibility codes map to
applicant kinds; applicants outside the US are only eligible where the opportunity says so.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

from lxml import etree

from . import _input
from ._input import DEFAULT_MAX_JSON_BYTES, DEFAULT_MAX_XML_BYTES, Source
from ._values import any_date, clean, decimal, html_text, positive
from .errors import SourceError, WrongKind
from .records import FeedOffer, Narrative, OfferState, OrgRef, ParseResult, Skip

KIND = "grants_gov"
LINK = "https://www.grants.gov/search-results-detail/{}"
EXTRACT_NS = "http://apply.grants.gov/system/OpportunityDetail-V1.0"
SYNOPSIS_TAG = "OpportunitySynopsisDetail_1_0"
FORECAST_TAG = "OpportunityForecastDetail_1_0"
LANGUAGE = "en"  # US federal notices are published in English

# Grants.gov eligibility codes -> models.enums.OrgKind values. "25" (others, see the text) and
# "99" (unrestricted) set no restriction by kind; "21" (individuals) matches no organisation.
ELIGIBILITY_KINDS: dict[str, tuple[str, ...] | None] = {
    "00": ("local_public",),  # State governments
    "01": ("local_public",),  # County governments
    "02": ("local_public",),  # City or township governments
    "04": ("local_public",),  # Special district governments
    "05": ("local_public",),  # Independent school districts
    "06": ("university",),  # Public and State controlled institutions of higher education
    "07": ("local_public",),  # Native American tribal governments (Federally recognized)
    "08": ("local_public",),  # Public housing authorities/Indian housing authorities
    "11": ("ngo",),  # Native American tribal organizations (other than recognized governments)
    "12": ("ngo",),  # Nonprofits having a 501(c)(3) status with the IRS
    "13": ("ngo",),  # Nonprofits that do not have a 501(c)(3) status with the IRS
    "20": ("university",),  # Private institutions of higher education
    "21": (),  # Individuals
    "22": ("company",),  # For profit organizations other than small businesses
    "23": ("company",),  # Small businesses
    "25": None,  # Others (see text field entitled "Additional Information on Eligibility")
    "99": None,  # Unrestricted
}
# Funding instruments: G grant, CA cooperative agreement, PC procurement contract, O other
GRANT_INSTRUMENTS = {"G", "CA"}
# Agencies whose notices are for work abroad and invite non-US applicants unless they say not
FOREIGN_AGENCY_PREFIXES = ("USAID", "DOS")
HIT_STATES = {
    "posted": (OfferState.OPEN, None),
    "forecasted": (OfferState.FORTHCOMING, None),
    "closed": (OfferState.CLOSED, "closed at the source"),
    "archived": (OfferState.CLOSED, "archived at the source"),
}

_FOREIGN = re.compile(
    r"\b(foreign|non-?\s?U\.?\s?S\.?|international|overseas|non-?domestic)\s+(\w+\s+){0,3}?"
    r"(organi[sz]ations?|entities|institutions?|applicants?|NGOs?|governments?|universities|"
    r"firms|companies|businesses)\b",
    re.IGNORECASE,
)
_US = re.compile(r"\bU\.\s?S\.(?:\s?A\.)?")  # "U.S." must not end a sentence
_DOMESTIC_ONLY = re.compile(
    r"\b(only|solely|exclusively|limited to)\b[^.;]{0,40}?\b(U\.?\s?S\.?|United States|domestic)\b"
    r"|\b(foreign|non-?\s?U\.?\s?S\.?)\b[^.;]{0,80}?\b(not|in)\s*eligible\b"
    r"|\bnot eligible\b[^.;]{0,60}?\b(foreign|non-?\s?U\.?\s?S\.?)\b",
    re.IGNORECASE,
)


def parse(
    source: Source,
    *,
    today: date | None = None,
    max_bytes: int | None = None,
) -> ParseResult:
    """Read a search2 or fetchOpportunity JSON answer, or an XML extract (zipped or not).

    `today` decides which posted opportunities have passed their close or archive date
    (default: the current date).
    """
    today = today or date.today()
    with _input.open_source(source, max_bytes or DEFAULT_MAX_XML_BYTES) as stream:
        if _input.require_content(stream, "the Grants.gov file") == b"<":
            return _extract(stream, source, today)
        doc = _input.load_json(
            stream, "a Grants.gov file", max_bytes=max_bytes or DEFAULT_MAX_JSON_BYTES
        )
    return _json(doc, today)


def _json(doc: object, today: date) -> ParseResult:
    if isinstance(doc, dict) and "errorcode" in doc and "data" in doc:
        if doc.get("errorcode") not in (0, "0", None):
            raise SourceError(
                f"Grants.gov answered with error {doc['errorcode']}: {doc.get('msg')}"
            )
        doc = doc["data"]
    if isinstance(doc, dict) and isinstance(doc.get("errorMsgs"), list) and doc["errorMsgs"]:
        raise SourceError(
            "Grants.gov answered with errors: " + "; ".join(map(str, doc["errorMsgs"]))
        )
    if isinstance(doc, dict) and isinstance(doc.get("oppHits"), list):
        result = ParseResult(
            KIND, "Grants.gov search", total_available=_input.to_int(doc.get("hitCount"))
        )
        for hit in doc["oppHits"]:
            result.add(_hit(hit))
        return result
    if (
        isinstance(doc, dict)
        and doc.get("id") is not None
        and (isinstance(doc.get("synopsis"), dict) or isinstance(doc.get("forecast"), dict))
    ):
        result = ParseResult(KIND, "Grants.gov opportunity details")
        result.add(_detail(doc, today))
        return result
    raise WrongKind(
        "not a Grants.gov search or opportunity details answer: " + _input.describe_keys(doc)
    )


def _hit(hit: object) -> FeedOffer | Skip:
    if not isinstance(hit, dict) or hit.get("id") in (None, ""):
        return Skip(None, "a search hit without an opportunity id")
    opp_id = str(hit["id"])
    state = HIT_STATES.get(str(hit.get("oppStatus") or "").lower())
    if state is None:
        return Skip(opp_id, f"unknown opportunity status {hit.get('oppStatus')!r}")
    agency = str(hit.get("agencyCode") or "") or None
    deadline = any_date(hit.get("closeDate"))
    return FeedOffer(
        source=KIND,
        source_id=opp_id,
        title=clean(hit.get("title")) or opp_id,
        status=state[0],
        link=LINK.format(opp_id),
        reference=hit.get("number") or None,
        funder=_funder(agency, hit.get("agency") or hit.get("agencyName")),
        programme_id=_first(hit.get("cfdaList")),
        language=LANGUAGE,
        opens_on=any_date(hit.get("openDate")),
        deadlines=(deadline,) if deadline else (),
        currency=None,
        eligible_countries=() if _foreign_agency(agency) else ("US",),
        closed_reason=state[1],
        partial=True,
    )


def _first(values: object) -> str | None:
    if isinstance(values, list) and values:
        return str(values[0])
    return None


def _funder(code: str | None, name: object) -> OrgRef | None:
    if not code and not name:
        return None
    names = (Narrative(clean(name), "en"),) if name else ()
    return OrgRef(code, names)


def _foreign_agency(code: str | None) -> bool:
    return bool(code) and code.upper().startswith(FOREIGN_AGENCY_PREFIXES)


def foreign_eligible(agency: str | None, texts: Iterable[str]) -> bool:
    """Return whether applicants outside the US may apply, from the eligibility text.

    A sentence limiting the notice to US or domestic applicants wins; else a sentence naming
    foreign, non-US or international organisations as applicants opens it; else it is open
    only when the agency funds work abroad (USAID, State Department).
    """
    sentences = [
        sentence
        for text in texts
        if text
        for sentence in re.split(r"(?<=[.;!?])\s+", _US.sub("US", text))
    ]
    if any(_DOMESTIC_ONLY.search(s) for s in sentences):
        return False
    if any(_FOREIGN.search(s) for s in sentences):
        return True
    return _foreign_agency(agency)


def _eligibility(codes: list[str]) -> tuple[tuple[str, ...], bool]:
    """Return (applicant kinds, open to organisations at all) for Grants.gov codes."""
    kinds: list[str] = []
    unrestricted = not codes
    for code in codes:
        mapped = ELIGIBILITY_KINDS.get(code.strip().zfill(2))
        if mapped is None:
            unrestricted = True
        else:
            kinds.extend(k for k in mapped if k not in kinds)
    if unrestricted:
        return (), True
    return tuple(kinds), bool(kinds)


def _offer(
    opp_id: str,
    fields: dict,
    *,
    forecast: bool,
    today: date,
) -> FeedOffer | Skip:
    """Build an offer from fields common to the JSON details and the XML extract."""
    codes = fields["eligibility_codes"]
    kinds, for_orgs = _eligibility(codes)
    if not for_orgs:
        return Skip(opp_id, "only individuals are eligible, not organisations")
    eligibility_text = html_text(fields["eligibility_text"])
    foreign = foreign_eligible(fields["agency_code"], [eligibility_text])
    archive = fields["archive"]
    deadline = fields["deadline"]
    if archive and archive < today:
        status, reason = OfferState.CLOSED, "archived at the source"
    elif forecast:
        status, reason = OfferState.FORTHCOMING, None
    elif deadline and deadline < today:
        status, reason = OfferState.CLOSED, "its close date has passed"
    else:
        status, reason = OfferState.OPEN, None
    passages = []
    if text := html_text(fields["description"]):
        passages.append(Narrative(text, LANGUAGE, "description"))
    if eligibility_text:
        passages.append(Narrative(eligibility_text, LANGUAGE, "eligibility"))
    floor = positive(decimal(fields["floor"]))
    ceiling = positive(decimal(fields["ceiling"]))
    if floor and ceiling and floor > ceiling:
        floor = None
    total = positive(decimal(fields["total"]))
    instruments = {i.strip().upper() for i in fields["instruments"] if i}
    return FeedOffer(
        source=KIND,
        source_id=opp_id,
        title=clean(fields["title"]) or opp_id,
        status=status,
        link=LINK.format(opp_id),
        reference=fields["number"] or None,
        funder=_funder(fields["agency_code"], fields["agency_name"]),
        programme=fields["programme"] or None,
        programme_id=fields["programme_id"] or None,
        passages=tuple(passages),
        language=LANGUAGE,
        opens_on=fields["opens"],
        deadlines=(deadline,) if deadline else (),
        deadline_model="estimated" if forecast and deadline else None,
        amount_min=floor,
        amount_max=ceiling,
        currency="USD" if floor or ceiling or total else None,
        total_budget=total,
        expected_awards=_input.to_int(fields["awards"]) or None,
        modalities=("grant",) if instruments & GRANT_INSTRUMENTS else (),
        eligible_kinds=kinds,
        eligible_countries=() if foreign else ("US",),
        closed_reason=reason,
        last_updated=fields["updated"] or None,
        partial=False,
    )


def _detail(doc: dict, today: date) -> FeedOffer | Skip:
    opp_id = str(doc["id"])
    forecast = str(doc.get("docType") or "").lower() == "forecast" or not isinstance(
        doc.get("synopsis"), dict
    )
    part = doc.get("forecast") if forecast else doc.get("synopsis")
    part = part if isinstance(part, dict) else {}
    agency = part.get("agencyDetails") or doc.get("agencyDetails") or {}
    top = part.get("topAgencyDetails") or doc.get("topAgencyDetails") or {}
    cfdas = [c for c in doc.get("cfdas") or [] if isinstance(c, dict)]
    fields = {
        "title": doc.get("opportunityTitle"),
        "number": doc.get("opportunityNumber"),
        "agency_code": part.get("agencyCode") or doc.get("owningAgencyCode"),
        "agency_name": top.get("agencyName") or agency.get("agencyName"),
        "programme": cfdas[0].get("programTitle") if cfdas else None,
        "programme_id": cfdas[0].get("cfdaNumber") if cfdas else None,
        "description": part.get("forecastDesc" if forecast else "synopsisDesc"),
        "eligibility_text": part.get("applicantEligibilityDesc"),
        "eligibility_codes": [
            str(t.get("id")) for t in part.get("applicantTypes") or [] if isinstance(t, dict)
        ],
        "instruments": [
            str(t.get("id")) for t in part.get("fundingInstruments") or [] if isinstance(t, dict)
        ],
        "opens": any_date(
            part.get("estSynopsisPostingDate") if forecast else part.get("postingDate")
        ),
        "deadline": any_date(
            part.get("estApplicationResponseDate") if forecast else part.get("responseDate")
        ),
        "archive": any_date(part.get("archiveDate")),
        "floor": part.get("awardFloor"),
        "ceiling": part.get("awardCeiling"),
        "total": part.get("estimatedFunding"),
        "awards": part.get("expectedNumberOfAwards"),
        "updated": part.get("lastUpdatedDate"),
    }
    return _offer(opp_id, fields, forecast=forecast, today=today)


def _extract(stream, source: Source, today: date) -> ParseResult:
    """Stream the XML extract; a posted synopsis supersedes the forecast of the same id."""
    result = ParseResult(KIND, "Grants.gov XML extract")
    records: dict[str, FeedOffer | Skip] = {}
    kinds: dict[str, bool] = {}
    events = _input.iterparse(stream, (f"{{*}}{SYNOPSIS_TAG}", f"{{*}}{FORECAST_TAG}"), source)
    checked = False
    try:
        for _event, el in events:
            if not checked:
                _input.check_no_doctype(el.getroottree())
                _check_root(el.getroottree().getroot())
                checked = True
            forecast = etree.QName(el).localname == FORECAST_TAG
            item = _extract_record(el, forecast, today)
            el.clear()
            parent = el.getparent()
            while el.getprevious() is not None:
                del parent[0]
            key = item.source_id or f"#{len(records)}"
            if key in records:
                if kinds[key] != forecast:
                    result.skipped.append(Skip(key, "a forecast superseded by its posted synopsis"))
                    if forecast:
                        continue
                else:
                    result.skipped.append(Skip(key, "the same opportunity appears again"))
                    continue
            records[key] = item
            kinds[key] = forecast
    except etree.XMLSyntaxError as exc:
        raise _input.xml_error(exc, "Grants.gov extract", stream, source) from exc
    if not checked:
        _input.check_no_doctype(events.root.getroottree())
        _check_root(events.root)
    for item in records.values():
        result.add(item)
    return result


def _check_root(root: etree._Element) -> None:
    if etree.QName(root).localname != "Grants":
        raise WrongKind(
            f"not a Grants.gov extract: the root element is <{etree.QName(root).localname}>, "
            "not <Grants>"
        )


def _extract_record(el: etree._Element, forecast: bool, today: date) -> FeedOffer | Skip:
    values: dict[str, list[str]] = {}
    for child in el:
        if isinstance(child.tag, str):
            values.setdefault(etree.QName(child).localname, []).append((child.text or "").strip())

    def one(name: str) -> str | None:
        found = values.get(name)
        return found[0] if found and found[0] else None

    opp_id = one("OpportunityID")
    if not opp_id:
        return Skip(one("OpportunityNumber"), "a record without an OpportunityID")
    fields = {
        "title": one("OpportunityTitle"),
        "number": one("OpportunityNumber"),
        "agency_code": one("AgencyCode"),
        "agency_name": one("AgencyName"),
        "programme": None,
        "programme_id": one("CFDANumbers"),
        "description": one("Description"),
        "eligibility_text": one("AdditionalInformationOnEligibility"),
        "eligibility_codes": [v for v in values.get("EligibleApplicants", []) if v],
        "instruments": values.get("FundingInstrumentType", []),
        "opens": any_date(one("EstimatedSynopsisPostDate") if forecast else one("PostDate")),
        "deadline": any_date(one("EstimatedSynopsisCloseDate") if forecast else one("CloseDate")),
        "archive": any_date(one("ArchiveDate")),
        "floor": one("AwardFloor"),
        "ceiling": one("AwardCeiling"),
        "total": one("EstimatedTotalProgramFunding"),
        "awards": one("ExpectedNumberOfAwards"),
        "updated": one("LastUpdatedDate"),
    }
    return _offer(opp_id, fields, forecast=forecast, today=today)
