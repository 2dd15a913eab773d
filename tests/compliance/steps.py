"""Shared steps of the regulations register tests: a snapshot of everything an import could
change, and register files built from the shipped one."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select

from pharmaqms.compliance.fileformat import FORMAT, FORMAT_VERSION
from pharmaqms.compliance.models import ControlMapping, Regulation, Requirement
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.models import AuditEntry, Task
from pharmaqms.kernel.uow import unit_of_work


def snapshot(db: Database) -> dict[str, Any]:
    """Every row an import writes, and the size of the audit trail and of the task list."""
    with unit_of_work(db, write=False) as s:
        return {
            "regulations": [
                (r.id, r.code, r.edition, r.status, r.version)
                for r in s.scalars(select(Regulation).order_by(Regulation.id))
            ],
            "requirements": [
                (r.id, r.clause, r.summary)
                for r in s.scalars(select(Requirement).order_by(Requirement.id))
            ],
            "controls": s.scalar(select(func.count()).select_from(ControlMapping)),
            "audit": s.scalar(select(func.count()).select_from(AuditEntry)),
            "tasks": s.scalar(select(func.count()).select_from(Task)),
        }


def register_file(*regulations: dict[str, Any]) -> str:
    return json.dumps(
        {"format": FORMAT, "format_version": FORMAT_VERSION, "regulations": list(regulations)}
    )


def regulation(code: str = "TEST 1", edition: str = "2020", **changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "code": code,
        "title": "A test regulation",
        "issuer": "Test authority",
        "jurisdiction": "EU",
        "edition": edition,
        "effective_on": "2020-01-01",
        "source_url": "",
        "requirements": [
            {"clause": "1", "summary": "Keep records.", "applies_to": ["kernel"], "controls": []},
            {
                "clause": "2",
                "summary": "Sign records.",
                "applies_to": [],
                "controls": [{"kind": "feature", "reference": "signatures", "note": ""}],
            },
            {"clause": "3", "summary": "Train people.", "applies_to": [], "controls": []},
        ],
    }
    base.update(changes)
    return base
