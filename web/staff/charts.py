"""Horizontal bar charts drawn as SVG on the server: geometry only, no styles (CSP)."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_WIDTH = 640
DEFAULT_ROW = 26
DEFAULT_LABEL_WIDTH = 210
DEFAULT_VALUE_WIDTH = 130


@dataclass(frozen=True)
class BarShape:
    label: str
    value_text: str
    title: str
    y: float
    width: float
    text_y: float


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bar_x: int
    value_x: float
    bar_height: int
    bars: list[BarShape]


def horizontal(
    rows: list[tuple[str, float, str, str]],
    width: int = DEFAULT_WIDTH,
    row: int = DEFAULT_ROW,
    label_width: int = DEFAULT_LABEL_WIDTH,
) -> Chart:
    """Lay out bars for rows of (label, value, value text, tooltip); widths scale to the max."""
    room = width - label_width - DEFAULT_VALUE_WIDTH
    top = max((value for _l, value, _t, _tt in rows), default=0) or 1
    bars = []
    for index, (label, value, text, title) in enumerate(rows):
        length = room * max(value, 0) / top
        bars.append(
            BarShape(
                label=label,
                value_text=text,
                title=title,
                y=index * row + 4,
                width=round(max(length, 1 if value > 0 else 0), 1),
                text_y=index * row + row * 0.62,
            )
        )
    return Chart(
        width=width,
        height=max(len(rows), 1) * row + 8,
        bar_x=label_width,
        value_x=label_width + room + 6,
        bar_height=row - 8,
        bars=bars,
    )
