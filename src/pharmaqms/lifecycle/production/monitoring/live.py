"""Live monitoring: the platform's reading listener. Every delivery of process readings (an MES
import through the ingest pipeline, a replayed quarantined row — any connector that stores a
process reading) reaches ``LiveMonitoring.on_readings`` once it has committed. In one unit of
work it then:

1. reads the configuration of the parameters the readings belong to (active, with approved
   limits) — so a new revision of limits, a rule switched off or a suspension counts from the
   next delivery on, in every process;
2. checks that each parameter's monitor in memory is in step with storage: it has seen every
   stored reading of the series before these, and these come after it. One query per delivery
   asks for the readings of the touched parameters stored by other deliveries since the
   monitors' last ones. A monitor that missed readings stored by another process carries on
   from the last reading it saw (so those are judged too; an alert is unique per rule and
   reading, so a point the other process judged is not alerted twice). A monitor that is new
   (first use after start), under new limits or configuration, or passed by a reading measured
   earlier than one already charted is rebuilt from the last stored readings before the
   delivery, and the delivery's part of the series is replayed from storage. Readings stored
   while no process listened at all are therefore judged only if they follow the last reading
   a running monitor saw;
3. feeds the readings to their monitors (``engine.evaluate``: the in-memory step), converted to
   the parameter's unit when sent in another unit of the same kind;
4. gives a data-quality signal for each reading that can't join its series (a unit of another
   kind, an unknown unit, no unit: see ``series``), so that no reading is passed over silently;
5. checks the Hotelling T² groups the readings touch;
6. stores an alert per signal not stored before, with a task for each alert role, and commits.

A delivery whose evaluation fails leaves its parameters marked: the next delivery rebuilds them
and replays from the failed readings on, so the alert is raised late rather than never (and
never twice: an alert is unique per rule and reading).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from pharmaqms.kernel import auth
from pharmaqms.kernel.db import Database, get_database
from pharmaqms.kernel.identity import Channel
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.production.monitoring import hotelling, store
from pharmaqms.lifecycle.production.monitoring.alerts import draft_of, raise_alerts
from pharmaqms.lifecycle.production.monitoring.engine import (
    MonitorConfig,
    ParameterMonitor,
    Signal,
    evaluate,
)
from pharmaqms.lifecycle.production.monitoring.models import (
    ControlLimits,
    LimitsStatus,
    MonitoredParameter,
    MonitoringStatus,
    ProcessAlert,
)
from pharmaqms.lifecycle.production.monitoring.series import SeriesKey, UnitIssue, conversion
from pharmaqms.lifecycle.production.monitoring.store import Place, Series
from pharmaqms.lifecycle.production.spc import ChartKind, HotellingT2Chart, Limits, RuleSet
from pharmaqms.platform.timeseries.arrivals import ArrivedReading, add_reading_listener

log = logging.getLogger("pharmaqms.spc")

# Points a monitor is rebuilt from: the longest rule looks at 15.
RECENT_POINTS = 20


MP, CL = MonitoredParameter, ControlLimits
# Plain columns, not ORM objects: a delivery touching 1,000 parameters reads 1,000 of these, and
# building ORM instances for them cost more than the rest of the listener together.
_CONFIG = select(
    MP.id,
    MP.version,
    CL.id,
    MP.number,
    MP.title,
    MP.product_code,
    MP.unit_procedure,
    MP.operation,
    MP.phase,
    MP.parameter,
    MP.unit,
    MP.rule_set,
    MP.enabled_rules,
    MP.alert_roles,
    CL.chart_kind,
    CL.subgroup_size,
    CL.center,
    CL.location_sigma,
    CL.lcl,
    CL.ucl,
    CL.effective_from,
    CL.dispersion_center,
    CL.dispersion_lcl,
    CL.dispersion_ucl,
).join(CL, and_(CL.parameter_id == MP.id, CL.status == LimitsStatus.APPROVED))


def load_configs(
    session: Session,
    keys: Sequence[SeriesKey],
    known: Mapping[SeriesKey, ParameterMonitor] | None = None,
) -> dict[SeriesKey, MonitorConfig]:
    """The live configuration of these series (active parameters with approved limits). A
    configuration a monitor already holds is reused when its stamp has not changed."""
    if not keys:
        return {}
    wanted = set(keys)
    rows = session.execute(
        _CONFIG.where(
            MP.status == MonitoringStatus.ACTIVE,
            MP.product_code.in_(sorted({k[0] for k in wanted})),
            MP.parameter.in_(sorted({k[4] for k in wanted})),
        )
    )
    found = {}
    for row in rows:
        key = (row[5], row[6], row[7], row[8], row[9])
        if key not in wanted:
            continue
        monitor = known.get(key) if known is not None else None
        if monitor is not None and monitor.config.stamp == (row[1], row[2]):
            found[key] = monitor.config
            continue
        assert row[20] is not None, "approved limits have a start"
        found[key] = MonitorConfig(
            parameter_id=row[0],
            parameter_version=row[1],
            limits_id=row[2],
            subject=f"{row[3]} {row[4]}",
            key=key,
            unit=row[10],
            chart_kind=ChartKind(row[14]),
            subgroup_size=row[15],
            rule_set=RuleSet(row[11]),
            rules=tuple(int(n) for n in row[12].split(",") if n),
            center=row[16],
            location_sigma=row[17],
            lcl=row[18],
            ucl=row[19],
            effective_from=row[20],
            alert_roles=tuple(r for r in row[13].split(",") if r),
            dispersion=Limits(center=row[21], lower=row[22], upper=row[23]),
        )
    return found


def series_of(config: MonitorConfig) -> Series:
    return Series(config.key, config.unit, config.effective_from)


def rebuild(session: Session, config: MonitorConfig, *, until: Place | None) -> ParameterMonitor:
    """A monitor in the state it has after the last stored reading before ``until``."""
    window = store.recent(
        session, series_of(config), config.subgroup_size, RECENT_POINTS, until=until
    )
    monitor = ParameterMonitor(config, next_index=window.first_index)
    # The signals of points already evaluated are not raised again.
    monitor.replay(window.readings, [])
    return monitor


@dataclass
class Delivery:
    """One delivery's readings sorted out by series."""

    readings: Sequence[ArrivedReading]
    by_key: dict[SeriesKey, list[ArrivedReading]] = field(default_factory=dict)
    # Of monitored parameters, measured since their limits apply: the readings that join the
    # series, and those that can't (with why).
    charted: dict[SeriesKey, list[ArrivedReading]] = field(default_factory=dict)
    refused: list[tuple[MonitorConfig, ArrivedReading, UnitIssue]] = field(default_factory=list)


