"""What the signal tests share: a small case base with one pair out of line (4 of Drug X's 5
cases report hepatitis, 1 of Drug Y's 11), a QPPV, and the rows a refusal must leave as
they were."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from tests.support import PASSWORD

from pharmaqms.kernel import auth
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.identity import Channel
from pharmaqms.kernel.models import AuditEntry, ElectronicSignature, Task
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.use.cases import service as case_service
from pharmaqms.lifecycle.use.cases.intake import CaseReport, EventReport, ProductReport
from pharmaqms.lifecycle.use.signals.models import PVSignal, PVSignalAction, PVSignalCase
from pharmaqms.quality.capa.models import Capa
from pharmaqms.quality.changes.models import ChangeRequest
from pharmaqms.quality.links import QualityLink

COUNTED = {
    "audit": AuditEntry,
    "signatures": ElectronicSignature,
    "tasks": Task,
    "signals": PVSignal,
    "evidence": PVSignalCase,
    "actions": PVSignalAction,
    "capas": Capa,
    "changes": ChangeRequest,
    "links": QualityLink,
}

# (product, event) of each case: Drug X / hepatitis is the pair out of line.
CASE_BASE = (
    [("Drug X", "hepatitis")] * 4
    + [("Drug X", "rash")]
    + [("Drug Y", "hepatitis")]
    + [("Drug Y", "rash"), ("Drug Y", "headache")] * 5
)


def counts(db: Database) -> dict[str, int]:
    with unit_of_work(db, write=False) as session:
        return {
            name: int(session.scalar(select(func.count()).select_from(model)) or 0)
            for name, model in COUNTED.items()
        }


def report(product: str, event: str, day: int = 1) -> CaseReport:
    return CaseReport(
        source="staff",
        received_at=datetime(2026, 2, day, 10, 0, tzinfo=UTC),
        patient_initials="AB",
        patient_age="50",
        patient_sex="female",
        reporter_type="hcp",
        reporter_country="DE",
        products=(ProductReport(product, ""),),
        events=(EventReport(event),),
    )


def take_in(db: Database, people: Any, pairs: Any = CASE_BASE) -> list[int]:
    ids = []
    with unit_of_work(db) as session:
        for product, event in pairs:
            case = case_service.record_case(session, actor=people.pv, report=report(product, event))
            session.flush()
            ids.append(int(case.id))
    return ids


def add_qppv(db: Database, username: str = "qppv") -> None:
    with unit_of_work(db) as session:
        system = auth.system_actor(session, Channel.CLI)
        auth.add_user(
            session,
            actor=system,
            username=username,
            full_name="Quinn Pharmacovigilance",
            roles=["qppv"],
            password=PASSWORD,
            must_change_password=False,
        )
