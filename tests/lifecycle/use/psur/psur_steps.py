"""What the periodic summary tests share: a QPPV, and a hand-built case set whose counts are
worked out by hand below (the boundaries at the minute either side of the interval)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from tests.lifecycle.use.cases.pv_steps import staff_report
from tests.support import PASSWORD

from pharmaqms.kernel import auth
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.identity import Channel
from pharmaqms.kernel.models import AuditEntry, ElectronicSignature
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.use.cases import service as cases
from pharmaqms.lifecycle.use.cases.intake import EventReport, ProductReport
from pharmaqms.lifecycle.use.psur.models import PeriodicReportFile, PeriodicSafetyReport

PRODUCT = "Paracetamol 500 mg tablets"
OTHER = "Ibuprofen 400 mg tablets"
RASH = EventReport("skin rash", "10037844")


def add_person(db: Database, username: str, roles: list[str]) -> None:
    with unit_of_work(db) as session:
        auth.add_user(
            session,
            actor=auth.system_actor(session, Channel.CLI),
            username=username,
            full_name=f"{username.upper()} Person",
            roles=roles,
            password=PASSWORD,
            must_change_password=False,
        )


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def hand_built_cases(db: Database, people: Any) -> dict[str, str]:
    """Seven cases; the interval is January 2026.

    C1 2025-12-31 23:59 DE staff   rash (coded)                 non-serious   cumulative only
    C2 2026-01-01 00:00 FR e2b     anaphylaxis (life-threat.)
                                   + rash (coded, non-serious)   serious       interval
    C3 2026-01-31 23:59 US faers   hepatic failure (death)      serious fatal interval
    C4 2026-02-01 00:00 CN staff   rash                          after the period: neither
    C5 2026-01-15       DE staff   rash, found invalid           not counted
    C6 2026-01-10       DE staff   rash, another product         not counted
    C7 2026-01-20       JP staff   "Hepatic  FAILURE" (study)   non-serious   interval
    """
    made = {}
    plan: list[tuple[str, dict[str, Any]]] = [
        (
            "C1",
            {"received_at": at("2025-12-31T23:59"), "reporter_country": "DE", "events": (RASH,)},
        ),
        (
            "C2",
            {
                "received_at": at("2026-01-01T00:00"),
                "reporter_country": "FR",
                "source": "e2b",
                "source_reference": "FR-123",
                "events": (EventReport("anaphylaxis", seriousness=("life_threatening",)), RASH),
            },
        ),
        (
            "C3",
            {
                "received_at": at("2026-01-31T23:59"),
                "reporter_country": "US",
                "source": "faers",
                "source_reference": "1000001",
                "events": (EventReport("hepatic failure", seriousness=("death",)),),
            },
        ),
        (
            "C4",
            {"received_at": at("2026-02-01T00:00"), "reporter_country": "CN", "events": (RASH,)},
        ),
        (
            "C5",
            {"received_at": at("2026-01-15T10:00"), "reporter_country": "DE", "events": (RASH,)},
        ),
        (
            "C6",
            {
                "received_at": at("2026-01-10T10:00"),
                "reporter_country": "DE",
                "events": (RASH,),
                "products": (ProductReport(OTHER),),
            },
        ),
        (
            "C7",
            {
                "received_at": at("2026-01-20T10:00"),
                "reporter_country": "JP",
                "report_type": "study",
                "patient_age": "71",
                "events": (EventReport("Hepatic  FAILURE"),),
            },
        ),
    ]
    with unit_of_work(db) as session:
        for name, values in plan:
            values.setdefault("products", (ProductReport(PRODUCT, "L2403-117"),))
            case = cases.record_case(
                session, actor=people.pv, report=staff_report(patient_initials=name, **values)
            )
            session.flush()
            made[name] = case.number
            if name == "C5":
                cases.invalidate_case(
                    session, actor=people.pv, case_id=case.id, reason="no identifiable patient"
                )
    return made


def psur_counts(db: Database) -> dict[str, int]:
    with unit_of_work(db, write=False) as session:
        return {
            model.__name__: int(session.scalar(select(func.count()).select_from(model)) or 0)
            for model in (PeriodicSafetyReport, PeriodicReportFile, ElectronicSignature, AuditEntry)
        }
