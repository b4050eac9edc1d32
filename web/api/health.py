"""/healthz: is the database reachable, and the broker.

Anyone may ask (load balancers do); the answer is the status and an ok flag per part. What
went wrong (driver messages, addresses, role names) goes to the log, and to signed-in staff.
"""

import logging

from flask import jsonify
from flask_login import current_user

from services import health
from web.db import db_session, runtime

log = logging.getLogger(__name__)


def healthz():
    report = {
        "database": health.check_database(db_session()),
        "broker": health.check_broker(runtime().settings),
    }
    ok = all(part["ok"] for part in report.values())
    if not ok:
        log.error("health check failed: %s", report)
    shown = {name: {"ok": part["ok"]} for name, part in report.items()}
    if getattr(current_user, "is_staff", False):
        shown = report
    return jsonify({"status": "ok" if ok else "degraded", **shown}), 200 if ok else 503
