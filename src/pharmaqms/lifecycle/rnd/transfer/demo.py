"""Demo technology transfer: the paracetamol tablet's development recipe (written by the project
lead two months ago, approved by QA) goes to production for the US market. Its change request
was approved by QA and production, and QA implemented it two weeks ago: production holds the
draft master batch record and the draft US release specification made from the recipe, and the
change shows that it cannot close until both are in force. A process FMEA on the recipe and a
product FMEA fill the tablet's risk register."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import clock
from pharmaqms.kernel.demo import DemoContext, register
from pharmaqms.lifecycle.rnd.eln.models import RndProject
from pharmaqms.lifecycle.rnd.transfer import service
from pharmaqms.platform.masterdata.models import Material, Product
from pharmaqms.quality.changes import service as changes
from pharmaqms.quality.changes.service import ImpactInput
from pharmaqms.quality.documents.models import ControlledDocument, DocumentStatus
from pharmaqms.quality.risk import service as risk
from pharmaqms.quality.risk.service import Scores

PROJECT = "DEV-PARA500"
MATERIALS = ("API-PARA", "EXC-MCC")
# The production SOPs in force (the batch-record demo's) that govern the transferred steps.
SOP_TITLES = (
    "Dispensing of raw materials",
    "Wet granulation in the high-shear granulator",
    "Tablet compression and in-process controls",
)
FORMULA = [
    {"material_code": "API-PARA", "quantity": 50, "unit": "kg", "tolerance_percent": 0.5},
    {"material_code": "EXC-MCC", "quantity": 20, "unit": "kg", "tolerance_percent": 1},
]
STEPS = [
    {
        "unit_procedure": "Granulation",
        "operation": "Wet massing",
        "title": "Granulate",
        "instructions": "Dry mix 3 min, add the binder over 4 min, mass to the end point.",
        "equipment": ["granulator"],
        "parameters": [
            {"name": "impeller_speed", "unit": "rpm", "low": 100, "high": 150},
            {"name": "granulation_time", "unit": "min", "low": 8, "high": 12},
        ],
        "target_minutes": 60,
    },
    {
        "unit_procedure": "Compression",
        "operation": "Main compression",
        "title": "Compress the tablets",
        "instructions": "Set the press within the proven range; check weight and hardness "
        "every 30 minutes.",
        "equipment": ["tablet press"],
        "parameters": [{"name": "compression_force", "unit": "kN", "low": 10, "high": 14}],
        "in_process_controls": [
            {"name": "tablet_hardness", "unit": "N", "low": 80, "high": 120},
            {"name": "tablet_weight", "unit": "mg", "low": 540, "high": 560},
        ],
        "target_minutes": 240,
    },
]
ATTRIBUTES = [
    {"code": "ASSAY", "name": "Assay", "unit": "%", "lower": 95, "upper": 105, "method": "HPLC"},
    {"code": "DISS", "name": "Dissolution (30 min)", "unit": "%", "lower": 80, "method": "USP 711"},
    {"code": "WATER", "name": "Water (KF)", "unit": "%", "upper": 3.0, "method": "USP 921"},
]
AREAS = ("documents", "processes", "equipment", "validation", "regulatory_filing", "training")


@contextmanager
def _at(now: datetime, days: float) -> Iterator[None]:
    with clock.frozen_at(now - timedelta(days=days)):
        yield


def load(session: Session, ctx: DemoContext) -> None:
    project = session.scalars(select(RndProject).where(RndProject.code == PROJECT)).first()
    known = set(session.scalars(select(Material.code).where(Material.code.in_(MATERIALS))))
    sops = list(
        session.scalars(
            select(ControlledDocument.number).where(
                ControlledDocument.title.in_(SOP_TITLES),
                ControlledDocument.status == DocumentStatus.CURRENT.value,
            )
        )
    )
    if project is None or known != set(MATERIALS) or len(sops) != len(SOP_TITLES):
        return  # the gates, platform and batch-record demos make what this one builds on
    lead, qa, qa2 = ctx.people["rahul.rd"], ctx.people["quinn.qa"], ctx.people["rosa.qa"]
    supervisor = ctx.people["sofia.supervisor"]
    now = clock.now()
    with _at(now, 60):
        recipe = service.define_recipe(
            session,
            actor=lead,
            project_id=project.id,
            title="Paracetamol 500 mg tablets, 100,000 tablets (F3, high-shear granulation)",
            batch_size=100000,
            batch_unit="tablets",
            formula=FORMULA,
            steps=STEPS,
            attributes=ATTRIBUTES,
        )
        session.flush()
    with _at(now, 58):
        service.approve_recipe(session, actor=qa, recipe_id=recipe.id, password=ctx.password)
        process_fmea = risk.create_assessment(
            session,
            actor=lead,
            title="PARA500 process FMEA (recipe F3)",
            scope="Granulation and compression of the transferred process.",
            subject_type="rnd_recipe",
            subject_id=recipe.id,
        )
        product = session.get(Product, recipe.product_id)
        assert product is not None
        product_fmea = risk.create_assessment(
            session,
            actor=qa,
            title="PARA500 product FMEA",
            scope="Tablet design: dissolution, content uniformity, stability.",
            subject_type="product",
            subject_id=product.id,
        )
        session.flush()
        risk.add_item(
            session,
            actor=lead,
            assessment_id=process_fmea.id,
            failure_mode="Over-granulation",
            effect="Hard tablets, slow dissolution",
            cause="Impeller speed or time above the range",
            scores=Scores(4, 2, 2),
            controls="Proven ranges in the master batch record; end-point by power draw",
            residual=Scores(4, 1, 2),
        )
        risk.add_item(
            session,
            actor=qa,
            assessment_id=product_fmea.id,
            failure_mode="Dissolution below Q at 30 min after storage",
            effect="Reduced bioavailability",
            cause="Moisture uptake in the blister",
            scores=Scores(4, 3, 3),
        )
    with _at(now, 30):
        transfer = service.raise_transfer(
            session,
            actor=lead,
            recipe_id=recipe.id,
            market="US",
            justification="Registration in the US granted; the Leiden line makes the US batches.",
        )
        session.flush()
        change_id = transfer.change_id
        changes.transition(session, actor=lead, change_id=change_id, name="submit")
    with _at(now, 25):
        changes.assess_impact(
            session,
            actor=qa,
            change_id=change_id,
            impacts=[
                ImpactInput(a, a in ("documents", "processes"), f"{a}: see the recipe")
                for a in AREAS
            ],
            regulatory_category="prior_approval",
            regulatory_rationale="A new manufacturing process description for the US dossier.",
            functions=["quality_assurance", "production"],
        )
        changes.add_action(
            session,
            actor=qa,
            change_id=change_id,
            kind="update_process",
            description="Train the granulation and compression crews on the US master",
            owner_id=supervisor.user_id,
            due_at=now + timedelta(days=30),
        )
        changes.transition(session, actor=qa, change_id=change_id, name="submit_for_approval")
        for who, function in ((qa2, "quality_assurance"), (supervisor, "production")):
            changes.decide_as_function(
                session,
                actor=who,
                change_id=change_id,
                function=function,
                approve=True,
                password=ctx.password,
            )
    with _at(now, 14):
        service.implement_transfer(
            session, actor=qa, transfer_id=transfer.id, governing_sops=sorted(sops)
        )


register("R&D technology transfer", load)
