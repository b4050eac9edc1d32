"""IATI activity and organisation XML (standard 2.01-2.03, and the 1.0x spellings) as records.

Publisher files, D-Portal query pages and IATI Datastore XML output all hold `iati-activity`
(or `iati-organisation`) elements; they are streamed with lxml's iterparse and each is cleared
once read, so a file of any size is parsed in bounded memory. Elements in other namespaces
(publishers' extensions, D-Portal's `dstore:` attributes) are ignored. Reference:
https://iatistandard.org/en/iati-standard/203/activity-standard/
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from urllib.parse import quote

from lxml import etree

from . import _input
from ._input import DEFAULT_MAX_XML_BYTES, Source
from ._values import country, decimal, iso_date, lang
from .errors import WrongKind
from .records import (
    ACTIVITY_STATUS_CODES,
    ActivityStatus,
    Budget,
    FeedActivity,
    FeedOrganisation,
    Narrative,
    OrgRef,
    OrgRole,
    ParseResult,
    Record,
    Sector,
    Skip,
)

KIND = "iati"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
DPORTAL_VERSION = "{http://d-portal.org/xmlns/iati-activities}version"
DPORTAL_LINK = "https://d-portal.org/ctrack.html#view=act&aid={}"

ROLE_CODES = {
    "1": OrgRole.FUNDING,
    "2": OrgRole.ACCOUNTABLE,
    "3": OrgRole.EXTENDING,
    "4": OrgRole.IMPLEMENTING,
    # IATI 1.0x wrote roles as words
    "funding": OrgRole.FUNDING,
    "accountable": OrgRole.ACCOUNTABLE,
    "extending": OrgRole.EXTENDING,
    "implementing": OrgRole.IMPLEMENTING,
}
# ActivityDateType: 1 planned start, 2 actual start, 3 planned end, 4 actual end (1.0x: words)
DATE_TYPES = {
    "1": 1,
    "2": 2,
    "3": 3,
    "4": 4,
    "start-planned": 1,
    "start-actual": 2,
    "end-planned": 3,
    "end-actual": 4,
}
# TransactionType: 2 outgoing commitment, 3 disbursement, 4 expenditure (1.0x: C, D, E)
TRANSACTION_TYPES = {"2": "2", "3": "3", "4": "4", "C": "2", "D": "3", "E": "4"}
DESCRIPTION_KINDS = {"1": "description", "2": "objectives", "3": "target_groups", "4": "other"}
ACTIVITY_TAGS = (
    "iati-identifier",
    "title",
    "description",
    "participating-org",
    "reporting-org",
    "activity-status",
    "activity-date",
    "recipient-country",
    "recipient-region",
    "sector",
    "transaction",
)
FINISHED = {ActivityStatus.FINALISATION, ActivityStatus.CLOSED, ActivityStatus.CANCELLED}
TRANSACTION_TAGS = ("transaction-type", "value", "transaction-date", "recipient-country", "sector")


def parse(source: Source, *, max_bytes: int = DEFAULT_MAX_XML_BYTES) -> ParseResult:
    """Read a whole IATI file; raise a FeedError before returning anything if any of it is bad.

    Parameters
    ----------
    source : bytes, a path, or a binary stream
    max_bytes : refuse inputs larger than this (TooLarge)

    Returns
    -------
    ParseResult with FeedActivity and FeedOrganisation records and the activities skipped
    (no identifier, repeated identifier).
    """
    result = ParseResult(kind=KIND, document="IATI XML")
    for item in iter_records(source, max_bytes=max_bytes, document=result):
        result.add(item)
    return result


def iter_records(
    source: Source,
    *,
    max_bytes: int = DEFAULT_MAX_XML_BYTES,
    document: ParseResult | None = None,
) -> Iterator[Record | Skip]:
    """Yield each activity or organisation record (or a Skip) as the file is streamed.

    Records come before the end of the file is checked: a caller that stores as it goes must
    roll back when a FeedError is raised part-way (a truncated file fails at its end).
    """
    seen: set[str] = set()
    with _input.open_source(source, max_bytes) as stream:
        start = _input.require_content(stream, "the IATI file")
        if start != b"<":
            raise WrongKind(
                f"an IATI file must be XML, but this is {_input.describe_start(stream)}"
            )
        events = _input.iterparse(stream, ("iati-activity", "iati-organisation"), source)
        checked = False
        try:
            for _event, el in events:
                if not checked:
                    _input.check_no_doctype(el.getroottree())
                    # the file's root, or the iati-activities inside a Datastore wrapper
                    parent = el.getparent()
                    context = _Context(parent if parent is not None else el)
                    if document is not None:
                        document.document = context.describe()
                    checked = True
                record = (
                    _activity(el, context)
                    if el.tag == "iati-activity"
                    else _organisation(el, context)
                )
                el.clear()
                parent = el.getparent()
                if parent is not None:
                    while el.getprevious() is not None:
                        del parent[0]
                if isinstance(record, Skip):
                    yield record
                elif record.source_id in seen:
                    yield Skip(record.source_id, "the same identifier appears again in this file")
                else:
                    seen.add(record.source_id)
                    yield record
        except etree.XMLSyntaxError as exc:
            raise _input.xml_error(exc, "IATI file", stream, source) from exc
        if not checked:
            root = events.root
            _input.check_no_doctype(root.getroottree())
            if root.tag not in ("iati-activities", "iati-organisations"):
                raise WrongKind(
                    f"not an IATI file: the root element is <{_local(root.tag)}>, not "
                    "<iati-activities> or <iati-organisations>"
                )
            if document is not None:
                document.document = _Context(root).describe()


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else str(tag)


class _Context:
    """What an activity inherits from its file: version and default language."""

    __slots__ = ("root_tag", "version", "lang")

    def __init__(self, root: etree._Element):
        self.root_tag = _local(root.tag)
        self.version = root.get("version")
        self.lang = lang(root.get(XML_LANG))

    def describe(self) -> str:
        what = "organisations" if self.root_tag == "iati-organisations" else "activities"
        return f"IATI {what} {self.version}" if self.version else f"IATI {what}"


def _narratives(el: etree._Element, default: str | None, kind: str | None = None) -> list:
    """Return the non-empty narratives of an element with their languages.

    A narrative without xml:lang takes its element's, else the activity's default language.
    IATI 1.0x put the text in the element itself; that text is read the same way.
    """
    own = el.get(XML_LANG)
    own = own.strip().lower() or default if own else default
    out = []
    for child in el.iterchildren("narrative"):
        text = child.text if len(child) == 0 else "".join(child.itertext())
        if text and (text := text.strip()):
            code = child.get(XML_LANG)
            out.append(Narrative(text, code.strip().lower() or own if code else own, kind))
    if not out and el.text and (text := el.text.strip()):
        out.append(Narrative(text, own, kind))
    return out


def _org(el: etree._Element, default: str | None, role: OrgRole | None = None) -> OrgRef:
    ref = (el.get("ref") or "").strip() or None
    return OrgRef(ref, tuple(_narratives(el, default)), el.get("type") or None, role)


def _value(el: etree._Element, currency: str | None) -> tuple[Decimal | None, str | None, str]:
    for child in el:
        if child.tag == "value":
            return (
                decimal(child.text),
                (child.get("currency") or currency or "").upper() or None,
                child.get("value-date") or "",
            )
    return None, currency, ""


def _activity(el: etree._Element, ctx: _Context) -> FeedActivity | Skip:
    default_lang = lang(el.get(XML_LANG)) or ctx.lang
    currency = (el.get("default-currency") or "").upper() or None
    identifier = None
    reporting = None
    titles: list[Narrative] = []
    descriptions: list[Narrative] = []
    orgs: list[OrgRef] = []
    countries: dict[str, None] = {}
    regions: dict[str, None] = {}
    sectors: dict[tuple[str, str], Sector] = {}
    dates: dict[int, date] = {}
    status = None
    sums: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    transaction_dates: list[date] = []

    for child in el.iterchildren(*ACTIVITY_TAGS):  # filtered in C: budgets, results etc. skipped
        tag = child.tag
        if tag == "iati-identifier":
            identifier = (child.text or "").strip() or None
        elif tag == "title":
            titles.extend(_narratives(child, default_lang))
        elif tag == "description":
            kind = DESCRIPTION_KINDS.get(child.get("type") or "1", "description")
            descriptions.extend(_narratives(child, default_lang, kind))
        elif tag == "participating-org":
            role = ROLE_CODES.get((child.get("role") or "").strip().lower())
            orgs.append(_org(child, default_lang, role))
        elif tag == "reporting-org":
            reporting = _org(child, default_lang)
        elif tag == "activity-status":
            status = ACTIVITY_STATUS_CODES.get((child.get("code") or "").strip())
        elif tag == "activity-date":
            kind = DATE_TYPES.get((child.get("type") or "").strip().lower())
            when = iso_date(child.get("iso-date"))
            if kind and when:
                dates[kind] = when
        elif tag == "recipient-country":
            if code := country(child.get("code")):
                countries[code] = None
        elif tag == "recipient-region":
            if code := (child.get("code") or "").strip():
                regions[code] = None
        elif tag == "sector":
            _add_sector(sectors, child)
        elif tag == "transaction":
            _transaction(child, currency, sums, counts, countries, sectors, transaction_dates)

    if identifier is None:
        title = titles[0].text if titles else "untitled"
        return Skip(None, f"an activity has no iati-identifier ({title[:80]})")

    amount, amount_currency, basis = _amount(sums, counts, currency)
    if amount is None:
        amount, amount_currency, basis = _budget_amount(el, currency)
    start = dates.get(2) or dates.get(1)
    end = dates.get(4) or dates.get(3)
    if start is None and transaction_dates:
        start = min(transaction_dates)
    if end is None and transaction_dates and status in FINISHED:
        end = max(transaction_dates)  # a finished activity without an end date ends with its money
    if start and end and end < start:
        end = None
    return FeedActivity(
        source=KIND,
        source_id=identifier,
        iati_identifier=identifier,
        titles=tuple(titles),
        descriptions=tuple(descriptions),
        reporting_org=reporting,
        participating_orgs=tuple(orgs),
        recipient_countries=tuple(countries),
        recipient_regions=tuple(regions),
        sectors=tuple(sectors.values()),
        start=start,
        end=end,
        amount=amount,
        currency=amount_currency,
        amount_basis=basis,
        status=status,
        language=default_lang,
        link=DPORTAL_LINK.format(quote(identifier, safe="")),
        version=el.get(DPORTAL_VERSION) or ctx.version,
        last_updated=el.get("last-updated-datetime"),
    )


def _add_sector(sectors: dict, el: etree._Element) -> None:
    code = (el.get("code") or "").strip()
    if not code:
        return
    vocabulary = (el.get("vocabulary") or "1").strip()  # absent means DAC 5-digit
    key = (vocabulary, code)
    if key in sectors:
        return
    name = None
    for child in el:
        if child.tag == "narrative" and child.text and child.text.strip():
            name = child.text.strip()
            break
    sectors[key] = Sector(code, vocabulary, decimal(el.get("percentage")), name)


def _transaction(el, currency, sums, counts, countries, sectors, transaction_dates) -> None:
    kind = None
    value = value_currency = None
    for child in el.iterchildren(*TRANSACTION_TAGS):
        tag = child.tag
        if tag == "transaction-type":
            kind = TRANSACTION_TYPES.get((child.get("code") or "").strip().upper())
        elif tag == "value":
            value = decimal(child.text)
            value_currency = (child.get("currency") or currency or "").upper() or None
        elif tag == "transaction-date":
            if when := iso_date(child.get("iso-date")):
                transaction_dates.append(when)
        elif tag == "recipient-country":
            # some publishers (the US government's) give the country per transaction only
            if code := country(child.get("code")):
                countries[code] = None
        elif tag == "sector":
            _add_sector(sectors, child)
    if kind and value is not None and value_currency:
        basis = "commitments" if kind == "2" else "disbursements"
        sums[basis][value_currency] += value
        counts[basis][value_currency] += 1


def _amount(sums, counts, default_currency) -> tuple[Decimal | None, str | None, str | None]:
    for basis in ("commitments", "disbursements"):
        if sums.get(basis):
            cur = _main_currency(counts[basis], default_currency)
            return sums[basis][cur], cur, basis
    return None, None, None


def _main_currency(counts: dict[str, int], default_currency: str | None) -> str:
    """Return the currency most values are in (the activity's default one on a tie)."""
    return max(counts, key=lambda c: (counts[c], c == default_currency))


_REVISED_BUDGETS = etree.XPath("sum(budget[@type='2']/value)")
_ORIGINAL_BUDGETS = etree.XPath("sum(budget[not(@type) or @type='1']/value)")
_BUDGET_CURRENCIES = etree.XPath("budget/value/@currency")
_HAS_BUDGET = etree.XPath("boolean(budget/value)")
_BUDGET_WITHOUT_CURRENCY = etree.XPath("boolean(budget/value[not(@currency)])")


def _budget_amount(el: etree._Element, currency: str | None) -> tuple:
    """Return the sum of the revised budgets (type 2), or of the original ones when the revised
    add up to nothing: the World Bank's D-Portal pages pair every original budget with a revised
    one of 0. Summed in libxml2 (these records carry hundreds of monthly budgets); None when the
    values are in several currencies or not numbers.
    """
    currencies = {c.upper() for c in _BUDGET_CURRENCIES(el)}
    if not currencies or _BUDGET_WITHOUT_CURRENCY(el):
        if not _HAS_BUDGET(el):
            return None, None, None
        currencies.add(currency or "")
    if len(currencies) != 1 or "" in currencies:
        return None, None, None
    total = _REVISED_BUDGETS(el) or _ORIGINAL_BUDGETS(el)
    if total != total or total in (float("inf"), float("-inf")):  # NaN: a value is not a number
        return None, None, None
    return Decimal(repr(round(total, 2))), currencies.pop(), "budget"


def _organisation(el: etree._Element, ctx: _Context) -> FeedOrganisation | Skip:
    default_lang = lang(el.get(XML_LANG)) or ctx.lang
    currency = (el.get("default-currency") or "").upper() or None
    identifier = None
    names: list[Narrative] = []
    reporting = None
    budgets: list[Budget] = []
    for child in el:
        tag = child.tag
        if tag in ("organisation-identifier", "iati-identifier"):
            identifier = identifier or (child.text or "").strip() or None
        elif tag == "name":
            names.extend(_narratives(child, default_lang))
        elif tag == "reporting-org":
            reporting = _org(child, default_lang)
        elif tag == "total-budget":
            value, cur, _ = _value(child, currency)
            if value is not None:
                start = end = None
                for part in child:
                    if part.tag == "period-start":
                        start = iso_date(part.get("iso-date"))
                    elif part.tag == "period-end":
                        end = iso_date(part.get("iso-date"))
                budgets.append(Budget(start, end, value, cur, child.get("status")))
    if identifier is None and reporting is not None:
        identifier = reporting.ref  # 1.0x organisation files identified themselves there
    if identifier is None:
        return Skip(None, "an organisation record has no organisation-identifier")
    return FeedOrganisation(
        source=KIND,
        source_id=identifier,
        names=tuple(names),
        reporting_org=reporting,
        default_currency=currency,
        total_budgets=tuple(budgets),
        language=default_lang,
        version=ctx.version,
        last_updated=el.get("last-updated-datetime"),
    )
