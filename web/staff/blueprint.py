"""The staff blueprint: every page under /staff is for signed-in staff and administrators."""

from __future__ import annotations

from flask import Blueprint, abort, current_app
from flask_login import current_user

from web.staff import present

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
    return present.HELPERS
