"""Steps the stability tests share: a protocol written by the R&D scientist (rd) and approved by
QA, results of three batches over 0-24 months, and the rows a refusal must leave untouched."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select
from tests.support import PASSWORD

from pharmaqms.kernel.db import Database
from pharmaqms.kernel.models import AuditEntry, ElectronicSignature, Task
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.rnd.stability import service
from pharmaqms.lifecycle.rnd.stability.models import (
    QuarantinedStabilityResult,
    StabilityPull,
    StabilityResult,
    StabilityStudy,
)
from pharmaqms.platform.masterdata import service as masterdata
from pharmaqms.platform.masterdata.models import Product

PRODUCT = "PARA-500-TAB"
BATCHES = ["S2601", "S2602", "S2603"]
LONG_TERM = [0, 3, 6, 9, 12, 18, 24]
CONDITIONS = [
    {"code": "25C60RH", "role": "long_term", "time_points": LONG_TERM},
    {"code": "40C75RH", "role": "accelerated", "time_points": [0, 3, 6]},
]
ATTRIBUTES = [
    {"code": "ASSAY", "name": "Assay", "unit": "%", "lower": 95.0, "upper": 105.0},
    {"code": "IMP-A", "name": "Impurity A", "unit": "%", "upper": 0.5},
]
# Assay of each batch at 25/60: a slow fall, a little noise.
ASSAY = {
    "S2601": [100.4, 99.9, 99.6, 99.0, 98.9, 98.0, 97.5],
    "S2602": [100.1, 99.8, 99.2, 99.0, 98.4, 97.9, 97.1],
    "S2603": [100.2, 99.7, 99.5, 98.8, 98.6, 97.8, 97.4],
}

COUNTED = {
    "audit": AuditEntry,
    "signatures": ElectronicSignature,
    "tasks": Task,
    "studies": StabilityStudy,
    "pulls": StabilityPull,
    "results": StabilityResult,
    "quarantine": QuarantinedStabilityResult,
}


def counts(db: Database) -> dict[str, int]:
    with unit_of_work(db, write=False) as session:
        return {
            name: int(session.scalar(select(func.count()).select_from(model)) or 0)
            for name, model in COUNTED.items()
        }


def ensure_product(db: Database, people: Any) -> None:
    """The study's product in the master data (a study of an unknown product is refused)."""
    with unit_of_work(db) as s:
        if s.scalar(select(Product.id).where(Product.code == PRODUCT)) is None:
            masterdata.add_product(
                s,
                actor=people.admin,
                gtin="09506000134352",
                code=PRODUCT,
                name="Paracetamol 500 mg",
            )


def write_protocol(db: Database, people: Any, **changes: Any) -> int:
    ensure_product(db, people)
    fields: dict[str, Any] = {
        "product_code": PRODUCT,
        "title": "Registration stability, Paracetamol 500 mg tablets in PVC/Alu blister",
        "start_on": date(2026, 1, 15),
        "conditions": CONDITIONS,
        "attributes": ATTRIBUTES,
        "batches": BATCHES,
    }
    fields.update(changes)
    author = fields.pop("author", "rd")
    with unit_of_work(db) as s:
        study = service.create_study(s, actor=getattr(people, author), **fields)
        s.flush()
        return study.id


def approved_study(db: Database, people: Any) -> int:
    study_id = write_protocol(db, people)
    with unit_of_work(db) as s:
        service.approve_study(s, actor=people.qa, study_id=study_id, password=PASSWORD)
    return study_id


def assay_results(upto: int = len(LONG_TERM)) -> list[service.ResultIn]:
    return [
        service.ResultIn(batch, "25C60RH", float(months), "ASSAY", values[i], "%")
        for batch, values in ASSAY.items()
        for i, months in enumerate(LONG_TERM[:upto])
    ]


def record(db: Database, people: Any, study_id: int, results: list[service.ResultIn]) -> Any:
    with unit_of_work(db) as s:
        outcome = service.record_results(s, actor=people.qc, study_id=study_id, results=results)
        return (
            [(r.batch, r.attribute, r.value, r.oos, r.oot_reason) for r in outcome.stored],
            [q.reason for q in outcome.quarantined],
        )
