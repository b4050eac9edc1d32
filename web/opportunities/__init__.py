"""The public opportunities page: open offers for anyone, searched and filtered, with a feed."""

from flask_babel import lazy_gettext as _l

from web.nav import EVERYONE, NavItem
from web.opportunities import views  # noqa: F401  (routes register)
from web.opportunities.blueprint import bp

__all__ = ["NAV", "bp"]

NAV = (NavItem("opportunities.index", _l("Opportunities"), roles=EVERYONE, order=5),)
