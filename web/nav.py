"""The navigation bar: each blueprint declares its entries (`NAV`) with the roles that see them,
and create_app hands them to `init_app`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flask import Flask, current_app
from flask_login import current_user

EXTENSION = "coopmatch.nav"
STAFF_ROLES = ("admin", "staff")
EVERYONE = (None, "admin", "staff", "partner")  # None: signed out


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: object  # a lazily translated string (flask_babel.lazy_gettext)
    roles: tuple[str | None, ...] = STAFF_ROLES
    order: int = 50


def init_app(app: Flask, items: Iterable[NavItem]) -> None:
    """Show `items` in the navigation bar of `app`'s pages, to the roles each names."""
    app.extensions[EXTENSION] = sorted(items, key=lambda item: item.order)
    app.context_processor(_nav)


def _nav() -> dict:
    role = str(current_user.role) if current_user.is_authenticated else None
    items = [
        item
        for item in current_app.extensions[EXTENSION]
        if role in item.roles and item.endpoint in current_app.view_functions
    ]
    return {"nav_items": items}
