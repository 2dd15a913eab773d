"""A project's phases as a server-side SVG timeline: per phase the planned bar (grey) and the
actual one (green once its gate is approved, blue while running), a diamond at each gate's
approval and a line at today. Drawn by hand: a handful of rectangles, and the same data gives
the same bytes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from html import escape

from pharmaqms.lifecycle.rnd.gates.launch import LaunchTime
from pharmaqms.lifecycle.rnd.gates.progress import Progress

WIDTH, LEFT, RIGHT, TOP, ROW, AXIS = 820, 150, 20, 30, 34, 30
PLANNED, DONE, RUNNING, GATE, TODAY = "#c9d1d9", "#2e9958", "#3d7ab8", "#1f2933", "#c0392b"


def _as_date(value: date | datetime) -> date:
    return value.astimezone(UTC).date() if isinstance(value, datetime) else value


def timeline_svg(progress: Progress, today: datetime) -> str:
    rows = progress.rows
    now = _as_date(today)
    dates = [now]
    for r in rows:
        dates += [r.planned_start, r.planned_end]
        dates += [_as_date(d) for d in (r.actual_start, r.actual_end) if d is not None]
    first, last = min(dates), max(dates) + timedelta(days=1)
    span = max((last - first).days, 1)
    plot = WIDTH - LEFT - RIGHT
    height = TOP + ROW * len(rows) + AXIS

    def x(day: date) -> float:
        return round(LEFT + plot * (day - first).days / span, 1)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" role="img" class="gate-timeline" '
        'font-family="sans-serif" font-size="11">',
        "<title>Phases: planned (grey) and actual (green passed, blue running)</title>",
        f'<text x="{LEFT}" y="14" fill="#52606d">planned</text>'
        f'<rect x="{LEFT + 50}" y="6" width="20" height="8" fill="{PLANNED}"/>'
        f'<text x="{LEFT + 80}" y="14" fill="#52606d">actual</text>'
        f'<rect x="{LEFT + 120}" y="6" width="20" height="8" fill="{DONE}"/>'
        f'<rect x="{LEFT + 150}" y="6" width="20" height="8" fill="{RUNNING}"/>'
        f'<text x="{LEFT + 180}" y="14" fill="#52606d">running</text>'
        f'<text x="{LEFT + 240}" y="14" fill="#52606d">◆ gate approved</text>',
    ]
    # Quarter ticks: enough to read months-long phases without crowding.
    tick = date(first.year, ((first.month - 1) // 3) * 3 + 1, 1)
    while tick <= last:
        if tick >= first:
            tx = x(tick)
            parts.append(
                f'<line x1="{tx}" y1="{TOP - 6}" x2="{tx}" y2="{height - AXIS + 4}" '
                'stroke="#e3e7eb"/>'
                f'<text x="{tx}" y="{height - 10}" text-anchor="middle" fill="#52606d">'
                f"{tick:%Y-%m}</text>"
            )
        month = tick.month + 3
        tick = date(tick.year + (month - 1) // 12, (month - 1) % 12 + 1, 1)
    for index, r in enumerate(rows):
        y = TOP + index * ROW
        parts.append(
            f'<text x="{LEFT - 8}" y="{y + 17}" text-anchor="end">{escape(r.label)}</text>'
            f'<rect class="planned" data-phase="{r.phase}" x="{x(r.planned_start)}" y="{y + 4}" '
            f'width="{max(x(r.planned_end) - x(r.planned_start), 2)}" height="10" '
            f'fill="{PLANNED}"><title>{escape(r.label)} planned {r.planned_start} to '
            f"{r.planned_end}</title></rect>"
        )
        if r.actual_start is not None:
            start = _as_date(r.actual_start)
            end = _as_date(r.actual_end) if r.actual_end is not None else now
            colour = DONE if r.actual_end is not None else RUNNING
            state = "passed" if r.actual_end is not None else "running"
            parts.append(
                f'<rect class="actual {state}" data-phase="{r.phase}" x="{x(start)}" '
                f'y="{y + 16}" width="{max(x(end) - x(start), 2)}" height="10" '
                f'fill="{colour}"><title>{escape(r.label)} actual {start} to '
                f"{end if r.actual_end is not None else 'today'}</title></rect>"
            )
        if r.actual_end is not None and r.gate is not None:
            gx, gy = x(_as_date(r.actual_end)), y + 21
            parts.append(
                f'<path class="gate" d="M{gx} {gy - 7}L{gx + 6} {gy}L{gx} {gy + 7}'
                f'L{gx - 6} {gy}Z" fill="{GATE}"><title>{escape(r.gate.number)} approved '
                f"{_as_date(r.actual_end)}</title></path>"
            )
    tx = x(now)
    parts.append(
        f'<line class="today" x1="{tx}" y1="{TOP - 6}" x2="{tx}" y2="{height - AXIS + 4}" '
        f'stroke="{TODAY}" stroke-dasharray="4 3"><title>today {now}</title></line>'
    )
    parts.append("</svg>")
    return "".join(parts)


def launch_svg(times: list[LaunchTime]) -> str:
    """Time to launch per project in months: a green bar once launched, a blue outline for
    the months running so far of a project not launched yet."""
    shown = [t for t in times if t.months is not None or t.running_months is not None]
    height = TOP + ROW * max(len(shown), 1) + AXIS
    longest = max([t.months or t.running_months or 0.0 for t in shown] + [12.0])
    scale = 6 * ((int(longest) + 5) // 6)  # whole half-years
    plot = WIDTH - LEFT - RIGHT - 60

    def x(months: float) -> float:
        return round(LEFT + plot * months / scale, 1)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" role="img" class="launch-chart" '
        'font-family="sans-serif" font-size="11">',
        "<title>Time to launch per project, in months</title>",
    ]
    for month in range(0, scale + 1, 6):
        mx = x(month)
        parts.append(
            f'<line x1="{mx}" y1="{TOP - 6}" x2="{mx}" y2="{height - AXIS + 4}" stroke="#e3e7eb"/>'
            f'<text x="{mx}" y="{height - 10}" text-anchor="middle" fill="#52606d">{month}</text>'
        )
    if not shown:
        parts.append(f'<text x="{LEFT}" y="{TOP + 16}" fill="#52606d">no gate approved yet</text>')
    for index, t in enumerate(shown):
        y = TOP + index * ROW
        value = t.months if t.months is not None else t.running_months or 0.0
        bar = (
            f'fill="{DONE}"'
            if t.launched
            else f'fill="none" stroke="{RUNNING}" stroke-width="2" stroke-dasharray="5 3"'
        )
        text = f"{value:.1f} months" + ("" if t.launched else " so far, not launched")
        parts.append(
            f'<text x="{LEFT - 8}" y="{y + 17}" text-anchor="end">{escape(t.project_code)}</text>'
            f'<rect class="{"launched" if t.launched else "running"}" x="{LEFT}" y="{y + 6}" '
            f'width="{max(x(value) - LEFT, 2)}" height="16" {bar}>'
            f"<title>{escape(t.project_code)}: {escape(text)}</title></rect>"
            f'<text x="{x(value) + 6}" y="{y + 18}" fill="#1f2933">{escape(text)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
