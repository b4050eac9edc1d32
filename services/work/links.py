"""The staff pages the work emails link to (reminders, mentions), on COOPMATCH_BASE_URL.

A worker writes these emails without the web app; tests/web/test_work_pages.py checks that
each path opens the page it names (like services.digest.links)."""

from __future__ import annotations

from config import Settings
from services.digest import links

PROJECT = "/staff/projects/{item_id}"
MATCH = "/staff/matches/{item_id}"
ALLIANCE = "/staff/alliances/{item_id}"
MINE = "/staff/mine"
SUBJECT = {"project": PROJECT, "match": MATCH, "alliance": ALLIANCE}


def subject_url(settings: Settings, kind: str, item_id: int, note_id: int | None = None) -> str:
    """The page of a project, match or alliance; at one note of its thread when given."""
    anchor = f"#note-{note_id}" if note_id is not None else ""
    return links.url(settings, SUBJECT[kind], item_id=item_id) + anchor


def mine_url(settings: Settings) -> str:
    return links.url(settings, MINE)
