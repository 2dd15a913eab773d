"""The stability verbs, one function each; the only code that writes stability data.

``create_study`` (the protocol, a draft) · ``approve_study`` (QA's signature; schedules the
pulls) · ``record_pull`` · ``record_results`` (entered, or from the LIMS: a result that does not
fit the protocol is quarantined with its reason, never dropped; each stored result is judged
against its specification and its batch's trend) · ``complete_study``. Reading the shelf life
is ``evaluation``."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, clock, tasks
from pharmaqms.kernel.errors import Conflict, InvalidInput, NotFound
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.workflow import perform
from pharmaqms.lifecycle.rnd.stability import protocol
from pharmaqms.lifecycle.rnd.stability.models import (
    PullStatus,
    QuarantinedStabilityResult,
    ResultSource,
    StabilityPull,
    StabilityResult,
    StabilityStudy,
    StudyStatus,
)
from pharmaqms.lifecycle.rnd.stability.q1e import out_of_trend
from pharmaqms.lifecycle.rnd.stability.workflow import PULL_TASK, STUDY_WORKFLOW
from pharmaqms.platform.masterdata.models import Product

MAX_RESULTS = 2000
REVIEWER_ROLE = "qa"


@dataclass(frozen=True)
class ResultIn:
    """A result as the lab reports it: batch, storage condition, time point, attribute, value."""

    batch: str
    condition: str
    months: float
    attribute: str
    value: float | None
    unit: str = ""
    test_result_id: int | None = None


@dataclass
class Recorded:
    stored: list[StabilityResult] = field(default_factory=list)
    quarantined: list[QuarantinedStabilityResult] = field(default_factory=list)


# --- lookups ----------------------------------------------------------------------------------


def get_study(session: Session, study_id: int) -> StabilityStudy:
    study = session.get(StabilityStudy, study_id)
    if study is None:
        raise NotFound(f"no stability study #{study_id}")
    return study


def get_pull(session: Session, pull_id: int) -> StabilityPull:
    pull = session.get(StabilityPull, pull_id)
    if pull is None:
        raise NotFound(f"no stability pull #{pull_id}")
    return pull


def studies_of_product(session: Session, product_code: str) -> list[StabilityStudy]:
    """The product's studies, oldest first (the annual product quality review reads them)."""
    return list(
        session.scalars(
            select(StabilityStudy)
            .where(StabilityStudy.product_code == product_code)
            .order_by(StabilityStudy.id)
        )
    )


def studies(session: Session) -> list[StabilityStudy]:
    return list(session.scalars(select(StabilityStudy).order_by(StabilityStudy.id.desc())))


def pulls_of(session: Session, study_id: int) -> list[StabilityPull]:
    query = select(StabilityPull).where(StabilityPull.study_id == study_id)
    return list(session.scalars(query.order_by(StabilityPull.condition, StabilityPull.months)))


def results_of(session: Session, study_id: int) -> list[tuple[StabilityResult, StabilityPull]]:
    query = (
        select(StabilityResult, StabilityPull)
        .join(StabilityPull, StabilityResult.pull_id == StabilityPull.id)
        .where(StabilityResult.study_id == study_id)
        .order_by(StabilityPull.condition, StabilityResult.attribute, StabilityResult.batch)
        .order_by(StabilityPull.months)
    )
    return [(r, p) for r, p in session.execute(query)]


def quarantine_of(session: Session, study_id: int) -> list[QuarantinedStabilityResult]:
    query = select(QuarantinedStabilityResult).where(
        QuarantinedStabilityResult.study_id == study_id
    )
    return list(session.scalars(query.order_by(QuarantinedStabilityResult.id)))


# --- the protocol -----------------------------------------------------------------------------


def create_study(
    session: Session,
    *,
    actor: Actor,
    product_code: str,
    title: str,
    start_on: date,
    conditions: Sequence[Mapping[str, Any]],
    attributes: Sequence[Mapping[str, Any]],
    batches: Sequence[str],
    purpose: str = "",
) -> StabilityStudy:
    """A study protocol (a draft until QA approves it)."""
    actor.require("stability.write", "write stability protocols")
    product_code = (product_code or "").strip()
    if not product_code or len(product_code) > 40:
        raise InvalidInput("the product code is 1-40 characters", field="product_code")
    # The study's product is the master data's: the LIMS take-over matches the lots of the
    # results against it, and the product's quality review reads its studies by this code.
    if session.scalar(select(Product.id).where(Product.code == product_code)) is None:
        raise InvalidInput(
            f"no product with code {product_code!r} in the master data", field="product_code"
        )
    title = (title or "").strip()
    if not title or len(title) > 200:
        raise InvalidInput("the title is 1-200 characters", field="title")
    if len(purpose) > 4000:
        raise InvalidInput("the purpose is at most 4,000 characters", field="purpose")
    study = StabilityStudy(
        status=StudyStatus.DRAFT.value,
        product_code=product_code,
        title=title,
        purpose=purpose.strip(),
        start_on=start_on,
        conditions=protocol.checked_conditions(conditions),
        attributes=protocol.checked_attributes(attributes),
        batches=protocol.checked_batches(batches),
    )
    with audit.changes(session, actor=actor, reason=f"stability protocol for {product_code}"):
        session.add(study)
    return study


