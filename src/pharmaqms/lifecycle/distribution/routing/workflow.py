"""The life of a stored route plan: draft (saved as planned) → approved (an electronic
signature, "Approved": the routes, the exposure predicted for each shipment and the stops left
out); a draft may be cancelled with a reason."""

from __future__ import annotations

from pharmaqms.kernel.registry import RecordType, register
from pharmaqms.kernel.roles import grant
from pharmaqms.kernel.workflow import Transition, Workflow, roles, states
from pharmaqms.lifecycle.distribution.routing.models import RoutePlan, RoutePlanStatus

# Logistics plans the rounds, QA looks at why a route was chosen; either approves.
PLANNERS = ("qa", "logistics")
grant("routes.plan", *PLANNERS)

ROUTE_PLAN_WORKFLOW = Workflow(
    record_type="route_plan",
    states=tuple(s.value for s in RoutePlanStatus),
    initial=RoutePlanStatus.DRAFT.value,
    retired_states=frozenset({RoutePlanStatus.CANCELLED.value}),
    transitions=(
        Transition(
            "approve",
            "Approve the route plan",
            states("draft"),
            "approved",
            roles(*PLANNERS),
            signature="Approved",
        ),
        Transition(
            "cancel",
            "Cancel the route plan",
            states("draft"),
            "cancelled",
            roles(*PLANNERS),
            reason_required=True,
        ),
    ),
)

register(
    RecordType(
        name="route_plan",
        label="Route plan",
        plural="Route plans",
        model=RoutePlan,
        workflow=ROUTE_PLAN_WORKFLOW,
        list_columns=(
            ("number", "Number"),
            ("title", "Title"),
            ("km", "km"),
            ("stops_served", "Stops served"),
            ("stops_dropped", "Stops left out"),
            ("status", "Status"),
        ),
        detail_fields=(
            ("number", "Number"),
            ("title", "Title"),
            ("season", "Ambient"),
            ("km", "km"),
            ("stops_served", "Stops served"),
            ("stops_dropped", "Stops left out"),
            ("exposure_min", "Shipment-minutes outside range"),
        ),
        module="distribution",
        detail_url=lambda plan: f"/distribution/routes/plans/{plan.id}",
        searchable=("number", "title"),
    )
)
