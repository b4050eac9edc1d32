"""A retrain's reason (recorded in English by services.matching.retrain) in the reader's language.

The service writes one line per run; its shapes are few and fixed, so each is read back here and
said again through the catalogue. A line of another shape (an error) is shown as it is.
"""

from __future__ import annotations

import re

from flask_babel import gettext as _

_NUMBER = r"[-+]?\d+(?:\.\d+)?"
_CHANGE = rf"(?P<current>{_NUMBER}) → (?P<candidate>{_NUMBER})"
_INTERVAL = (
    rf"difference (?P<gain>{_NUMBER}), 95 % interval \[(?P<low>{_NUMBER}), (?P<high>{_NUMBER})\]"
)
ADOPTED = re.compile(rf"^adopted: {_CHANGE} on (?P<n>\d+) held-out projects \({_INTERVAL}\)$")
NOT_BETTER = re.compile(
    rf"^refused: not better \({_CHANGE} on (?P<n>\d+) held-out projects, {_INTERVAL}\)$"
)
WORSE = re.compile(r"^refused: worse on (?P<slices>.+)$")
FEW = re.compile(
    r"^refused: (?P<n>\d+) accepted decisions, (?P<needed>\d+) needed "
    r"\((?P<learn>\d+) to learn from and (?P<measure>\d+) to measure on\)$"
)
FEW_KNOWN = re.compile(
    r"^refused: (?P<n>\d+) accepted decisions before the cutoff on items still known, "
    r"(?P<needed>\d+) needed to learn$"
)
FEW_HELD = re.compile(r"^refused: (?P<n>\d+) held-out projects, (?P<needed>\d+) needed$")
STALE = re.compile(r"^failed: not finished (?P<hours>\d+) hours after it was (?P<what>.+)$")
FAILED = re.compile(r"^failed: (?P<error>.+)$", re.S)


def reason_text(reason: str | None) -> str:
    """The run's reason in the reader's language (as recorded when its shape is unknown)."""
    if not reason:
        return ""
    if found := ADOPTED.match(reason):
        return _(
            "Adopted: %(current)s → %(candidate)s on %(n)s held-out projects (difference "
            "%(gain)s, 95%% interval %(low)s to %(high)s).",
            **found.groupdict(),
        )
    if found := NOT_BETTER.match(reason):
        return _(
            "Refused: not better (%(current)s → %(candidate)s on %(n)s held-out projects, "
            "difference %(gain)s, 95%% interval %(low)s to %(high)s).",
            **found.groupdict(),
        )
    if found := WORSE.match(reason):
        return _("Refused: it would be worse on %(slices)s.", slices=found["slices"])
    if found := FEW.match(reason):
        return _(
            "Refused: %(n)s accepted decisions, %(needed)s needed (%(learn)s to learn from and "
            "%(measure)s to measure on).",
            **found.groupdict(),
        )
    if found := FEW_KNOWN.match(reason):
        return _(
            "Refused: %(n)s accepted decisions before the cut-off on items still known, "
            "%(needed)s needed to learn.",
            **found.groupdict(),
        )
    if found := FEW_HELD.match(reason):
        return _("Refused: %(n)s held-out projects, %(needed)s needed.", **found.groupdict())
    if found := STALE.match(reason):
        return _("Did not finish within %(hours)s hours.", hours=found["hours"])
    if found := FAILED.match(reason):
        return _("Did not finish: %(error)s", error=found["error"])
    return reason
