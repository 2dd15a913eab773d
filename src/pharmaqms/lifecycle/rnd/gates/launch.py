"""Time to launch, per project: from the approval of its first gate to the release of the first
commercial batch of the product it develops.

The batch is found through the platform, never through production: the finished lots
(``Lot`` of kind finished) of the product, and the moment each was released from its audit
trail (the status move ``lot_released``; a lot created released, imported already decided,
counts from its creation). A batch released before the project's registration gate was
approved can't be commercial (no marketing authorisation yet: a development, clinical or
validation batch), so the first commercial batch is the first released at or after that
approval. A batch recalled or expired later still was released then: the moment counts.

Reads only. ``launch_times`` is the function an outcome dashboard calls.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import clock
from pharmaqms.kernel.models import AuditEntry
from pharmaqms.lifecycle.rnd.gates import service
from pharmaqms.lifecycle.rnd.gates.models import (
    PHASES,
    DevelopmentPhase,
    DevelopmentPlan,
    GateStatus,
)
from pharmaqms.platform.masterdata.models import Lot, LotKind, LotStatus, Product

DAYS_PER_MONTH = 365.25 / 12

DEFINITION = (
    "Time to launch: from the approval of a project's first gate (pre-formulation) to the "
    "release of the first commercial batch of the product it develops — the first finished "
    "lot of that product released (the time from the lot's audit trail) at or after the "
    "approval of the project's registration gate; a batch released before that can only be "
    "a development, clinical or validation batch. In months of 30.44 days. A project without "
    "that batch is not launched yet: the time since its first gate is shown instead."
)


@dataclass(frozen=True)
class LaunchTime:
    project_id: int
    project_code: str
    project_title: str
    product_code: str
    first_gate: str | None  # its number
    first_gate_approved_at: datetime | None
    registration_approved_at: datetime | None
    first_batch: str | None  # the lot number of the first commercial batch
    first_batch_released_at: datetime | None
    as_of: datetime

    @property
    def launched(self) -> bool:
        return self.first_batch_released_at is not None

    @property
    def days(self) -> float | None:
        if self.first_gate_approved_at is None or self.first_batch_released_at is None:
            return None
        return (self.first_batch_released_at - self.first_gate_approved_at).total_seconds() / 86400

    @property
    def months(self) -> float | None:
        return None if self.days is None else self.days / DAYS_PER_MONTH

    @property
    def running_months(self) -> float | None:
        """Since the first gate, for a project not launched yet."""
        if self.first_gate_approved_at is None or self.launched:
            return None
        return (self.as_of - self.first_gate_approved_at).total_seconds() / 86400 / DAYS_PER_MONTH


def release_moments(session: Session, product_code: str) -> list[tuple[datetime, str]]:
    """(when released, lot number) of every release of a finished lot of the product, oldest
    first, from the lots' audit trails."""
    lots = dict(
        session.execute(
            select(Lot.id, Lot.lot_number).where(
                Lot.kind == LotKind.FINISHED, Lot.item_code == product_code
            )
        ).all()
    )
    if not lots:
        return []
    found: list[tuple[datetime, str]] = []
    rows = session.execute(
        select(AuditEntry.record_id, AuditEntry.occurred_at, AuditEntry.action, AuditEntry.changes)
        .where(
            AuditEntry.record_type == Lot.__audit_type__,
            AuditEntry.record_id.in_(sorted(lots)),
            AuditEntry.action.in_([f"lot_{LotStatus.RELEASED.value}", "create"]),
        )
        .order_by(AuditEntry.seq)
    )
    for lot_id, occurred_at, action, raw in rows:
        if lot_id is None:
            continue
        if action == "create":
            status = json.loads(raw).get("status", [None, None])
            if not (isinstance(status, list) and status[-1] == LotStatus.RELEASED.value):
                continue
        found.append((occurred_at, lots[lot_id]))
    return sorted(found)


def product_of(session: Session, plan: DevelopmentPlan) -> Product:
    product = session.get(Product, plan.product_id)
    assert product is not None  # a foreign key
    return product


def _launch(session: Session, plan: DevelopmentPlan, as_of: datetime) -> LaunchTime:
    project = service.get_project(session, plan.project_id)
    product = product_of(session, plan)
    gates = {g.phase: g for g in service.gates_of(session, plan.project_id)}
    first = gates.get(PHASES[0])
    first_at = first.approved_at if first and first.status == GateStatus.APPROVED else None
    registration = gates.get(DevelopmentPhase.REGISTRATION)
    registered_at = (
        registration.approved_at
        if registration and registration.status == GateStatus.APPROVED
        else None
    )
    batch: tuple[datetime, str] | None = None
    if first_at is not None and registered_at is not None:
        batch = next(
            (m for m in release_moments(session, product.code) if m[0] >= registered_at), None
        )
    return LaunchTime(
        project_id=project.id,
        project_code=project.code,
        project_title=project.title,
        product_code=product.code,
        first_gate=first.number if first else None,
        first_gate_approved_at=first_at,
        registration_approved_at=registered_at,
        first_batch=batch[1] if batch else None,
        first_batch_released_at=batch[0] if batch else None,
        as_of=as_of,
    )


def time_to_launch(session: Session, project_id: int) -> LaunchTime:
    return _launch(session, service.get_plan(session, project_id), clock.now())


def launch_times(session: Session) -> list[LaunchTime]:
    """Every planned project's time to launch (launched or not), by project code."""
    now = clock.now()
    found = [_launch(session, plan, now) for plan in service.plans(session)]
    return sorted(found, key=lambda t: t.project_code)
