"""Static SVG bar charts, written as text: horizontal bars (optionally stacked) and a trend of
bars with a running line. No script, no font file, no plotting library: the page's font applies,
the same input gives the same bytes, and drawing a night's seven charts costs milliseconds (the
matplotlib version cost two seconds of every publish, half of it importing matplotlib).

Sizes are in CSS pixels; text widths are estimated from `display_width` (a wide CJK character
counts as two columns), which is what the label margins need.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from registry.publish.cells import display_width, html_text

WIDTH = 720
FONT = 12  # px, labels and ticks
SMALL = 10  # px, values on the bars
ROW = 26  # px per bar
TITLE = 28  # px above the plot
AXIS = 24  # px below the plot (ticks)
AXIS_COLOUR, GRID_COLOUR, TEXT_COLOUR = "#555", "#e4e4e4", "#212121"


@dataclass(frozen=True)
class Part:
    """One segment of a bar: its label (shown inside when it fits), value and colour."""

    label: str
    value: float
    colour: str


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _width_px(text: str, size: int = FONT) -> float:
    return display_width(text) * size * 0.55


def nice_ticks(low: float, high: float, count: int = 5, whole: bool = False) -> list[float]:
    """About `count` round ticks (1, 2 or 5 times a power of ten; whole numbers when `whole`)
    covering [low, high], zero included."""
    low, high = min(low, 0.0), max(high, 0.0)
    if high == low:
        high = low + 1
    raw = (high - low) / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    step = max(step, 1.0) if whole else step
    first = math.floor(low / step) * step
    ticks, value = [], first
    while value <= high + step * 1e-9:
        ticks.append(round(value, 10) + 0.0)
        value += step
    if ticks[-1] < high:
        ticks.append(ticks[-1] + step)
    return ticks


class _Scale:
    def __init__(self, ticks: Sequence[float], start: float, end: float) -> None:
        self.low, self.high, self.start, self.end = ticks[0], ticks[-1], start, end

    def __call__(self, value: float) -> float:
        return self.start + (value - self.low) / (self.high - self.low) * (self.end - self.start)


def _svg(height: float, parts: Sequence[str]) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{_num(height)}" '
            f'viewBox="0 0 {WIDTH} {_num(height)}" font-size="{FONT}" fill="{TEXT_COLOUR}" role="img">'
            + "".join(parts) + "</svg>")


def _title(title: str) -> str:
    return f'<text x="4" y="17" font-size="13" font-weight="bold">{html_text(title)}</text>'


def stacked_bars(rows: Sequence[tuple[str, Sequence[Part]]], title: str, tick: Callable[[float], str],
                 value_label: Callable[[float], str] | None = None, whole: bool = False) -> str:
    """One horizontal bar per row, top to bottom in the given order; each bar's positive parts stack
    rightwards from zero and its negative parts leftwards. With `value_label`, a single-part bar
    carries its value at its end; parts show "label value" inside when the text fits. `whole`: the
    values are counts (ticks on whole numbers)."""
    labels = [row[0] for row in rows]
    left = min(WIDTH * 0.5, max(60.0, max((_width_px(x) for x in labels), default=48) + 14))
    highs = [sum(p.value for p in parts if p.value > 0) for _, parts in rows]
    lows = [sum(p.value for p in parts if p.value < 0) for _, parts in rows]
    span_low, span_high = min(lows, default=0.0), max(highs, default=0.0)
    if value_label is not None:  # room for the value beside the longest bars
        room = (span_high - span_low or 1) * 0.25
        span_high += room if span_high > 0 else 0
        span_low -= room if span_low < 0 else 0
    ticks = nice_ticks(span_low, span_high, whole=whole)
    right = WIDTH - 16
    x = _Scale(ticks, left, right)
    top, bottom = TITLE, TITLE + ROW * max(len(rows), 1)
    out = [_title(title)]
    for t in ticks:
        out.append(f'<line x1="{_num(x(t))}" y1="{top}" x2="{_num(x(t))}" y2="{bottom}" stroke="{GRID_COLOUR}"/>'
                   f'<text x="{_num(x(t))}" y="{bottom + 15}" text-anchor="middle">{html_text(tick(t))}</text>')
    for i, (label, parts) in enumerate(rows):
        y = top + i * ROW
        middle = y + ROW / 2
        out.append(f'<text x="{_num(left - 6)}" y="{_num(middle + 4)}" text-anchor="end">{html_text(label)}</text>')
        ends = {True: 0.0, False: 0.0}
        for part in parts:
            start = ends[part.value >= 0]
            end = start + part.value
            ends[part.value >= 0] = end
            x0, x1 = sorted((x(start), x(end)))
            shown = value_label(part.value) if value_label is not None else f"{part.value:,.2f}"
            out.append(f'<rect x="{_num(x0)}" y="{_num(y + 4)}" width="{_num(x1 - x0)}" height="{ROW - 8}" '
                       f'fill="{part.colour}"><title>{html_text(part.label)}: {html_text(shown)}</title></rect>')
            inside = f"{part.label} {part.value:,.2f}"
            if len(parts) > 1 and part.value and _width_px(inside, SMALL) + 6 < x1 - x0:
                out.append(f'<text x="{_num((x0 + x1) / 2)}" y="{_num(middle + 3.5)}" text-anchor="middle" '
                           f'font-size="{SMALL}" fill="white">{html_text(inside)}</text>')
        if value_label is not None and len(parts) == 1:
            value = parts[0].value
            anchor, at = ("start", x(value) + 4) if value >= 0 else ("end", x(value) - 4)
            out.append(f'<text x="{_num(at)}" y="{_num(middle + 3.5)}" text-anchor="{anchor}" '
                       f'font-size="{SMALL}">{html_text(value_label(value))}</text>')
    out.append(f'<line x1="{_num(x(0))}" y1="{top}" x2="{_num(x(0))}" y2="{bottom}" stroke="{AXIS_COLOUR}"/>')
    return _svg(bottom + AXIS, out)


def trend(dates: Sequence[str], series: Sequence[tuple[str, Sequence[float], str]],
          line: tuple[str, Sequence[float], str], title: str, tick: Callable[[float], str]) -> str:
    """Vertical bars per date (each of `series` drawn from zero, overlaid), a line with points
    over them, a legend and the dates below (thinned so that they do not overlap)."""
    height, left, right = 280, 70.0, WIDTH - 16
    top, bottom = TITLE + 18, height - AXIS - 8
    values = [v for _, vs, _ in series for v in vs] + list(line[1])
    ticks = nice_ticks(min(values, default=0.0), max(values, default=0.0))
    y = _Scale(ticks, bottom, top)
    slot = (right - left) / max(len(dates), 1)
    centre = [left + slot * (i + 0.5) for i in range(len(dates))]
    out = [_title(title)]
    for t in ticks:
        out.append(f'<line x1="{left}" y1="{_num(y(t))}" x2="{right}" y2="{_num(y(t))}" stroke="{GRID_COLOUR}"/>'
                   f'<text x="{_num(left - 6)}" y="{_num(y(t) + 4)}" text-anchor="end">{html_text(tick(t))}</text>')
    bar = min(40.0, slot * 0.7)
    for name, vs, colour in series:
        for c, v in zip(centre, vs, strict=True):
            y0, y1 = sorted((y(0), y(v)))
            out.append(f'<rect x="{_num(c - bar / 2)}" y="{_num(y0)}" width="{_num(bar)}" height="{_num(y1 - y0)}" '
                       f'fill="{colour}"><title>{html_text(name)}: {html_text(f"{v:,.2f}")}</title></rect>')
    name, vs, colour = line
    if vs:
        points = " ".join(f"{_num(c)},{_num(y(v))}" for c, v in zip(centre, vs, strict=True))
        out.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>')
        out.extend(f'<circle cx="{_num(c)}" cy="{_num(y(v))}" r="3.5" fill="{colour}">'
                   f'<title>{html_text(name)}: {html_text(f"{v:,.2f}")}</title></circle>'
                   for c, v in zip(centre, vs, strict=True))
    every = max(1, math.ceil(_width_px("2026-11-01") * 1.3 / slot))
    out.extend(f'<text x="{_num(c)}" y="{bottom + 16}" text-anchor="middle">{html_text(d)}</text>'
               for i, (c, d) in enumerate(zip(centre, dates, strict=True)) if i % every == 0)
    out.append(f'<line x1="{left}" y1="{_num(y(0))}" x2="{right}" y2="{_num(y(0))}" stroke="{AXIS_COLOUR}"/>')
    at = right
    for name, colour in reversed([(n, c) for n, _, c in series] + [(line[0], line[2])]):
        at -= _width_px(name) + 26
        out.append(f'<rect x="{_num(at)}" y="{TITLE}" width="12" height="10" fill="{colour}"/>'
                   f'<text x="{_num(at + 16)}" y="{TITLE + 9}">{html_text(name)}</text>')
    return _svg(height, out)
