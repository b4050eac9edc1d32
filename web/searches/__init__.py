"""Saved searches: a signed-in person's list, email confirmation and one-click unsubscribe."""

from flask_babel import lazy_gettext as _l

from web.nav import NavItem
from web.searches import views  # noqa: F401  (routes register)
from web.searches.blueprint import bp

__all__ = ["NAV", "bp"]

NAV = (
    NavItem("searches.index", _l("Saved searches"), roles=("admin", "staff", "partner"), order=85),
)
