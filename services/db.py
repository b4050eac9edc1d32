"""Transaction and query helpers shared by the use cases."""

import re
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.errors import Conflict, Invalid, NotFound

_CHECK_NAME = re.compile(r"ck_(\w+)")


def translate_integrity_error(exc: IntegrityError) -> Conflict | Invalid:
    """Turn a database constraint violation into the domain error a person can act on."""
    text = str(exc.orig)
    lowered = text.lower()
    if "unique" in lowered or "duplicate key" in lowered:
        return Conflict("a record with the same unique value already exists", {"detail": [text]})
    if "foreign key" in lowered:
        return Conflict(
            "the record is referenced by, or refers to, a missing record", {"detail": [text]}
        )
    found = _CHECK_NAME.search(text)
    rule = found.group(1) if found else "a database rule"
    return Invalid(f"the data breaks the rule {rule}", {"detail": [text]})


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
