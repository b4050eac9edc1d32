"""Transaction and query helpers shared by the use cases."""

import re
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.errors import Conflict, Invalid, NotFound

_CHECK_NAME = re.compile(r"ck_(\w+)")
# Only the column names are read from the driver's text: PostgreSQL's "Key (ref)=(...)",
# SQLite's "UNIQUE constraint failed: offers.ref".
_UNIQUE_PG = re.compile(r"Key \((\w+)[,)]")
_UNIQUE_SQLITE = re.compile(r"UNIQUE constraint failed: \w+\.(\w+)")


def _unique_field(text: str) -> str | None:
    for pattern in (_UNIQUE_PG, _UNIQUE_SQLITE):
        found = pattern.search(text)
        if found:
            return found.group(1)
    return None


def translate_integrity_error(exc: IntegrityError) -> Conflict | Invalid:
    """Turn a database constraint violation into the domain error a person can act on.

    The message names the field in the API's words and never repeats the driver's text: that
    would show other organisations' values (`Key (ref)=(...) already exists`)."""
    text = str(exc.orig)
    lowered = text.lower()
    if "unique" in lowered or "duplicate key" in lowered:
        field = _unique_field(text)
        if field:
            return Conflict(
                f"conflict: the {field} is already in use", {field: ["Already in use."]}
            )
        return Conflict("conflict: a record with the same unique value already exists")
    if "foreign key" in lowered:
        return Conflict("conflict: the record is referenced by, or refers to, a missing record")
    found = _CHECK_NAME.search(text)
    rule = found.group(1) if found else "a database rule"
    return Invalid(f"the data breaks the rule {rule}")


def fetch(session: Session, model, key, name: str):
    """Return the row of `model` with primary key `key`, or raise NotFound naming it."""
    found = session.get(model, key)
    if found is None:
        raise NotFound(f"{name} {key} does not exist")
    return found


@contextmanager
def committing(session: Session):
    """Commit the block's work once, rolling back and translating constraint violations."""
    try:
        yield
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise translate_integrity_error(exc) from exc
    except BaseException:
        session.rollback()
        raise


def json_list_has(column, value: str):
    """SQL: the JSON list `column` holds the short code `value`.

    Lists are JSON arrays of short codes; their text form contains `"code"` on every backend.
    """
    return sa.cast(column, sa.String).like(f'%"{value}"%')


def escape_like(text: str) -> str:
    """`text` with LIKE's wildcards escaped (use with `escape="\\"`)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
