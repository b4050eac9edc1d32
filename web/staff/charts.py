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
    top: float | None = None,
) -> Chart:
    """Lay out bars for rows of (label, value, value text, tooltip); widths scale to `top`, or
    to the largest value when it is not given."""
    room = width - label_width - DEFAULT_VALUE_WIDTH
    top = top or max((value for _l, value, _t, _tt in rows), default=0) or 1
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


DEFAULT_PLOT_WIDTH = 640
DEFAULT_PLOT_HEIGHT = 380
PLOT_MARGINS = (16, 20, 56, 64)  # top, right, bottom, left: room for the axes' ticks and names
TICKS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    title: str


@dataclass(frozen=True)
class Tick:
    value: float
    x: float  # where it sits on the horizontal axis
    y: float  # where it sits on the vertical axis


@dataclass(frozen=True)
class Plot:
    """A square-valued plot: both axes run from 0 to 1 (scores and shares)."""

    width: int
    height: int
    left: float
    right: float
    top: float
    bottom: float
    points: list[Point]
    line: str  # the points joined, as an SVG polyline's `points`
    ticks: list[Tick]


def unit_plot(
    points: list[tuple[float, float, str]],
    width: int = DEFAULT_PLOT_WIDTH,
    height: int = DEFAULT_PLOT_HEIGHT,
) -> Plot:
    """Lay out points of (x, y, tooltip), both in [0, 1], on axes from 0 to 1, in the order
    given (the line joins them in that order)."""
    top, right, bottom, left = PLOT_MARGINS
    x0, x1, y0, y1 = left, width - right, height - bottom, top

    def at(x: float, y: float) -> tuple[float, float]:
        return round(x0 + (x1 - x0) * _unit(x), 1), round(y0 - (y0 - y1) * _unit(y), 1)

    placed = [Point(*at(x, y), title) for x, y, title in points]
    return Plot(
        width=width,
        height=height,
        left=x0,
        right=x1,
        top=y1,
        bottom=y0,
        points=placed,
        line=" ".join(f"{p.x},{p.y}" for p in placed),
        ticks=[Tick(value, *at(value, value)) for value in TICKS],
    )


def _unit(value: float) -> float:
    return min(max(value, 0.0), 1.0)
