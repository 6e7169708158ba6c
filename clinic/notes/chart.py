"""Server-rendered line charts as inline SVG (no script, no inline styles).

The page's Content-Security-Policy forbids ``style`` attributes, so colours
and dashes are SVG presentation attributes. Each line is labelled at its end
(no legend to hunt for), both axes have titles, and the chart carries a
``<title>`` and ``<desc>``; the page puts a data table next to it for screen
readers. Pure standard library: values in, markup string out.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from clinic.notes import progress

WIDTH = 680
HEIGHT = 290
TOP = 18
BOTTOM = 62  # x tick labels and the x axis title
RIGHT = 134  # room for the line labels
FONT = 15
CHAR_WIDTH = 8.2  # an average glyph at FONT, to size the left margin
LABEL_GAP = 17  # minimum vertical distance between two line labels
MAX_X_LABELS = 8

INK = "#1b1f24"
GRID = "#c9d0d8"
AXIS = "#4a5360"


@dataclass(frozen=True)
class Series:
    key: str  # a short name used in class names, e.g. "after"
    label: str  # shown at the end of the line
    values: tuple[int | None, ...]
    colour: str
    dashed: bool = False


@dataclass(frozen=True)
class Chart:
    chart_id: str
    title: str
    description: str
    x_labels: tuple[str, ...]  # one per session, e.g. "3 Mar"
    x_title: str
    y_title: str
    y_max: int
    y_ticks: tuple[tuple[int, str], ...]
    series: tuple[Series, ...]
    invert: bool = False  # draw 0 at the top (e.g. "lower back" above "foot")
    # Room for the widest y tick label, in characters; charts stacked on one
    # page share it so their x axes line up.
    tick_chars: int | None = None


@dataclass(frozen=True)
class _Frame:
    left: float
    right: float
    top: float
    bottom: float
    count: int
    chart: Chart

    def x(self, index: int) -> float:
        if self.count <= 1:
            return (self.left + self.right) / 2
        pad = 18
        step = (self.right - self.left - 2 * pad) / (self.count - 1)
        return self.left + pad + index * step

    def y(self, value: float) -> float:
        share = value / self.chart.y_max
        if self.chart.invert:
            share = 1 - share
        return self.bottom - share * (self.bottom - self.top)


def render(chart: Chart) -> str:
    """The chart as one ``<svg>`` element."""
    widest = chart.tick_chars or max((len(t) for _, t in chart.y_ticks), default=2)
    left = 40 + widest * CHAR_WIDTH
    frame = _Frame(left, WIDTH - RIGHT, TOP, HEIGHT - BOTTOM, len(chart.x_labels),
                   chart)
    ident = escape(chart.chart_id)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'class="chart" role="img" aria-labelledby="{ident}-title {ident}-desc" '
        f'font-size="{FONT}" font-family="system-ui, sans-serif" fill="{INK}">',
        f'<title id="{ident}-title">{escape(chart.title)}</title>',
        f'<desc id="{ident}-desc">{escape(chart.description)}</desc>',
        *_y_axis(frame),
        *_x_axis(frame),
    ]
    for series in chart.series:
        parts.extend(_line(frame, series))
    parts.extend(_end_labels(frame))
    parts.append("</svg>")
    return "\n".join(parts)


def _y_axis(frame: _Frame) -> list[str]:
    out = []
    for value, text in frame.chart.y_ticks:
        y = frame.y(value)
        out.append(
            f'<line x1="{frame.left:.1f}" x2="{frame.right:.1f}" y1="{y:.1f}" '
            f'y2="{y:.1f}" stroke="{GRID}" stroke-width="1"/>'
        )
        out.append(
            f'<text x="{frame.left - 8:.1f}" y="{y + 5:.1f}" '
            f'text-anchor="end">{escape(text)}</text>'
        )
    # The axis title sits just left of the widest tick label it names.
    widest = max((len(text) for _, text in frame.chart.y_ticks), default=2)
    x = max(16.0, frame.left - 8 - widest * CHAR_WIDTH - 14)
    middle = (frame.top + frame.bottom) / 2
    out.append(
        f'<text x="{x:.1f}" y="{middle:.1f}" text-anchor="middle" font-weight="600" '
        f'transform="rotate(-90 {x:.1f} {middle:.1f})">'
        f"{escape(frame.chart.y_title)}</text>"
    )
    return out


def _x_axis(frame: _Frame) -> list[str]:
    out = [
        f'<line x1="{frame.left:.1f}" x2="{frame.right:.1f}" y1="{frame.bottom:.1f}" '
        f'y2="{frame.bottom:.1f}" stroke="{AXIS}" stroke-width="1.5"/>'
    ]
    every = max(1, -(-frame.count // MAX_X_LABELS))
    for index, text in enumerate(frame.chart.x_labels):
        if index % every and index != frame.count - 1:
            continue
        x = frame.x(index)
        out.append(
            f'<text x="{x:.1f}" y="{frame.bottom + 22:.1f}" '
            f'text-anchor="middle">{escape(text)}</text>'
        )
    centre = (frame.left + frame.right) / 2
    out.append(
        f'<text x="{centre:.1f}" y="{HEIGHT - 10}" text-anchor="middle" '
        f'font-weight="600">{escape(frame.chart.x_title)}</text>'
    )
    return out


def _points(frame: _Frame, series: Series) -> list[tuple[int, float, float]]:
    return [
        (index, frame.x(index), frame.y(value))
        for index, value in enumerate(series.values)
        if value is not None
    ]


def _line(frame: _Frame, series: Series) -> list[str]:
    points = _points(frame, series)
    key = escape(series.key)
    dash = ' stroke-dasharray="7 5"' if series.dashed else ""
    out = [f'<g class="series series-{key}" data-series="{key}">']
    for segment in _segments(points):
        coords = " ".join(f"{x:.1f},{y:.1f}" for _, x, y in segment)
        out.append(
            f'<polyline points="{coords}" fill="none" stroke="{series.colour}" '
            f'stroke-width="3"{dash}/>'
        )
    for index, x, y in points:
        shown = f"{series.label}, {frame.chart.x_labels[index]}: {series.values[index]}"
        out.append(
            f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="5" '
            f'fill="{series.colour}" stroke="#ffffff" stroke-width="1.5">'
            f"<title>{escape(shown)}</title></circle>"
        )
    out.append("</g>")
    return out


def _segments(
    points: Sequence[tuple[int, float, float]],
) -> list[list[tuple[int, float, float]]]:
    """Runs of consecutive sessions: a missing value breaks the line."""
    runs: list[list[tuple[int, float, float]]] = []
    for point in points:
        if runs and runs[-1][-1][0] == point[0] - 1:
            runs[-1].append(point)
        else:
            runs.append([point])
    return [run for run in runs if len(run) > 1]


def _end_labels(frame: _Frame) -> list[str]:
    """Each line's name beside its last point, nudged apart so none overlap."""
    ends = []
    for series in frame.chart.series:
        points = _points(frame, series)
        if points:
            _, x, y = points[-1]
            ends.append([y, x, series])
    ends.sort(key=lambda end: end[0])
    for above, below in itertools.pairwise(ends):
        if below[0] - above[0] < LABEL_GAP:
            below[0] = above[0] + LABEL_GAP
    return [
        f'<text class="line-label" x="{x + 10:.1f}" y="{y + 5:.1f}" '
        f'fill="{series.colour}" font-weight="700">{escape(series.label)}</text>'
        for y, x, series in ends
    ]


