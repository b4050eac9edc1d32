"""The saved-searches blueprint: a person's saved searches, and the links emails carry."""

from flask import Blueprint

bp = Blueprint("searches", __name__, url_prefix="/searches")
