"""Organisation references of the sources mapped to allies (organisations on the supply side).

A reference an import meets for the first time is *suggested*: with the ally whose ref or name
is the same, when there is one, else with none. Staff confirm (choosing the ally) or reject it.
Only confirmed mappings join activities to an ally's record. A call's funder that no ally
matches becomes a new ally, its mapping confirmed, since the offer must belong to someone.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from models import Organization, OrgMapping
from models.enums import FeedKind, MappingState, OrgKind, Side
from services.db import committing, fetch
from services.errors import Invalid
from services.feeds import OrgRef

# IATI OrganisationType codes (https://iatistandard.org/en/iati-standard/203/codelists/organisationtype/)
# to ally kinds.
ORG_TYPE_KINDS = {
    "10": OrgKind.BILATERAL,
    "11": OrgKind.LOCAL_PUBLIC,
    "15": OrgKind.BILATERAL,
    "21": OrgKind.NGO,
    "22": OrgKind.NGO,
    "23": OrgKind.NGO,
    "24": OrgKind.NGO,
    "30": OrgKind.MULTILATERAL,
    "40": OrgKind.MULTILATERAL,
    "60": OrgKind.FOUNDATION,
    "70": OrgKind.COMPANY,
    "71": OrgKind.COMPANY,
    "72": OrgKind.COMPANY,
    "73": OrgKind.COMPANY,
    "80": OrgKind.UNIVERSITY,
}
# A source's funders when the record names none, and the kind and country of a new ally.
SOURCE_FUNDERS: dict[str, tuple[str, str, OrgKind, str]] = {
    FeedKind.EU_FT: ("XI-IATI-EC", "European Commission", OrgKind.MULTILATERAL, "BE"),
    FeedKind.GRANTS_GOV: ("US-GOV", "United States federal government", OrgKind.BILATERAL, "US"),
    FeedKind.IATI: ("", "IATI publisher", OrgKind.MULTILATERAL, "XX"),
    FeedKind.WORLD_BANK: ("44000", "World Bank", OrgKind.MULTILATERAL, "US"),
}
NAME_MAX = 200


def _same_name(session: Session, name: str | None) -> Organization | None:
    if not name:
        return None
    return session.scalar(
        sa.select(Organization)
        .where(sa.func.lower(Organization.name) == name.strip().lower())
        .where(Organization.side == Side.SUPPLY)
        .limit(1)
    )


def _candidate(session: Session, ref: str, name: str | None) -> Organization | None:
    by_ref = session.scalar(
        sa.select(Organization).where(Organization.ref == ref, Organization.side == Side.SUPPLY)
    )
    return by_ref or _same_name(session, name)


def mapping(session: Session, ref: str) -> OrgMapping | None:
    """The mapping of `ref`, if it has been met."""
    return session.scalar(sa.select(OrgMapping).where(OrgMapping.ref == ref))


def suggest(session: Session, ref: str, name: str | None) -> OrgMapping:
    """Within the caller's transaction, the mapping of `ref`, suggested now if it is new."""
    found = mapping(session, ref)
    if found is not None:
        if found.name is None and name:
            found.name = name[:300]
        return found
    candidate = _candidate(session, ref, name)
    found = OrgMapping(
        ref=ref,
        name=(name or None) and name[:300],
        organization_id=candidate.id if candidate else None,
        state=MappingState.SUGGESTED,
    )
    session.add(found)
    session.flush()
    return found


def funder_of(session: Session, kind: str, funder: OrgRef | None) -> Organization:
    """Within the caller's transaction, the ally a call of `kind` by `funder` belongs to.

    A confirmed mapping of the funder's ref decides; else an ally of the same name (the mapping
    is suggested, so staff see it); else a new ally, named as the source names it.
    """
    default_ref, default_name, default_kind, country = SOURCE_FUNDERS[kind]
    ref = (funder.ref if funder else None) or default_ref or None
    name = (funder.name if funder else None) or default_name
    known = mapping(session, ref) if ref else None
    if known is not None and known.state == MappingState.CONFIRMED and known.organization:
        return known.organization
    org = _candidate(session, ref, name) if ref else _same_name(session, name)
    state = MappingState.SUGGESTED  # an ally of the same name: staff confirm it is the one
    if org is None:
        kind_of = ORG_TYPE_KINDS.get((funder.type if funder else None) or "", default_kind)
        org = Organization(name=name[:NAME_MAX], kind=kind_of, side=Side.SUPPLY, country=country)
        session.add(org)
        session.flush()
        state = MappingState.CONFIRMED  # made from this very reference
    if ref and known is None:
        session.add(OrgMapping(ref=ref, name=name[:300], organization_id=org.id, state=state))
        session.flush()
    return org


def decide(
    session: Session, mapping_id: int, confirm: bool, organization_id: int | None = None
) -> OrgMapping:
    """Confirm (with `organization_id`, or the suggested ally) or reject a mapping; commits."""
    found = fetch(session, OrgMapping, mapping_id, "mapping")
    with committing(session):
        if not confirm:
            found.state = MappingState.REJECTED
            return found
        target = organization_id or found.organization_id
        if target is None:
            raise Invalid(
                "choose the ally this reference names",
                {"organization_id": ["Choose an ally."]},
            )
        org = session.get(Organization, target)
        if org is None or org.side != Side.SUPPLY:
            raise Invalid(
                "unknown ally", {"organization_id": [f"No ally {target} on the supply side."]}
            )
        found.organization_id = org.id
        found.state = MappingState.CONFIRMED
    return found


def pending(session: Session) -> list[OrgMapping]:
    """Suggested mappings, for staff to decide, by reference."""
    return list(
        session.scalars(
            sa.select(OrgMapping)
            .where(OrgMapping.state == MappingState.SUGGESTED)
            .order_by(OrgMapping.ref)
        )
    )


def all_mappings(session: Session) -> list[OrgMapping]:
    """Every mapping, by reference."""
    return list(session.scalars(sa.select(OrgMapping).order_by(OrgMapping.ref)))
