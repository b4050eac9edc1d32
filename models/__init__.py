"""SQLAlchemy models of CoopMatch; importing this package registers every table on Base."""

from models.audit import AuditEvent
from models.base import Base
from models.digests import DigestMatchMark, DigestSend, Subscription
from models.documents import Document
from models.feeds import ActivityFunder, AllyActivity, Feed, FeedRun, OrgMapping
from models.index_versions import IndexVersion, RebuildChunk
from models.jobs import Job, Lock, OutboxMessage
from models.matches import Alliance, Match
from models.neighbours import OfferNeighbours
from models.offers import Offer
from models.organizations import Organization
from models.projects import Project
from models.ranker_runs import RankerRun
from models.searches import SavedSearch, SavedSearchSend
from models.users import ApiToken, User
from models.work import DeadlineReminder, Note, NoteMention

__all__ = [
    "ActivityFunder",
    "AllyActivity",
    "Feed",
    "FeedRun",
    "OrgMapping",
    "Alliance",
    "ApiToken",
    "Base",
    "IndexVersion",
    "Job",
    "Lock",
    "Match",
    "Offer",
    "OfferNeighbours",
    "Organization",
    "OutboxMessage",
    "Project",
    "RankerRun",
    "RebuildChunk",
    "SavedSearch",
    "SavedSearchSend",
    "User",
    "AuditEvent",
    "DeadlineReminder",
    "Note",
    "NoteMention",
    "DigestMatchMark",
    "Document",
    "DigestSend",
    "Subscription",
]
