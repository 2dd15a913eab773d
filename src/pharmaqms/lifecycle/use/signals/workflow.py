"""The life of a signal (EU GVP Module IX.B):

detected → validated → assessed → action → closed
(detected → not a signal: refuted at validation, with the reason; assessed → closed when the
assessment refutes it. A confirmed signal is closed only once an action is on record.)

Validation is signed "Reviewed" by a PV officer or the QPPV; refuting a signal is a decision
too, signed "Rejected" with the reason. The assessment (text, conclusion, risk) is recorded by
a PV officer, medical reviewer or the QPPV. Closure is signed "Closed" by the QPPV, who is
responsible for the oversight of signal management (GVP Module I.C.1.1)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import object_session

from pharmaqms.kernel.registry import RecordType, register
from pharmaqms.kernel.roles import grant
from pharmaqms.kernel.workflow import TaskSpec, Transition, Workflow, roles, states
from pharmaqms.lifecycle.use.cases import workflow as _case_workflow  # noqa: F401 (the roles)
from pharmaqms.lifecycle.use.signals.models import (
    Conclusion,
    PVSignal,
    PVSignalAction,
    SignalStatus,
)

VALIDATORS = ("pv_officer", "qppv")
ASSESSORS = ("pv_officer", "medical_reviewer", "qppv")
CLOSERS = ("qppv",)
grant("signals.detect", "pv_officer", "qppv")
grant("signals.assess", *ASSESSORS)
grant("signals.act", "pv_officer", "qppv")


def assessment_recorded(signal: Any) -> list[str]:
    reasons = []
    if not (signal.assessment or "").strip():
        reasons.append("the assessment is not written")
    if not signal.conclusion:
        reasons.append("the conclusion (confirmed or refuted) is not recorded")
    if not signal.risk:
        reasons.append("the risk is not classified")
    return reasons


def _actions(signal: Any) -> int:
    session = object_session(signal)
    if session is None:
        return 0
    return int(
        session.scalar(
            select(func.count())
            .select_from(PVSignalAction)
            .where(PVSignalAction.signal_id == signal.id)
        )
        or 0
    )


def action_on_record(signal: Any) -> list[str]:
    if signal.conclusion == Conclusion.CONFIRMED and _actions(signal) == 0:
        return ["a confirmed signal needs an action on record (label change, CAPA, change)"]
    return []


def confirmed(signal: Any) -> list[str]:
    if signal.conclusion != Conclusion.CONFIRMED:
        return ["only a confirmed signal has actions"]
    return []


def _note_refutation(session: Any, signal: Any, actor: Any) -> None:
    from pharmaqms.lifecycle.use.signals import service

    service.note_refutation(session, signal, actor)


PV_SIGNAL_WORKFLOW = Workflow(
    record_type="pv_signal",
    states=tuple(s.value for s in SignalStatus),
    initial=SignalStatus.DETECTED,
    retired_states=frozenset({SignalStatus.NOT_A_SIGNAL.value}),
    labels={"not_a_signal": "not a signal"},
    transitions=(
        Transition(
            "validate",
            "Validate the signal",
            states("detected"),
            "validated",
            roles(*VALIDATORS),
            signature="Reviewed",
        ),
        Transition(
            "refute",
            "Not a signal",
            states("detected"),
            "not_a_signal",
            roles(*VALIDATORS),
            signature="Rejected",
            reason_required=True,
            effects=(_note_refutation,),
        ),
        Transition(
            "assess",
            "Assessment done",
            states("validated"),
            "assessed",
            roles(*ASSESSORS),
            guards=(assessment_recorded,),
        ),
        Transition(
            "act",
            "Action under way",
            states("assessed"),
            "action",
            roles("pv_officer", "qppv"),
            guards=(confirmed, action_on_record),
        ),
        Transition(
            "close",
            "Close the signal",
            states("assessed", "action"),
            "closed",
            roles(*CLOSERS),
            signature="Closed",
            guards=(assessment_recorded, action_on_record),
        ),
    ),
    on_enter={
        "validated": TaskSpec("assess", "Assess {label}", "pv_officer", 60),
        "assessed": TaskSpec("close", "Decide the action on {label} or close it", "qppv", 30),
        "action": TaskSpec("close", "Close {label} once its actions are done", "qppv"),
    },
)

PV_SIGNAL = register(
    RecordType(
        name="pv_signal",
        label="Signal",
        plural="Signals",
        model=PVSignal,
        workflow=PV_SIGNAL_WORKFLOW,
        list_columns=(
            ("number", "Number"),
            ("product", "Product"),
            ("event_term", "Event"),
            ("status", "Status"),
            ("validation_due", "Validation due"),
        ),
        detail_fields=(
            ("number", "Number"),
            ("status", "Status"),
            ("product", "Product"),
            ("event_term", "Event"),
            ("source", "Source"),
            ("detected_at", "Detected"),
            ("validation_due", "Validation due"),
            ("conclusion", "Conclusion"),
            ("risk", "Risk"),
        ),
        module="pv",
        detail_url=lambda s: f"/pv/signals/{s.id}",
        searchable=("number", "product", "event_term"),
    )
)
