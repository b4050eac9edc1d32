"""Import and export of organisations, offers and projects as CSV, JSON or JSON Lines."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import Offer, Organization, Project
from models.enums import OfferSource, Side
from services import csv_cells, jsonable
from services.db import translate_integrity_error
from services.errors import Invalid

FORMATS = ("csv", "json", "jsonl")
LIST_FIELDS = {"modalities", "lines", "sdgs", "eligible_kinds", "eligible_countries"}
INT_FIELDS = {"organization_id"}
INT_LIST_FIELDS = {"sdgs"}
ORG_KEYS = ("organization", "organization_kind", "organization_country")
LIST_SEPARATOR = "|"


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)


def guess_format(path: str, fmt: str | None) -> str:
    """Return the format named or implied by the file's extension."""
    fmt = fmt or Path(path).suffix.lstrip(".").lower()
    fmt = {"ndjson": "jsonl"}.get(fmt, fmt)
    if fmt not in FORMATS:
        raise Invalid(f"cannot tell the format of {path}: use --format csv, json or jsonl")
    return fmt


def parse_rows(text: str, fmt: str) -> list[tuple[int, Any]]:
    """Return (line number, row) pairs; a row that cannot be parsed raises Invalid naming it."""
    if fmt == "csv":
        reader = csv.DictReader(io.StringIO(text))
        rows = []
        for row in reader:
            if None in row:
                raise Invalid(f"line {reader.line_num}: more values than columns")
            rows.append((reader.line_num, _from_csv(row)))
        return rows
    if fmt == "jsonl":
        rows = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                rows.append((number, json.loads(line)))
            except json.JSONDecodeError as exc:
                raise Invalid(f"line {number}: not valid JSON ({exc.msg})") from None
        return rows
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise Invalid(f"line {exc.lineno}: not valid JSON ({exc.msg})") from None
    if isinstance(data, dict) and isinstance(data.get("items"), list):
        data = data["items"]
    if not isinstance(data, list):
        raise Invalid('a JSON file must hold a list of objects (or {"items": [...]})')
    # JSON arrays give no per-item lines; number items from 1 as the reader would count them.
    return list(enumerate(data, start=1))


def _from_csv(row: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        value = csv_cells.unescape((value or "").strip())
        if key in LIST_FIELDS:
            items = [v.strip() for v in value.split(LIST_SEPARATOR) if v.strip()]
            out[key] = [_int_or_text(v) for v in items] if key in INT_LIST_FIELDS else items
        elif value == "":
            out[key] = None
        elif key in INT_FIELDS:
            out[key] = _int_or_text(value)
        else:
            out[key] = value
    return {k: v for k, v in out.items() if v is not None}


def _int_or_text(value: str) -> int | str:
    try:
        return int(value)
    except ValueError:
        return value  # left for the schema to reject with its own message


def read_rows(path: str, fmt: str | None = None) -> list[tuple[int, Any]]:
    """Read a file of rows; `-` reads standard input."""
    fmt = guess_format(path, fmt)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise Invalid(f"cannot read {path}: {exc}") from None
    return parse_rows(text, fmt)


def _exported(value: Any) -> Any:
    return jsonable.plain(value, decimal=jsonable.number)


def write_rows(stream: IO[str], rows: list[dict], fmt: str, columns: Iterable[str]) -> None:
    """Write rows in `fmt`; CSV lists are joined with '|'."""
    columns = list(columns)
    if fmt == "csv":
        writer = csv_cells.DictWriter(stream, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {
                    k: LIST_SEPARATOR.join(str(v) for v in row[k])
                    if isinstance(row.get(k), list)
                    else row.get(k)
                    for k in columns
                }
            )
    elif fmt == "jsonl":
        for row in rows:
            stream.write(json.dumps({k: row.get(k) for k in columns}, ensure_ascii=False) + "\n")
    else:
        json.dump(
            [{k: row.get(k) for k in columns} for row in rows], stream, ensure_ascii=False, indent=1
        )
        stream.write("\n")


def export_rows(session: Session, model: type, columns: Iterable[str]) -> list[dict]:
    """Return every row of `model` as plain values, organisations named, in id order."""
    out = []
    for obj in session.scalars(sa.select(model).order_by(model.id)).unique():
        row = {
            c: _exported(getattr(obj, c)) for c in columns if c not in ORG_KEYS and hasattr(obj, c)
        }
        if model is not Organization:
            row.update(
                organization=obj.organization.name,
                organization_kind=_exported(obj.organization.kind),
                organization_country=obj.organization.country,
            )
            row.pop("organization_id", None)
        out.append(row)
    return out


def resolve_organization(session: Session, row: dict, side: Side) -> int | None:
    """Find the organisation a row names (creating it when kind and country are given)."""
    name = row.pop("organization", None)
    kind = row.pop("organization_kind", None)
    country = row.pop("organization_country", None)
    if row.get("organization_id") is not None or not name:
        return row.get("organization_id")
    org = session.scalar(sa.select(Organization).where(Organization.name == name))
    if org is None:
        if not kind or not country:
            raise Invalid(
                f"organisation {name!r} does not exist; give organization_kind and "
                "organization_country to create it"
            )
        org = Organization(name=name, kind=kind, country=country, side=side)
        session.add(org)
        session.flush()
    return org.id


def import_rows(
    session: Session, model: type, rows: list[tuple[int, dict]], skip_invalid: bool = False
) -> ImportReport:
    """Insert or update (by `ref`) validated rows; all or nothing unless skip_invalid."""
    report = ImportReport()
    for number, data in rows:
        try:
            with session.begin_nested():
                _upsert(session, model, data, report)
        except IntegrityError as exc:
            report.errors.append((number, translate_integrity_error(exc).message))
    if report.errors and not skip_invalid:
        session.rollback()
        report.created = report.updated = 0
        return report
    session.commit()
    return report


def _upsert(session: Session, model: type, data: dict, report: ImportReport) -> None:
    existing = None
    if data.get("ref"):
        existing = session.scalar(sa.select(model).where(model.ref == data["ref"]))
    if existing is None:
        if model is Offer:
            data.setdefault("source", OfferSource.IMPORT)
        session.add(model(**data))
        session.flush()
        report.created += 1
    else:
        for key, value in data.items():
            setattr(existing, key, value)
        session.flush()
        report.updated += 1


SIDES = {Offer: Side.SUPPLY, Project: Side.DEMAND}
