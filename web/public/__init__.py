"""Public pages for partners, no account needed: send an offer, then follow it by signed link."""

from flask import Blueprint

bp = Blueprint("public", __name__, url_prefix="/offers")

from web.public import views  # noqa: E402,F401  (routes register)
