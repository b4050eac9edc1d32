"""`flask --app web ...` commands: database, users and tokens, import and export, demo data."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext
from marshmallow import ValidationError

from models import Offer, Organization, Project
from models import migrate as migrations
from models.enums import Role
from services import api_tokens, backup, clock, demo, import_export, user_admin
from services.errors import DomainError
from services.matching import rebuild, training_labels
from web import feeds_cli, schemas
from web.db import runtime

KINDS = {
    "organizations": (Organization, schemas.OrganizationIn),
    "offers": (Offer, schemas.OfferIn),
    "projects": (Project, schemas.ProjectIn),
}


def _session():
    return runtime().session()


def fail(message: str, code: int = 1):
    """Print one line to stderr and exit with `code`."""
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


db_cli = AppGroup("db", help="Database schema migrations (Alembic).")


@db_cli.command("upgrade")
@click.argument("revision", default="heads")
def db_upgrade(revision: str) -> None:
    """Migrate the database up to REVISION (default: every head)."""
    migrations.upgrade(runtime().settings.database_url, revision)
    click.echo(f"database at {revision}")


@db_cli.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Migrate the database down to REVISION."""
    migrations.downgrade(runtime().settings.database_url, revision)


@db_cli.command("current")
def db_current() -> None:
    """Show the database's current revision."""
    from alembic import command

    command.current(migrations.alembic_config(runtime().settings.database_url))


