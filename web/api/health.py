"""/healthz: is the database reachable, and the broker."""

from flask import jsonify

from services import health
from web.db import db_session, runtime


def healthz():
    settings = runtime().settings
    report = {
        "database": health.check_database(db_session()),
        "broker": health.check_broker(settings),
    }
    ok = all(part["ok"] for part in report.values())
    return jsonify({"status": "ok" if ok else "degraded", **report}), 200 if ok else 503
