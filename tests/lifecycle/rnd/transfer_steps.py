"""Steps the technology-transfer tests share. The cast: rd writes the recipe and raises the
transfer (and owns its change), qa approves the recipe, assesses the change and implements the
transfer (it writes production's drafts), supervisor signs for production and carries out the
change's task, qa2 approves the drafts, reviews the change's effectiveness and closes it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from tests.lifecycle.production.ebr_setup import effective_sop
from tests.lifecycle.rnd.gates_steps import Project, planned_project
from tests.support import PASSWORD

from pharmaqms.kernel import clock
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.models import AuditEntry, ElectronicSignature, Task
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.kernel.workflow import perform
from pharmaqms.lifecycle.production.batchrecords.models import MasterBatchRecord
from pharmaqms.lifecycle.production.qc import specifications
from pharmaqms.lifecycle.production.qc.models import Specification
from pharmaqms.lifecycle.production.qc.workflow import SPECIFICATION_WORKFLOW
from pharmaqms.lifecycle.rnd.transfer import service
from pharmaqms.lifecycle.rnd.transfer.models import DevelopmentRecipe, TechnologyTransfer
from pharmaqms.platform.masterdata import service as masterdata
from pharmaqms.quality.changes import service as changes
from pharmaqms.quality.changes.models import ChangeAction, ChangeRequest
from pharmaqms.quality.changes.service import ImpactInput
from pharmaqms.quality.documents import service as documents
from pharmaqms.quality.documents.models import ControlledDocument
from pharmaqms.quality.links import QualityLink

API = "M-IBU-API"
FILLER = "M-IBU-MCC"

FORMULA = [
    {"material_code": API, "quantity": 20.0, "unit": "kg", "tolerance_percent": 0.5},
    {"material_code": FILLER, "quantity": 12.5, "unit": "kg", "tolerance_percent": 2},
]
STEPS = [
    {
        "unit_procedure": "Granulation",
        "operation": "Wet massing",
        "title": "Granulate",
        "instructions": "Mix the API and filler, add the binder and wet-mass to the end point.",
        "equipment": ["granulator"],
        "parameters": [
            {"name": "impeller_speed", "unit": "rpm", "low": 100, "high": 150},
            {"name": "granulation_time", "unit": "min", "low": 8, "high": 12},
        ],
        "target_minutes": 60,
    },
    {
        "unit_procedure": "Compression",
        "operation": "Press",
        "title": "Compress the tablets",
        "instructions": "Compress to the target weight; check hardness every 30 minutes.",
        "equipment": ["tablet press"],
        "parameters": [{"name": "compression_force", "unit": "kN", "low": 10, "high": 14}],
        "in_process_controls": [{"name": "tablet_hardness", "unit": "N", "low": 80, "high": 120}],
        "target_minutes": 240,
    },
]
ATTRIBUTES = [
    {"code": "assay", "name": "Assay", "unit": "%", "lower": 95, "upper": 105, "method": "HPLC"},
    {"code": "DISSOLUTION", "name": "Dissolution (30 min)", "unit": "%", "lower": 80},
]
COUNTED = {
    "audit": AuditEntry,
    "signatures": ElectronicSignature,
    "tasks": Task,
    "recipes": DevelopmentRecipe,
    "transfers": TechnologyTransfer,
    "changes": ChangeRequest,
    "change_actions": ChangeAction,
    "links": QualityLink,
    "masters": MasterBatchRecord,
    "documents": ControlledDocument,
    "specifications": Specification,
}


def counts(db: Database) -> dict[str, int]:
    with unit_of_work(db, write=False) as s:
        return {
            name: int(s.scalar(select(func.count()).select_from(model)) or 0)
            for name, model in COUNTED.items()
        }


def project_with_materials(db: Database, people: Any) -> Project:
    project = planned_project(db, people)
    with unit_of_work(db) as s:
        for code, name, kind in ((API, "Ibuprofen", "api"), (FILLER, "Cellulose", "excipient")):
            masterdata.add_material(s, actor=people.admin, code=code, name=name, kind=kind)
    return project


def draft_recipe(db: Database, people: Any, project: Project) -> int:
    with unit_of_work(db) as s:
        recipe = service.define_recipe(
            s,
            actor=people.rd,
            project_id=project.project_id,
            title="Ibuprofen 200 mg tablets, 100,000 tablets",
            batch_size=100000,
            batch_unit="tablets",
            formula=FORMULA,
            steps=STEPS,
            attributes=ATTRIBUTES,
        )
        s.flush()
        return recipe.id


def approved_recipe(db: Database, people: Any, project: Project) -> int:
    recipe_id = draft_recipe(db, people, project)
    with unit_of_work(db) as s:
        service.approve_recipe(s, actor=people.qa, recipe_id=recipe_id, password=PASSWORD)
    return recipe_id


def raised_transfer(db: Database, people: Any, recipe_id: int) -> tuple[int, int]:
    """(transfer id, change id)."""
    with unit_of_work(db) as s:
        transfer = service.raise_transfer(
            s,
            actor=people.rd,
            recipe_id=recipe_id,
            market="eu",
            justification="Registration batches passed; the process goes to the plant.",
        )
        s.flush()
        return transfer.id, transfer.change_id


def change_in_implementation(db: Database, people: Any, change_id: int) -> int:
    """The transfer's change submitted, assessed (QA and production approve), with a task for
    the supervisor, approved by both functions. Returns the task's id."""
    with unit_of_work(db) as s:
        changes.transition(s, actor=people.rd, change_id=change_id, name="submit")
    with unit_of_work(db) as s:
        changes.assess_impact(
            s,
            actor=people.qa,
            change_id=change_id,
            impacts=[
                ImpactInput(area, area in ("documents", "processes"), f"{area}: assessed")
                for area in (
                    "documents",
                    "processes",
                    "equipment",
                    "validation",
                    "regulatory_filing",
                    "training",
                )
            ],
            regulatory_category="prior_approval",
            regulatory_rationale="A new manufacturing process for a registered product.",
            functions=["quality_assurance", "production"],
        )
        supervisor = people.supervisor
        action = changes.add_action(
            s,
            actor=people.qa,
            change_id=change_id,
            kind="update_process",
            description="Train the granulation and compression crews on the new master",
            owner_id=supervisor.user_id,
            due_at=clock.now() + timedelta(days=30),
        )
        s.flush()
        action_id = action.id
    with unit_of_work(db) as s:
        changes.transition(s, actor=people.qa, change_id=change_id, name="submit_for_approval")
    for who, function in (("qa2", "quality_assurance"), ("supervisor", "production")):
        with unit_of_work(db) as s:
            changes.decide_as_function(
                s,
                actor=people.actor(who),
                change_id=change_id,
                function=function,
                approve=True,
                password=PASSWORD,
            )
    return action_id