@click.command("create-user")
@with_appcontext
@click.argument("email")
@click.option(
    "--role", type=click.Choice([r.value for r in Role]), default="staff", show_default=True
)
@click.option("--name", default="")
@click.option("--language", type=click.Choice(["es", "en"]), default="es", show_default=True)
@click.option("--organization-id", type=int, help="The partner's organisation.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_user(email, role, name, language, organization_id, password_stdin) -> None:
    """Create a user; the password comes from a prompt or standard input."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with _session() as session:
        try:
            user = user_admin.create_user(
                session,
                email,
                role,
                password,
                name=name,
                language=language,
                organization_id=organization_id,
            )
        except DomainError as exc:
            fail(_one_line(exc))
        click.echo(f"created {user.role.value} {user.email} (id {user.id})")


@click.command("create-token")
@with_appcontext
@click.argument("email")
@click.option("--name", default="", help="A label, e.g. the system that will use it.")
def create_token(email: str, name: str) -> None:
    """Create an API token for EMAIL and print it once."""
    with _session() as session:
        try:
            token, raw = api_tokens.create_token(session, email, name)
        except DomainError as exc:
            fail(_one_line(exc))
    click.echo(raw)
    click.echo(f"token id {token.id}; store it now, it is not shown again", err=True)


@click.command("revoke-token")
@with_appcontext
@click.argument("token_id", type=int)
def revoke_token(token_id: int) -> None:
    """Revoke the API token TOKEN_ID."""
    with _session() as session:
        try:
            api_tokens.revoke_token(session, token_id)
        except DomainError as exc:
            fail(_one_line(exc))
    click.echo(f"token {token_id} revoked")


@click.command("import")
@with_appcontext
@click.argument("kind", type=click.Choice(list(KINDS)))
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(import_export.FORMATS))
@click.option("--skip-invalid", is_flag=True, help="Import the good rows, report the bad.")
def import_cmd(kind: str, path: str, fmt: str | None, skip_invalid: bool) -> None:
    """Import KIND from a CSV, JSON or JSON Lines file: all or nothing by default."""
    model, schema_cls = KINDS[kind]
    try:
        raw_rows = import_export.read_rows(path, fmt)
    except DomainError as exc:
        fail(exc.message, 2)
    with _session() as session:
        valid, errors = _validate_rows(session, model, schema_cls, raw_rows)
        if errors and not skip_invalid:
            _report_errors(errors)
            fail(
                f"{len(errors)} bad row(s) in {path}; nothing imported "
                "(use --skip-invalid to import the rest)"
            )
        report = import_export.import_rows(session, model, valid, skip_invalid)
    errors += report.errors
    _report_errors(errors)
    if report.errors and not skip_invalid:
        fail(f"{len(report.errors)} row(s) refused by the database; nothing imported")
    click.echo(f"{kind}: {report.created} created, {report.updated} updated, {len(errors)} skipped")


def _validate_rows(session, model, schema_cls, raw_rows):
    valid, errors = [], []
    schema = schema_cls()
    for number, row in raw_rows:
        if not isinstance(row, dict):
            errors.append((number, "not an object"))
            continue
        row = dict(row)
        try:
            if model is not Organization:
                org_id = import_export.resolve_organization(
                    session, row, import_export.SIDES[model]
                )
                if org_id is not None:
                    row["organization_id"] = org_id
            valid.append((number, schema.load(row)))
        except ValidationError as exc:
            errors.append((number, _messages(exc.messages)))
        except DomainError as exc:
            errors.append((number, exc.message))
    return valid, errors


def _messages(messages) -> str:
    if isinstance(messages, dict):
        return "; ".join(f"{k}: {_messages(v)}" for k, v in messages.items())
    if isinstance(messages, list):
        return " ".join(_messages(m) for m in messages)
    return str(messages)


def _report_errors(errors) -> None:
    for number, message in sorted(errors):
        click.echo(f"line {number}: {message}", err=True)


def _one_line(exc: DomainError) -> str:
    detail = _messages(exc.fields) if exc.fields and "detail" not in exc.fields else ""
    return f"{exc.message}" + (f" ({detail})" if detail else "")


@click.command("export")
@with_appcontext
@click.argument("kind", type=click.Choice(list(KINDS)))
@click.argument("path", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--format", "fmt", type=click.Choice(import_export.FORMATS))
def export_cmd(kind: str, path: str, fmt: str | None) -> None:
    """Export KIND to PATH (or '-' for standard output) in the import's formats."""
    model, schema_cls = KINDS[kind]
    if path == "-" and not fmt:
        fail("give --format when writing to standard output", 2)
    fmt = fmt or import_export.guess_format(path, None)
    columns = [c for c in schema_cls().fields if c != "organization_id"]
    if model is not Organization:
        columns += list(import_export.ORG_KEYS)
    with _session() as session:
        rows = import_export.export_rows(session, model, columns)
    if path == "-":
        import_export.write_rows(sys.stdout, rows, fmt, columns)
    else:
        with Path(path).open("w", encoding="utf-8", newline="") as stream:
            import_export.write_rows(stream, rows, fmt, columns)
        click.echo(f"{len(rows)} {kind} written to {path}", err=True)


@click.command("export-labels")
@with_appcontext
@click.argument("directory", type=click.Path(file_okay=False))
def export_labels(directory: str) -> None:
    """Write the staff's accepted matches to DIRECTORY as labelled data for `matcher tune`."""
    with _session() as session:
        try:
            found = training_labels.labelled_matches(session)
        except DomainError as exc:
            fail(exc.message)
    supply, demand = training_labels.write_labels(found, Path(directory))
    click.echo(
        f"{len(found.supply)} offers and {len(found.demand)} projects with "
        f"{found.accepted} accepted matches written to {directory}",
        err=True,
    )
    click.echo(f"python -m matcher tune --supply {supply} --demand {demand}")


@click.command("load-demo")
@with_appcontext
@click.option("--path", type=click.Path(exists=True, dir_okay=False), default=None)
@click.option("--if-empty", is_flag=True, help="Load only into a database with no offers.")
def load_demo(path: str | None, if_empty: bool) -> None:
    """Load the bundled demo data; a second run adds nothing."""
    with _session() as session:
        try:
            counts = demo.load(
                session,
                Path(path) if path else demo.DEFAULT_DEMO_PATH,
                if_empty=if_empty,
                today=clock.agency_today(runtime().settings.timezone),
            )
        except DomainError as exc:
            fail(exc.message)
    click.echo("demo data: " + ", ".join(f"{v} {k}" for k, v in counts.items()))


@click.command("rebuild-matches")
@with_appcontext
def rebuild_matches() -> None:
    """Queue a full rebuild of the matches and print its job id."""
    with _session() as session:
        job = rebuild.request_rebuild(session)
        click.echo(job.id)
        if runtime().settings.eager_tasks:
            session.refresh(job)
            click.echo(f"{job.status.value}: {job.detail or ''}", err=True)
        else:
            click.echo(f"queued; follow it at /api/v1/jobs/{job.id}", err=True)


@click.command("demo-accounts")
@with_appcontext
def demo_accounts() -> None:
    """Create the demo sign-ins and API token (embedded default only) and print them."""
    if runtime().settings.production:
        fail("demo accounts are never created in production")
    with _session() as session:
        accounts = demo.ensure_accounts(session)
    base = runtime().settings.base_url
    click.echo(
        f"CoopMatch demo at {base}/  (password for every demo account: {demo.DEMO_PASSWORD})"
    )
    for email, role in accounts:
        click.echo(f"  {role:8} {email}")
    click.echo(f"  API: curl -H 'Authorization: Bearer {demo.DEMO_TOKEN}' {base}/api/v1/offers")


@click.command("backup")
@with_appcontext
@click.argument("path", type=click.Path(dir_okay=False))
def backup_cmd(path: str) -> None:
    """Write a consistent copy of the database to PATH (pg_dump custom format, or SQLite's)."""
    try:
        report = backup.backup(runtime().settings.database_url, Path(path))
    except DomainError as exc:
        fail(exc.message, 2)
    click.echo(f"{report.kind} backup written to {report.path} ({report.bytes:,} bytes)")


@click.command("restore")
@with_appcontext
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--replace", is_flag=True, help="Replace a database that already holds data.")
def restore_cmd(path: str, replace: bool) -> None:
    """Restore the backup at PATH into the configured database (an empty one by default)."""
    try:
        report = backup.restore(runtime().settings.database_url, Path(path), replace=replace)
    except DomainError as exc:
        fail(exc.message, 2)
    click.echo(f"{report.kind} backup {report.path} restored")


def register(app: Flask) -> None:
    app.cli.add_command(db_cli)
    app.cli.add_command(feeds_cli.feeds_cli)
    app.cli.add_command(feeds_cli.export_iati)
    for command in (
        create_user,
        create_token,
        revoke_token,
        import_cmd,
        export_cmd,
        export_labels,
        load_demo,
        demo_accounts,
        rebuild_matches,
        backup_cmd,
        restore_cmd,
    ):
        app.cli.add_command(command)