def approve_study(
    session: Session, *, actor: Actor, study_id: int, password: str, comment: str | None = None
) -> StabilityStudy:
    """QA's signed approval of the protocol; its pulls are scheduled as tasks."""
    study = get_study(session, study_id)
    perform(
        session, STUDY_WORKFLOW, study, "approve", actor=actor, password=password, comment=comment
    )
    return study


def complete_study(session: Session, *, actor: Actor, study_id: int, reason: str) -> StabilityStudy:
    study = get_study(session, study_id)
    perform(session, STUDY_WORKFLOW, study, "complete", actor=actor, reason=reason)
    return study


# --- pulls and results ------------------------------------------------------------------------


def _approved(session: Session, study_id: int) -> StabilityStudy:
    study = get_study(session, study_id)
    if study.status != StudyStatus.APPROVED.value:
        raise Conflict(
            f"{study.number} is {study.status}: pulls and results are recorded only while "
            "its approved protocol runs"
        )
    return study


def _mark_pulled(session: Session, pull: StabilityPull, actor: Actor) -> None:
    with audit.changes(session, actor=actor, reason="samples pulled"):
        pull.status = PullStatus.PULLED.value
        pull.pulled_at = clock.now()
        pull.pulled_by_id = actor.user_id
    tasks.close_tasks(session, pull, actor=actor, outcome="samples pulled", kind=PULL_TASK)


def record_pull(
    session: Session, *, actor: Actor, study_id: int, condition: str, months: float
) -> StabilityPull:
    """The samples of a scheduled pull were taken out of the chamber."""
    actor.require("stability.results", "record stability pulls")
    study = _approved(session, study_id)
    pull = session.scalars(
        select(StabilityPull).where(
            StabilityPull.study_id == study.id,
            StabilityPull.condition == condition,
            StabilityPull.months == months,
        )
    ).first()
    if pull is None:
        raise NotFound(f"{study.number} schedules no pull at {condition}, {months:g} months")
    if pull.status != PullStatus.SCHEDULED.value:
        raise Conflict(f"the pull at {condition}, {months:g} months was recorded already")
    _mark_pulled(session, pull, actor)
    return pull


def _checked_input(results: Sequence[ResultIn]) -> None:
    """What refuses a whole submission (nothing is kept): no results, too many, a value that is
    no number. A result that names the wrong batch or time point is data and is quarantined."""
    if not results:
        raise InvalidInput("no results to record", field="results")
    if len(results) > MAX_RESULTS:
        raise InvalidInput(f"at most {MAX_RESULTS} results at a time", field="results")
    for number, result in enumerate(results, 1):
        if result.value is None or not math.isfinite(result.value):
            raise InvalidInput(
                f"result {number} ({result.batch}, {result.attribute}): the value is not a number",
                field="results",
            )
        if not math.isfinite(result.months):
            raise InvalidInput(f"result {number}: the time point is not a number", field="results")


def _misfit(
    study: StabilityStudy,
    pulls: Mapping[tuple[str, float], StabilityPull],
    result: ResultIn,
    taken: set[tuple[int, str, str]],
) -> str | None:
    """Why a result does not fit the protocol, or None."""
    if result.batch not in study.batches:
        return f"batch {result.batch!r} is not on {study.number} ({', '.join(study.batches)})"
    if not any(c["code"] == result.condition for c in study.conditions):
        return f"storage condition {result.condition!r} is not in {study.number}'s protocol"
    pull = pulls.get((result.condition, result.months))
    if pull is None:
        points = next(c for c in study.conditions if c["code"] == result.condition)
        return (
            f"time point {result.months:g} months is not scheduled at {result.condition} "
            f"(protocol: {', '.join(f'{m:g}' for m in points['time_points'])})"
        )
    spec = protocol.attribute_of(study.attributes, result.attribute)
    if spec is None:
        return f"attribute {result.attribute!r} is not tested in {study.number}'s protocol"
    if spec["unit"] and result.unit and result.unit != spec["unit"]:
        return f"unit {result.unit!r} is not the protocol's {spec['unit']!r}"
    if (pull.id, result.batch, result.attribute) in taken:
        return (
            f"{result.batch} {result.attribute} at {result.condition}, {result.months:g} months "
            "has a result already: a retest is decided by an investigation, not added"
        )
    return None


