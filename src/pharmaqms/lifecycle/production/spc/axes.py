"""Axis ticks of a control chart: values on the y axis at round numbers, and the points' times
on the x axis in the reader's time zone. Pure: no database, no drawing.

A control chart is plotted in the order the points were made, one step per point, not on a
linear time scale: batches are days apart and a batch's readings minutes apart, so a time scale
would crowd each batch into a line. The x ticks therefore sit on points, evenly spread, each
labelled with its point's wall-clock time; a label carries the date when the day changes and the
zone's abbreviation when the offset does (the autumn night shows 02:30 twice: CEST, then CET).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

# The steps of a round axis, per power of ten.
_NICE_STEPS = (1.0, 2.0, 2.5, 5.0, 10.0)


def nice_step(span: float, target: int) -> float:
    """The round step (1, 2, 2.5 or 5 × 10ⁿ) that cuts ``span`` into the number of intervals
    nearest ``target`` (the larger step on a tie: fewer labels)."""
    if not (math.isfinite(span) and span > 0):
        raise ValueError("the span of an axis must be a positive finite number")
    wanted = max(target, 1)
    power = 10.0 ** math.floor(math.log10(span / wanted))
    return min(
        (s * power for s in reversed(_NICE_STEPS)), key=lambda step: abs(span / step - wanted)
    )


def nice_ticks(low: float, high: float, target: int = 5) -> list[float]:
    """Round values inside [low, high] (both included), about ``target`` intervals apart. A
    degenerate range (low == high) gets its one value."""
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ValueError("the ends of an axis must be finite numbers")
    if high < low:
        low, high = high, low
    if high == low:
        return [low]
    step = nice_step(high - low, target)
    first = math.ceil(low / step - 1e-9)
    last = math.floor(high / step + 1e-9)
    # Multiply, never accumulate: 0.1 + 0.2 must not become 0.30000000000000004.
    return [_clean(n * step, step) for n in range(first, last + 1)]


def _clean(value: float, step: float) -> float:
    digits = max(0, -math.floor(math.log10(step)) + 2)
    cleaned = round(value, digits)
    return 0.0 if cleaned == 0 else cleaned


def tick_text(value: float, step: float) -> str:
    """A tick's value with as many decimals as its step needs (0.25 → 2, 10 → 0)."""
    decimals = 0
    while decimals < 8 and abs(round(step, decimals) - step) > abs(step) * 1e-9:
        decimals += 1
    return f"{value:.{decimals}f}"


def point_ticks(count: int, target: int = 8) -> list[int]:
    """Which of ``count`` points carry a time label: the first, then every k-th, k a round
    number (1, 2, 5, 10, 20, 25, 50 …) so that about ``target`` labels fit."""
    if count <= 0:
        return []
    if count <= target:
        return list(range(count))
    step = max(1, round(nice_step(float(count - 1), target)))
    return list(range(0, count, step))


def time_labels(
    times: Sequence[datetime], zone: ZoneInfo, *, with_date_first: bool = True
) -> list[str]:
    """The wall-clock labels of these instants in ``zone``, in order: ``HH:MM``, with the date
    (``YYYY-MM-DD HH:MM``) on the first label and where the day changes, and the zone's
    abbreviation where the offset changes from the label before (a DST change)."""
    labels: list[str] = []
    previous: datetime | None = None
    for moment in times:
        if moment.tzinfo is None:
            raise ValueError("a chart's times must carry their zone (UTC as stored)")
        wall = moment.astimezone(zone)
        dated = (previous is None and with_date_first) or (
            previous is not None and wall.date() != previous.date()
        )
        text = wall.strftime("%Y-%m-%d %H:%M" if dated else "%H:%M")
        if previous is not None and wall.utcoffset() != previous.utcoffset():
            text += f" {wall.tzname()}"
        labels.append(text)
        previous = wall
    return labels


def moment_text(moment: datetime, zone: ZoneInfo) -> str:
    """One instant as a reader reads it: ``2026-10-25 02:30:00 CET``."""
    wall = moment.astimezone(zone)
    return f"{wall:%Y-%m-%d %H:%M:%S} {wall.tzname()}"