def governing_sop(db: Database, people: Any) -> str:
    return effective_sop(db, people, "Manufacture of oral solid dosage forms")[1]


def implemented(db: Database, people: Any, transfer_id: int, sop: str) -> list[dict[str, Any]]:
    with unit_of_work(db) as s:
        transfer = service.implement_transfer(
            s, actor=people.qa, transfer_id=transfer_id, governing_sops=[sop]
        )
        return list(transfer.drafts)


def in_effectiveness_review(db: Database, people: Any, change_id: int, action_id: int) -> None:
    from datetime import date

    from pharmaqms.quality.changes import authority

    with unit_of_work(db) as s:
        # A prior-approval change is implemented only once the authority's approval is on file.
        if authority.needs_authority(changes.get_change(s, change_id)):
            authority.record_submission(
                s,
                actor=people.qa,
                change_id=change_id,
                reference="EMA/VAR/2026/0042",
                submitted_on=date(2026, 2, 1),
                filename="variation.pdf",
                content=b"%PDF-1.4\n% the variation as filed\n",
            )
            authority.record_authority_approval(
                s,
                actor=people.qa,
                change_id=change_id,
                reference="EMA/VAR/2026/0042",
                approved_on=date(2026, 3, 1),
                filename="approval-letter.pdf",
                content=b"%PDF-1.4\n% the authority's approval letter\n",
            )
    with unit_of_work(db) as s:
        changes.complete_action(
            s,
            actor=people.supervisor,
            change_id=change_id,
            action_id=action_id,
            evidence="Crews trained, records TR-0113 and TR-0114.",
        )
    with unit_of_work(db) as s:
        changes.transition(s, actor=people.rd, change_id=change_id, name="complete_implementation")
    with unit_of_work(db) as s:
        changes.record_effectiveness_review(
            s,
            actor=people.qa2,
            change_id=change_id,
            effective=True,
            summary="Three batches made to the new master within every range.",
        )


def approve_master(db: Database, people: Any, master_id: int) -> None:
    """QA wrote the master through the transfer; QA2 approves it and puts it in force."""
    with unit_of_work(db) as s:
        master = s.get(MasterBatchRecord, master_id)
        assert master is not None
        version_id = master.document_version_id
        documents.transition(s, actor=people.qa, version_id=version_id, name="submit")
    with unit_of_work(db) as s:
        documents.transition(
            s, actor=people.qa2, version_id=version_id, name="approve", password=PASSWORD
        )
    with unit_of_work(db) as s:
        documents.transition(s, actor=people.qa2, version_id=version_id, name="make_effective")


def approve_specification(db: Database, people: Any, spec_id: int) -> None:
    for who, name, password in (("qa", "submit", None), ("qa2", "approve", PASSWORD)):
        with unit_of_work(db) as s:
            spec = specifications.get_specification(s, spec_id)
            perform(
                s, SPECIFICATION_WORKFLOW, spec, name, actor=people.actor(who), password=password
            )
