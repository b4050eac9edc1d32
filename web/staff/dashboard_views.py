"""The dashboard of what cooperation mobilised, with each chart's numbers as CSV."""

from __future__ import annotations

import io

from flask import Response, abort, render_template
from flask_babel import format_currency, format_decimal
from flask_babel import gettext as _

from services import csv_cells, reports
from web import vocabulary
from web.db import db_session
from web.staff import charts, common
from web.staff.blueprint import bp

KEY_LABELS = {"line": "line", "kind": "kind", "modality": "modality"}


def _label(chart: str, key: str) -> str:
    return key if chart == "year" else vocabulary.label(KEY_LABELS[chart], key)


def _short_usd(value: float) -> str:
    if value >= 1e6:
        return _("USD %(amount)s M", amount=format_decimal(value / 1e6, "#,##0.0"))
    return "USD " + format_decimal(value, "#,##0")


def _chart(name: str, bars: list[reports.Bar]) -> charts.Chart:
    rows = []
    for bar in bars:
        label = _label(name, bar.key)
        tooltip = _(
            "%(label)s: %(amount)s, %(projects)s projects",
            label=label,
            amount=format_currency(bar.usd, "USD"),
            projects=bar.projects,
        )
        rows.append((label, bar.usd, _short_usd(bar.usd), tooltip))
    return charts.horizontal(rows)


@bp.get("/dashboard")
def dashboard():
    session = db_session()
    data = {name: reports.chart(session, name, common.today()) for name in reports.CHARTS}
    drawn = {name: _chart(name, bars) for name, bars in data.items()}
    return render_template(
        "staff/dashboard.html",
        totals=reports.totals(session),
        data=data,
        charts=drawn,
        first_year=reports.FIRST_YEAR,
    )


@bp.get("/dashboard/<chart>.csv")
def dashboard_csv(chart: str):
    if chart not in reports.CHARTS:
        abort(404)
    bars = reports.chart(db_session(), chart, common.today())
    out = io.StringIO()
    writer = csv_cells.Writer(out)
    writer.writerow([chart, "label", "usd", "projects_impacted"])
    for bar in bars:
        writer.writerow([bar.key, _label(chart, bar.key), f"{bar.usd:.2f}", bar.projects])
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="coopmatch-mobilised-per-{chart}.csv"'
        },
    )
