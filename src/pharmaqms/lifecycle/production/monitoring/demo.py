"""Demo process monitoring on the demo tablet's compression step (Tableting / Compression / Main
compression): compression force, tablet weight (X̄-R of five tablets), hardness and thickness,
with force, hardness and thickness also watched together by Hotelling T².

Every batch of the QC demo gets its in-process controls (20 samples, one every 15 minutes)
delivered through the MES import when the batch ends, so the live evaluation judges them as it
would on the line. The first third of the batches are the reference: the supervisor estimates
the limits from them and QA approves them the next morning. Among the recent batches three
things happen: hardness creeps up six samples in a row (Nelson 3, acknowledged by the operator),
compression force runs above its centre line for twelve samples (Nelson 2, escalated to a
deviation), and one sample is soft yet thick for its force — inside each chart's limits, caught
by T² and still open.

The common-cause noise of the monitored batches is drawn so that no other rule fires (a point
that would start one, or whose moving range or subgroup range would break the dispersion
chart's limits, is drawn again), and the whole plan is checked with the same evaluator the
live path uses before anything is delivered; the reference batches are plain noise.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from random import Random
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import clock
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.demo import DemoContext, register
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.kernel.workflow import perform
from pharmaqms.lifecycle.production.monitoring import alerts, limits, service
from pharmaqms.lifecycle.production.monitoring.hotelling import chart_of
from pharmaqms.lifecycle.production.monitoring.models import MonitoredParameter, ProcessAlert
from pharmaqms.lifecycle.production.monitoring.workflow import (
    GROUP_LIMITS_WORKFLOW,
    LIMITS_WORKFLOW,
)
from pharmaqms.lifecycle.production.spc import Limits, RuleSet, evaluate_rules, outside
from pharmaqms.platform.ingest import service as ingest
from pharmaqms.platform.masterdata.models import Lot, LotKind

PRODUCT = "PARA500"
STEP = {"unit_procedure": "Tableting", "operation": "Compression", "phase": "Main compression"}
SAMPLES = 20
WEIGHED = 5


@dataclass(frozen=True)
class Spec:
    parameter: str
    title: str
    unit: str
    classification: str
    chart_kind: str
    lsl: float
    usl: float
    mean: float


FORCE = Spec("compression_force", "Main compression force", "kN", "CPP", "I-MR", 10.5, 13.5, 12.0)
WEIGHT = Spec("tablet_weight", "Tablet weight", "mg", "CQA", "Xbar-R", 585.0, 615.0, 600.0)
HARDNESS = Spec("hardness", "Tablet hardness", "N", "CQA", "I-MR", 80.0, 140.0, 110.0)
THICKNESS = Spec("thickness", "Tablet thickness", "mm", "CQA", "I-MR", 5.3, 5.7, 5.5)
SPECS = (FORCE, WEIGHT, HARDNESS, THICKNESS)
TRIO = (FORCE, HARDNESS, THICKNESS)  # the T² group: harder and thinner with more force


def _sample(rng: Random, force_z: float | None = None) -> tuple[float, float, float]:
    """One in-process sample of force, hardness and thickness (physically linked)."""
    z = rng.gauss(0.0, 1.0) if force_z is None else force_z
    return (
        12.0 + 0.25 * z,
        110.0 + 4.0 * z + rng.gauss(0.0, 3.0),
        5.5 - 0.03 * z + rng.gauss(0.0, 0.02),
    )


def _weights(rng: Random) -> list[float]:
    return [round(rng.gauss(600.0, 2.5), 1) for _ in range(WEIGHED)]


@dataclass(frozen=True)
class Chart:
    center: float
    sigma: float
    dispersion: Limits  # of the MR or R chart


def _spread_out(values: list[float], chart: Chart) -> bool:
    """Whether the moving range the last value makes breaks the MR chart's limits."""
    return len(values) > 1 and outside(abs(values[-1] - values[-2]), chart.dispersion)


def _range_out(weights: list[float], chart: Chart) -> bool:
    return outside(max(weights) - min(weights), chart.dispersion)


def _starts(values: list[float], chart: Chart, index: int) -> frozenset[int]:
    """The rules that start being broken at ``index`` (broken there, not at the point before)."""
    return _window_starts(tuple(values[max(0, index - 16) : index + 1]), chart)


