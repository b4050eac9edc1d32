"""The opportunities blueprint: the public list of open offers, each offer's page, the feed."""

from flask import Blueprint

bp = Blueprint("opportunities", __name__, url_prefix="/opportunities")
