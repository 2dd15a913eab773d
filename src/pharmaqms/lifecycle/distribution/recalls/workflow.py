"""The life of a recall:

draft → approved (QA's e-signature, "Approved": classification, depth and scope) → in progress
(notifications sent) → closed (QA's e-signature, "Closed"); a draft, approved or in-progress
recall may be cancelled with a reason.

Approval is where the lots become recalled (through the platform), unless the recall is a mock.
"""

from __future__ import annotations

from pharmaqms.kernel.registry import RecordType, register
from pharmaqms.kernel.roles import grant
from pharmaqms.kernel.workflow import Transition, Workflow, roles, states
from pharmaqms.lifecycle.distribution.recalls.models import Recall, RecallStatus

# QA decides and signs; logistics works the notification list with QA.
DECIDERS = ("qa",)
COORDINATORS = ("qa", "logistics")

grant("recalls.decide", *DECIDERS)
grant("recalls.coordinate", *COORDINATORS)

RECALL_WORKFLOW = Workflow(
    record_type="recall",
    states=tuple(s.value for s in RecallStatus),
    initial=RecallStatus.DRAFT.value,
    retired_states=frozenset({RecallStatus.CLOSED.value, RecallStatus.CANCELLED.value}),
    labels={"in_progress": "in progress"},
    transitions=(
        Transition(
            "approve",
            "Approve the recall",
            states("draft"),
            "approved",
            roles(*DECIDERS),
            signature="Approved",
        ),
        Transition(
            "start",
            "Notify the customers",
            states("approved"),
            "in_progress",
            roles(*COORDINATORS),
        ),
        Transition(
            "close",
            "Close the recall",
            states("in_progress"),
            "closed",
            roles(*DECIDERS),
            signature="Closed",
        ),
        Transition(
            "cancel",
            "Cancel the recall",
            states("draft", "approved", "in_progress"),
            "cancelled",
            roles(*DECIDERS),
            reason_required=True,
        ),
    ),
)

register(
    RecordType(
        name="recall",
        label="Recall",
        plural="Recalls",
        model=Recall,
        workflow=RECALL_WORKFLOW,
        list_columns=(
            ("number", "Number"),
            ("classification", "Class"),
            ("depth", "Depth"),
            ("mock", "Mock"),
            ("status", "Status"),
        ),
        detail_fields=(
            ("number", "Number"),
            ("mock", "Mock recall"),
            ("subjects", "Recalled"),
            ("lots", "Lots in scope"),
            ("classification", "Class"),
            ("depth", "Depth"),
            ("reason", "Reason"),
            ("target_pct", "Effectiveness target %"),
            ("scope_seconds", "Scope computed in (s)"),
            ("closure_justification", "Closure justification"),
        ),
        module="distribution",
        detail_url=lambda recall: f"/distribution/recalls/{recall.id}",
        searchable=("number", "subjects", "reason"),
    )
)
