"""The closed vocabularies of the domain, shared by models, schemas and the matcher input."""

from enum import StrEnum


class OrgKind(StrEnum):
    BILATERAL = "bilateral"
    MULTILATERAL = "multilateral"
    FOUNDATION = "foundation"
    CITY_NETWORK = "city_network"
    COMPANY = "company"
    UNIVERSITY = "university"
    NGO = "ngo"
    LOCAL_PUBLIC = "local_public"


class Side(StrEnum):
    SUPPLY = "supply"
    DEMAND = "demand"


class Modality(StrEnum):
    GRANT = "grant"
    LOAN = "loan"
    TECHNICAL_ASSISTANCE = "technical_assistance"
    KNOWLEDGE_EXCHANGE = "knowledge_exchange"
    IN_KIND = "in_kind"


class Line(StrEnum):
    SOCIAL_INCLUSION = "social_inclusion"
    ECONOMIC_DEVELOPMENT = "economic_development"
    SUSTAINABLE_TERRITORY = "sustainable_territory"
    HUMAN_DEVELOPMENT = "human_development"
    GOVERNANCE_PEACE = "governance_peace"


class Currency(StrEnum):
    COP = "COP"
    USD = "USD"
    EUR = "EUR"


class OfferStatus(StrEnum):
    SUBMITTED = "submitted"
    PUBLISHED = "published"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"
    REJECTED = "rejected"


class OfferSource(StrEnum):
    """Where an offer came from: a channel of people (form, api, import, manual: typed in by
    staff) or a feed (the FeedKind values)."""

    FORM = "form"
    API = "api"
    IMPORT = "import"
    MANUAL = "manual"
    IATI = "iati"
    EU_FT = "eu_ft"
    GRANTS_GOV = "grants_gov"
    WORLD_BANK = "world_bank"


class FeedKind(StrEnum):
    """The external sources a feed reads (services.feeds.KINDS)."""

    IATI = "iati"
    EU_FT = "eu_ft"
    GRANTS_GOV = "grants_gov"
    WORLD_BANK = "world_bank"


class FeedRunState(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    NOT_MODIFIED = "not_modified"  # the source answered 304: nothing read
    FAILED = "failed"


class MappingState(StrEnum):
    """An organisation reference's mapping to an ally: suggested by the importer, then decided
    by staff."""

    SUGGESTED = "suggested"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"


class ProjectStage(StrEnum):
    IDEA = "idea"
    FORMULATION = "formulation"
    READY = "ready"
    EXECUTION = "execution"


class ProjectStatus(StrEnum):
    OPEN = "open"
    ON_HOLD = "on_hold"
    CLOSED = "closed"


class MatchStatus(StrEnum):
    PROPOSED = "proposed"
    SHORTLISTED = "shortlisted"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class AllianceStage(StrEnum):
    NEGOTIATING = "negotiating"
    FORMALISED = "formalised"
    IN_EXECUTION = "in_execution"
    CLOSED = "closed"
    DROPPED = "dropped"


class Role(StrEnum):
    ADMIN = "admin"
    STAFF = "staff"
    PARTNER = "partner"


class Language(StrEnum):
    ES = "es"
    EN = "en"


SDGS = tuple(range(1, 18))


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"


class IndexState(StrEnum):
    """Where a fitted matcher index stands: being fitted, on disk for every worker, or pruned."""

    FITTING = "fitting"
    READY = "ready"
    PRUNED = "pruned"


class ScoringState(StrEnum):
    """Where an offer or project stands with the matcher, shown by the API."""

    NOT_SCORED = "not_scored"  # not open or not published: nothing to score
    WAITING = "waiting"  # saved; its scoring task is not yet with the broker
    QUEUED = "queued"  # with the broker
    SCORED = "scored"
    FAILED = "failed"


class ExtractionState(StrEnum):
    """Where a call document's text extraction stands."""

    PENDING = "pending"  # stored; its extraction task waits or runs
    DONE = "done"
    FAILED = "failed"  # the file is kept; extraction_error says why


class RankerRunState(StrEnum):
    """Where a retrain of the learned ranker stands."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"  # compared: adopted or refused (ranker_runs.adopted)
    FAILED = "failed"


class RankerTrigger(StrEnum):
    """Who asked for a retrain: the weekly schedule or an admin's button."""

    WEEKLY = "weekly"
    ADMIN = "admin"
