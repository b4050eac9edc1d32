"""Load the bundled demo data set (data/demo.json): idempotent by each row's `ref`."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from models import Alliance, ApiToken, Match, Offer, Organization, Project
from models.enums import MatchStatus
from services import credentials, user_admin
from services.db import committing
from services.errors import Invalid

DEFAULT_DEMO_PATH = Path(__file__).resolve().parent.parent / "data" / "demo.json"
HISTORICAL_VERSION = "historical"
SHIFTED_DATES = ("opens_on", "deadline", "starts_on", "ends_on")


def _date(value: str | None, shift: timedelta = timedelta(0)) -> date | None:
    return date.fromisoformat(value) + shift if value else None


def _by_ref(session: Session, model: type) -> dict[str, int]:
    return dict(session.execute(sa.select(model.ref, model.id).where(model.ref.is_not(None))).all())


def load(
    session: Session,
    path: Path = DEFAULT_DEMO_PATH,
    *,
    if_empty: bool = False,
    today: date,
) -> dict[str, int]:
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
    shift = today - date.fromisoformat(data.get("anchor_date", "2026-11-26"))
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
        found = session.scalar(
            sa.select(Match.id).where(Match.project_id == pair[0], Match.offer_id == pair[1])
        )
        if found:
            continue
        started = _date(row["started_on"])
        match = Match(
            project_id=pair[0],
            offer_id=pair[1],
            score=0.0,
            components={},
            status=MatchStatus.ACCEPTED,
            matcher_version=HISTORICAL_VERSION,
            decision_reason="Alliance recorded before CoopMatch",
            decided_at=datetime.combine(started, datetime.min.time()),
        )
        session.add(match)
        session.flush()
        session.add(
            Alliance(
                match_id=match.id,
                stage=row["stage"],
                amount=row["amount"],
                currency=row["currency"],
                usd_rate=row["usd_rate"],
                started_on=started,
                formalised_on=_date(row.get("formalised_on")),
                ended_on=_date(row.get("ended_on")),
            )
        )
        added += 1
    return added


DEMO_PASSWORD = "coopmatch-demo"
DEMO_TOKEN = "cm_demo_staff_token_for_local_use_only"
DEMO_ACCOUNTS = (
    ("admin@coopmatch.example", "admin", "Demo Admin"),
    ("staff@coopmatch.example", "staff", "Demo Staff"),
    ("partner@coopmatch.example", "partner", "Demo Partner"),
)


def ensure_accounts(session: Session) -> list[tuple[str, str]]:
    """Create the demo sign-ins and the demo staff API token if missing; return (email, role).

    Only for the embedded default: the password and token are printed in the README.
    """
    partner_org = session.scalar(
        sa.select(Organization.id)
        .where(Organization.side == "supply")
        .order_by(Organization.id)
        .limit(1)
    )
    made = []
    for email, role, name in DEMO_ACCOUNTS:
        if role == "partner" and partner_org is None:
            continue
        if user_admin.find_user(session, email) is None:
            user_admin.create_user(
                session,
                email,
                role,
                DEMO_PASSWORD,
                name=name,
                language="es",
                organization_id=partner_org if role == "partner" else None,
            )
        made.append((email, role))
    digest = credentials.hash_token(DEMO_TOKEN)
    if session.scalar(sa.select(ApiToken.id).where(ApiToken.token_hash == digest)) is None:
        staff = user_admin.find_user(session, "staff@coopmatch.example")
        with committing(session):
            session.add(
                ApiToken(user_id=staff.id, name="demo", prefix=DEMO_TOKEN[:10], token_hash=digest)
            )
    return made
