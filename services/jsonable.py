"""Values as JSON (and CSV) can hold them: enums by their code, dates in ISO 8601, decimals as
text, or as numbers where a reader wants numbers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any


def number(value: Decimal) -> int | float:
    """A decimal as a JSON number: whole amounts as integers (200, not 200.0)."""
    return int(value) if value == value.to_integral_value() else float(value)


def plain(value: Any, *, decimal: Callable[[Decimal], Any] = str) -> Any:
    """`value` with enums, dates and decimals made plain, inside dicts and lists too.

    Decimals become text by default (exact, for the audit trail); give `decimal=number` or
    `decimal=float` where the reader wants numbers.
    """
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return decimal(value)
    if isinstance(value, dict):
        return {k: plain(v, decimal=decimal) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v, decimal=decimal) for v in value]
    return value