@lru_cache(maxsize=65536)
def _window_starts(window: tuple[float, ...], chart: Chart) -> frozenset[int]:
    """``_starts`` of the window's last point. Cached: the check of a drawn plan asks again
    about every window the drawing asked about already (the load clears the cache)."""
    found = evaluate_rules(
        list(window), center=chart.center, sigma=chart.sigma, rule_set=RuleSet.NELSON
    )
    last = len(window) - 1
    at = {v.rule for v in found if v.index == last}
    before = {v.rule for v in found if v.index == last - 1}
    return frozenset(at - before)


@dataclass
class Plan:
    """The monitored batches' samples: per batch, SAMPLES (force, hardness, thickness) and
    SAMPLES subgroups of weights."""

    trio: list[list[tuple[float, float, float]]]
    weights: list[list[list[float]]]


def _plan(rng: Random, batches: int, charts: dict[str, Chart], ucl: float, t2: Any) -> Plan:
    """Draw the monitored samples: common-cause noise that starts no rule, and the three events
    of the last batches (see the module docstring)."""
    hardness_batch, force_batch, t2_batch = batches - 3, batches - 2, batches - 1
    force_sigma, hardness_sigma = charts[FORCE.parameter].sigma, charts[HARDNESS.parameter].sigma
    thickness_sigma = charts[THICKNESS.parameter].sigma
    # Sample 7 above sample 8, so the rise of samples 8–13 is six points, not seven.
    rising = [0.2, -0.6, -0.3, 0.0, 0.3, 0.6, 0.9]
    # Sample 5 below the centre, so the run above it starts at sample 6.
    above = [-0.3, 0.4, 1.2, 0.5, 0.8, 1.3, 0.6, 0.9, 0.5, 1.1, 0.4, 0.6, 0.8]
    series: dict[str, list[float]] = {s.parameter: [] for s in SPECS}
    plan = Plan([], [])
    for batch in range(batches):
        trio: list[tuple[float, float, float]] = []
        groups: list[list[float]] = []
        for k in range(SAMPLES):
            force_z = above[k - 5] if batch == force_batch and 5 <= k < 5 + len(above) else None
            rise = rising[k - 7] if batch == hardness_batch and 7 <= k < 7 + len(rising) else None
            soft_and_thick = batch == t2_batch and k == 10
            designed = (force_z is not None, rise is not None or soft_and_thick, soft_and_thick)
            for _ in range(500):
                force, hardness, thickness = _sample(rng, force_z)
                if force_z is not None:
                    force = charts[FORCE.parameter].center + force_z * force_sigma
                if rise is not None:
                    hardness = charts[HARDNESS.parameter].center + rise * hardness_sigma
                if soft_and_thick:
                    force = charts[FORCE.parameter].center
                    hardness = charts[HARDNESS.parameter].center - 1.9 * hardness_sigma
                    thickness = charts[THICKNESS.parameter].center + 1.9 * thickness_sigma
                vector = (round(force, 2), round(hardness, 1), round(thickness, 3))
                fits = soft_and_thick or float(t2.t_squared([vector])[0]) <= ucl
                for spec, value, fixed in zip(TRIO, vector, designed, strict=True):
                    candidate = [*series[spec.parameter], value]
                    chart = charts[spec.parameter]
                    if _spread_out(candidate, chart) or (
                        not fixed and _starts(candidate, chart, len(candidate) - 1)
                    ):
                        fits = False
                if fits:
                    break
            for spec, value in zip(TRIO, vector, strict=True):
                series[spec.parameter].append(value)
            trio.append(vector)
            for _ in range(500):
                weights = _weights(rng)
                candidate = [*series[WEIGHT.parameter], sum(weights) / WEIGHED]
                chart = charts[WEIGHT.parameter]
                if not _starts(candidate, chart, len(candidate) - 1) and not _range_out(
                    weights, chart
                ):
                    break
            series[WEIGHT.parameter].append(sum(weights) / WEIGHED)
            groups.append(weights)
        plan.trio.append(trio)
        plan.weights.append(groups)
    return plan


def _all_starts(values: list[float], chart: Chart) -> list[tuple[int, int]]:
    return sorted((rule, i) for i in range(len(values)) for rule in _starts(values, chart, i))


def _expected(batches: int) -> dict[str, list[tuple[int, int]]]:
    """(rule, point index) of the designed alerts: the ninth sample above the centre (sample 14
    of the force batch), the sixth rising sample (13 of the hardness batch)."""
    return {
        FORCE.parameter: [(2, (batches - 2) * SAMPLES + 14)],
        HARDNESS.parameter: [(3, (batches - 3) * SAMPLES + 13)],
        THICKNESS.parameter: [],
        WEIGHT.parameter: [],
    }


