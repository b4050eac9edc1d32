"""The calendar blueprint: no sign-in (calendar programs cannot); the signed token is the key."""

from flask import Blueprint

bp = Blueprint("calendars", __name__)
