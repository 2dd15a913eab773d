"""The life of a supplier approval and of a material-use override.

Supplier approval (one line of the approved supplier list):
proposed → qualified | conditional → disqualified, and back to qualified or conditional by a
new signed decision (requalify) — every decision signed by QA.

Material-use override: requested → approved (QA's signature) → revoked.
"""

from __future__ import annotations

from typing import Any

from pharmaqms.kernel import clock
from pharmaqms.kernel.registry import RecordType, register
from pharmaqms.kernel.roles import grant
from pharmaqms.kernel.workflow import Transition, Workflow, roles, states
from pharmaqms.lifecycle.production.materials.models import (
    MaterialUseOverride,
    OverrideStatus,
    QualificationStatus,
    SupplierApproval,
)

grant("materials.manage", "qa")
grant("materials.receive", "qa", "production_supervisor", "logistics", "qc_analyst")
grant("materials.certificates", "qa", "qc_analyst", "production_supervisor", "logistics")
grant("materials.override", "qa")

QA = roles("qa")


def audit_recorded(approval: Any) -> list[str]:
    """A supplier is qualified on the evidence of an audit (or questionnaire) with a known date
    and outcome, for a limited time."""
    reasons = []
    if approval.last_audit_on is None:
        reasons.append("no supplier audit (or questionnaire) date is recorded")
    if not (approval.audit_outcome or "").strip():
        reasons.append("the outcome of the supplier audit is not recorded")
    if approval.qualified_until is None:
        reasons.append("the qualification has no expiry date")
    elif approval.qualified_until < clock.now().date():
        reasons.append(
            f"the qualification expiry {approval.qualified_until.isoformat()} lies in the past"
        )
    return reasons


def conditions_stated(approval: Any) -> list[str]:
    if not (approval.conditions or "").strip():
        return ["a conditional approval must state its conditions (e.g. full testing of each lot)"]
    return []


SUPPLIER_APPROVAL_WORKFLOW = Workflow(
    record_type="supplier_approval",
    states=tuple(s.value for s in QualificationStatus),
    initial=QualificationStatus.PROPOSED.value,
    transitions=(
        Transition(
            "qualify",
            "Qualify",
            states("proposed"),
            "qualified",
            QA,
            signature="Approved",
            guards=(audit_recorded,),
        ),
        Transition(
            "approve_conditionally",
            "Approve with conditions",
            states("proposed", "qualified"),
            "conditional",
            QA,
            signature="Approved",
            reason_required=True,
            guards=(audit_recorded, conditions_stated),
        ),
        Transition(
            "requalify",
            "Requalify",
            states("conditional", "disqualified"),
            "qualified",
            QA,
            signature="Approved",
            reason_required=True,
            guards=(audit_recorded,),
        ),
        Transition(
            "disqualify",
            "Disqualify",
            states("proposed", "qualified", "conditional"),
            "disqualified",
            QA,
            signature="Rejected",
            reason_required=True,
        ),
    ),
)

SUPPLIER_APPROVAL = register(
    RecordType(
        name="supplier_approval",
        label="Supplier approval",
        plural="Approved supplier list",
        model=SupplierApproval,
        workflow=SUPPLIER_APPROVAL_WORKFLOW,
        list_columns=(
            ("number", "Number"),
            ("manufacturer_site", "Manufacturing site"),
            ("qualified_until", "Qualified until"),
            ("status", "Status"),
        ),
        detail_fields=(
            ("number", "Number"),
            ("status", "Status"),
            ("manufacturer_site", "Manufacturing site"),
            ("last_audit_on", "Last audit"),
            ("audit_outcome", "Audit outcome"),
            ("next_audit_due_on", "Next audit due"),
            ("qualified_until", "Qualified until"),
            ("conditions", "Conditions"),
        ),
        module="production",
        searchable=("number", "manufacturer_site"),
    )
)


MATERIAL_USE_OVERRIDE_WORKFLOW = Workflow(
    record_type="material_use_override",
    states=tuple(s.value for s in OverrideStatus),
    initial=OverrideStatus.REQUESTED.value,
    retired_states=frozenset({OverrideStatus.REVOKED.value}),
    transitions=(
        Transition(
            "approve",
            "Approve the use",
            states("requested"),
            "approved",
            QA,
            signature="Approved",
            reason_required=True,
        ),
        Transition(
            "revoke",
            "Revoke",
            states("approved"),
            "revoked",
            QA,
            reason_required=True,
        ),
    ),
)

MATERIAL_USE_OVERRIDE = register(
    RecordType(
        name="material_use_override",
        label="Material use override",
        plural="Material use overrides",
        model=MaterialUseOverride,
        workflow=MATERIAL_USE_OVERRIDE_WORKFLOW,
        list_columns=(
            ("number", "Number"),
            ("batch_reference", "For"),
            ("justification", "Justification"),
            ("status", "Status"),
        ),
        detail_fields=(
            ("number", "Number"),
            ("status", "Status"),
            ("reasons", "Reasons overridden"),
            ("justification", "Justification"),
            ("batch_reference", "For batch"),
            ("valid_until", "Valid until"),
        ),
        module="production",
        searchable=("number", "batch_reference"),
    )
)
