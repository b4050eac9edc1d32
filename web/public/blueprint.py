"""The public blueprint: pages for partners with no account, under /offers."""

from flask import Blueprint

bp = Blueprint("public", __name__, url_prefix="/offers")
