"""The staff workspace: review queue, project and offer pages, moderation, alliances,
dashboard and (for administrators) user management. Server-rendered, in Spanish and English.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app
from flask_login import current_user

from web import nav

bp = Blueprint("staff", __name__, url_prefix="/staff")


@bp.before_request
def _staff_only():
    """Signed-out people go to the sign-in page; partners get 403 on every staff page."""
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    if not current_user.is_staff:
        abort(403)
    return None


@bp.context_processor
def _helpers():
    from web.staff import present

    return present.HELPERS


nav.register("staff.queue", "Review queue", roles=("admin", "staff"), order=10)
nav.register("staff.moderation", "Moderation", roles=("admin", "staff"), order=20)
nav.register("staff.alliances", "Alliances", roles=("admin", "staff"), order=30)
nav.register("staff.dashboard", "Dashboard", roles=("admin", "staff"), order=40)
nav.register("staff.jobs", "Jobs", roles=("admin", "staff"), order=80)
nav.register("staff.users", "Users", roles=("admin",), order=90)

from web.staff import (  # noqa: E402,F401  (routes register on import)
    alliance_views,
    dashboard_views,
    item_views,
    job_views,
    queue_views,
    user_views,
)
