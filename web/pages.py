"""Pages every signed-in person shares: the home page and the HTML error pages."""

from __future__ import annotations

from flask import Flask, redirect, render_template, url_for
from flask_login import current_user, login_required

# Where each role lands after signing in; blueprints replace these with their own pages.
HOME_ENDPOINTS = {"admin": "staff.queue", "staff": "staff.queue", "partner": "partners.home"}


def register(app: Flask) -> None:
    @app.get("/")
    @login_required
    def home():
        endpoint = HOME_ENDPOINTS.get(str(current_user.role))
        if endpoint and endpoint in app.view_functions:
            return redirect(url_for(endpoint))
        return render_template("home.html")
