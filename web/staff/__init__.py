"""The staff workspace: review queue, project and offer pages, moderation, alliances,
dashboard, the suggestions' quality and (for administrators) user management. Server-rendered,
in Spanish and English.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from web.nav import NavItem
from web.staff import (  # noqa: F401  (routes register on import)
    alliance_views,
    dashboard_views,
    document_views,
    feed_views,
    item_views,
    job_views,
    quality_actions,
    quality_views,
    queue_views,
    user_views,
    work_views,
)
from web.staff.blueprint import bp

__all__ = ["NAV", "bp"]

NAV = (
    NavItem("staff.mine_page", _l("My work"), order=5),
    NavItem("staff.queue", _l("Review queue"), order=10),
    NavItem("staff.moderation", _l("Moderation"), order=20),
    NavItem("staff.alliances", _l("Alliances"), order=30),
    NavItem("staff.dashboard", _l("Dashboard"), order=40),
    NavItem("staff.quality", _l("Suggestion quality"), order=45),
    NavItem("staff.feeds", _l("Feeds"), order=70),
    NavItem("staff.jobs", _l("Jobs"), order=80),
    NavItem("staff.users", _l("Users"), roles=("admin",), order=90),
)
