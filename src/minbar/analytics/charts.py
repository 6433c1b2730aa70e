"""Server-drawn SVG charts: shapes computed here, drawn by templates, no script needed.

Right-to-left pages mirror the time axis (the first day on the right), as Arabic
readers expect; labels and numbers come formatted for the active language.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from django.utils import formats
from django.utils.translation import gettext as _

WIDTH = 600
HEIGHT = 160
PLOT = 130  # bar area height; the rest holds the axis


def number(value: float | None, decimals: int = 0) -> str:
    """A number in the active language's format ("—" when there is none)."""
    if value is None:
        return "—"
    # Rounded first: number_format cuts the extra decimals off (114.9999… would read 114).
    rounded = round(value, decimals)
    return str(formats.number_format(rounded, decimals, use_l10n=True, force_grouping=True))


def percent(value: float | None, decimals: int = 1) -> str:
    if value is None:
        return "—"
    return _("%(value)s%%") % {"value": number(value * 100, decimals)}


def signed_percent(value: float | None) -> str:
    if value is None:
        return ""
    sign = "+" if value > 0 else "\u2212" if value < 0 else "±"
    return sign + percent(abs(value), 0)


def coordinate(value: float) -> str:
    """SVG coordinates are never localized (a dot, never the Arabic decimal separator)."""
    return f"{value:.1f}"


@dataclass(frozen=True)
class Bar:
    x: str
    y: str
    width: str
    height: str
    title: str


@dataclass(frozen=True)
class Tick:
    x: str
    label: str
    anchor: str


def bars(
    days: Sequence[date], values: Sequence[int | None], *, rtl: bool, caption: str
) -> dict[str, object]:
    """A daily bar chart; ``values`` None means "not provided" (no bar drawn)."""
    present = [v for v in values if v is not None]
    peak = max([1, *present])
    slot = WIDTH / max(1, len(days))
    shapes = []
    for i, (day, value) in enumerate(zip(days, values, strict=True)):
        if value is None:
            continue
        height = round((PLOT - 10) * max(value, 0) / peak, 1)
        x = i * slot
        width = max(1.0, slot - 2)
        if rtl:
            x = WIDTH - (i + 1) * slot  # mirrored slot, the gap on the other side
        shapes.append(
            Bar(
                x=coordinate(x),
                y=coordinate(PLOT - height),
                width=coordinate(width),
                height=coordinate(height),
                title=f"{formats.date_format(day, 'SHORT_DATE_FORMAT')}: {number(value)}",
            )
        )
    ticks = []
    if days:
        for index in sorted({0, len(days) // 2, len(days) - 1}):
            x = index * slot + slot / 2
            if rtl:
                x = WIDTH - x
            anchor = "middle"
            if index == 0:
                anchor = "end" if rtl else "start"
            elif index == len(days) - 1 and index:
                anchor = "start" if rtl else "end"
            ticks.append(
                Tick(
                    coordinate(x),
                    str(formats.date_format(days[index], "MONTH_DAY_FORMAT")),
                    anchor,
                )
            )
    return {
        "bars": shapes,
        "ticks": ticks,
        "width": WIDTH,
        "height": HEIGHT,
        "plot": PLOT,
        "peak": number(peak if present else None),
        "caption": caption,
    }


@dataclass(frozen=True)
class Cell:
    x: str
    y: str
    level: int  # 0 (none) to 4 (busiest)
    title: str


def heatmap(
    grid: Sequence[Sequence[int]], day_names: Sequence[str], *, rtl: bool
) -> dict[str, object]:
    """Engagement by weekday (rows, Monday first) and hour (columns) as shaded cells."""
    peak = max([0, *(v for row in grid for v in row)])
    size, left, top = 20, 90, 18
    cells = []
    for weekday, row in enumerate(grid):
        for hour, value in enumerate(row):
            column = 23 - hour if rtl else hour
            level = 0 if not value or not peak else min(4, 1 + int(4 * value / (peak + 1)))
            cells.append(
                Cell(
                    x=coordinate((0 if rtl else left) + column * size),
                    y=coordinate(top + weekday * size),
                    level=level,
                    title=_("%(day)s, %(hour)s:00: %(n)s engagements")
                    % {"day": day_names[weekday], "hour": f"{hour:02d}", "n": number(value)},
                )
            )
    hours = [
        {
            "x": coordinate((0 if rtl else left) + (23 - h if rtl else h) * size + size / 2),
            "label": f"{h:02d}",
        }
        for h in range(0, 24, 3)
    ]
    rows = [
        {
            "y": coordinate(top + i * size + size * 0.7),
            "x": coordinate(24 * size + 6 if rtl else left - 6),
            "label": name,
        }
        for i, name in enumerate(day_names)
    ]
    return {
        "cells": cells,
        "hours": hours,
        "rows": rows,
        "size": size,
        "width": left + 24 * size,
        "height": top + 7 * size + 4,
        "row_anchor": "start" if rtl else "end",
        "empty": peak == 0,
    }


def funnel_widths(values: Sequence[int | None]) -> list[float | None]:
    """Each step's share of the first (widest) known step, for drawing; None when unknown."""
    known = [v for v in values if v is not None]
    peak = max([1, *known])
    return [None if v is None else round(100 * max(v, 0) / peak, 1) for v in values]


def goal_chart(
    start: date,
    end: date,
    series: Sequence[tuple[date, float]],
    *,
    additive: bool,
    target: float | None,
    projection: float | None,
    rtl: bool,
    caption: str,
) -> dict[str, object]:
    """A goal's path: measured values (line), the projection (dashed), the target (line).

    A value measured through day ``d`` sits at the end of ``d``; additive metrics start
    from 0 at the start of the first day. Right-to-left pages run time leftwards.
    """
    total = max(1, (end - start).days + 1)

    def x_at(fraction: float) -> float:
        x = WIDTH * min(max(fraction, 0.0), 1.0)
        return WIDTH - x if rtl else x

    known = [v for _d, v in series]
    peak = max([*known, target or 0, projection or 0, 0]) * 1.1 or 1.0

    def y_at(value: float) -> float:
        return PLOT - (PLOT - 10) * max(value, 0) / peak

    points: list[tuple[float, float]] = [(x_at(0), y_at(0))] if additive and series else []
    for day, value in series:
        points.append((x_at(((day - start).days + 1) / total), y_at(value)))
    projected = None
    if points and projection is not None:
        last_x, last_y = points[-1]
        projected = {
            "x1": coordinate(last_x),
            "y1": coordinate(last_y),
            "x2": coordinate(x_at(1.0)),
            "y2": coordinate(y_at(projection)),
        }
    ticks = [
        Tick(
            coordinate(x_at(0)),
            str(formats.date_format(start, "MONTH_DAY_FORMAT")),
            "end" if rtl else "start",
        ),
        Tick(
            coordinate(x_at(1.0)),
            str(formats.date_format(end, "MONTH_DAY_FORMAT")),
            "start" if rtl else "end",
        ),
    ]
    return {
        "line": " ".join(f"{coordinate(x)},{coordinate(y)}" for x, y in points),
        "dots": [{"x": coordinate(x), "y": coordinate(y)} for x, y in points[-1:]],
        "projection": projected,
        "target_y": None if target is None else coordinate(y_at(target)),
        # The svg is drawn left to right (direction: ltr); the label sits by the last day.
        "target_label_x": coordinate(x_at(1.0) + (4 if rtl else -4)),
        "target_anchor": "start" if rtl else "end",
        "ticks": ticks,
        "width": WIDTH,
        "height": HEIGHT,
        "plot": PLOT,
        "caption": caption,
    }
