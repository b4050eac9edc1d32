"""The office's alliances (and, if asked, its projects) as an IATI 2.03 activities file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from config import Settings
from models import Alliance, Match, Offer, OrgMapping, Project
from models.enums import MappingState, ProjectStatus
from services.feeds.iati_export import (
    Commitment,
    ExportActivity,
    ExportFunder,
    ReportingOrg,
    write_iati_activities,
)


def _refs(session: Session) -> dict[int, str]:
    """Each ally's IATI organisation reference, from the confirmed mappings."""
    rows = session.execute(
        sa.select(OrgMapping.organization_id, OrgMapping.ref)
        .where(OrgMapping.state == MappingState.CONFIRMED)
        .where(OrgMapping.organization_id.is_not(None))
        .order_by(OrgMapping.id)
    )
    refs: dict[int, str] = {}
    for org_id, ref in rows:
        refs.setdefault(org_id, ref)
    return refs


def _alliances(session: Session, settings: Settings) -> Iterator[ExportActivity]:
    refs = _refs(session)
    rows = session.execute(
        sa.select(Alliance, Project, Offer)
        .join(Match, Alliance.match_id == Match.id)
        .join(Project, Match.project_id == Project.id)
        .join(Offer, Match.offer_id == Offer.id)
        .order_by(Alliance.id)
    )
    for alliance, project, offer in rows:
        ally = offer.organization
        funder = ExportFunder(name=ally.name, ref=refs.get(ally.id), kind=str(ally.kind))
        commitments = ()
        if alliance.amount and alliance.amount > 0:
            commitments = (
                Commitment(
                    funder,
                    alliance.amount,
                    alliance.currency,
                    alliance.formalised_on or alliance.started_on,
                ),
            )
        yield ExportActivity(
            own_id=f"alliance-{alliance.id}",
            title=project.title,
            stage=str(alliance.stage),
            funders=(funder,),
            description=project.description,
            lang=project.language,
            lines=tuple(project.lines or ()),
            sdgs=tuple(project.sdgs or ()),
            commitments=commitments,
            start=alliance.started_on,
            end=alliance.ended_on,
            recipient_country=settings.agency_country,
            last_updated=alliance.updated_at,
        )


def _projects(session: Session, settings: Settings) -> Iterator[ExportActivity]:
    allied = sa.select(Match.project_id).join(Alliance, Alliance.match_id == Match.id)
    rows = session.scalars(
        sa.select(Project)
        .where(Project.status != ProjectStatus.CLOSED)
        .where(Project.id.not_in(allied))
        .order_by(Project.id)
    )
    for project in rows:
        yield ExportActivity(
            own_id=f"project-{project.id}",
            title=project.title,
            stage=str(project.stage),
            description=project.description,
            lang=project.language,
            lines=tuple(project.lines or ()),
            sdgs=tuple(project.sdgs or ()),
            start=project.starts_on,
            end=project.ends_on,
            recipient_country=settings.agency_country,
            last_updated=project.updated_at,
        )


def export_iati(
    session: Session, path: str | Path, settings: Settings, projects: bool = False
) -> int:
    """Write the alliances (and open projects without one) to `path`; return how many.

    Raises ValueError when there is nothing to export.
    """
    items: Iterator[ExportActivity] = _alliances(session, settings)
    if projects:
        items = (x for source in (items, _projects(session, settings)) for x in source)
    reporting = ReportingOrg(ref=settings.iati_org_id, name=settings.agency_name)
    return write_iati_activities(path, items, reporting)
