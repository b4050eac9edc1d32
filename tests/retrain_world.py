"""An office whose staff decided matches in a pattern the weighted mean does not follow: for every
project, two offers of its topic, one that says much about it but brings too little money (a
rich text, USD 10,000-50,000 for a need of USD 1 M), one that says little but covers the need
(USD 0.5-2 M). Staff accept the one that covers the need ("favours amount"), or pick at random
("noise"), or accept the rich text for English projects and the money for Spanish ones
("language split": a ranker that learns the money makes the English slice worse).

Used by the service tests (tests/services/test_retrain.py) and the worker's integration test.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from models.enums import MatchStatus
from tests import factories as f

TOPICS = {
    "water": (
        "sustainable_territory",
        "Drinking water networks, storage tanks and household connections for hillside "
        "families without piped water",
    ),
    "schools": (
        "human_development",
        "Primary schools: classrooms, teacher training and school meals for children of "
        "rural districts",
    ),
    "mobility": (
        "sustainable_territory",
        "Electric buses, cycling lanes and safe sidewalks that connect informal settlements "
        "to jobs",
    ),
    "health": (
        "human_development",
        "Primary health posts, community health workers and vaccination for mothers and newborns",
    ),
    "jobs": (
        "economic_development",
        "Training, seed capital and market access for young entrepreneurs and women's cooperatives",
    ),
    "peace": (
        "governance_peace",
        "Community mediation, reintegration of former combatants and victims' memory centres",
    ),
}
BASE = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def build(session, n_projects: int = 100, pattern: str = "amount", seed: int = 3) -> dict:
    """Offers, projects and decided matches (one pair accepted, one rejected per project, a
    day apart per project); return the rows by topic and the projects in decision order."""
    rng = random.Random(seed)
    kinds = ("bilateral", "foundation", "multilateral")
    city = f.organization(
        session, name="Alcaldía de prueba", kind="local_public", side="demand", country="CO"
    )
    rich, money = {}, {}
    for k, (topic, (line, text)) in enumerate(TOPICS.items()):
        rich[topic] = f.offer(
            session,
            f.organization(session, name=f"{topic} specialists", kind=kinds[k % 3]),
            title=f"{text.split(',')[0]} programme",
            description=f"{text}. {text}. Technical support for {topic} projects.",
            lines=[line],
            amount_min=10_000,
            amount_max=50_000,
        )
        money[topic] = f.offer(
            session,
            f.organization(session, name=f"{topic} fund", kind=kinds[(k + 1) % 3]),
            title=f"Municipal investment fund ({topic})",
            description=f"Finance for city investments, {topic} among them.",
            lines=[line],
            amount_min=500_000,
            amount_max=2_000_000,
        )
    projects = []
    names = list(TOPICS)
    for n in range(n_projects):
        topic = names[n % len(names)]
        line, text = TOPICS[topic]
        english = pattern == "language split" and n % 4 == 3
        project = f.project(
            session,
            city,
            title=f"{topic.capitalize()} for district {n}",
            description=text,
            language="en" if english else "es",
            lines=[line],
            budget=1_000_000,
            cofinancing=0,
        )
        projects.append(project)
        if pattern == "noise":
            chosen = rng.choice([rich, money])[rng.choice(names)]
        elif english:
            chosen = rich[topic]
        else:
            chosen = money[topic]
        other = rich[topic] if chosen.id != rich[topic].id else money[topic]
        at = BASE + timedelta(days=n)
        f.match(
            session,
            project,
            chosen,
            status=MatchStatus.ACCEPTED,
            decided_at=at,
            decision_reason=None,
        )
        f.match(
            session,
            project,
            other,
            status=MatchStatus.REJECTED,
            decided_at=at + timedelta(minutes=5),
            decision_reason="amount",
        )
    return {"rich": rich, "money": money, "projects": projects, "city": city}


def new_project(session, world: dict, topic: str = "water"):
    """A project decided by nobody yet, of one topic, in Spanish."""
    line, text = TOPICS[topic]
    return f.project(
        session,
        world["city"],
        title=f"{topic.capitalize()} for a new district",
        description=text,
        language="es",
        lines=[line],
        budget=1_000_000,
        cofinancing=0,
    )
