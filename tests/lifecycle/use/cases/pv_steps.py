"""What the case tests share: a staff report, a released lot to cite, and the rows a refusal
must leave untouched."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select

from pharmaqms.kernel.db import Database
from pharmaqms.kernel.models import AuditEntry, ElectronicSignature, Task
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.use.cases.intake import CaseReport, EventReport, ProductReport
from pharmaqms.lifecycle.use.cases.models import (
    PVCase,
    PVCaseEvent,
    PVCaseProduct,
    PVCaseVersion,
)
from pharmaqms.platform.masterdata import service as masterdata
from pharmaqms.quality.complaints.models import Complaint
from pharmaqms.quality.links import QualityLink

COUNTED = {
    "audit": AuditEntry,
    "signatures": ElectronicSignature,
    "tasks": Task,
    "cases": PVCase,
    "products": PVCaseProduct,
    "events": PVCaseEvent,
    "versions": PVCaseVersion,
    "complaints": Complaint,
    "links": QualityLink,
}


def counts(db: Database) -> dict[str, int]:
    with unit_of_work(db, write=False) as session:
        return {
            name: int(session.scalar(select(func.count()).select_from(model)) or 0)
            for name, model in COUNTED.items()
        }


def staff_report(**overrides: Any) -> CaseReport:
    values: dict[str, Any] = {
        "source": "staff",
        "received_at": datetime(2026, 3, 1, 14, 0, tzinfo=UTC),
        "patient_initials": "JD",
        "patient_age": "54",
        "patient_sex": "female",
        "reporter_type": "hcp",
        "reporter_country": "DE",
        "narrative": "Rash two days after the first dose.",
        "products": (ProductReport("Paracetamol 500 mg tablets", "L2403-117"),),
        "events": (EventReport("skin rash", "10037844", date(2026, 2, 27)),),
        **overrides,
    }
    return CaseReport(**values)


def released_lot(db: Database, people: Any, status: str = "released") -> int:
    with unit_of_work(db) as session:
        masterdata.add_product(
            session,
            actor=people.admin,
            gtin="05012345678900",
            code="PARA500",
            name="Paracetamol 500 mg tablets",
        )
        lot = masterdata.add_lot(
            session,
            actor=people.admin,
            kind="finished",
            item_code="PARA500",
            lot_number="L2403-117",
            status=status,
        )
        session.flush()
        return int(lot.id)
