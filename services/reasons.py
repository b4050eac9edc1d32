"""The reason a person gives for a refusal (rejecting a match, rejecting a submitted offer):
a code from a fixed list, and their own words, required when the code is "other"."""

from __future__ import annotations

from collections.abc import Collection

from services.errors import Invalid

OTHER = "other"
MAX_NOTE = 1000


def check_reason(
    reason: str | None,
    note: str | None,
    allowed: Collection[str],
    *,
    required: bool = True,
    message: str = "the decision needs a valid reason",
) -> str:
    """Return the note stripped; Invalid (per field) for a missing or unknown reason, no words
    for "other", or a note over MAX_NOTE characters. `required=False` checks the note only."""
    errors: dict[str, list[str]] = {}
    note = (note or "").strip()
    if required:
        if reason not in allowed:
            errors["reason"] = ["Choose a reason for the rejection."]
        elif reason == OTHER and not note:
            errors["note"] = ["Say in a few words why, when the reason is 'other'."]
    if len(note) > MAX_NOTE:
        errors["note"] = [f"Keep the note under {MAX_NOTE} characters."]
    if errors:
        raise Invalid(message, errors)
    return note
