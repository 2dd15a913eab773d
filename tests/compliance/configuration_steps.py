"""Shared steps of the configuration-change tests: a change control opened from a new edition
of a regulation and approved, deviations reported and classified, and a snapshot of every row
a refused configuration change must leave untouched."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from tests.compliance.steps import register_file, regulation
from tests.support import PASSWORD

from pharmaqms.compliance import fileformat
from pharmaqms.compliance import service as register
from pharmaqms.compliance.configuration import service
from pharmaqms.kernel import clock
from pharmaqms.kernel.configuration import store
from pharmaqms.kernel.configuration.models import ConfigUse, ConfigVersion
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.models import AuditEntry, ElectronicSignature, User
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.quality.changes import service as changes
from pharmaqms.quality.changes.models import ChangeStatus
from pharmaqms.quality.deviations import service as deviations

AREAS = ("documents", "processes", "equipment", "validation", "regulatory_filing", "training")


def snapshot(db: Database) -> dict[str, Any]:
    with unit_of_work(db, write=False) as s:
        return {
            "versions": [
                (v.id, v.key, v.version_no, v.status, v.version)
                for v in s.scalars(select(ConfigVersion).order_by(ConfigVersion.id))
            ],
            "uses": s.scalar(select(func.count()).select_from(ConfigUse)),
            "audit": s.scalar(select(func.count()).select_from(AuditEntry)),
            "signatures": s.scalar(select(func.count()).select_from(ElectronicSignature)),
        }


def approved_change_from_a_new_edition(db: Database, people: Any) -> int:
    """A regulation's new edition opens QA's impact assessment; QA opens a change control from
    it, assesses the change's impact, and a second QA person approves it for quality
    assurance: the change is in implementation."""
    for edition in ("2020", "2024"):
        entries = fileformat.parse_register(register_file(regulation(edition=edition)))
        with unit_of_work(db) as s:
            outcome = register.import_register(
                s, actor=people.qa, entries=entries, source="test.json"
            )
    assert len(outcome.impact_tasks) == 1
    with unit_of_work(db) as s:
        current = register.current(s, "TEST 1")
        assert current is not None and current.edition == "2024"
        change = register.request_change(
            s,
            actor=people.qa,
            regulation_id=current.id,
            title="Shorter deviation due days (TEST 1, 2024)",
            description="The 2024 edition asks deviations to close sooner.",
        )
        s.flush()
        cid = change.id
    with unit_of_work(db) as s:
        changes.transition(s, actor=people.qa, change_id=cid, name="submit")
        changes.assess_impact(
            s,
            actor=people.qa,
            change_id=cid,
            impacts=[
                changes.ImpactInput(area, area == "processes", f"Assessed for {area}.")
                for area in AREAS
            ],
            regulatory_category="none",
            regulatory_rationale="An internal procedure; no filing is affected.",
            functions=["quality_assurance"],
        )
        changes.transition(s, actor=people.qa, change_id=cid, name="submit_for_approval")
    with unit_of_work(db) as s:
        changes.decide_as_function(
            s,
            actor=people.qa2,
            change_id=cid,
            function="quality_assurance",
            approve=True,
            password=PASSWORD,
        )
    with unit_of_work(db, write=False) as s:
        assert changes.get_change(s, cid).status == ChangeStatus.IMPLEMENTATION
    return cid


def user_id(db: Database, username: str) -> int:
    with unit_of_work(db, write=False) as s:
        return int(s.scalars(select(User.id).where(User.username == username)).one())


def classified_deviation(db: Database, people: Any, title: str, discovered: datetime) -> int:
    """A deviation reported by production and classified major by QA."""
    with unit_of_work(db) as s:
        deviation = deviations.report_deviation(
            s,
            actor=people.operator,
            title=title,
            description="Granulation end point missed.",
            area="granulation",
            occurred_at=discovered,
            discovered_at=discovered,
            immediate_actions="Batch put on hold.",
        )
        s.flush()
        did = deviation.id
    with unit_of_work(db) as s:
        deviations.classify_deviation(
            s,
            actor=people.qa,
            deviation_id=did,
            classification="major",
            severity=3,
            probability=3,
            detectability=2,
            severity_basis="Potential impact on dissolution.",
            probability_basis="Seen once this year.",
            detectability_basis="Found by in-process control.",
            investigator_id=user_id(db, "supervisor"),
        )
    return did


def draft(db: Database, actor: Any, key: str, content: Any, **kw: Any) -> int:
    with unit_of_work(db) as s:
        version = service.draft_version(s, actor=actor, key=key, content=content, **kw)
        s.flush()
        return int(version.id)


def drafted_and_tested(
    db: Database,
    people: Any,
    key: str,
    content: Any,
    *,
    effective_from: datetime,
    rationale: str | None = None,
    change_id: int | None = None,
) -> tuple[int, list[str]]:
    """A version drafted by QA under the change (by default one opened and approved for it)
    and run on the sandbox, waiting for approval: its id and the sandbox run's findings."""
    vid = draft(
        db,
        people.qa,
        key,
        content,
        effective_from=effective_from,
        change_id=change_id or approved_change_from_a_new_edition(db, people),
        rationale=rationale or f"A new version of {key}.",
    )
    with unit_of_work(db) as s:
        return vid, list(service.test_version(s, actor=people.qa, version_id=vid).test_summary)


def put_in_force(
    db: Database, people: Any, key: str, content: Any, *, effective_from: datetime, change_id: int
) -> int:
    """A version drafted by QA under the change, run on the sandbox, approved by a second QA
    person: in force from ``effective_from``. Returns the version's id."""
    vid, _ = drafted_and_tested(
        db, people, key, content, effective_from=effective_from, change_id=change_id
    )
    with unit_of_work(db) as s:
        service.transition(s, actor=people.qa2, version_id=vid, name="approve", password=PASSWORD)
    return vid


def sign_off_in_force(
    db: Database,
    people: Any,
    frozen: clock.FrozenClock,
    record_type: str,
    name: str,
    *,
    label: str,
    before: str,
    roles: list[str],
) -> str:
    """A sign-off (meaning "Reviewed", the author barred) that QA puts before ``before`` on
    ``record_type`` under an approved change, in force a minute from now; the clock moved past
    it. Returns the step's name, ``sign_off.<name>``."""
    entry = {
        "label": label,
        "before": before,
        "roles": roles,
        "meaning": "Reviewed",
        "forbid_author": True,
    }
    put_in_force(
        db,
        people,
        f"workflow.{record_type}.sign_offs",
        {name: entry},
        effective_from=clock.now() + timedelta(minutes=1),
        change_id=approved_change_from_a_new_edition(db, people),
    )
    frozen.advance(minutes=2)
    return f"sign_off.{name}"


def uses(db: Database, record_type: str, record_id: int) -> list[tuple[str, int, str]]:
    with unit_of_work(db, write=False) as s:
        return [(u.key, u.version_no, u.purpose) for u in store.uses_of(s, record_type, record_id)]


def report(db: Database, actor: Any, title: str) -> int:
    """A deviation reported now by ``actor`` (who needs the permission to report)."""
    with unit_of_work(db) as s:
        deviation = deviations.report_deviation(
            s,
            actor=actor,
            title=title,
            description="Found during the configuration tests.",
            area="warehouse",
            occurred_at=clock.now(),
            discovered_at=clock.now(),
        )
        s.flush()
        return int(deviation.id)
