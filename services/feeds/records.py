"""The normalised records every feed parser returns, whatever the source's own format.

Plain frozen dataclasses (no database, no Flask): an importer compares them with what is stored,
keyed on (source, source_id), and uses `fingerprint()` to tell a changed record from an unchanged
one when the source gives no reliable last-updated stamp.

- FeedOffer: a call or opportunity (EU Funding & Tenders, Grants.gov) that can become an offer.
- FeedActivity: a funder's activity record (IATI, World Bank projects) for an ally's track record.
- FeedOrganisation: an IATI organisation file record (names, total budgets).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum


class OfferState(StrEnum):
    """Where a call stands at its source."""

    OPEN = "open"
    FORTHCOMING = "forthcoming"
    CLOSED = "closed"


class ActivityStatus(StrEnum):
    """IATI ActivityStatus codes 1-6 as words (https://iatistandard.org/en/iati-standard/203/codelists/activitystatus/)."""

    PIPELINE = "pipeline"  # 1
    IMPLEMENTATION = "implementation"  # 2
    FINALISATION = "finalisation"  # 3
    CLOSED = "closed"  # 4
    CANCELLED = "cancelled"  # 5
    SUSPENDED = "suspended"  # 6


ACTIVITY_STATUS_CODES: dict[str, ActivityStatus] = {
    "1": ActivityStatus.PIPELINE,
    "2": ActivityStatus.IMPLEMENTATION,
    "3": ActivityStatus.FINALISATION,
    "4": ActivityStatus.CLOSED,
    "5": ActivityStatus.CANCELLED,
    "6": ActivityStatus.SUSPENDED,
}


class OrgRole(StrEnum):
    """IATI OrganisationRole codes 1-4 as words."""

    FUNDING = "funding"  # 1
    ACCOUNTABLE = "accountable"  # 2
    EXTENDING = "extending"  # 3
    IMPLEMENTING = "implementing"  # 4


@dataclass(frozen=True, slots=True)
class Narrative:
    """A piece of text in one language (`lang` lower-case ISO 639-1, None when not stated).

    `kind` says what the text is where that matters: "description", "objectives",
    "target_groups", "conditions", "eligibility", ...
    """

    text: str
    lang: str | None = None
    kind: str | None = None


@dataclass(frozen=True, slots=True)
class OrgRef:
    """An organisation named by a record: its identifier (IATI org id, agency code) and names."""

    ref: str | None
    names: tuple[Narrative, ...] = ()
    type: str | None = None  # IATI OrganisationType code when given
    role: OrgRole | None = None

    @property
    def name(self) -> str | None:
        """Return the English name if there is one, else the first name."""
        return pick_text(self.names)


@dataclass(frozen=True, slots=True)
class Sector:
    """A sector code in its vocabulary: "1" DAC 5-digit, "2" DAC 3-digit (IATI), "wb" World Bank."""

    code: str
    vocabulary: str = "1"
    percentage: Decimal | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Budget:
    """One budget period of an organisation (IATI total-budget)."""

    period_start: date | None
    period_end: date | None
    value: Decimal
    currency: str | None
    status: str | None = None  # 1 indicative, 2 committed


_FIELD_NAMES: dict[type, tuple[str, ...] | None] = {}


def _field_names(kind: type) -> tuple[str, ...] | None:
    """The field names of a dataclass type (None for any other type), looked up once."""
    try:
        return _FIELD_NAMES[kind]
    except KeyError:
        names = None
        if dataclasses.is_dataclass(kind):
            names = tuple(f.name for f in dataclasses.fields(kind))
        _FIELD_NAMES[kind] = names
        return names


def _plain(value):
    """`value` as dataclasses.asdict gives it, without its deep copies (a store compares
    thousands of records a run)."""
    kind = type(value)
    if kind is tuple or kind is list:
        return [_plain(v) for v in value]
    names = _field_names(kind)
    if names is None:
        return value
    return {name: _plain(getattr(value, name)) for name in names}


class _Fingerprinted:
    __slots__ = ()

    def fingerprint(self) -> str:
        """Return a SHA-256 over every field: equal fingerprints mean nothing changed."""
        payload = json.dumps(_plain(self), sort_keys=True, default=str)
        return hashlib.sha256(payload.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class FeedOffer(_Fingerprinted):
    """A call for proposals or funding opportunity, as the source states it.

    `deadlines` are every submission deadline in date order (a two-stage call has two: stage 1,
    then stage 2); `eligible_kinds` are models.enums.OrgKind values and `eligible_countries`
    ISO 3166-1 alpha-2 codes, both empty when the source sets no restriction it states in codes.
    `partial` marks a search-listing summary whose details (text, eligibility, amounts) are still
    to be fetched. Closed calls are returned too, so that a stored offer can be closed; an
    importer should not create new offers from them.
    """

    source: str
    source_id: str
    title: str
    status: OfferState
    link: str | None = None
    reference: str | None = None
    funder: OrgRef | None = None
    programme: str | None = None
    programme_id: str | None = None
    call_id: str | None = None
    call_title: str | None = None
    passages: tuple[Narrative, ...] = ()
    language: str | None = None
    opens_on: date | None = None
    deadlines: tuple[date, ...] = ()
    deadline_model: str | None = None
    amount_min: Decimal | None = None
    amount_max: Decimal | None = None
    currency: str | None = None
    total_budget: Decimal | None = None
    expected_awards: int | None = None
    modalities: tuple[str, ...] = ()
    eligible_kinds: tuple[str, ...] = ()
    eligible_countries: tuple[str, ...] = ()
    closed_reason: str | None = None
    keywords: tuple[str, ...] = ()
    last_updated: str | None = None
    partial: bool = False

    @property
    def deadline(self) -> date | None:
        """Return the first deadline (stage 1 of a two-stage call), None when there is none."""
        return self.deadlines[0] if self.deadlines else None

    def next_deadline(self, today: date) -> date | None:
        """Return the first deadline on or after today (for multiple cut-off calls)."""
        return next((d for d in self.deadlines if d >= today), None)

    @property
    def description(self) -> str:
        """Return every passage's text, one paragraph each (the offer's description)."""
        return "\n\n".join(p.text for p in self.passages)


@dataclass(frozen=True, slots=True)
class FeedActivity(_Fingerprinted):
    """A funder's activity (IATI iati-activity, a World Bank project).

    `amount` is the activity's total in `currency`, from `amount_basis`: "commitments" (the sum
    of commitment transactions), "disbursements" (disbursements and expenditure), "budget"
    (budget periods, revised over original) or "total commitment" (World Bank).
    """

    source: str
    source_id: str
    iati_identifier: str
    titles: tuple[Narrative, ...] = ()
    descriptions: tuple[Narrative, ...] = ()
    reporting_org: OrgRef | None = None
    participating_orgs: tuple[OrgRef, ...] = ()
    recipient_countries: tuple[str, ...] = ()
    recipient_regions: tuple[str, ...] = ()
    sectors: tuple[Sector, ...] = ()
    start: date | None = None
    end: date | None = None
    amount: Decimal | None = None
    currency: str | None = None
    amount_basis: str | None = None
    status: ActivityStatus | None = None
    language: str | None = None
    link: str | None = None
    version: str | None = None
    last_updated: str | None = None

    @property
    def funding_orgs(self) -> tuple[OrgRef, ...]:
        """Return the participating organisations in the funding role (IATI role 1)."""
        return tuple(o for o in self.participating_orgs if o.role == OrgRole.FUNDING)

    @property
    def title(self) -> str | None:
        """Return the English title if there is one, else the first."""
        return pick_text(self.titles)

    @property
    def years(self) -> tuple[int | None, int | None]:
        """Return the first and last year of the activity (None where not known)."""
        return (
            self.start.year if self.start else None,
            self.end.year if self.end else None,
        )


@dataclass(frozen=True, slots=True)
class FeedOrganisation(_Fingerprinted):
    """An organisation's own IATI record (iati-organisation)."""

    source: str
    source_id: str
    names: tuple[Narrative, ...] = ()
    reporting_org: OrgRef | None = None
    default_currency: str | None = None
    total_budgets: tuple[Budget, ...] = ()
    language: str | None = None
    version: str | None = None
    last_updated: str | None = None

    @property
    def name(self) -> str | None:
        """Return the English name if there is one, else the first."""
        return pick_text(self.names)


Record = FeedOffer | FeedActivity | FeedOrganisation


@dataclass(frozen=True, slots=True)
class Skip:
    """An item the parser recognised but did not turn into a record, and why."""

    source_id: str | None
    reason: str


@dataclass(slots=True)
class ParseResult:
    """What one file or response held: its records, the items skipped, and the source's total.

    `document` says what the input was recognised as ("IATI activities 2.03", "EU Funding &
    Tenders search response", ...). `total_available` is the source's count of matching items
    for paged search APIs (EU totalResults, Grants.gov hitCount), None otherwise.
    """

    kind: str
    document: str
    records: list[Record] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)
    total_available: int | None = None

    def add(self, item: Record | Skip) -> None:
        """Keep a parsed record, or an item skipped with its reason."""
        (self.skipped if isinstance(item, Skip) else self.records).append(item)

    @property
    def offers(self) -> list[FeedOffer]:
        """Return the FeedOffer records."""
        return [r for r in self.records if isinstance(r, FeedOffer)]

    @property
    def activities(self) -> list[FeedActivity]:
        """Return the FeedActivity records."""
        return [r for r in self.records if isinstance(r, FeedActivity)]

    @property
    def organisations(self) -> list[FeedOrganisation]:
        """Return the FeedOrganisation records."""
        return [r for r in self.records if isinstance(r, FeedOrganisation)]


def pick_text(narratives: tuple[Narrative, ...], lang: str = "en") -> str | None:
    """Return the text in `lang` if there is one, else the first text, else None."""
    for n in narratives:
        if n.lang == lang:
            return n.text
    return narratives[0].text if narratives else None
