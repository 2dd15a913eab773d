"""The outcome figures, computed from each module's own read functions (never its tables).

Each figure is a rate or a duration per calendar month of the site's time zone over the last
twelve months, and keeps the records it counted, so a month drills down to them: the batches
behind a failure rate, the shipments behind the excursion rate, the clocks behind reporting
compliance. A month without anything to count has no value (``None``), never 0 %.

- time to launch (R&D): per project, from ``rnd.gates.launch`` — months from the first gate to
  the first commercial batch released; shown by the month of that release;
- batch failure rate, right first time, release cycle time, OOS rate (production):
  ``production.kpi.service`` over every product;
- cold-chain excursion rate (distribution): ``distribution.kpi.shipment_outcomes``;
- CAPA on-time rate (quality): ``quality.capa.queries.capa_closures``;
- reporting-clock compliance for adverse events (use): ``use.cases.clock_compliance``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.orm import Session

from pharmaqms.kernel.errors import NotFound
from pharmaqms.kernel.timezones import site_day_start_utc, site_month_start
from pharmaqms.lifecycle.distribution import kpi as distribution_kpi
from pharmaqms.lifecycle.production.kpi import service as production_kpi
from pharmaqms.lifecycle.rnd.gates import launch
from pharmaqms.lifecycle.use.cases import clock_compliance
from pharmaqms.quality.capa import queries as capa_queries

MONTHS = 12


@dataclass(frozen=True)
class Counted:
    """One record behind a figure: in the numerator (``hit``) or only in the denominator."""

    label: str
    url: str
    hit: bool
    detail: str = ""


@dataclass
class Month:
    month: date
    value: float | None = None
    numerator: int = 0
    denominator: int = 0
    records: list[Counted] = field(default_factory=list)


@dataclass(frozen=True)
class Figure:
    key: str
    title: str
    area: str
    definition: str
    unit: str  # "%", "h" or "months"
    better: str  # "higher" or "lower"
    months: tuple[Month, ...]

    @property
    def latest(self) -> Month | None:
        """The last month with a value."""
        return next((m for m in reversed(self.months) if m.value is not None), None)

    def month(self, month: date) -> Month:
        for m in self.months:
            if m.month == month:
                return m
        raise NotFound(f"{month:%Y-%m} is not one of the months of {self.title}")


def _month_of(moment: datetime | date) -> date:
    return site_month_start(moment)


def _rate(
    key: str,
    title: str,
    area: str,
    definition: str,
    better: str,
    window: list[date],
    counted: list[tuple[date, Counted]],
) -> Figure:
    per: dict[date, list[Counted]] = defaultdict(list)
    for month, record in counted:
        per[month].append(record)
    months = []
    for m in window:
        records = per[m]
        hits = sum(r.hit for r in records)
        months.append(
            Month(m, hits / len(records) if records else None, hits, len(records), records)
        )
    return Figure(key, title, area, definition, "%", better, tuple(months))


def _lot_url(lot_id: int) -> str:
    return f"/production/release/{lot_id}"


def production_figures(session: Session, window: list[date]) -> list[Figure]:
    outcomes = production_kpi.batch_outcomes(session, since=window[0])
    failure = _rate(
        "batch-failure",
        "Batch failure rate",
        "Production",
        production_kpi.FAILURE_RATE_DEFINITION,
        "lower",
        window,
        [
            (
                o.month,
                Counted(
                    o.lot_number,
                    _lot_url(o.lot_id),
                    o.rejected,
                    "rejected" if o.rejected else "released",
                ),
            )
            for o in outcomes
        ],
    )
    right_first_time = _rate(
        "right-first-time",
        "Right first time",
        "Production",
        production_kpi.RIGHT_FIRST_TIME_DEFINITION,
        "higher",
        window,
        [
            (
                o.month,
                Counted(
                    o.lot_number,
                    _lot_url(o.lot_id),
                    o.right_first_time,
                    "right first time"
                    if o.right_first_time
                    else ("rejected" if o.rejected else "exception, deviation or nonconformance"),
                ),
            )
            for o in outcomes
        ],
    )
    per: dict[date, list[tuple[float, Counted]]] = defaultdict(list)
    for o in outcomes:
        if not o.rejected and o.cycle_hours is not None:
            per[o.month].append(
                (
                    o.cycle_hours,
                    Counted(o.lot_number, _lot_url(o.lot_id), True, f"{o.cycle_hours:.1f} h"),
                )
            )
    cycle = Figure(
        "release-cycle-time",
        "Release cycle time (median)",
        "Production",
        "Release cycle time: from the end of manufacture to the QP's release, median over the "
        "batches released in the month, in hours.",
        "h",
        "lower",
        tuple(
            Month(
                m,
                production_kpi.percentile([h for h, _ in per[m]], 50),
                len(per[m]),
                len(per[m]),
                [c for _, c in sorted(per[m], key=lambda hc: hc[0])],
            )
            for m in window
        ),
    )
    oos = _rate(
        "oos-rate",
        "OOS rate",
        "Production",
        "OOS rate: first results (not retests) out of specification / first results "
        "evaluated, every test and product, by the month tested.",
        "lower",
        window,
        [
            (
                r.month,
                Counted(
                    f"{r.item_code} · {r.test_code} #{r.result_id}",
                    f"/production/qc/results/{r.result_id}",
                    r.failed,
                    "out of specification" if r.failed else "within specification",
                ),
            )
            for r in production_kpi.first_results(session, since=window[0])
        ],
    )
    return [failure, right_first_time, cycle, oos]


def excursion_figure(session: Session, window: list[date]) -> Figure:
    return _rate(
        "excursion-rate",
        "Cold-chain excursion rate",
        "Distribution",
        distribution_kpi.EXCURSION_RATE_DEFINITION.replace(", per lane and", " per"),
        "lower",
        window,
        [
            (
                _month_of(s.shipped_at),
                Counted(
                    s.reference,
                    "/distribution/kpi",
                    s.with_excursion,
                    f"{s.lane}: " + ("excursion" if s.with_excursion else "in range"),
                ),
            )
            for s in distribution_kpi.shipment_outcomes(session)
            if _month_of(s.shipped_at) >= window[0]
        ],
    )


def capa_figure(session: Session, window: list[date]) -> Figure:
    since = site_day_start_utc(window[0])
    return _rate(
        "capa-on-time",
        "CAPA on-time rate",
        "Quality system",
        "CAPA on-time rate: CAPAs closed on or before their due date / CAPAs closed, by the "
        "month of closure.",
        "higher",
        window,
        [
            (
                _month_of(c.closed_at),
                Counted(
                    c.number,
                    f"/capas/{c.capa_id}",
                    c.on_time,
                    f"closed {c.closed_at:%Y-%m-%d}, due {c.due_at:%Y-%m-%d}",
                ),
            )
            for c in capa_queries.capa_closures(session, since=since)
        ],
    )


def clock_figure(session: Session, window: list[date]) -> Figure:
    return _rate(
        "reporting-clocks",
        "Adverse-event reporting-clock compliance",
        "Pharmacovigilance",
        clock_compliance.DEFINITION,
        "higher",
        window,
        [
            (
                _month_of(o.due_on),
                Counted(
                    f"{o.case_number} · {o.region}",
                    f"/pv/cases/{o.case_id}",
                    o.met,
                    f"{o.title}, due {o.due_on:%Y-%m-%d}",
                ),
            )
            for o in clock_compliance.clock_outcomes(session, since=window[0])
        ],
    )


def launch_figure(session: Session, window: list[date]) -> Figure:
    per: dict[date, list[tuple[float, Counted]]] = defaultdict(list)
    for t in launch.launch_times(session):
        if t.months is None or t.first_batch_released_at is None:
            continue
        month = _month_of(t.first_batch_released_at)
        per[month].append(
            (
                t.months,
                Counted(
                    f"{t.project_code} · {t.project_title}",
                    f"/rnd/projects/{t.project_id}/gates",
                    True,
                    f"{t.months:.1f} months to {t.first_batch}",
                ),
            )
        )
    return Figure(
        "time-to-launch",
        "Time to launch",
        "R&D",
        launch.DEFINITION + " Shown by the month of the first commercial release (mean of the "
        "projects launched that month).",
        "months",
        "lower",
        tuple(
            Month(
                m,
                sum(v for v, _ in per[m]) / len(per[m]) if per[m] else None,
                len(per[m]),
                len(per[m]),
                [c for _, c in per[m]],
            )
            for m in window
        ),
    )


def outcome_figures(session: Session, *, months: int = MONTHS) -> list[Figure]:
    """Every figure of the dashboard over the last ``months`` calendar months."""
    window = production_kpi.last_months(months)
    return [
        launch_figure(session, window),
        *production_figures(session, window),
        excursion_figure(session, window),
        capa_figure(session, window),
        clock_figure(session, window),
    ]


def figure_by_key(session: Session, key: str, *, months: int = MONTHS) -> Figure:
    for figure in outcome_figures(session, months=months):
        if figure.key == key:
            return figure
    raise NotFound(f"no outcome figure {key!r}")
