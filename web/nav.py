"""The navigation bar: each blueprint registers its entries with the roles that see them."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask
from flask_babel import lazy_gettext
from flask_login import current_user


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: object  # a lazy translated string
    roles: tuple[str, ...]
    order: int = 50


_ITEMS: list[NavItem] = []


def register(endpoint: str, label: str, roles=("admin", "staff"), order: int = 50) -> None:
    """Add a navigation entry (`label` is translated when the page is drawn)."""
    if all(item.endpoint != endpoint for item in _ITEMS):
        _ITEMS.append(NavItem(endpoint, lazy_gettext(label), tuple(roles), order))


def init_app(app: Flask) -> None:
    @app.context_processor
    def _nav():
        role = str(current_user.role) if current_user.is_authenticated else None
        items = sorted(
            (i for i in _ITEMS if role in i.roles and i.endpoint in app.view_functions),
            key=lambda i: i.order,
        )
        return {"nav_items": items}
