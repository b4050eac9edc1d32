"""Read and write JSON Lines item files, naming the line of any malformed record."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path


class InputError(ValueError):
    """Raised when an input file is malformed; the message names the file and line."""


def read_items(path: str | Path, require: Iterable[str] = ("id",)) -> list[dict]:
    """Return the JSON objects of a JSON Lines file (blank lines skipped)."""
    path = Path(path)
    items: list[dict] = []
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{path}: cannot open: {exc.strerror}") from exc
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}:{number}: invalid JSON: {exc.msg}") from exc
            if not isinstance(item, dict):
                raise InputError(f"{path}:{number}: expected a JSON object")
            missing = [key for key in require if key not in item]
            if missing:
                raise InputError(f"{path}:{number}: missing field(s): {', '.join(missing)}")
            for key in ("title", "description"):
                if item.get(key) is not None and not isinstance(item[key], str):
                    raise InputError(f"{path}:{number}: field {key!r} must be a string")
            items.append(item)
    return items
