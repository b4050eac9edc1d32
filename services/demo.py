"""Load the bundled demo data set (data/demo.json): idempotent by each row's `ref`."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from models import Alliance, Match, Offer, Organization, Project
from models.enums import MatchStatus
from services.db import committing
from services.errors import Invalid

DEFAULT_DEMO_PATH = Path(__file__).resolve().parent.parent / "data" / "demo.json"
HISTORICAL_VERSION = "historical"
SHIFTED_DATES = ("opens_on", "deadline", "starts_on", "ends_on")


def _date(value: str | None, shift: timedelta = timedelta(0)) -> date | None:
    return date.fromisoformat(value) + shift if value else None


def _by_ref(session: Session, model: type) -> dict[str, int]:
    return dict(session.execute(sa.select(model.ref, model.id).where(model.ref.is_not(None))).all())


def load(session: Session, path: Path = DEFAULT_DEMO_PATH, *, if_empty: bool = False,
         today: date | None = None) -> dict[str, int]:
    """Insert the demo rows that are not there yet; return how many of each were added.

    Offer and project dates are shifted by (today - anchor_date) so deadlines stay as near
    as when the set was written; alliance dates are history and stay as written.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise Invalid(f"cannot read demo data {path}: {exc}") from None
    counts = {"organizations": 0, "offers": 0, "projects": 0, "alliances": 0}
    if if_empty and session.scalar(sa.select(sa.func.count()).select_from(Offer)):
        return counts
    shift = (today or date.today()) - date.fromisoformat(data.get("anchor_date", "2026-11-26"))
    with committing(session):
        orgs = _by_ref(session, Organization)
        for row in data["organizations"]:
            if row["ref"] not in orgs:
                org = Organization(**row)
                session.add(org)
                session.flush()
                orgs[org.ref] = org.id
                counts["organizations"] += 1
        for model, key in ((Offer, "offers"), (Project, "projects")):
            existing = _by_ref(session, model)
            for row in data[key]:
                if row["ref"] in existing:
                    continue
                values = {k: v for k, v in row.items() if k != "organization"}
                values["organization_id"] = orgs[row["organization"]]
                for name in SHIFTED_DATES:
                    if name in values:
                        values[name] = _date(values[name], shift)
                session.add(model(**values))
                counts[key] += 1
        session.flush()
        counts["alliances"] = _load_alliances(session, data.get("alliances", []))
    return counts


def _load_alliances(session: Session, rows: list[dict]) -> int:
    offers, projects = _by_ref(session, Offer), _by_ref(session, Project)
    added = 0
    for row in rows:
        pair = (projects[row["project"]], offers[row["offer"]])
        found = session.scalar(sa.select(Match.id).where(Match.project_id == pair[0],
                                                         Match.offer_id == pair[1]))
        if found:
            continue
        started = _date(row["started_on"])
        match = Match(project_id=pair[0], offer_id=pair[1], score=0.0, components={},
                      status=MatchStatus.ACCEPTED, matcher_version=HISTORICAL_VERSION,
                      decision_reason="Alliance recorded before CoopMatch",
                      decided_at=datetime.combine(started, datetime.min.time()))
        session.add(match)
        session.flush()
        session.add(Alliance(match_id=match.id, stage=row["stage"], amount=row["amount"],
                             currency=row["currency"], usd_rate=row["usd_rate"],
                             started_on=started, formalised_on=_date(row.get("formalised_on")),
                             ended_on=_date(row.get("ended_on"))))
        added += 1
    return added
