"""What the deviation, CAPA, change, complaint and risk tests share: the rows a refusal must
leave untouched, the ids of the test people, and the workflow steps they repeat."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from tests.support import PASSWORD, reviewed_version

from pharmaqms.kernel import auth, clock
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.identity import Actor, Channel
from pharmaqms.kernel.models import AuditEntry, ElectronicSignature, Task, User
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.quality.capa.models import Capa, CapaAction, EffectivenessCheck
from pharmaqms.quality.changes.models import (
    ChangeAction,
    ChangeApproval,
    ChangeImpact,
    ChangeRequest,
)
from pharmaqms.quality.complaints.models import Complaint
from pharmaqms.quality.deviations.models import Deviation, DeviationBatch, DeviationExtension
from pharmaqms.quality.links import QualityLink
from pharmaqms.quality.risk.models import RiskAssessment, RiskItem

COUNTED = {
    "audit": AuditEntry,
    "signatures": ElectronicSignature,
    "tasks": Task,
    "deviations": Deviation,
    "batches": DeviationBatch,
    "extensions": DeviationExtension,
    "capas": Capa,
    "actions": CapaAction,
    "checks": EffectivenessCheck,
    "changes": ChangeRequest,
    "impacts": ChangeImpact,
    "approvals": ChangeApproval,
    "change_actions": ChangeAction,
    "complaints": Complaint,
    "risk_assessments": RiskAssessment,
    "risk_items": RiskItem,
    "links": QualityLink,
}


def counts(db: Database) -> dict[str, int]:
    with unit_of_work(db, write=False) as session:
        return {
            name: int(session.scalar(select(func.count()).select_from(model)) or 0)
            for name, model in COUNTED.items()
        }


def user_id(db: Database, username: str) -> int:
    with unit_of_work(db, write=False) as session:
        found = session.scalars(select(User.id).where(User.username == username)).one()
        return int(found)


def add_person(
    db: Database,
    username: str,
    full_name: str,
    roles: list[str],
    *,
    actor: Actor | None = None,
) -> int:
    """Someone beyond the standard test people: a third QA person, one holding two roles.
    Added by the CLI's system account unless an ``actor`` is named (an administrator, where
    the test is about what that administrator may give)."""
    with unit_of_work(db) as session:
        user = auth.add_user(
            session,
            actor=actor if actor is not None else auth.system_actor(session, Channel.CLI),
            username=username,
            full_name=full_name,
            roles=roles,
            password=PASSWORD,
            must_change_password=False,
        )
        session.flush()
        return int(user.id)


def iso(moment: datetime) -> str:
    return moment.isoformat()


def days_ago(days: float) -> str:
    return iso(clock.now() - timedelta(days=days))


def days_ahead(days: float) -> str:
    return iso(clock.now() + timedelta(days=days))


def take(
    client: Any, record_type: str, record_id: int, name: str, *, status: int = 200, **body: Any
) -> dict[str, Any]:
    if "password" in body and "expected_version" not in body:
        # A signer signs the version they reviewed.
        body["expected_version"] = reviewed_version(client, record_type, record_id)
    response = client.post(
        f"/api/v1/records/{record_type}/{record_id}/transitions/{name}", json=body
    )
    assert response.status_code == status, response.text
    return dict(response.json())


def sign(client: Any, record_type: str, record_id: int, name: str, **body: Any) -> dict[str, Any]:
    return take(client, record_type, record_id, name, password=PASSWORD, **body)


def problem(response: Any, status: int, code: str) -> dict[str, Any]:
    """Assert a refusal as problem+json with its status and code; return the body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = dict(response.json())
    assert body["code"] == code, body
    return body


# --- deviations -------------------------------------------------------------------------------

REPORT = {
    "title": "Tablet press stopped: punch broken",
    "description": "The upper punch of station 12 broke during compression of batch L2403-117.",
    "area": "Production",
    "product": "Paracetamol 500 mg tablets",
}


def report_deviation(client: Any, **overrides: Any) -> dict[str, Any]:
    body = {
        **REPORT,
        "occurred_at": days_ago(2),
        "discovered_at": days_ago(1),
        "batch_ids": ["L2403-117"],
        "immediate_actions": "Press stopped, batch quarantined, fragments searched for.",
        **overrides,
    }
    response = client.post("/api/v1/deviations", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def classification(investigator_id: int, **overrides: Any) -> dict[str, Any]:
    return {
        "classification": "major",
        "severity": 4,
        "probability": 2,
        "detectability": 3,
        "severity_basis": "Metal fragments could reach patients.",
        "probability_basis": "First punch failure in two years of use.",
        "detectability_basis": "Metal detector catches fragments above 0.5 mm only.",
        "investigator_id": investigator_id,
        **overrides,
    }


INVESTIGATION = {
    "root_cause": "Punch used beyond its qualified life of 5 million compressions.",
    "root_cause_category": "machine",
    "why_chain": [
        "The punch broke.",
        "It was fatigued beyond its life.",
        "Its compression count was not tracked.",
        "The tooling log has no counter field.",
        "The tooling SOP predates the new press.",
    ],
    "fishbone": {
        "machine": ["punch fatigue"],
        "method": ["tooling SOP has no life limit"],
    },
}


def classified_deviation(db: Database, reporter: Any, qa: Any, investigator: str) -> dict[str, Any]:
    deviation = report_deviation(reporter)
    response = qa.post(
        f"/api/v1/deviations/{deviation['id']}/classification",
        json=classification(user_id(db, investigator)),
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def investigated_deviation(
    db: Database, reporter: Any, qa: Any, investigator_client: Any, investigator: str
) -> dict[str, Any]:
    """A deviation under investigation with its investigation, batch impact and a 'no CAPA'
    decision written, ready to submit."""
    deviation = classified_deviation(db, reporter, qa, investigator)
    return investigate(investigator_client, deviation["id"])


def investigate(investigator_client: Any, did: int) -> dict[str, Any]:
    """The investigator's part: investigation, batch impact and a 'no CAPA' decision."""
    response = investigator_client.post(
        f"/api/v1/deviations/{did}/investigation", json=INVESTIGATION
    )
    assert response.status_code == 200, response.text
    [batch] = response.json()["batches"]
    response = investigator_client.post(
        f"/api/v1/deviations/{did}/batches/{batch['id']}/assessment",
        json={"impact_assessment": "All tablets passed the metal detector; no fragments found."},
    )
    assert response.status_code == 200, response.text
    response = investigator_client.post(
        f"/api/v1/deviations/{did}/no-capa",
        json={"rationale": "Tooling counter added under the existing change CC-2026-0001."},
    )
    assert response.status_code == 200, response.text
    return dict(response.json())
