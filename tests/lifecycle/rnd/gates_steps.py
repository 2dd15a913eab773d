"""Steps the stage-gate tests share. The cast: rd leads the project (the notebook's project
lead is its creator), rd2 is the scientist who submits the gates, qa signs for QA R&D, ra for
regulatory affairs; admin keeps the master data and decides lots."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from tests.lifecycle.rnd.eln_steps import notebook, signed_entry
from tests.support import PASSWORD

from pharmaqms.kernel import auth, clock
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.identity import Channel
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.rnd.eln.models import Experiment
from pharmaqms.lifecycle.rnd.gates import rules, service
from pharmaqms.lifecycle.rnd.gates.models import PHASES, DevelopmentPhase
from pharmaqms.lifecycle.rnd.stability import service as stability
from pharmaqms.platform.masterdata import service as masterdata
from pharmaqms.quality.documents import service as documents
from pharmaqms.quality.risk import service as risk

PRODUCT = "IBU200"
EXTRA_PEOPLE = {
    "rd2": ("Ravi Research", ["rd_scientist"]),
    "ra": ("Regina Regulatory", ["regulatory_affairs"]),
}
# One planned year per phase from 2024 on, in order.
PLANNED = {
    p.value: (date(2024 + i // 2, 1 + 6 * (i % 2), 1), date(2024 + i // 2, 6 + 6 * (i % 2), 28))
    for i, p in enumerate(PHASES)
}


def add_gate_people(db: Database) -> None:
    with unit_of_work(db) as s:
        system = auth.system_actor(s, Channel.CLI)
        for username, (name, roles) in EXTRA_PEOPLE.items():
            if auth.user_by_username(s, username) is None:
                auth.add_user(
                    s,
                    actor=system,
                    username=username,
                    full_name=name,
                    roles=roles,
                    password=PASSWORD,
                    must_change_password=False,
                )


@dataclass(frozen=True)
class Project:
    project_id: int
    experiment: str  # the number of a signed experiment of the project
    risk: str  # a risk assessment's number
    document: str  # a controlled document's number
    stability: str  # an approved stability study of PRODUCT


def product(db: Database, people: Any, code: str = PRODUCT, gtin: str = "05012345678917") -> None:
    with unit_of_work(db) as s:
        masterdata.add_product(s, actor=people.admin, gtin=gtin, code=code, name=f"{code} tablets")


def planned_project(db: Database, people: Any, code: str = "FORM-IBU") -> Project:
    """A notebook project with a signed experiment, planned to develop PRODUCT, and the risk
    assessment and controlled document its gates can cite."""
    add_gate_people(db)
    product(db, people)
    book = notebook(db, people, code=code)
    signed_entry(db, people, book)
    with unit_of_work(db) as s:
        service.plan_development(
            s,
            actor=people.rd,
            project_id=book.project_id,
            product_code=PRODUCT,
            phases=PLANNED,
        )
        assessment = risk.create_assessment(
            s,
            actor=people.qa,
            title="CQA risk assessment",
            scope="Formulation and process of the tablet",
            subject_type="rnd_project",
            subject_id=book.project_id,
        )
        version = documents.create_document(
            s, actor=people.qa, doc_type="specification", title="IBU200 release specification"
        )
        study = stability.create_study(
            s,
            actor=people.rd,
            product_code=PRODUCT,
            title="Registration stability",
            start_on=date(2026, 1, 15),
            conditions=[{"code": "25C60RH", "role": "long_term", "time_points": [0, 3, 6]}],
            attributes=[{"code": "ASSAY", "name": "Assay", "unit": "%", "lower": 95.0}],
            batches=["B1"],
        )
        s.flush()
        stability.approve_study(s, actor=people.qa, study_id=study.id, password=PASSWORD)
        experiment = s.get(Experiment, book.experiment_id)
        assert experiment is not None
        return Project(
            book.project_id,
            experiment.number,
            assessment.number,
            version.document.number,
            study.number,
        )


def reference_for(project: Project, kind: str) -> str:
    return {
        "experiment": project.experiment,
        "risk_assessment": project.risk,
        "document": project.document,
        "stability_study": project.stability,
    }[kind]


def open_with_evidence(db: Database, people: Any, project: Project, phase: str) -> int:
    """The gate of ``phase``, opened and given evidence for every deliverable (by rd2)."""
    with unit_of_work(db) as s:
        gate = service.open_gate(s, actor=people.rd2, project_id=project.project_id, phase=phase)
        s.flush()
        for d in rules.DELIVERABLES[DevelopmentPhase(phase)]:
            service.add_evidence(
                s,
                actor=people.rd2,
                gate_id=gate.id,
                deliverable=d.code,
                reference=reference_for(project, d.kind),
            )
        return gate.id


SIGNERS = {"project_lead": "rd", "qa_rnd": "qa", "regulatory_affairs": "ra"}


def approve_all(db: Database, people: Any, gate_id: int) -> None:
    with unit_of_work(db) as s:
        gate = service.get_gate(s, gate_id)
        for function in rules.APPROVERS[DevelopmentPhase(gate.phase)]:
            service.approve_gate(
                s,
                actor=getattr(people, SIGNERS[function]),
                gate_id=gate_id,
                function=function,
                password=PASSWORD,
            )


def pass_gate(
    db: Database, people: Any, project: Project, phase: str, at: datetime | None = None
) -> int:
    """Open, evidence, submit (rd2) and approve (every function) — at ``at`` if given."""
    if at is None:
        gate_id = open_with_evidence(db, people, project, phase)
        submit(db, people, gate_id)
        approve_all(db, people, gate_id)
        return gate_id
    with clock.frozen_at(at):
        return pass_gate(db, people, project, phase)


def submit(db: Database, people: Any, gate_id: int, who: str = "rd2") -> None:
    with unit_of_work(db) as s:
        service.submit_gate(s, actor=getattr(people, who), gate_id=gate_id)
