"""The rules of a deviation as pure functions: due dates by class, and the guards of its
workflow (each returns the reasons a step is not possible yet, so a refusal can name them)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, object_session
from sqlalchemy.orm.exc import UnmappedInstanceError

from pharmaqms.kernel.configuration import store as config_store
from pharmaqms.quality.capa.models import CapaStatus
from pharmaqms.quality.config import DEVIATION_DUE_DAYS, RISK_MATRIX, quality_settings
from pharmaqms.quality.deviations.models import (
    OPEN_STATUSES,
    CapaDecision,
    DeviationClass,
    ExtensionStatus,
    RootCauseCategory,
)
from pharmaqms.quality.risk.configuration import matrix_of
from pharmaqms.quality.risk.matrix import RiskMatrix, matrix

FISHBONE_CATEGORIES = tuple(c.value for c in RootCauseCategory)
MAX_WHYS = 10


def due_days(classification: str, days_by_class: Mapping[str, int] | None = None) -> int:
    """The days of a class under ``days_by_class`` (a version of ``quality.deviation_due_days``;
    by default the built-in one from the settings)."""
    days = days_by_class if days_by_class is not None else quality_settings().deviation_due_days
    return days[DeviationClass(classification).value]


def due_date(
    discovered_at: datetime,
    classification: str,
    days_by_class: Mapping[str, int] | None = None,
) -> datetime:
    """A deviation is due for closure a number of days after its discovery, set by class."""
    return discovered_at + timedelta(days=due_days(classification, days_by_class))


def due_days_in_force(session: Session) -> config_store.InForce:
    return config_store.in_force(session, DEVIATION_DUE_DAYS)


def is_overdue(due_at: datetime | None, status: str, now: datetime) -> bool:
    return due_at is not None and status in OPEN_STATUSES and due_at < now


def fishbone_problems(fishbone: dict[str, list[str]]) -> list[str]:
    problems = []
    unknown = sorted(set(fishbone) - set(FISHBONE_CATEGORIES))
    if unknown:
        problems.append(
            f"unknown fishbone categories {', '.join(unknown)}; "
            f"the categories are {', '.join(FISHBONE_CATEGORIES)}"
        )
    for category, factors in fishbone.items():
        if not isinstance(factors, list) or not all(
            isinstance(f, str) and f.strip() for f in factors
        ):
            problems.append(f"the fishbone category {category} needs a list of non-empty factors")
    return problems


# The least class a risk level asks for: a class above it is QA's caution, one below is not.
CLASS_FOR_LEVEL = {
    "low": DeviationClass.MINOR,
    "medium": DeviationClass.MAJOR,
    "high": DeviationClass.CRITICAL,
}
CLASS_ORDER = (DeviationClass.MINOR, DeviationClass.MAJOR, DeviationClass.CRITICAL)


def _session_of(record: Any) -> Session | None:
    """The record's session; none for a plain object (the guards are tested without one)."""
    try:
        return object_session(record)
    except UnmappedInstanceError:
        return None


def risk_matrix_in_force(session: Session) -> config_store.InForce:
    return config_store.in_force(session, RISK_MATRIX)


def risk_matrix(session: Session | None = None, record: Any = None) -> RiskMatrix:
    """The ICH Q9 matrix deviations are scored on, like risk assessments: the one ``record``
    was classified under, else the one in force (without a session: the built-in one)."""
    if session is None:
        return matrix(quality_settings().risk_matrix)
    used = config_store.used_on(session, record, RISK_MATRIX) if record is not None else None
    chosen = used or risk_matrix_in_force(session)
    return matrix_of(chosen.content)


