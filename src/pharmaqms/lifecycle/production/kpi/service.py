"""Production KPIs computed from the records themselves, month by month (site calendar):

- batch failure rate: batches rejected / batches dispositioned (released + rejected), by the
  month of the disposition; batches still in quarantine or on hold are not counted;
- right first time: batches released without any batch record exception, deviation naming the
  batch or nonconforming product record (rework, reprocess, concession) / the same denominator,
  all batches that finished (released or rejected) in the month — a rejected batch counts
  against the rate instead of dropping out of it;
- release cycle time: end of manufacture → release, median and 90th percentile (linear
  interpolation between ranks, numpy's default), by the month of release;
- OOS rate: out-of-specification results / evaluated results, per test, by the month tested
  (first results only: a retest is not a second chance to count);
- process capability trend: Cpk per month of each monitored parameter of the product, from the
  monitoring module's ``capability_trend``.

Reads only. A month without data has no rate (None), never 0 %.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pharmaqms.kernel import clock
from pharmaqms.kernel.errors import InvalidInput
from pharmaqms.kernel.models import AuditEntry
from pharmaqms.kernel.timezones import site_month_start
from pharmaqms.lifecycle.production.batchrecords.models import BatchRecord, BatchRecordException
from pharmaqms.lifecycle.production.monitoring.capability import (
    MAX_TREND_MONTHS,
    MonthlyCapability,
    capability_trend,
)
from pharmaqms.lifecycle.production.monitoring.models import MonitoredParameter, MonitoringStatus
from pharmaqms.lifecycle.production.nonconforming.models import NonconformingProduct
from pharmaqms.lifecycle.production.qc.models import QcResult, ResultOutcome
from pharmaqms.lifecycle.production.release.models import BatchRelease, ReleaseStatus
from pharmaqms.platform.masterdata.models import Lot, LotKind, LotStatus, Product
from pharmaqms.quality.deviations.models import DeviationBatch

# As the KPI page states them (the module docstring says the same at more length).
FAILURE_RATE_DEFINITION = (
    "Batch failure rate: batches rejected / batches released or rejected in the month "
    "(by the date of the decision; batches still in quarantine or on hold are not counted)."
)
RIGHT_FIRST_TIME_DEFINITION = (
    "Right first time: batches released without any batch record exception, deviation or "
    "nonconforming product record (rework, reprocess, concession) / batches released or "
    "rejected in the month (a rejected batch counts against the rate)."
)


@dataclass(frozen=True)
class MonthlyRate:
    month: date
    numerator: int
    denominator: int

    @property
    def rate(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None


@dataclass(frozen=True)
class MonthlyCycleTime:
    month: date
    releases: int
    median_hours: float | None
    p90_hours: float | None


@dataclass(frozen=True)
class TestOosRate:
    test_code: str
    months: tuple[MonthlyRate, ...]


@dataclass(frozen=True)
class CapabilitySeries:
    parameter_id: int
    subject: str
    months: tuple[MonthlyCapability, ...]


@dataclass(frozen=True)
class ProductionKpis:
    product_code: str
    product_name: str
    months: tuple[date, ...]
    failure_rate: tuple[MonthlyRate, ...]
    right_first_time: tuple[MonthlyRate, ...]
    cycle_time: tuple[MonthlyCycleTime, ...]
    oos: tuple[TestOosRate, ...]
    capability: tuple[CapabilitySeries, ...]


def month_of(moment: datetime | date) -> date:
    """The month a figure counts in: the site's calendar month (kernel/timezones)."""
    return site_month_start(moment)


def last_months(count: int, *, until: date | None = None) -> list[date]:
    """The ``count`` calendar months ending with the current one, oldest first."""
    if not 1 <= count <= MAX_TREND_MONTHS:
        raise InvalidInput(f"ask for 1 to {MAX_TREND_MONTHS} months", field="months")
    current = month_of(until or clock.now())
    months = [current]
    for _ in range(count - 1):
        first = months[0]
        months.insert(
            0,
            date(first.year - 1, 12, 1)
            if first.month == 1
            else first.replace(month=first.month - 1),
        )
    return months


