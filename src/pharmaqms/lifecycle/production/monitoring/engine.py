"""The in-memory step of live monitoring: one monitor per parameter, fed reading by reading, that
says which rules a new point starts breaking. Pure: no database (``live`` keeps the monitors in
step with storage; this module only evaluates).

When an alert is raised. The run rules flag every point while a pattern persists (nine points
above the centre give rule 2 at the ninth point and again at the tenth …). People need to hear
of a pattern once: a monitor raises a signal when a rule *starts* being broken — it is broken at
this point and was not at the previous point of the chart. The chart page still marks every
flagged point. So ten points above the centre raise one rule 2 alert, at index 8; a run that
breaks, and later builds up again, raises a second.

The dispersion chart is judged too: a moving range (I-MR), subgroup range (X̄-R) or subgroup SD
(X̄-S) strictly above its UCL, or below its LCL where that is above zero (X̄-R and X̄-S with
subgroups of 7 or more), gives a signal — "dispersion beyond its control limits" — with the
same convention: once when the dispersion goes out, not again while it stays out. A moving
range spans two consecutive points of the series, across batches as the chart draws it; the
first point of the series (or of a monitor rebuilt from a window of it) has none.

Indexes are 0-based positions in the parameter's series since its limits apply
(see ``series``), so the first point after the approval is point 0.

Units: a chart compares numbers, so a reading in another unit of the same kind is converted to
the parameter's before it is judged (25 000 N on a kN chart is the point 25). A reading that
can't be converted — a unit of another kind, one pint does not know, or no unit at all (read
``series`` for why a bare number is not assumed to be in the parameter's unit) — is not
plotted, and it is not dropped in silence either: it gives a data-quality signal, which the
live monitoring raises as an alert to the parameter's alert roles, naming the reading, its unit
and why (one alert per parameter, batch and unit: a source sending a whole batch in the wrong
unit is one problem to fix, not hundreds of tasks), and logs every such reading.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from pharmaqms.lifecycle.production.monitoring.series import (
    Conversion,
    SeriesKey,
    UnitIssue,
    conversion,
    dispersion_of,
)
from pharmaqms.lifecycle.production.spc import ChartKind, Limits, RuleEvaluator, RuleSet, outside
from pharmaqms.lifecycle.production.spc.rules import rule_name
from pharmaqms.platform.timeseries.arrivals import ArrivedReading

log = logging.getLogger("pharmaqms.spc")

# What a signal is about: a run rule of the location chart, the dispersion chart's limits, or
# the reading's data quality.
RULE = "rule"
DISPERSION = "dispersion"
DATA_QUALITY = "data_quality"
DISPERSION_RULE = 1


@dataclass(frozen=True, slots=True)
class MonitorConfig:
    """A monitored parameter with its approved limits, as the evaluation needs them."""

    parameter_id: int
    parameter_version: int
    limits_id: int
    subject: str  # "MP-2026-0001 Compression force" — shown on alerts
    key: SeriesKey
    unit: str
    chart_kind: ChartKind
    subgroup_size: int
    rule_set: RuleSet
    rules: tuple[int, ...]
    center: float
    location_sigma: float
    lcl: float
    ucl: float
    effective_from: datetime
    alert_roles: tuple[str, ...]
    dispersion: Limits  # of the MR, R or S chart

    @property
    def stamp(self) -> tuple[int, int]:
        """Changes whenever the configuration or the limits in force change."""
        return (self.parameter_version, self.limits_id)


@dataclass(frozen=True, slots=True)
class Signal:
    config: MonitorConfig
    rule: int
    index: int
    value: float  # the plotted statistic: the reading or subgroup mean; MR, R or S; the reading
    batch_id: int
    reading_id: int
    measured_at: datetime
    kind: str = RULE
    unit: str = ""  # data quality: the unit the reading was sent in
    detail: str = ""  # data quality: why it is not plotted

    @property
    def rule_name(self) -> str:
        if self.kind == DATA_QUALITY:
            shown = repr(self.unit) if self.unit else "no unit"
            return f"Reading in {shown} not plotted: {self.detail}"
        if self.kind == DISPERSION:
            label = self.config.chart_kind.dispersion_label
            return f"{label}: dispersion beyond its control limits"
        return rule_name(self.config.rule_set, self.rule)


class Fed(Protocol):
    """A reading as a monitor takes it: arrived from the platform, or read back from storage."""

    @property
    def reading_id(self) -> int: ...
    @property
    def batch_id(self) -> int: ...
    @property
    def value(self) -> float: ...
    @property
    def measured_at(self) -> datetime: ...


class ParameterMonitor:
    """The state of one parameter's chart: the run rule evaluator, the next point's index, the
    readings of an incomplete subgroup, and the last reading fed (to tell whether storage holds
    readings this monitor has not seen).

    ``feed`` runs once per reading at the rates live monitoring needs (see the benchmark), so
    what it reads of the configuration is copied onto the monitor itself."""

    __slots__ = (
        "_dispersion",
        "_dispersion_out",
        "_kind",
        "_last_value",
        "_pending",
        "_pending_batch",
        "_previous",
        "_update",
        "config",
        "conversions",
        "effective_from",
        "last",
        "next_index",
        "size",
        "unit",
    )

    def __init__(self, config: MonitorConfig, *, next_index: int = 0) -> None:
        self.config = config
        evaluator = RuleEvaluator(
            center=config.center,
            sigma=config.location_sigma,
            rule_set=config.rule_set,
            enabled=config.rules,
        )
        self._update = evaluator.update
        self.size = config.subgroup_size
        self.unit = config.unit
        self.effective_from = config.effective_from
        self.next_index = next_index
        self.last: Fed | None = None
        self._pending: list[float] = []
        self._pending_batch = 0
        self._previous: tuple[int, ...] = ()
        self._kind = config.chart_kind
        self._dispersion = config.dispersion
        self._dispersion_out = False
        self._last_value: float | None = None  # the previous point's, for its moving range
        # How readings in each unit met so far join the series.
        self.conversions: dict[str, Conversion | UnitIssue] = {}

    def take(self, reading: Fed, unit: str, signals: list[Signal]) -> None:
        """Take one arrived reading sent in ``unit``: converted and fed, or, if it can't join
        the series, a data-quality signal (logged too)."""
        if unit == self.unit:
            self.feed(reading, signals)
            return
        found = self.conversions.get(unit)
        if found is None:
            found = self.conversions[unit] = conversion(unit, self.unit)
        if isinstance(found, Conversion):
            self.feed(reading, signals, found(reading.value))
            return
        signals.append(self.unit_issue(reading, unit, found))

    def unit_issue(self, reading: Fed, unit: str, issue: UnitIssue) -> Signal:
        config = self.config
        log.warning(
            "%s: reading %d (%r %s) not plotted: %s",
            config.subject,
            reading.reading_id,
            reading.value,
            unit,
            issue.reason,
        )
        return Signal(
            config,
            issue.rule,
            self.next_index,
            reading.value,
            reading.batch_id,
            reading.reading_id,
            reading.measured_at,
            DATA_QUALITY,
            unit,
            issue.reason,
        )

    def feed(self, reading: Fed, signals: list[Signal], value: float | None = None) -> None:
        """Take one reading of the series, its value in the unit of the parameter (``value``
        when given: the reading converted); append a signal for each rule the point it
        completes starts breaking."""
        self.last = reading
        if value is None:
            value = reading.value
        size = self.size
        if size > 1:
            pending = self._pending
            if reading.batch_id != self._pending_batch:
                pending.clear()
                self._pending_batch = reading.batch_id
            pending.append(value)
            if len(pending) < size:
                return
            dispersion: float | None = dispersion_of(self._kind, pending)
            value = sum(pending) / size
            pending.clear()
        else:
            last = self._last_value
            dispersion = None if last is None else abs(value - last)
            self._last_value = value
        hits = self._update(value)
        index = self.next_index
        self.next_index = index + 1
        if hits:
            previous = self._previous
            for rule in hits:
                if rule not in previous:
                    signals.append(
                        Signal(
                            self.config,
                            rule,
                            index,
                            value,
                            reading.batch_id,
                            reading.reading_id,
                            reading.measured_at,
                        )
                    )
        self._previous = hits
        if dispersion is not None:
            out = outside(dispersion, self._dispersion)
            if out and not self._dispersion_out:
                signals.append(
                    Signal(
                        self.config,
                        DISPERSION_RULE,
                        index,
                        dispersion,
                        reading.batch_id,
                        reading.reading_id,
                        reading.measured_at,
                        DISPERSION,
                    )
                )
            self._dispersion_out = out
        else:
            self._dispersion_out = False

    def replay(self, readings: Iterable[Fed], signals: list[Signal]) -> None:
        feed = self.feed
        for r in readings:
            feed(r, signals)

    @property
    def last_place(self) -> tuple[datetime, int] | None:
        last = self.last
        return None if last is None else (last.measured_at, last.reading_id)

    def has_seen(self, measured_at: datetime, reading_id: int) -> bool:
        """Whether a reading at this place in the series lies at or before the last one fed."""
        last = self.last
        if last is None:
            return False
        return measured_at < last.measured_at or (
            measured_at == last.measured_at and reading_id <= last.reading_id
        )


def evaluate(
    monitors: Mapping[SeriesKey, ParameterMonitor],
    product_of: Mapping[int, str],
    readings: Iterable[ArrivedReading],
) -> list[Signal]:
    """Feed each reading to its parameter's monitor, in the order given; return the signals.

    A reading of a parameter nobody monitors, of a batch whose product is unknown, or measured
    before the limits apply is passed over. One in another unit than the parameter's is
    converted, or gives a data-quality signal when it can't be (see the module's docstring).
    """
    signals: list[Signal] = []
    get = monitors.get
    product = product_of.get
    for r in readings:
        monitor = get(
            (product(r.batch_id, ""), r.unit_procedure, r.operation, r.phase, r.parameter)
        )
        if monitor is None or r.measured_at < monitor.effective_from:
            continue
        if r.unit == monitor.unit:
            monitor.feed(r, signals)
        else:
            monitor.take(r, r.unit, signals)
    return signals