def class_below_risk(
    classification: str,
    severity: int,
    probability: int,
    detectability: int,
    grid: RiskMatrix | None = None,
) -> str | None:
    """Why the class is below the risk its scores give on the matrix, if it is."""
    grid = grid or risk_matrix()
    if not all(1 <= s <= grid.scale for s in (severity, probability, detectability)):
        return None  # a score off the matrix's scale is refused as such where it is entered
    level = grid.level(severity, probability, detectability)
    least = CLASS_FOR_LEVEL[level]
    if CLASS_ORDER.index(DeviationClass(classification)) >= CLASS_ORDER.index(least):
        return None
    return (
        f"severity {severity}, probability {probability} and detectability {detectability} "
        f"give a {level} risk on the {grid.name} matrix, which makes it at least {least.value}, "
        f"not {classification}: raise the class or revise the scores and their basis"
    )


def classified(deviation: Any) -> list[str]:
    reasons = []
    if deviation.classification not in {c.value for c in DeviationClass}:
        reasons.append("the deviation is not classified (minor, major or critical)")
    for score, basis, name in (
        ("severity", "severity_basis", "severity"),
        ("probability", "probability_basis", "probability of occurrence"),
        ("detectability", "detectability_basis", "detectability"),
    ):
        if getattr(deviation, score) is None:
            reasons.append(f"the {name} score of the ICH Q9 basis is missing")
        if not (getattr(deviation, basis) or "").strip():
            reasons.append(f"the justification of the {name} score is missing")
    if not reasons:
        session = _session_of(deviation)
        below = class_below_risk(
            deviation.classification,
            deviation.severity,
            deviation.probability,
            deviation.detectability,
            risk_matrix(session, deviation) if session is not None else None,
        )
        if below:
            reasons.append(below)
    return reasons


def immediate_actions_recorded(deviation: Any) -> list[str]:
    if not (deviation.immediate_actions or "").strip():
        return ["the immediate actions taken are not recorded (write 'none needed' and why)"]
    return []


def investigator_named(deviation: Any) -> list[str]:
    return [] if deviation.investigator_id is not None else ["no investigator is assigned"]


def investigation_complete(deviation: Any) -> list[str]:
    reasons = []
    if not (deviation.root_cause or "").strip():
        reasons.append("the root cause is not stated")
    if deviation.root_cause_category not in FISHBONE_CATEGORIES:
        reasons.append("the root cause category (man, machine, method, …) is not chosen")
    if not deviation.why_chain:
        reasons.append("the 5-why analysis has no answers")
    reasons.extend(fishbone_problems(deviation.fishbone or {}))
    return reasons


def batches_assessed(deviation: Any) -> list[str]:
    return [
        f"the impact on batch {b.batch_id} is not assessed"
        for b in deviation.batches
        if not (b.impact_assessment or "").strip()
    ]


def live_capas(deviation: Any) -> list[Any]:
    """The CAPAs raised from the deviation that still stand: a cancelled one does nothing."""
    return [c for c in deviation.capas if c.status != CapaStatus.CANCELLED]


def capa_decided(deviation: Any) -> list[str]:
    """A live CAPA raised from the deviation, or a rationale why none is needed."""
    if live_capas(deviation):
        return []
    if deviation.capa_decision == CapaDecision.NO_CAPA:
        if (deviation.no_capa_rationale or "").strip():
            return []
        return ["'no CAPA' needs a rationale"]
    if deviation.capas:
        cancelled = ", ".join(c.number for c in deviation.capas)
        return [
            f"its CAPA ({cancelled}) was cancelled: raise another CAPA or give a rationale "
            "for 'no CAPA'"
        ]
    return ["neither a CAPA is raised nor a rationale for 'no CAPA' given"]


def batches_dispositioned(deviation: Any) -> list[str]:
    return [
        f"batch {b.batch_id} has no disposition yet"
        for b in deviation.batches
        if b.disposition is None
    ]


def no_pending_extension(deviation: Any) -> list[str]:
    return [
        f"the extension request of {e.requested_at:%Y-%m-%d} is still waiting for a decision"
        for e in deviation.extensions
        if e.status == ExtensionStatus.REQUESTED
    ]