def _check(plan: Plan, charts: dict[str, Chart]) -> bool:
    """The plan raises the designed alerts, at the designed points, and nothing else."""
    columns = {
        spec.parameter: [s[n] for batch in plan.trio for s in batch] for n, spec in enumerate(TRIO)
    }
    for name, values in columns.items():
        if any(_spread_out(values[: i + 1], charts[name]) for i in range(len(values))):
            return False
    if any(_range_out(g, charts[WEIGHT.parameter]) for batch in plan.weights for g in batch):
        return False
    columns[WEIGHT.parameter] = [sum(g) / WEIGHED for batch in plan.weights for g in batch]
    expected = _expected(len(plan.trio))
    return all(
        _all_starts(values, charts[name]) == expected[name] for name, values in columns.items()
    )


# --- delivery -------------------------------------------------------------------------------


def _rows(
    lot: Batch, trio: list[tuple[float, float, float]], weights: list[list[float]]
) -> list[dict[str, Any]]:
    end = lot.ended
    rows = []
    for k in range(SAMPLES):
        at = end - timedelta(hours=6) + timedelta(minutes=15 * k)
        for spec, value in zip(TRIO, trio[k], strict=True):
            rows.append(_reading(lot, spec, value, at))
        for n, weight in enumerate(weights[k]):
            rows.append(_reading(lot, WEIGHT, weight, at + timedelta(seconds=10 * n)))
    return rows


def _reading(lot: Batch, spec: Spec, value: float, at: datetime) -> dict[str, Any]:
    return {
        "lot_number": lot.lot_number,
        "item_code": PRODUCT,
        **STEP,
        "equipment": "Fette 2090 press P-03",
        "parameter": spec.parameter,
        "value": value,
        "unit": spec.unit,
        "measured_at": at.isoformat(),
    }


def _deliver(database: Database, ctx: DemoContext, lot: Batch, rows: list[dict[str, Any]]) -> None:
    """The MES delivers the batch's in-process controls when the batch ends; the live
    monitoring judges them once the delivery has committed."""
    at = lot.ended + timedelta(minutes=5)
    with clock.frozen_at(at), unit_of_work(database) as session:
        ingest.ingest(
            session,
            actor=ctx.people["sofia.supervisor"],
            kind="mes",
            content=json.dumps({"process_reading": rows}).encode(),
            filename=f"ipc-{lot.lot_number}.json",
        )


# --- the story ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Batch:
    id: int
    lot_number: str
    ended: datetime


def _lots(database: Database) -> list[Batch]:
    with unit_of_work(database, write=False) as session:
        rows = session.execute(
            select(Lot.id, Lot.lot_number, Lot.manufacturing_ended_at)
            .where(
                Lot.kind == LotKind.FINISHED,
                Lot.item_code == PRODUCT,
                Lot.manufacturing_ended_at.is_not(None),
            )
            .order_by(Lot.manufacturing_ended_at, Lot.id)
        )
        return [Batch(int(i), str(n), e) for i, n, e in rows if e is not None]


def _set_up(
    database: Database, ctx: DemoContext, reference: list[Batch]
) -> tuple[dict[str, int], int]:
    supervisor = ctx.people["sofia.supervisor"]
    first = reference[0].ended
    with clock.frozen_at(first - timedelta(days=2)), unit_of_work(database) as session:
        ids = {}
        for spec in SPECS:
            parameter = service.define_parameter(
                session,
                actor=supervisor,
                product_code=PRODUCT,
                parameter=spec.parameter,
                title=spec.title,
                unit=spec.unit,
                classification=spec.classification,
                chart_kind=spec.chart_kind,
                subgroup_size=WEIGHED if spec is WEIGHT else 1,
                lsl=spec.lsl,
                usl=spec.usl,
                alert_roles=["production_operator", "production_supervisor", "qa"],
                unit_procedure=STEP["unit_procedure"],
                operation=STEP["operation"],
                phase=STEP["phase"],
            )
            session.flush()
            ids[spec.parameter] = parameter.id
        group = service.define_group(
            session,
            actor=supervisor,
            title="Force, hardness and thickness",
            parameter_ids=[ids[s.parameter] for s in TRIO],
        )
        session.flush()
        return ids, group.id


