"""The lives of the cold-chain records:

cold-chain alarm        raised → acknowledged (a comment is required) → assessed → closed
excursion assessment    draft → signed (QA's e-signature, meaning "Approved")

An alarm not acknowledged within its profile's time is escalated to the profile's escalation
role (a task in that role's inbox); the alarm stays ``raised`` until someone acknowledges it.
"""

from __future__ import annotations

from pharmaqms.kernel.registry import RecordType, register
from pharmaqms.kernel.roles import grant
from pharmaqms.kernel.workflow import Transition, Workflow, roles, states
from pharmaqms.lifecycle.distribution.models import (
    AlarmStatus,
    ColdChainAlarm,
    ExcursionAssessment,
)

CONFIGURERS = ("qa", "logistics")
RESPONDERS = ("logistics", "qa")
ASSESSORS = ("qa",)
# Roles a profile may name to receive or escalate alarms.
ALARM_ROLES = frozenset({"logistics", "qa", "qualified_person", "production_supervisor"})

grant("coldchain.configure", *CONFIGURERS)
grant("coldchain.respond", *RESPONDERS)
grant("coldchain.assess", *ASSESSORS)

ALARM_WORKFLOW = Workflow(
    record_type="coldchain_alarm",
    states=tuple(s.value for s in AlarmStatus),
    initial=AlarmStatus.RAISED.value,
    retired_states=frozenset({AlarmStatus.CLOSED.value}),
    transitions=(
        Transition(
            "acknowledge",
            "Acknowledge",
            states("raised"),
            "acknowledged",
            roles(*RESPONDERS),
            # The reason is the acknowledgement: what was seen and done about it.
            reason_required=True,
        ),
        Transition(
            "assess",
            "Assess",
            states("acknowledged"),
            "assessed",
            roles(*RESPONDERS),
            reason_required=True,
        ),
        Transition(
            "close",
            "Close",
            states("assessed"),
            "closed",
            roles(*RESPONDERS),
            reason_required=True,
        ),
    ),
)

ASSESSMENT_WORKFLOW = Workflow(
    record_type="excursion_assessment",
    states=("draft", "signed"),
    initial="draft",
    transitions=(
        Transition(
            "sign",
            "Sign the excursion assessment",
            states("draft"),
            "signed",
            roles(*ASSESSORS),
            signature="Approved",
        ),
    ),
)

register(
    RecordType(
        name="coldchain_alarm",
        label="Cold-chain alarm",
        plural="Cold-chain alarms",
        model=ColdChainAlarm,
        workflow=ALARM_WORKFLOW,
        list_columns=(
            ("number", "Number"),
            ("kind", "Kind"),
            ("place_code", "Place"),
            ("started_at", "Since"),
            ("status", "Status"),
        ),
        detail_fields=(
            ("number", "Number"),
            ("kind", "Kind"),
            ("place_code", "Place"),
            ("profile_revision", "Profile revision"),
            ("limit_low_c", "Lower limit °C"),
            ("limit_high_c", "Upper limit °C"),
            ("delay_min", "Delay (min)"),
            ("started_at", "Breach started"),
            ("triggered_at", "Raised on the reading of"),
            ("ended_at", "Breach ended"),
            ("temperature_c", "Temperature °C"),
            ("detail", "Detail"),
            ("acknowledgement", "Acknowledgement"),
            ("assessment", "Assessment"),
            ("closure", "Closure"),
            ("escalated_to", "Escalated to"),
        ),
        module="distribution",
        detail_url=lambda alarm: f"/distribution/alarms/{alarm.id}",
        searchable=("number", "place_code", "kind"),
    )
)
register(
    RecordType(
        name="excursion_assessment",
        label="Excursion assessment",
        plural="Excursion assessments",
        model=ExcursionAssessment,
        workflow=ASSESSMENT_WORKFLOW,
        list_columns=(("number", "Number"), ("disposition", "Disposition"), ("status", "Status")),
        detail_fields=(
            ("number", "Number"),
            ("disposition", "Disposition"),
            ("rationale", "Rationale"),
            ("budget", "Stability budget when signed"),
        ),
        module="distribution",
    )
)
