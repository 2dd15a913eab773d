"""Production as the target of technology transfer (``quality.transfer``): from the recipe R&D
hands over, a draft master batch record and a draft product specification, each created through
this module's own services and approved through its own workflow (document control for the
master, the specification workflow for the specification).

The master begins with the dispensing of the whole formula (second-person verified, as weighing
is), followed by the recipe's process steps with their critical process parameters as the
limits the operators work to; the specification has one numeric test per critical quality
attribute. Both are drafts: production completes and approves them, and the change control that
carries the transfer stays open until both are in force.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel.identity import Actor
from pharmaqms.lifecycle.production.batchrecords import masters
from pharmaqms.lifecycle.production.qc import specifications
from pharmaqms.lifecycle.production.qc.models import (
    CriterionKind,
    Specification,
    SpecificationStatus,
    SubjectKind,
)
from pharmaqms.quality.documents.models import VersionStatus
from pharmaqms.quality.transfer import (
    DraftRef,
    ProcessParameter,
    TransferPackage,
    register_transfer_target,
)

MASTER = "master_batch_record"
SPECIFICATION = "specification"


def _limit(parameter: ProcessParameter) -> dict[str, Any]:
    return {
        "name": parameter.name,
        "unit": parameter.unit,
        "low": parameter.low,
        "high": parameter.high,
        "capture": "manual",
    }


def master_steps(package: TransferPackage) -> list[dict[str, Any]]:
    """The master's steps: dispensing of the formula, then the recipe's process steps."""
    sops = list(package.governing_sops)
    dispensing = {
        "unit_procedure": "Dispensing",
        "operation": "Weigh",
        "phase": "",
        "title": "Dispense the formula",
        "instructions": (
            f"Weigh each material of the formula of {package.source_label} for one batch of "
            f"{package.batch_size:g} {package.batch_unit}, within its tolerance."
        ),
        "sop_numbers": sops,
        "materials": [
            {
                "material_code": line.material_code,
                "quantity": line.quantity,
                "unit": line.unit,
                "tolerance_percent": line.tolerance_percent,
            }
            for line in package.formula
        ],
        "equipment": ["balance"],
        "verification_required": True,
        "target_minutes": 60,
    }
    process = [
        {
            "unit_procedure": step.unit_procedure,
            "operation": step.operation,
            "phase": "",
            "title": step.title,
            "instructions": step.instructions,
            "sop_numbers": sops,
            "parameters": [_limit(p) for p in step.parameters],
            "in_process_controls": [_limit(c) for c in step.in_process_controls],
            "equipment": list(step.equipment),
            "target_minutes": step.target_minutes,
        }
        for step in package.steps
    ]
    return [dispensing, *process]


def specification_tests(package: TransferPackage) -> list[specifications.TestInput]:
    return [
        specifications.TestInput(
            test_code=attribute.code,
            test_name=attribute.name,
            kind=CriterionKind.NUMERIC.value,
            unit=attribute.unit,
            lower_limit=attribute.lower,
            upper_limit=attribute.upper,
            method=attribute.method,
        )
        for attribute in package.attributes
    ]


class ProductionTransferTarget:
    def create_drafts(
        self, session: Session, *, actor: Actor, package: TransferPackage
    ) -> list[DraftRef]:
        master = masters.define_master_batch_record(
            session,
            actor=actor,
            product_code=package.product_code,
            title=package.title,
            batch_size=package.batch_size,
            batch_unit=package.batch_unit,
            steps=master_steps(package),
        )
        spec = specifications.create_specification(
            session,
            actor=actor,
            subject_kind=SubjectKind.PRODUCT.value,
            item_code=package.product_code,
            market=package.market,
            title=f"{package.title}: release specification",
            tests=specification_tests(package),
        )
        session.flush()
        return [
            # The master is approved and made effective on its controlled document's page.
            DraftRef(
                MASTER,
                master.id,
                master.number,
                f"/documents/{master.document_id}?version={master.document_version_id}",
            ),
            DraftRef(
                SPECIFICATION, spec.id, spec.number, f"/production/qc/specifications/{spec.id}"
            ),
        ]

    def in_force(self, session: Session, product_code: str) -> list[str]:
        found = [
            f"master batch record {m.number} (in force)"
            for m, v in masters.list_masters(session, product_code=product_code)
            if v.status == VersionStatus.EFFECTIVE
        ]
        found.extend(
            f"specification {spec.number} ({spec.market}, in force)"
            for spec in session.scalars(
                select(Specification)
                .where(
                    Specification.item_code == product_code,
                    Specification.status == SpecificationStatus.APPROVED.value,
                )
                .order_by(Specification.id)
            )
        )
        return found

    def not_effective(self, session: Session, drafts: Sequence[DraftRef]) -> list[str]:
        problems: list[str] = []
        for draft in drafts:
            if draft.kind == MASTER:
                master = masters.get_master(session, draft.record_id)
                problems.extend(masters.effectiveness_problems(session, master))
            elif draft.kind == SPECIFICATION:
                spec = specifications.get_specification(session, draft.record_id)
                if spec.status != SpecificationStatus.APPROVED:
                    problems.append(
                        f"{spec.number} is {spec.status.replace('_', ' ')}, not approved"
                    )
            else:
                problems.append(f"{draft.number}: production keeps no {draft.kind}")
        return problems


TARGET = ProductionTransferTarget()
register_transfer_target(TARGET)
