"""`flask --app web feeds ...` and `flask --app web export-iati FILE`."""

from __future__ import annotations

import click
from flask.cli import AppGroup, with_appcontext

from models.enums import FeedRunState
from services import feeds
from services.errors import DomainError
from services.feeds.errors import FeedError
from services.ingest import admin, export, runs
from web.db import runtime

feeds_cli = AppGroup("feeds", help="External feeds: import a file, run feeds, list them.")


def _fail(message: str, code: int) -> None:
    click.echo(f"Error: {message}", err=True)
    raise SystemExit(code)


@feeds_cli.command("import-file")
@click.argument("kind", type=click.Choice(list(feeds.KINDS)))
@click.argument("path", type=click.Path(dir_okay=False))
def import_file(kind: str, path: str) -> None:
    """Import one FILE as a feed of KIND would; the last line gives the counts."""
    rt = runtime()
    with rt.session() as session:
        try:
            run = runs.import_file(session, kind, path, rt.settings)
        except FeedError as exc:
            _fail(f"{path}: {exc}; nothing imported", 2)
        except OSError as exc:
            _fail(f"{path}: {exc.strerror or exc}; nothing imported", 2)
        click.echo(f"{path}: {run.document}")
        click.echo(run.summary())


def _run_one(session, feed, settings) -> bool:
    try:
        run = runs.run_feed(session, feed.id, settings, trigger="manual")
    except DomainError as exc:
        click.echo(f"{feed.name}: {exc.message}", err=True)
        return False
    if run.state == FeedRunState.FAILED:
        click.echo(f"{feed.name}: failed: {run.first_error}", err=True)
        return False
    note = " (not modified)" if run.state == FeedRunState.NOT_MODIFIED else ""
    click.echo(f"{feed.name}{note}: {run.summary()}")
    return True


@feeds_cli.command("run")
@click.argument("feed", required=False)
def run_cmd(feed: str | None) -> None:
    """Run FEED (a name or id) now; without one, every enabled feed that is due."""
    rt = runtime()
    with rt.session() as session:
        if feed is not None:
            try:
                chosen = [admin.by_name_or_id(session, feed)]
            except DomainError as exc:
                _fail(exc.message, 2)
        else:
            chosen = [admin.get(session, i) for i in runs.due(session, rt.settings)]
            if not chosen:
                click.echo("no feed is due")
        results = [_run_one(session, f, rt.settings) for f in chosen]
    if not all(results):
        raise SystemExit(1)


@feeds_cli.command("list")
def list_cmd() -> None:
    """List the configured feeds with their last run."""
    with runtime().session() as session:
        last = admin.last_runs(session)
        found = admin.all_feeds(session)
        if not found:
            click.echo("no feeds configured")
        for f in found:
            run = last.get(f.id)
            state = f"{run.state} {run.summary()}" if run else "never run"
            flag = "" if f.enabled else " (disabled)"
            click.echo(f"{f.id}\t{f.name}\t{f.kind}\tevery {f.interval_minutes} min{flag}\t{state}")


@click.command("export-iati")
@with_appcontext
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--projects", is_flag=True, help="Also the open projects without an alliance.")
def export_iati(path: str, projects: bool) -> None:
    """Write the alliances as an IATI 2.03 activities file (the agency reporting)."""
    rt = runtime()
    with rt.session() as session:
        try:
            count = export.export_iati(session, path, rt.settings, projects=projects)
        except ValueError as exc:
            _fail(str(exc), 2)
        except OSError as exc:
            _fail(f"{path}: {exc.strerror or exc}", 2)
    click.echo(f"{count} activities written to {path}")
