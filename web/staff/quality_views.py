"""How good the suggestions are: acceptance by score band (calibration), per line, per kind of
ally and per month, the model in use and the history of the ranker's retrains; CSV per chart."""

from __future__ import annotations

import io
from datetime import date

from flask import Response, abort, render_template, request
from flask_babel import format_date, format_decimal, format_percent
from flask_babel import gettext as _
from flask_login import current_user

from models.enums import Role
from services import clock, csv_cells, quality
from services.errors import Invalid
from web import vocabulary
from web.db import db_session
from web.staff import charts, common, run_reasons
from web.staff.blueprint import bp
from web.staff.present import score

PERIODS = {
    "90d": vocabulary.N_("Last 90 days"),
    "12m": vocabulary.N_("Last 12 months"),
    "all": vocabulary.N_("Since the beginning"),
}
CHART_TITLES = {
    "band": vocabulary.N_("Acceptance by score band"),
    "line": vocabulary.N_("Acceptance per thematic line"),
    "kind": vocabulary.N_("Acceptance per kind of ally"),
    "month": vocabulary.N_("Acceptance per month (last 12 months)"),
}
CSV_HEADER = ["decided", "accepted", "rejected", "acceptance_rate", "mean_score"]


def band_label(key: str) -> str:
    """'0.3–0.4' for the band whose lower bound is '0.3'."""
    lower = float(key)
    upper = lower + 1 / quality.BANDS
    return f"{format_decimal(lower, '0.0')}–{format_decimal(upper, '0.0')}"


def month_label(key: str) -> str:
    """'Nov 2026' for '2026-11', in the page's language."""
    year, month = (int(part) for part in key.split("-"))
    return format_date(date(year, month, 1), "MMM y")


def row_label(chart: str, key: str) -> str:
    if chart == "band":
        return band_label(key)
    if chart == "month":
        return month_label(key)
    return vocabulary.label(chart, key)


def _rate_text(row: quality.Rate) -> str:
    if not row.decided:
        return "—"
    return _("%(rate)s of %(n)s", rate=format_percent(row.rate), n=row.decided)


def _tooltip(label: str, row: quality.Rate) -> str:
    if not row.decided:
        return _("%(label)s: no decisions", label=label)
    return _(
        "%(label)s: %(accepted)s accepted of %(decided)s decided (%(rate)s), mean score %(score)s",
        label=label,
        accepted=row.accepted,
        decided=row.decided,
        rate=format_percent(row.rate),
        score=score(row.mean_score),
    )


def _bars(name: str, rows: list[quality.Rate]) -> charts.Chart:
    drawn = []
    for row in rows:
        label = row_label(name, row.key)
        drawn.append((label, row.rate or 0.0, _rate_text(row), _tooltip(label, row)))
    return charts.horizontal(drawn, top=1.0)


def _calibration(rows: list[quality.Rate]) -> charts.Plot:
    return charts.unit_plot(
        [
            (row.mean_score, row.rate, _tooltip(band_label(row.key), row))
            for row in rows
            if row.decided
        ]
    )


def _page(period: str | None, status: int = 200, error: str | None = None, report=None):
    session = db_session()
    drawn = {}
    if report is not None:
        drawn = {name: _bars(name, rows) for name, rows in report.charts.items()}
    runs = quality.history(session)
    return (
        render_template(
            "staff/quality.html",
            report=report,
            charts=drawn,
            calibration=_calibration(report.charts["band"]) if report else None,
            titles=CHART_TITLES,
            periods=PERIODS,
            period=period,
            error=error,
            in_use=quality.model_in_use(session),
            runs=runs,
            run_count=quality.run_count(session) if len(runs) >= quality.DEFAULT_HISTORY else None,
            leaned_on=quality.leaned_on,
            reason_text=run_reasons.reason_text,
            row_label=row_label,
            rate=lambda value: format_percent(value) if value is not None else "—",
            is_admin=current_user.role == Role.ADMIN,
        ),
        status,
    )


@bp.get("/quality", endpoint="quality")
def quality_page():
    period = request.args.get("period")
    try:
        report = quality.report(db_session(), period, clock.now(), common.settings().timezone)
    except Invalid:
        message = _("Unknown period. Choose one of the periods in the list.")
        return _page(quality.DEFAULT_PERIOD, 400, message)
    return _page(report.period, report=report)


@bp.get("/quality/<chart>.csv", endpoint="quality_csv")
def quality_csv(chart: str):
    if chart not in quality.CHARTS:
        abort(404)
    try:
        period = quality.check_period(request.args.get("period"))
    except Invalid:
        message = _("Unknown period: use one of %(periods)s.", periods=", ".join(quality.PERIODS))
        return Response(message + "\n", status=400, mimetype="text/plain")
    rows = quality.chart(db_session(), chart, period, clock.now(), common.settings().timezone)
    out = io.StringIO()
    writer = csv_cells.Writer(out)
    labelled = chart in ("line", "kind")
    writer.writerow([chart, *(["label"] if labelled else []), *CSV_HEADER])
    for row in rows:
        writer.writerow(
            [
                row.key,
                *([vocabulary.label(chart, row.key)] if labelled else []),
                row.decided,
                row.accepted,
                row.rejected,
                "" if row.rate is None else f"{row.rate:.4f}",
                "" if row.mean_score is None else f"{row.mean_score:.4f}",
            ]
        )
    suffix = "" if chart == "month" else f"-{period}"
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={
            "Content-Disposition": (
                f'attachment; filename="coopmatch-acceptance-per-{chart}{suffix}.csv"'
            )
        },
    )