def _earlier(
    session: Session, study_id: int, condition: str, batch: str, attribute: str, months: float
) -> tuple[list[float], list[float]]:
    rows = session.execute(
        select(StabilityPull.months, StabilityResult.value)
        .join(StabilityPull, StabilityResult.pull_id == StabilityPull.id)
        .where(
            StabilityResult.study_id == study_id,
            StabilityPull.condition == condition,
            StabilityPull.months < months,
            StabilityResult.batch == batch,
            StabilityResult.attribute == attribute,
        )
    ).all()
    return [float(r[0]) for r in rows], [float(r[1]) for r in rows]


def quarantine(
    session: Session,
    *,
    actor: Actor,
    study_id: int | None,
    source: ResultSource,
    received: Mapping[str, Any],
    reason: str,
    test_result_id: int | None = None,
) -> QuarantinedStabilityResult:
    row = QuarantinedStabilityResult(
        study_id=study_id,
        source=source.value,
        received=dict(received),
        reason=reason[:500],
        test_result_id=test_result_id,
        received_at=clock.now(),
        received_by_id=actor.user_id,
    )
    with audit.changes(session, actor=actor, reason=f"stability result quarantined: {reason}"):
        session.add(row)
        session.flush()
    return row


def record_results(
    session: Session,
    *,
    actor: Actor,
    study_id: int,
    results: Sequence[ResultIn],
    source: ResultSource = ResultSource.ENTERED,
) -> Recorded:
    """Results of an approved study. Each is stored and judged — out of specification against
    the protocol's limits, out of trend against its batch's earlier results — or, when it does
    not fit the protocol, quarantined with the reason. OOS and OOT results give QA a task."""
    actor.require("stability.results", "record stability results")
    study = _approved(session, study_id)
    _checked_input(results)
    pulls = {(p.condition, p.months): p for p in pulls_of(session, study.id)}
    taken = {
        (r.pull_id, r.batch, r.attribute)
        for r in session.scalars(
            select(StabilityResult).where(StabilityResult.study_id == study.id)
        )
    }
    outcome = Recorded()
    # In time order, so that each result is judged against the trend of those before it.
    for result in sorted(results, key=lambda r: r.months):
        why = _misfit(study, pulls, result, taken)
        if why is not None:
            received = {
                "batch": result.batch,
                "condition": result.condition,
                "months": result.months,
                "attribute": result.attribute,
                "value": result.value,
                "unit": result.unit,
            }
            outcome.quarantined.append(
                quarantine(
                    session,
                    actor=actor,
                    study_id=study.id,
                    source=source,
                    received=received,
                    reason=why,
                    test_result_id=result.test_result_id,
                )
            )
            continue
        outcome.stored.append(_store(session, actor, study, pulls, result, source))
        taken.add((outcome.stored[-1].pull_id, result.batch, result.attribute))
    return outcome


def _store(
    session: Session,
    actor: Actor,
    study: StabilityStudy,
    pulls: Mapping[tuple[str, float], StabilityPull],
    result: ResultIn,
    source: ResultSource,
) -> StabilityResult:
    assert result.value is not None  # checked by _checked_input
    pull = pulls[(result.condition, result.months)]
    spec = protocol.attribute_of(study.attributes, result.attribute) or {}
    before = _earlier(
        session, study.id, result.condition, result.batch, result.attribute, result.months
    )
    oot = out_of_trend(*before, result.months, result.value)
    stored = StabilityResult(
        study_id=study.id,
        pull_id=pull.id,
        batch=result.batch,
        attribute=result.attribute,
        value=result.value,
        unit=spec.get("unit") or result.unit,
        oos=protocol.out_of_specification(spec, result.value),
        oot_reason=oot[:300] if oot else None,
        source=source.value,
        test_result_id=result.test_result_id,
        recorded_at=clock.now(),
        recorded_by_id=actor.user_id,
    )
    with audit.changes(session, actor=actor, reason=f"stability result of {study.number}"):
        session.add(stored)
        session.flush()
    if pull.status == PullStatus.SCHEDULED.value:
        _mark_pulled(session, pull, actor)
    where = f"{result.batch} {spec.get('name', result.attribute)} at {result.condition}, "
    where += f"{result.months:g} months"
    if stored.oos:
        tasks.open_task(
            session,
            study,
            actor=actor,
            kind="stability_oos",
            title=f"Investigate out-of-specification stability result: {where}",
            role=REVIEWER_ROLE,
            due_in=None,
        )
    elif oot:
        tasks.open_task(
            session,
            study,
            actor=actor,
            kind="stability_oot",
            title=f"Assess out-of-trend stability result: {where}",
            role=REVIEWER_ROLE,
        )
    return stored