# ---------------------------------------------------------------- progress charts

AFTER_COLOUR = "#0b5d6b"
BEFORE_COLOUR = "#a4161a"
EXTENT_COLOUR = "#6b4200"
PROGRESS_TICK_CHARS = max(len(label) for label in progress.EXTENT_LABELS)


def _x_labels(points: Sequence[progress.SessionPoint]) -> tuple[str, ...]:
    years = {p.on.year for p in points}
    fmt = "{d.day} {d:%b}" if len(years) <= 1 else "{d.day} {d:%b} {d:%y}"
    return tuple(fmt.format(d=p.on) for p in points)


def _listed(values: Sequence[int | None]) -> str:
    return ", ".join("none" if v is None else str(v) for v in values)


def _span(points: Sequence[progress.SessionPoint]) -> str:
    first, last = points[0].on, points[-1].on
    count = len(points)
    noun = "session" if count == 1 else "sessions"
    return (f"{count} {noun} from {first.day} {first:%b %Y} "
            f"to {last.day} {last:%b %Y}")


def pain_chart(points: Sequence[progress.SessionPoint]) -> str:
    before = tuple(p.nprs_before for p in points)
    after = tuple(p.nprs_after for p in points)
    return render(Chart(
        chart_id="pain-chart",
        title="Pain score before and after each session",
        description=(f"Pain score from 0 (no pain) to 10 over {_span(points)}. "
                     f"Before the session: {_listed(before)}. "
                     f"After the session: {_listed(after)}."),
        x_labels=_x_labels(points),
        x_title="Session date",
        y_title="Pain score (0 to 10)",
        y_max=10,
        y_ticks=tuple((v, str(v)) for v in range(0, 11, 2)),
        series=(
            Series("before", "Before session", before, BEFORE_COLOUR, dashed=True),
            Series("after", "After session", after, AFTER_COLOUR),
        ),
        tick_chars=PROGRESS_TICK_CHARS,
    ))


def extent_chart(points: Sequence[progress.SessionPoint]) -> str:
    levels = tuple(p.extent_level for p in points)
    named = ", ".join(progress.extent_label(v) for v in levels)
    return render(Chart(
        chart_id="extent-chart",
        title="How far down the leg symptoms reach",
        description=(f"Extent level over {_span(points)}, from 0 (lower back "
                     f"only) at the top to 5 (foot) at the bottom: {named}. "
                     "A line going up means symptoms are centralising."),
        x_labels=_x_labels(points),
        x_title="Session date",
        y_title="Furthest point",
        y_max=5,
        y_ticks=tuple(
            (level, label.capitalize())
            for level, label in enumerate(progress.EXTENT_LABELS)
        ),
        series=(Series("extent", "Extent", levels, EXTENT_COLOUR),),
        invert=True,
        tick_chars=PROGRESS_TICK_CHARS,
    ))
