"""Deviation services: report, classify, investigate, decide on CAPA, move through the
workflow. The only code that writes deviations (batches: ``impact.py``; due-date extensions:
``extensions.py``; reading: ``queries.py``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, tasks
from pharmaqms.kernel.configuration import store as config_store
from pharmaqms.kernel.errors import Conflict, InvalidInput, PermissionDenied
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.reports.text import format_time
from pharmaqms.kernel.workflow import TransitionResult, perform
from pharmaqms.quality import common
from pharmaqms.quality.config import DEVIATION_TRIAGE_DAYS
from pharmaqms.quality.deviations import hooks, impact, rules
from pharmaqms.quality.deviations.models import (
    CapaDecision,
    Deviation,
    DeviationClass,
    DeviationStatus,
    ExtensionStatus,
    RootCauseCategory,
)
from pharmaqms.quality.deviations.workflow import DEVIATION_WORKFLOW, INVESTIGATORS
from pharmaqms.quality.risk.configuration import matrix_of


def get_deviation(session: Session, deviation_id: int) -> Deviation:
    return common.get_or_404(session, Deviation, deviation_id, "deviation")


def _check_times(occurred_at: datetime, discovered_at: datetime) -> None:
    common.not_in_future(occurred_at, "occurred_at", "the time of occurrence")
    common.not_in_future(discovered_at, "discovered_at", "the time of discovery")
    if discovered_at < occurred_at:
        raise InvalidInput(
            "the deviation can't have been discovered "
            f"({format_time(discovered_at)}) before it occurred "
            f"({format_time(occurred_at)})",
            field="discovered_at",
        )


def report_deviation(
    session: Session,
    *,
    actor: Actor,
    title: str,
    description: str,
    area: str,
    occurred_at: datetime,
    discovered_at: datetime,
    product: str = "",
    batch_ids: Sequence[str] = (),
    immediate_actions: str = "",
) -> Deviation:
    """A new deviation report. QA gets a task to classify it."""
    actor.require("deviations.report", "report deviations")
    deviation = Deviation(
        status=DeviationStatus.REPORTED.value,
        title=common.required_text(title, "title", "a title", max_length=300),
        description=common.required_text(
            description, "description", "a description of what happened", max_length=20_000
        ),
        area=common.required_text(area, "area", "the area where it happened", max_length=100),
        product=common.optional_text(product, "product", max_length=200),
        occurred_at=occurred_at,
        discovered_at=discovered_at,
        immediate_actions=common.optional_text(
            immediate_actions, "immediate_actions", max_length=20_000
        ),
        why_chain=[],
        fishbone={},
    )
    _check_times(occurred_at, discovered_at)
    if len(set(batch_ids)) != len(batch_ids):
        raise InvalidInput("a batch is named twice", field="batch_ids")
    with audit.changes(session, actor=actor, reason="deviation reported"):
        session.add(deviation)
    for batch_id in batch_ids:
        impact.add_batch(
            session, actor=actor, deviation=deviation, batch_id=batch_id, product=product
        )
    triage = config_store.in_force(session, DEVIATION_TRIAGE_DAYS)
    tasks.open_task(
        session,
        deviation,
        actor=actor,
        kind="classify",
        title=f"Classify {deviation.audit_label()}: {deviation.title}",
        role="qa",
        due_in=timedelta(days=triage.content),
    )
    config_store.record_use(session, deviation, triage, "classification task due", actor=actor)
    return deviation


def _may_edit(actor: Actor, deviation: Deviation) -> None:
    if actor.can("deviations.manage"):
        return
    if deviation.status == DeviationStatus.REPORTED and deviation.created_by_id == actor.user_id:
        return
    raise PermissionDenied(
        f"only QA, or the reporter while it is reported, may change {deviation.number}"
    )


def edit_report(
    session: Session,
    *,
    actor: Actor,
    deviation_id: int,
    expected_version: int,
    title: str | None = None,
    description: str | None = None,
    area: str | None = None,
    product: str | None = None,
    occurred_at: datetime | None = None,
    discovered_at: datetime | None = None,
    immediate_actions: str | None = None,
    reason: str | None = None,
) -> Deviation:
    """Correct the report. Once QA has classified it, every change needs a reason."""
    deviation = get_deviation(session, deviation_id)
    common.check_version(deviation, expected_version)
    common.require_status(
        deviation, (DeviationStatus.REPORTED, DeviationStatus.INVESTIGATION), "changing the report"
    )
    _may_edit(actor, deviation)
    new_occurred = occurred_at or deviation.occurred_at
    new_discovered = discovered_at or deviation.discovered_at
    if occurred_at is not None or discovered_at is not None:
        _check_times(new_occurred, new_discovered)
    with audit.changes(session, actor=actor, reason=reason):
        if title is not None:
            deviation.title = common.required_text(title, "title", "a title", max_length=300)
        if description is not None:
            deviation.description = common.required_text(
                description, "description", "a description", max_length=20_000
            )
        if area is not None:
            deviation.area = common.required_text(area, "area", "the area", max_length=100)
        if product is not None:
            deviation.product = common.optional_text(product, "product", max_length=200)
        if immediate_actions is not None:
            deviation.immediate_actions = common.optional_text(
                immediate_actions, "immediate_actions", max_length=20_000
            )
        deviation.occurred_at = new_occurred
        deviation.discovered_at = new_discovered
    return deviation


def _approved_extension(deviation: Deviation) -> bool:
    return any(e.status == ExtensionStatus.APPROVED for e in deviation.extensions)


def classify_deviation(
    session: Session,
    *,
    actor: Actor,
    deviation_id: int,
    classification: str,
    severity: int,
    probability: int,
    detectability: int,
    severity_basis: str,
    probability_basis: str,
    detectability_basis: str,
    investigator_id: int,
    immediate_actions: str | None = None,
    expected_version: int | None = None,
    reason: str | None = None,
) -> Deviation:
    """QA's triage: the class with its ICH Q9 basis and the investigator. A reported deviation
    moves into investigation; a deviation under investigation is reclassified (with a reason),
    and its due date follows the new class unless QA has already extended it."""
    actor.require("deviations.manage", "classify deviations")
    deviation = get_deviation(session, deviation_id)
    common.check_version(deviation, expected_version)
    common.require_status(
        deviation, (DeviationStatus.REPORTED, DeviationStatus.INVESTIGATION), "classification"
    )
    kind = common.choice(
        classification, "classification", [c.value for c in DeviationClass], "the class"
    )
    matrix_rule = rules.risk_matrix_in_force(session)
    grid = matrix_of(matrix_rule.content)
    scale = grid.scale
    scores = (
        common.score(severity, "severity", "the severity score", scale=scale),
        common.score(probability, "probability", "the probability score", scale=scale),
        common.score(detectability, "detectability", "the detectability score", scale=scale),
    )
    below = rules.class_below_risk(kind, *scores, grid)
    if below:
        raise InvalidInput(below, field="classification")
    bases = (
        common.required_text(severity_basis, "severity_basis", "the severity justification"),
        common.required_text(
            probability_basis, "probability_basis", "the probability justification"
        ),
        common.required_text(
            detectability_basis, "detectability_basis", "the detectability justification"
        ),
    )
    investigator = common.active_user(
        session, investigator_id, "investigator_id", "the investigator"
    )
    if not set(investigator.roles) & set(INVESTIGATORS):
        raise InvalidInput(
            f"{investigator.full_name} holds none of the investigator roles "
            f"({', '.join(INVESTIGATORS)})",
            field="investigator_id",
        )
    reclassifying = deviation.status == DeviationStatus.INVESTIGATION
    previous_investigator = deviation.investigator_id
    # A first classification is part of triage; changing it later is a correction that the
    # audit trail refuses without a reason.
    why = reason if reclassifying else (reason or "classification")
    with audit.changes(session, actor=actor, reason=why):
        deviation.classification = kind
        deviation.severity, deviation.probability, deviation.detectability = scores
        (
            deviation.severity_basis,
            deviation.probability_basis,
            deviation.detectability_basis,
        ) = bases
        deviation.investigator_id = investigator.id
        if immediate_actions is not None:
            deviation.immediate_actions = common.optional_text(
                immediate_actions, "immediate_actions", max_length=20_000
            )
        if reclassifying and not _approved_extension(deviation):
            due_rule = rules.due_days_in_force(session)
            deviation.due_at = rules.due_date(deviation.discovered_at, kind, due_rule.content)
            config_store.record_use(
                session, deviation, due_rule, "due date from the new class", actor=actor
            )
    config_store.record_use(
        session, deviation, matrix_rule, "classification scored on it", actor=actor
    )
    if not reclassifying:
        perform(session, DEVIATION_WORKFLOW, deviation, "classify", actor=actor)
    elif previous_investigator != investigator.id:
        tasks.close_tasks(
            session,
            deviation,
            actor=actor,
            outcome=f"investigation handed to {investigator.full_name}",
            kind="investigate",
        )
        tasks.open_task(
            session,
            deviation,
            actor=actor,
            kind="investigate",
            title=f"Investigate {deviation.audit_label()}: {deviation.title}",
            user_id=investigator.id,
            due_at=deviation.due_at,
        )
    hooks.classified(session, actor, deviation)
    return deviation


def _may_investigate(actor: Actor, deviation: Deviation) -> None:
    actor.require("deviations.investigate", "investigate deviations")
    if deviation.investigator_id != actor.user_id and not actor.can("deviations.manage"):
        raise PermissionDenied(
            f"only the investigator of {deviation.number} or QA may write its investigation"
        )


def _why_chain(whys: Sequence[str]) -> list[str]:
    cleaned = [(w or "").strip() for w in whys]
    if any(not w for w in cleaned):
        raise InvalidInput("an answer of the 5-why chain is empty", field="why_chain")
    if len(cleaned) > rules.MAX_WHYS:
        raise InvalidInput(
            f"the why chain has more than {rules.MAX_WHYS} answers", field="why_chain"
        )
    if any(len(w) > 1000 for w in cleaned):
        raise InvalidInput(
            "an answer of the why chain is longer than 1000 characters", field="why_chain"
        )
    return cleaned


def _fishbone(fishbone: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    cleaned = {
        category: [(f or "").strip() for f in factors] for category, factors in fishbone.items()
    }
    problems = rules.fishbone_problems(cleaned)
    if problems:
        raise InvalidInput("; ".join(problems), field="fishbone")
    return {category: factors for category, factors in cleaned.items() if factors}


def record_investigation(
    session: Session,
    *,
    actor: Actor,
    deviation_id: int,
    expected_version: int | None = None,
    root_cause: str | None = None,
    root_cause_category: str | None = None,
    why_chain: Sequence[str] | None = None,
    fishbone: Mapping[str, Sequence[str]] | None = None,
) -> Deviation:
    """Write (or rewrite) the investigation while it is open."""
    deviation = get_deviation(session, deviation_id)
    common.check_version(deviation, expected_version)
    common.require_status(deviation, (DeviationStatus.INVESTIGATION,), "writing the investigation")
    _may_investigate(actor, deviation)
    with audit.changes(session, actor=actor, reason="investigation recorded"):
        if root_cause is not None:
            deviation.root_cause = common.optional_text(root_cause, "root_cause", max_length=20_000)
        if root_cause_category is not None:
            deviation.root_cause_category = common.choice(
                root_cause_category,
                "root_cause_category",
                [c.value for c in RootCauseCategory],
                "the root cause category",
            )
        if why_chain is not None:
            deviation.why_chain = _why_chain(why_chain)
        if fishbone is not None:
            deviation.fishbone = _fishbone(fishbone)
    return deviation


def decide_no_capa(
    session: Session, *, actor: Actor, deviation_id: int, rationale: str
) -> Deviation:
    """Record why this deviation needs no CAPA (a one-off with a known, removed cause)."""
    deviation = get_deviation(session, deviation_id)
    common.require_status(deviation, (DeviationStatus.INVESTIGATION,), "the CAPA decision")
    _may_investigate(actor, deviation)
    live = rules.live_capas(deviation)
    if live:
        raise Conflict(
            f"{', '.join(c.number for c in live)} is raised from {deviation.number}: cancel it "
            "first if no CAPA is needed"
        )
    text = common.required_text(rationale, "rationale", "the rationale for 'no CAPA'")
    with audit.changes(session, actor=actor, reason="no CAPA needed"):
        deviation.capa_decision = CapaDecision.NO_CAPA.value
        deviation.no_capa_rationale = text
    return deviation


def note_capa_raised(
    session: Session, *, actor: Actor, deviation: Deviation, capa_label: str
) -> None:
    """A CAPA was raised from this deviation (through the quality events API): while the
    deviation is still open for it, that is its CAPA decision."""
    if deviation.status not in (DeviationStatus.REPORTED, DeviationStatus.INVESTIGATION):
        return
    with audit.changes(session, actor=actor, reason=f"{capa_label} raised"):
        deviation.capa_decision = CapaDecision.CAPA.value
        deviation.no_capa_rationale = ""


def transition(
    session: Session,
    *,
    actor: Actor,
    deviation_id: int,
    name: str,
    password: str | None = None,
    reason: str | None = None,
    comment: str | None = None,
    expected_version: int | None = None,
) -> TransitionResult:
    deviation = get_deviation(session, deviation_id)
    return perform(
        session,
        DEVIATION_WORKFLOW,
        deviation,
        name,
        actor=actor,
        password=password,
        reason=reason,
        comment=comment,
        expected_version=expected_version,
    )
