"""A small world for digest tests: two allies, four projects, matches and five subscribers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from models import Match, Offer, Project, User
from models.digests import Subscription
from services import user_admin
from services.digest import subscriptions as digest_subs
from tests import factories as f

NOW = datetime.now(UTC).replace(microsecond=0)
WEEK = timedelta(days=7)


def explanation(es: str, en: str) -> dict:
    return {
        "terms": ["agua"],
        "concepts": ["water"],
        "es": [es, "Otra razón."],
        "en": [en, "Another reason."],
    }


@dataclass
class World:
    offers: dict[str, Offer]
    projects: dict[str, Project]
    matches: dict[str, Match]
    users: dict[str, User]
    subs: dict[str, Subscription]


def user(
    session,
    email: str,
    role: str = "staff",
    language: str = "es",
    organization_id: int | None = None,
    password: str | None = None,
) -> User:
    """A user; without a password (hashing is slow) unless the test signs in."""
    return user_admin.create_user(
        session, email, role, password, language=language, organization_id=organization_id
    )


def seed(session, now: datetime = NOW) -> World:
    """Matches created two days before `now`; subscribers who subscribed ten days before."""
    city = f.organization(
        session, name="Alcaldía de Prueba", kind="local_public", side="demand", country="CO"
    )
    ally_a = f.organization(session, name="Water Fund", kind="foundation")
    ally_b = f.organization(session, name="Jobs Bank", kind="multilateral")
    offers = {
        "a_water": f.offer(session, ally_a, title="Drinking water grants"),
        "a_school": f.offer(
            session, ally_a, title="Early childhood programme", lines=["human_development"]
        ),
        "b_jobs": f.offer(
            session,
            ally_b,
            title="Youth employment loans",
            lines=["economic_development"],
            modalities=["loan"],
        ),
    }
    projects = {
        "water": f.project(session, city, title="Agua para barrios de ladera"),
        "school": f.project(
            session, city, title="Primera infancia en comunas", lines=["human_development"]
        ),
        "jobs": f.project(session, city, title="Empleo joven", lines=["economic_development"]),
        "closed": f.project(session, city, title="Proyecto cerrado", status="closed"),
    }
    created = now - timedelta(days=2)
    matches = {
        "water": f.match(
            session,
            projects["water"],
            offers["a_water"],
            score=0.82,
            created_at=created,
            explanation=explanation(
                "Ambos tratan de agua potable.", "Both are about drinking water."
            ),
        ),
        "school": f.match(
            session,
            projects["school"],
            offers["a_school"],
            score=0.64,
            created_at=created,
            explanation=explanation("Primera infancia en ambos.", "Early childhood in both."),
        ),
        "jobs": f.match(
            session,
            projects["jobs"],
            offers["b_jobs"],
            score=0.45,
            created_at=created,
            explanation=explanation("Empleo juvenil.", "Youth employment."),
        ),
        "withdrawn": f.match(
            session,
            projects["water"],
            offers["b_jobs"],
            score=0.9,
            created_at=created,
            status="withdrawn",
        ),
        "closed": f.match(
            session, projects["closed"], offers["a_water"], score=0.7, created_at=created
        ),
    }
    people = {
        "ana": user(session, "ana@agency.example", language="es"),
        "bob": user(session, "bob@agency.example", language="en"),
        "paused": user(session, "paused@agency.example"),
        "partner_a": user(session, "partner-a@ally.example", "partner", "en", ally_a.id),
        "partner_b": user(session, "partner-b@ally.example", "partner", "es", ally_b.id),
    }
    joined = now - timedelta(days=10)
    subs = {
        "ana": digest_subs.save_subscription(
            session, people["ana"], min_score=0.5, language="es", now=joined
        ),
        "bob": digest_subs.save_subscription(
            session, people["bob"], lines=["human_development"], language="en", now=joined
        ),
        "paused": digest_subs.save_subscription(
            session, people["paused"], status="paused", now=joined
        ),
    }
    digest_subs.ensure_partner_subscriptions(session, now=joined)
    for name in ("partner_a", "partner_b"):
        subs[name] = digest_subs.subscription_of(session, people[name])
    return World(offers, projects, matches, people, subs)
