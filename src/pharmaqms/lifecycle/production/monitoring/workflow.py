"""The lives of the monitoring records:

monitored parameter, T² group   active ⇄ suspended (with a reason)
control limits, T² limits       draft → approved (QA's signature, not the estimator) → superseded
                                draft → withdrawn
process alert                   open → acknowledged (with a comment) → escalated
                                open → escalated (raises a deviation, linked both ways)

Approving a revision of limits supersedes the one in force; the live evaluation judges the next
delivery of readings on the new numbers. A suspended parameter is not evaluated. Escalating an
alert raises the deviation in the same transaction, through the quality events API.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.registry import RecordType, register
from pharmaqms.kernel.roles import grant
from pharmaqms.kernel.workflow import Transition, Workflow, roles, states
from pharmaqms.lifecycle.production.monitoring.models import (
    AlertStatus,
    ControlLimits,
    LimitsStatus,
    MonitoredParameter,
    MonitoringStatus,
    MultivariateGroup,
    MultivariateLimits,
    ProcessAlert,
)

CONFIGURERS = ("qa", "production_supervisor")
ESTIMATORS = ("qa", "production_supervisor", "qc_analyst")
RESPONDERS = ("production_operator", "production_supervisor", "qa", "qc_analyst")
ESCALATORS = ("production_supervisor", "qa")
# Who may be named to receive alerts: the people who run and watch the process.
ALERTABLE_ROLES = frozenset(
    {"production_operator", "production_supervisor", "qa", "qc_analyst", "qualified_person"}
)

grant("spc.configure", *CONFIGURERS)
grant("spc.estimate", *ESTIMATORS)
grant("spc.respond", *RESPONDERS)


def _limits_approved(session: Session, limits: Any, actor: Actor) -> None:
    from pharmaqms.lifecycle.production.monitoring.limits import limits_approved

    limits_approved(session, limits, actor=actor)


def _acknowledged(session: Session, alert: Any, actor: Actor) -> None:
    from pharmaqms.lifecycle.production.monitoring.alerts import acknowledged

    acknowledged(session, alert, actor=actor)


def _escalated(session: Session, alert: Any, actor: Actor) -> None:
    from pharmaqms.lifecycle.production.monitoring.alerts import escalated

    escalated(session, alert, actor=actor)


def _activity_workflow(record_type: str) -> Workflow:
    return Workflow(
        record_type=record_type,
        states=tuple(s.value for s in MonitoringStatus),
        initial=MonitoringStatus.ACTIVE.value,
        transitions=(
            Transition(
                "suspend",
                "Suspend monitoring",
                states("active"),
                "suspended",
                roles(*CONFIGURERS),
                reason_required=True,
            ),
            Transition(
                "resume",
                "Resume monitoring",
                states("suspended"),
                "active",
                roles(*CONFIGURERS),
                reason_required=True,
            ),
        ),
    )


def _limits_workflow(record_type: str) -> Workflow:
    return Workflow(
        record_type=record_type,
        states=tuple(s.value for s in LimitsStatus),
        initial=LimitsStatus.DRAFT.value,
        retired_states=frozenset({LimitsStatus.WITHDRAWN.value, LimitsStatus.SUPERSEDED.value}),
        labels={"approved": "approved (in force)"},
        transitions=(
            Transition(
                "approve",
                "Approve the control limits",
                states("draft"),
                "approved",
                roles("qa"),
                signature="Approved",
                forbid_author=True,
                effects=(_limits_approved,),
            ),
            Transition(
                "withdraw",
                "Withdraw the draft",
                states("draft"),
                "withdrawn",
                roles(*CONFIGURERS),
                reason_required=True,
            ),
        ),
    )


PARAMETER_WORKFLOW = _activity_workflow("monitored_parameter")
GROUP_WORKFLOW = _activity_workflow("multivariate_group")
LIMITS_WORKFLOW = _limits_workflow("control_limits")
GROUP_LIMITS_WORKFLOW = _limits_workflow("multivariate_limits")

ALERT_WORKFLOW = Workflow(
    record_type="process_alert",
    states=tuple(s.value for s in AlertStatus),
    initial=AlertStatus.OPEN.value,
    labels={"escalated": "escalated to a deviation"},
    transitions=(
        Transition(
            "acknowledge",
            "Acknowledge",
            states("open"),
            "acknowledged",
            roles(*RESPONDERS),
            # The reason is the acknowledgement: what was seen and done on the line.
            reason_required=True,
            effects=(_acknowledged,),
        ),
        Transition(
            "escalate",
            "Escalate to a deviation",
            states("open", "acknowledged"),
            "escalated",
            roles(*ESCALATORS),
            effects=(_escalated,),
        ),
    ),
)


def _parameter_url(record: Any) -> str:
    return f"/production/monitoring/parameters/{record.id}"


register(
    RecordType(
        name="monitored_parameter",
        label="Monitored parameter",
        plural="Monitored parameters",
        model=MonitoredParameter,
        workflow=PARAMETER_WORKFLOW,
        list_columns=(
            ("number", "Number"),
            ("title", "Parameter"),
            ("product_code", "Product"),
            ("chart_kind", "Chart"),
            ("status", "Status"),
        ),
        detail_fields=(
            ("number", "Number"),
            ("title", "Parameter"),
            ("product_code", "Product"),
            ("unit_procedure", "Unit procedure"),
            ("operation", "Operation"),
            ("phase", "Phase"),
            ("parameter", "Parameter (MES name)"),
            ("unit", "Unit"),
            ("classification", "Class"),
            ("chart_kind", "Chart"),
            ("subgroup_size", "Subgroup size"),
            ("rule_set", "Rule set"),
            ("enabled_rules", "Rules on"),
            ("lsl", "LSL"),
            ("usl", "USL"),
            ("alert_roles", "Alerts go to"),
        ),
        module="production",
        detail_url=_parameter_url,
        searchable=("number", "title", "parameter", "product_code"),
    )
)
register(
    RecordType(
        name="control_limits",
        label="Control limits",
        plural="Control limits",
        model=ControlLimits,
        workflow=LIMITS_WORKFLOW,
        list_columns=(
            ("number", "Number"),
            ("revision", "Revision"),
            ("center", "Centre"),
            ("lcl", "LCL"),
            ("ucl", "UCL"),
            ("status", "Status"),
        ),
        detail_fields=(
            ("number", "Number"),
            ("revision", "Revision"),
            ("chart_kind", "Chart"),
            ("center", "Centre"),
            ("sigma", "Sigma"),
            ("lcl", "LCL"),
            ("ucl", "UCL"),
            ("reference_batches", "Reference batches"),
            ("reference_from", "Reference from"),
            ("reference_to", "Reference to"),
            ("reference_points", "Reference readings"),
            ("effective_from", "In force from"),
        ),
        module="production",
        detail_url=lambda limits: f"/production/monitoring/parameters/{limits.parameter_id}/limits",
    )
)
register(
    RecordType(
        name="multivariate_group",
        label="T² group",
        plural="T² groups",
        model=MultivariateGroup,
        workflow=GROUP_WORKFLOW,
        list_columns=(("number", "Number"), ("title", "Group"), ("status", "Status")),
        detail_fields=(
            ("number", "Number"),
            ("title", "Group"),
            ("product_code", "Product"),
            ("parameter_ids", "Parameters"),
            ("alpha", "α"),
            ("alert_roles", "Alerts go to"),
        ),
        module="production",
        detail_url=lambda group: f"/production/monitoring/groups/{group.id}",
    )
)
register(
    RecordType(
        name="multivariate_limits",
        label="T² limits",
        plural="T² limits",
        model=MultivariateLimits,
        workflow=GROUP_LIMITS_WORKFLOW,
        list_columns=(
            ("number", "Number"),
            ("revision", "Revision"),
            ("ucl", "UCL"),
            ("status", "Status"),
        ),
        detail_fields=(
            ("number", "Number"),
            ("revision", "Revision"),
            ("parameters", "Parameters"),
            ("mean", "Mean vector"),
            ("reference_size", "Reference observations"),
            ("alpha", "α"),
            ("ucl", "UCL"),
            ("effective_from", "In force from"),
        ),
        module="production",
        detail_url=lambda limits: f"/production/monitoring/groups/{limits.group_id}",
    )
)
register(
    RecordType(
        name="process_alert",
        label="SPC alert",
        plural="SPC alerts",
        model=ProcessAlert,
        workflow=ALERT_WORKFLOW,
        list_columns=(
            ("number", "Number"),
            ("subject", "Parameter"),
            ("rule_name", "Rule"),
            ("status", "Status"),
        ),
        detail_fields=(
            ("number", "Number"),
            ("subject", "Parameter"),
            ("rule_set", "Rule set"),
            ("rule", "Rule"),
            ("rule_name", "Rule name"),
            ("point_index", "Point"),
            ("value", "Value"),
            ("center", "Centre"),
            ("lcl", "LCL"),
            ("ucl", "UCL"),
            ("measured_at", "Measured"),
            ("acknowledgement", "Acknowledgement"),
        ),
        module="production",
        detail_url=lambda alert: f"/production/monitoring/alerts/{alert.id}",
        searchable=("number", "subject", "rule_name"),
    )
)
