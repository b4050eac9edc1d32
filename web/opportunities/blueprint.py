"""The opportunities blueprint: the public list of open offers, each offer's page, the feed."""

from flask import Blueprint

# Routes name their whole path: the feed, /opportunities.atom, sits beside /opportunities.
bp = Blueprint("opportunities", __name__)