def percentile(values: list[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if values else None


# Statuses a batch reaches only after it was released (recalled, expired on the market).
AFTER_RELEASE = (LotStatus.RELEASED, LotStatus.RECALLED, LotStatus.EXPIRED)


def _reached_at(session: Session, lot_ids: list[int], status: LotStatus) -> dict[int, datetime]:
    """When each lot (last) reached ``status`` (released, rejected), from its audit trail: one
    rule for every lot, whether the QP decided it here or it came decided from before."""
    found: dict[int, datetime] = {}
    if not lot_ids:
        return found
    rows = session.execute(
        select(AuditEntry.record_id, AuditEntry.occurred_at)
        .where(
            AuditEntry.record_type == Lot.__audit_type__,
            AuditEntry.record_id.in_(lot_ids),
            AuditEntry.action == f"lot_{status.value}",
        )
        .order_by(AuditEntry.seq)
    )
    for lot_id, occurred_at in rows:
        if lot_id is not None:
            found[lot_id] = occurred_at
    # A lot created so (imported decided) has no status move: its creation stands in.
    missing = [i for i in lot_ids if i not in found]
    if missing:
        for lot_id, occurred_at, raw in session.execute(
            select(AuditEntry.record_id, AuditEntry.occurred_at, AuditEntry.changes).where(
                AuditEntry.record_type == Lot.__audit_type__,
                AuditEntry.record_id.in_(missing),
                AuditEntry.action == "create",
            )
        ):
            created = json.loads(raw).get("status", [None, None])
            if lot_id is not None and isinstance(created, list) and created[-1] == status.value:
                found[lot_id] = occurred_at
    return found


@dataclass(frozen=True)
class BatchOutcome:
    """One batch dispositioned (released or rejected): what the failure rate, right first
    time and release cycle time count, kept per batch so a figure can show the batches
    behind it."""

    lot_id: int
    lot_number: str
    product_code: str
    month: date  # of the decision
    decided_at: datetime
    rejected: bool
    right_first_time: bool
    cycle_hours: float | None  # released batches only


def batch_outcomes(
    session: Session, *, product_code: str | None = None, since: date
) -> list[BatchOutcome]:
    """The finished batches released or rejected from the month ``since`` on, of one product
    or (``None``) of every product, oldest decision first."""
    query = select(
        Lot.id,
        Lot.lot_number,
        Lot.item_code,
        Lot.status,
        Lot.manufactured_on,
        Lot.manufacturing_ended_at,
    ).where(Lot.kind == LotKind.FINISHED)
    if product_code is not None:
        query = query.where(Lot.item_code == product_code)
    lots = session.execute(query).all()

    # Failure rate and right first time: the batches dispositioned (released or rejected), by
    # the month of the disposition; a batch still in quarantine or on hold has no outcome yet.
    released = {lot.id: lot for lot in lots if lot.status in AFTER_RELEASE}
    rejected = {lot.id: lot for lot in lots if lot.status == LotStatus.REJECTED}
    release_times = _reached_at(session, sorted(released), LotStatus.RELEASED)
    rejection_times = _reached_at(session, sorted(rejected), LotStatus.REJECTED)
    dispositioned = released | rejected
    exception_query = (
        select(BatchRecord.lot_id, func.count(BatchRecordException.id))
        .join(BatchRecordException, BatchRecordException.batch_record_id == BatchRecord.id)
        .group_by(BatchRecord.lot_id)
    )
    if product_code is not None:
        exception_query = exception_query.where(BatchRecord.product_code == product_code)
    exceptions = dict(session.execute(exception_query).all())
    deviated = set(
        session.scalars(
            select(DeviationBatch.batch_id).where(
                DeviationBatch.batch_id.in_([lot.lot_number for lot in dispositioned.values()])
            )
        )
    )
    nonconforming = set(
        session.scalars(
            select(NonconformingProduct.lot_id).where(
                NonconformingProduct.lot_id.in_(sorted(dispositioned))
            )
        )
    )
    decided = dict(
        session.execute(
            select(BatchRelease.lot_id, BatchRelease.cycle_time_hours).where(
                BatchRelease.status == ReleaseStatus.RELEASED,
                BatchRelease.lot_id.in_(sorted(released)),
            )
        ).all()
    )
    found: list[BatchOutcome] = []
    for lot_id, at in rejection_times.items():
        lot = rejected[lot_id]
        if month_of(at) >= since:
            found.append(
                BatchOutcome(
                    lot_id, lot.lot_number, lot.item_code, month_of(at), at, True, False, None
                )
            )
    for lot_id, at in release_times.items():
        if month_of(at) < since:
            continue
        lot = released[lot_id]
        hours = decided.get(lot_id)
        if hours is None and lot.manufacturing_ended_at is not None:
            hours = (at - lot.manufacturing_ended_at).total_seconds() / 3600
        first_time = (
            not exceptions.get(lot_id)
            and lot.lot_number not in deviated
            and lot_id not in nonconforming
        )
        found.append(
            BatchOutcome(
                lot_id, lot.lot_number, lot.item_code, month_of(at), at, False, first_time, hours
            )
        )
    return sorted(found, key=lambda o: (o.decided_at, o.lot_id))


def monthly_rates(window: list[date], outcomes: list[tuple[date, bool]]) -> tuple[MonthlyRate, ...]:
    """(month, counted in the numerator) pairs → one rate per month of the window."""
    per_month: dict[date, list[bool]] = defaultdict(list)
    for month, hit in outcomes:
        per_month[month].append(hit)
    return tuple(MonthlyRate(m, sum(per_month[m]), len(per_month[m])) for m in window)


def cycle_times(window: list[date], outcomes: list[BatchOutcome]) -> tuple[MonthlyCycleTime, ...]:
    cycle: dict[date, list[float]] = defaultdict(list)
    for o in outcomes:
        if o.cycle_hours is not None:
            cycle[o.month].append(o.cycle_hours)
    return tuple(
        MonthlyCycleTime(m, len(cycle[m]), percentile(cycle[m], 50), percentile(cycle[m], 90))
        for m in window
    )


@dataclass(frozen=True)
class FirstResult:
    """A first (not retest) QC result evaluated pass or fail: what the OOS rate counts."""

    result_id: int
    test_code: str
    item_code: str
    month: date
    failed: bool


def first_results(
    session: Session, *, product_code: str | None = None, since: date
) -> list[FirstResult]:
    query = select(
        QcResult.id, QcResult.test_code, QcResult.item_code, QcResult.outcome, QcResult.tested_at
    ).where(
        QcResult.retest_of_id.is_(None),
        QcResult.outcome.in_([ResultOutcome.PASS.value, ResultOutcome.FAIL.value]),
    )
    if product_code is not None:
        query = query.where(QcResult.item_code == product_code)
    return [
        FirstResult(result_id, test_code, item_code, month_of(at), outcome == ResultOutcome.FAIL)
        for result_id, test_code, item_code, outcome, at in session.execute(
            query.order_by(QcResult.tested_at, QcResult.id)
        )
        if month_of(at) >= since
    ]


def production_kpis(session: Session, product_code: str, *, months: int = 12) -> ProductionKpis:
    product = session.scalars(select(Product).where(Product.code == product_code)).first()
    if product is None:
        raise InvalidInput(f"no product {product_code!r}", field="product")
    window = last_months(months)
    outcomes = batch_outcomes(session, product_code=product.code, since=window[0])
    failure = monthly_rates(window, [(o.month, o.rejected) for o in outcomes])
    rft = monthly_rates(window, [(o.month, o.right_first_time) for o in outcomes])
    cycle = cycle_times(window, [o for o in outcomes if not o.rejected])

    # OOS rate per test: first results, evaluated, by the month tested.
    per_test: dict[str, list[tuple[date, bool]]] = defaultdict(list)
    for r in first_results(session, product_code=product.code, since=window[0]):
        per_test[r.test_code].append((r.month, r.failed))
    oos = tuple(
        TestOosRate(code, monthly_rates(window, per_test[code])) for code in sorted(per_test)
    )

    parameters = session.scalars(
        select(MonitoredParameter)
        .where(
            MonitoredParameter.product_code == product.code,
            MonitoredParameter.status == MonitoringStatus.ACTIVE.value,
        )
        .order_by(MonitoredParameter.number)
    ).all()
    capability = tuple(
        CapabilitySeries(
            p.id,
            f"{p.parameter} ({p.unit})" if p.unit else p.parameter,
            tuple(capability_trend(session, p.id, months)),
        )
        for p in parameters
    )
    return ProductionKpis(
        product.code,
        product.name,
        tuple(window),
        failure,
        rft,
        cycle,
        oos,
        capability,
    )


def products_made(session: Session) -> list[tuple[str, str]]:
    """(code, name) of the products with batches, for the page's choice."""
    rows = session.execute(
        select(Product.code, Product.name)
        .where(Product.code.in_(select(Lot.item_code).where(Lot.kind == LotKind.FINISHED)))
        .order_by(Product.code)
    )
    return [(code, name) for code, name in rows]