class LiveMonitoring:
    """The monitors of one process, and the listener that keeps them fed."""

    def __init__(self, database: Database | None = None) -> None:
        self._database = database  # None: the process's default database
        self._lock = threading.Lock()
        self._bound: Database | None = None
        self.monitors: dict[SeriesKey, ParameterMonitor] = {}
        self.products: dict[int, str] = {}
        self._replay_from: dict[SeriesKey, Place] = {}
        self._charts: dict[int, HotellingT2Chart] = {}

    def reset(self) -> None:
        self.monitors.clear()
        self.products.clear()
        self._replay_from.clear()
        self._charts.clear()

    def on_readings(self, readings: Sequence[ArrivedReading]) -> list[int]:
        """The listener: evaluate a committed delivery and commit its alerts. Returns the ids
        of the alerts raised."""
        database = self._database or get_database()
        with self._lock:
            if database is not self._bound:
                # Another database (a test's, a restore): nothing in memory belongs to it.
                self.reset()
                self._bound = database
            try:
                with unit_of_work(database) as session:
                    alerts = self.process(session, readings)
                    return [alert.id for alert in alerts]
            except Exception:
                self._replay_later(readings)
                raise

    def process(self, session: Session, readings: Sequence[ArrivedReading]) -> list[ProcessAlert]:
        """Evaluate the readings inside the caller's unit of work; returns the alerts raised."""
        unknown = {r.batch_id for r in readings if r.batch_id not in self.products}
        if unknown:
            self.products.update(store.products_of(session, unknown))
        delivery = self._sort(readings)
        in_step, signals = self._prepare(session, delivery)
        signals.extend(evaluate(self.monitors, self.products, in_step))
        signals.extend(self._refused(session, delivery))
        drafts = [draft_of(signal) for signal in signals]
        drafts.extend(hotelling.check(session, readings, self.products, self._charts))
        if not drafts:
            return []
        system = auth.system_actor(session, Channel.SYSTEM)
        alerts = raise_alerts(session, actor=system, drafts=drafts)
        for alert in alerts:
            log.info(
                "%s: %s on %s (point %d)",
                alert.number,
                alert.rule_name,
                alert.subject,
                alert.point_index,
            )
        return alerts

    def _sort(self, readings: Sequence[ArrivedReading]) -> Delivery:
        delivery = Delivery(readings)
        for r in readings:
            product = self.products.get(r.batch_id)
            if product is not None:
                key = (product, r.unit_procedure, r.operation, r.phase, r.parameter)
                delivery.by_key.setdefault(key, []).append(r)
        return delivery

    def _prepare(
        self, session: Session, delivery: Delivery
    ) -> tuple[list[ArrivedReading], list[Signal]]:
        """Bring every touched monitor in step with storage. Returns the readings of monitors
        that were in step (to feed now) and the signals of the replayed ones."""
        configs = load_configs(session, list(delivery.by_key), self.monitors)
        in_step: set[SeriesKey] = set()
        signals: list[Signal] = []
        to_check: dict[SeriesKey, tuple[ParameterMonitor, Place]] = {}
        for key, arrived in delivery.by_key.items():
            config = configs.get(key)
            if config is None:
                # Not monitored (or suspended, or no approved limits): forget any old state.
                self.monitors.pop(key, None)
                self._replay_from.pop(key, None)
                continue
            charted = delivery.charted[key] = []
            for r in arrived:
                if r.measured_at < config.effective_from:
                    continue
                found = conversion(r.unit, config.unit)
                if isinstance(found, UnitIssue):
                    delivery.refused.append((config, r, found))
                else:
                    charted.append(r)
            if not charted:
                continue
            places = [(r.measured_at, r.reading_id) for r in charted]
            first, last = min(places), max(places)
            replay_from = self._replay_from.pop(key, None)
            monitor = self.monitors.get(key)
            current = (
                replay_from is None
                and monitor is not None
                and monitor.config.stamp == config.stamp
                and not monitor.has_seen(*first)
            )
            if current and monitor is not None:
                to_check[key] = (monitor, last)
                continue
            start = min(first, replay_from) if replay_from is not None else first
            monitor = rebuild(session, config, until=start)
            monitor.replay(store.readings(session, series_of(config), from_place=start), signals)
            self.monitors[key] = monitor
        missed = self._missed(session, to_check, delivery.readings)
        for key, (monitor, _last) in to_check.items():
            if key not in missed:
                in_step.add(key)
                continue
            # Readings it has not seen came before these (stored by another process): carry on
            # from the last one it saw, so those are judged too.
            unseen = store.readings(session, series_of(monitor.config), after=monitor.last_place)
            monitor.replay(unseen, signals)
        fresh = [r for key in in_step for r in delivery.charted[key]]
        # The series runs in measurement order, whatever order the delivery listed them in.
        fresh.sort(key=lambda r: (r.measured_at, r.reading_id))
        return fresh, signals

    def _missed(
        self,
        session: Session,
        to_check: dict[SeriesKey, tuple[ParameterMonitor, Place]],
        readings: Sequence[ArrivedReading],
    ) -> set[SeriesKey]:
        """The series among these whose storage holds a reading, after the last one its monitor
        saw and up to the delivery's last, that is not of this delivery: one query for all."""
        if not to_check:
            return set()
        since = min(
            m.last_place[0] if m.last_place else m.config.effective_from
            for m, _ in to_check.values()
        )
        until = max(last[0] for _, last in to_check.values())
        runs = {r.run_id for r in readings}
        found = store.strays(session, list(to_check), since, until, runs)
        unknown = {stray.batch_id for stray in found if stray.batch_id not in self.products}
        if unknown:
            # A batch this process has not met yet (its readings came through another one).
            self.products.update(store.products_of(session, unknown))
        missed = set()
        for stray in found:
            key = (self.products.get(stray.batch_id, ""), *stray.step)
            checked = to_check.get(key)
            if checked is None:
                continue
            monitor, last = checked
            config = monitor.config
            seen = monitor.last_place
            place = (stray.measured_at, stray.reading_id)
            if (
                (seen is None or place > seen)
                and place <= last
                and stray.measured_at >= config.effective_from
                and not isinstance(conversion(stray.unit, config.unit), UnitIssue)
            ):
                missed.add(key)
        return missed

    def _refused(self, session: Session, delivery: Delivery) -> list[Signal]:
        """A data-quality signal for each reading that can't join its series, at the index the
        series' next point gets."""
        signals = []
        rebuilt: dict[SeriesKey, ParameterMonitor] = {}
        for config, reading, issue in delivery.refused:
            monitor = self.monitors.get(config.key) or rebuilt.get(config.key)
            if monitor is None or monitor.config.stamp != config.stamp:
                monitor = rebuilt[config.key] = rebuild(session, config, until=None)
            signals.append(monitor.unit_issue(reading, reading.unit, issue))
        return signals

    def _replay_later(self, readings: Sequence[ArrivedReading]) -> None:
        for key, arrived in self._sort(readings).by_key.items():
            first = min((r.measured_at, r.reading_id) for r in arrived)
            previous = self._replay_from.get(key)
            self._replay_from[key] = min(first, previous) if previous is not None else first
            self.monitors.pop(key, None)


LIVE = LiveMonitoring()
add_reading_listener(LIVE.on_readings)