def _approve(
    database: Database, ctx: DemoContext, ids: dict[str, int], group_id: int, reference: list[Batch]
) -> tuple[dict[str, Chart], float, Any]:
    supervisor, qa = ctx.people["sofia.supervisor"], ctx.people["quinn.qa"]
    batches = [lot.lot_number for lot in reference]
    end = reference[-1].ended
    morning = end.replace(hour=9, minute=30, second=0, microsecond=0) + timedelta(days=1)
    charts: dict[str, Chart] = {}
    with clock.frozen_at(morning), unit_of_work(database) as session:
        for spec in SPECS:
            draft = limits.estimate_limits(
                session, actor=supervisor, parameter_id=ids[spec.parameter], batches=batches
            )
            charts[spec.parameter] = Chart(
                draft.center,
                draft.location_sigma,
                Limits(draft.dispersion_center, draft.dispersion_lcl, draft.dispersion_ucl),
            )
        group_draft = limits.estimate_group_limits(
            session, actor=supervisor, group_id=group_id, batches=batches
        )
    with clock.frozen_at(morning + timedelta(hours=1)), unit_of_work(database) as session:
        for spec in SPECS:
            in_draft = limits.limits_of(session, ids[spec.parameter])[0]
            perform(session, LIMITS_WORKFLOW, in_draft, "approve", actor=qa, password=ctx.password)
        group_limits = limits.group_limits_of(session, group_id)[0]
        perform(
            session, GROUP_LIMITS_WORKFLOW, group_limits, "approve", actor=qa, password=ctx.password
        )
        return charts, group_draft.ucl, chart_of(group_limits)


def _answer(
    database: Database, ctx: DemoContext, lot: Batch, parameter: str, escalate: bool
) -> None:
    end = lot.ended
    with clock.frozen_at(end + timedelta(hours=1, minutes=20)), unit_of_work(database) as session:
        alert = session.scalars(
            select(ProcessAlert)
            .join(MonitoredParameter, MonitoredParameter.id == ProcessAlert.parameter_id)
            .where(MonitoredParameter.parameter == parameter, ProcessAlert.batch_id == lot.id)
        ).first()
        if alert is None:
            return
        if escalate:
            alerts.escalate_alert(
                session,
                actor=ctx.people["sofia.supervisor"],
                alert_id=alert.id,
                comment="Force above its centre for twelve samples while the weight control "
                "loop was in manual: fill cam wear suspected, press P-03 taken out of service.",
            )
        else:
            alerts.acknowledge_alert(
                session,
                actor=ctx.people["oscar.operator"],
                alert_id=alert.id,
                comment="Hardness creeping up as the tooling warmed; press speed reduced 5 %, "
                "the next samples back around the centre line.",
            )


def load(session: Session, ctx: DemoContext) -> None:
    # Everything runs in units of work of its own, each committed, so the live monitoring
    # hears each delivery as it would on the line. The loader's own session stays unused: on
    # SQLite its first write would hold the writer lock the deliveries need.
    database = ctx.database
    lots = _lots(database)
    if len(lots) < 10:
        return
    with unit_of_work(database, write=False) as check:
        if check.scalars(select(MonitoredParameter.id)).first() is not None:
            return
    reference, monitored = lots[: max(6, len(lots) // 3)], lots[max(6, len(lots) // 3) :]
    ids, group_id = _set_up(database, ctx, reference)
    rng = Random(ctx.rng.random())  # noqa: S311 - demo data, not security
    for lot in reference:
        trio = [_sample(rng) for _ in range(SAMPLES)]
        _deliver(database, ctx, lot, _rows(lot, trio, [_weights(rng) for _ in range(SAMPLES)]))
    charts, ucl, t2 = _approve(database, ctx, ids, group_id, reference)
    for _ in range(50):
        plan = _plan(rng, len(monitored), charts, ucl, t2)
        if _check(plan, charts):
            break
    else:  # pragma: no cover - the draw converges within a few attempts
        raise RuntimeError("the monitoring demo could not draw its story")
    _window_starts.cache_clear()
    for n, lot in enumerate(monitored):
        _deliver(database, ctx, lot, _rows(lot, plan.trio[n], plan.weights[n]))
        if n == len(monitored) - 3:
            _answer(database, ctx, lot, HARDNESS.parameter, escalate=False)
        if n == len(monitored) - 2:
            _answer(database, ctx, lot, FORCE.parameter, escalate=True)


register("production: process monitoring (SPC)", load)
