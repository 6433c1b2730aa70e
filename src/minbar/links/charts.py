"""Small server-side SVG charts (no JavaScript, no CDN): bars over time and sparklines."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

WIDTH = 600
HEIGHT = 140
BASE = 130
TOP = 120


def bars(
    values: Sequence[int], labels: Sequence[Any], *, second: Sequence[int] = ()
) -> dict[str, Any]:
    """Bars for ``values`` (and, drawn inside them, ``second``) scaled to the tallest."""
    peak = max([1, *values, *second])
    width = WIDTH / max(1, len(values))
    rows = []
    for i, value in enumerate(values):
        inner = second[i] if i < len(second) else 0
        rows.append(
            {
                "label": labels[i],
                "value": value,
                "second": inner,
                "x": round(i * width, 1),
                "width": round(max(1.0, width - 2), 1),
                "h": round(TOP * value / peak, 1),
                "y": round(BASE - TOP * value / peak, 1),
                "h2": round(TOP * inner / peak, 1),
                "y2": round(BASE - TOP * inner / peak, 1),
            }
        )
    return {"bars": rows, "width": WIDTH, "height": HEIGHT, "base": BASE, "peak": peak}


def sparkline(values: Sequence[int], width: int = 100, height: int = 24) -> str:
    """The ``points`` of an SVG polyline for ``values``."""
    if not values:
        return ""
    peak = max(1, *values)
    step = width / max(1, len(values) - 1)
    return " ".join(
        f"{round(i * step, 1)},{round(height - 2 - (height - 4) * v / peak, 1)}"
        for i, v in enumerate(values)
    )
