"""Recording QC results and judging them: entered by an analyst (UI, API) or delivered by a LIMS
through the data platform (``TestResult`` rows, taken over by ``evaluate_lims_results``). Each
result is judged at once against every approved specification of its item that lists the test;
an out-of-specification result opens an OOS investigation and holds the lot; a result out of
trend is flagged for QC's assessment. A recorded value is never changed: see ``investigations``
for invalidation and retests."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, clock, tasks
from pharmaqms.kernel.errors import Conflict, InvalidInput, NotFound
from pharmaqms.kernel.identity import Actor
from pharmaqms.lifecycle.production.qc.evaluation import judge, trend_findings
from pharmaqms.lifecycle.production.qc.models import (
    OPEN_INVESTIGATION_STATUSES,
    CriterionKind,
    OosInvestigation,
    QcResult,
    ResultOutcome,
    ResultSource,
    ResultStatus,
    Specification,
    SpecificationTest,
    TrendRule,
    TrendStatus,
)
from pharmaqms.lifecycle.production.qc.specifications import approved_specifications
from pharmaqms.lifecycle.production.qc.workflow import criterion_of
from pharmaqms.platform.governance.times import TimeProblem, to_utc
from pharmaqms.platform.governance.units import UnitProblem, convert
from pharmaqms.platform.masterdata.models import Lot
from pharmaqms.platform.timeseries.models import TestResult

# Lab instruments and PCs drift; a timestamp this little ahead of ours is taken as now.
CLOCK_TOLERANCE = timedelta(minutes=5)


class UnitMismatch(InvalidInput):
    code = "unit_mismatch"
    title = "Unit can't be compared with the specification"


class ResultInFuture(InvalidInput):
    code = "result_in_future"
    title = "Test time in the future"


@dataclass
class Recorded:
    """A recorded result and what it set off."""

    result: QcResult
    investigation: OosInvestigation | None = None
    trend_findings: list[str] = field(default_factory=list)


def get_result(session: Session, result_id: int) -> QcResult:
    result = session.get(QcResult, result_id)
    if result is None:
        raise NotFound(f"no QC result with id {result_id}")
    return result


def get_lot(session: Session, lot_id: int) -> Lot:
    lot = session.get(Lot, lot_id)
    if lot is None:
        raise NotFound(f"no lot with id {lot_id}")
    return lot


def criteria_for(
    session: Session, item_code: str, test_code: str
) -> list[tuple[Specification, SpecificationTest]]:
    """The criteria in force for one test of an item: one per approved specification (market)
    that lists it."""
    found = []
    for spec in approved_specifications(session, item_code):
        for test in spec.tests:
            if test.test_code == test_code:
                found.append((spec, test))
    return found


def _evaluate(
    criteria: list[tuple[Specification, SpecificationTest]],
    *,
    value: float | None,
    text_value: str | None,
    unit: str,
) -> tuple[ResultOutcome, list[dict[str, Any]], str]:
    """Judge against every criterion; the result fails if it fails any of them (a lot not yet
    assigned to a market must meet every market's specification)."""
    if not criteria:
        return ResultOutcome.NOT_EVALUATED, [], "no approved specification lists this test"
    evaluations = []
    for spec, test in criteria:
        verdict = judge(criterion_of(test), value=value, text_value=text_value, unit=unit)
        evaluations.append(
            {
                "specification_id": spec.id,
                "specification": spec.number,
                "market": spec.market,
                "criterion": test.criterion_text,
                "compared_value": verdict.compared_value,
                "outcome": verdict.outcome.value,
                "note": verdict.note,
            }
        )
    outcomes = {e["outcome"] for e in evaluations}
    notes = "; ".join(f"{e['specification']}: {e['note']}" for e in evaluations if e["note"])
    if ResultOutcome.FAIL in outcomes:
        return ResultOutcome.FAIL, evaluations, notes
    if ResultOutcome.NOT_EVALUATED in outcomes:
        return ResultOutcome.NOT_EVALUATED, evaluations, notes
    return ResultOutcome.PASS, evaluations, notes


def check_entry(
    criteria: list[tuple[Specification, SpecificationTest]],
    lot: Lot,
    test_code: str,
    value: float | None,
    text_value: str | None,
    unit: str,
    tested_at: datetime,
) -> None:
    if tested_at.tzinfo is None:
        raise InvalidInput(
            "tested_at needs a time zone (e.g. 2026-03-02T08:30:00Z)", field="tested_at"
        )
    try:
        # Stored in UTC: an instant that has no UTC year can't be (0001-01-01T00:00+14:00).
        to_utc(tested_at, name="tested_at")
    except TimeProblem as problem:
        raise InvalidInput(str(problem), field="tested_at") from None
    if tested_at > clock.now() + CLOCK_TOLERANCE:
        raise ResultInFuture(
            f"the test time {tested_at:%Y-%m-%d %H:%M} UTC is in the future: check the clock "
            "of the instrument or the entry",
            field="tested_at",
        )
    if (value is None) == (not (text_value or "").strip()):
        raise InvalidInput("give either a numeric value or a text answer", field="value")
    if not criteria:
        raise InvalidInput(
            f"no approved specification of {lot.item_code} lists the test {test_code!r}: "
            "check the test code, or approve the specification first",
            field="test_code",
        )
    for spec, test in criteria:
        if test.kind == CriterionKind.LIST and value is not None:
            raise InvalidInput(
                f"{test_code} in {spec.number} expects one of: {', '.join(test.allowed_values)}",
                field="text_value",
            )
        if test.kind == CriterionKind.NUMERIC:
            if value is None:
                raise InvalidInput(f"{test_code} in {spec.number} expects a number", field="value")
            if test.unit and not unit.strip():
                raise UnitMismatch(
                    f"{test_code} is specified in {test.unit}: give the unit of the result",
                    field="unit",
                )
            if test.unit:
                try:
                    convert(value, unit, test.unit)
                except UnitProblem as problem:
                    raise UnitMismatch(
                        f"{test_code} is specified in {test.unit} ({spec.number}): {problem}",
                        field="unit",
                    ) from None


def _open_investigation_for(
    session: Session, lot_id: int, test_code: str
) -> OosInvestigation | None:
    return session.scalars(
        select(OosInvestigation).where(
            OosInvestigation.lot_id == lot_id,
            OosInvestigation.test_code == test_code,
            OosInvestigation.status.in_([s.value for s in OPEN_INVESTIGATION_STATUSES]),
        )
    ).first()


def store_result(
    session: Session,
    *,
    actor: Actor,
    lot: Lot,
    sample_id: str,
    test_code: str,
    test_name: str,
    replicate: int,
    value: float | None,
    text_value: str | None,
    unit: str,
    tested_at: datetime,
    analyst: str,
    source: ResultSource,
    test_result_id: int | None = None,
    retest_of: QcResult | None = None,
    reason: str,
) -> QcResult:
    criteria = criteria_for(session, lot.item_code, test_code)
    outcome, evaluations, note = _evaluate(criteria, value=value, text_value=text_value, unit=unit)
    if not test_name and criteria:
        test_name = criteria[0][1].test_name
    result = QcResult(
        lot_id=lot.id,
        item_code=lot.item_code,
        sample_id=sample_id,
        test_code=test_code,
        test_name=test_name,
        replicate=replicate,
        value=value,
        text_value=(text_value or "").strip() or None,
        unit=unit,
        tested_at=tested_at,
        analyst=analyst,
        source=source.value,
        test_result_id=test_result_id,
        retest_of_id=retest_of.id if retest_of else None,
        outcome=outcome.value,
        evaluations=evaluations,
        evaluation_note=note,
        status=ResultStatus.VALID.value,
        invalidated_reason="",
        trend_status=TrendStatus.NONE.value,
        trend_findings=[],
        trend_assessment="",
        created_at=clock.now(),
        created_by_id=actor.user_id,
    )
    with audit.changes(session, actor=actor, reason=reason, action="record_result"):
        session.add(result)
    return result


def follow_up(
    session: Session,
    *,
    actor: Actor,
    result: QcResult,
    lot: Lot,
    may_open_investigation: bool,
    reportable_retest: bool = False,
) -> Recorded:
    """What a recorded result sets off. A failing result opens an OOS investigation unless one
    on the same lot and test is open (it becomes part of that one) — except a reportable retest
    (after a proven laboratory error), which stands on its own and always opens its own."""
    from pharmaqms.lifecycle.production.qc.investigations import open_investigation

    recorded = Recorded(result)
    if result.outcome == ResultOutcome.FAIL and may_open_investigation:
        already = None
        if not reportable_retest:
            already = _open_investigation_for(session, lot.id, result.test_code)
        if already is None:
            recorded.investigation = open_investigation(session, actor=actor, result=result)
        else:
            with audit.changes(session, actor=actor, reason=f"under {already.number}"):
                result.evaluation_note = (
                    f"out of specification while {already.number} on this test is open; "
                    "it is part of that investigation"
                )
    elif result.outcome == ResultOutcome.NOT_EVALUATED:
        tasks.open_task(
            session,
            result,
            actor=actor,
            kind="evaluate",
            title=f"Result not evaluated: {result.audit_label()} of lot {lot.lot_number} — "
            f"{result.evaluation_note or 'no criterion'}"[:300],
            role="qc_analyst",
            due_in=timedelta(days=2),
        )
    recorded.trend_findings = _flag_trend(session, actor=actor, result=result)
    return recorded


def record_result(
    session: Session,
    *,
    actor: Actor,
    lot_id: int,
    sample_id: str,
    test_code: str,
    tested_at: datetime,
    value: float | None = None,
    text_value: str | None = None,
    unit: str = "",
    replicate: int = 1,
    analyst: str = "",
) -> Recorded:
    """An analyst's result, entered by hand. Refused before anything is written when it can't
    be judged: an unknown test, the wrong kind of answer, a unit of another kind, a time in the
    future."""
    actor.require("qc.results", "record QC results")
    lot = get_lot(session, lot_id)
    sample_id, test_code, unit = sample_id.strip(), test_code.strip(), unit.strip()
    if not sample_id or len(sample_id) > 60:
        raise InvalidInput("a sample id of 1 to 60 characters is required", field="sample_id")
    if not 1 <= replicate <= 99:
        raise InvalidInput("the replicate is 1 to 99", field="replicate")
    criteria = criteria_for(session, lot.item_code, test_code)
    check_entry(criteria, lot, test_code, value, text_value, unit, tested_at)
    duplicate = session.scalars(
        select(QcResult.id).where(
            QcResult.lot_id == lot.id,
            QcResult.sample_id == sample_id,
            QcResult.test_code == test_code,
            QcResult.replicate == replicate,
        )
    ).first()
    if duplicate is not None:
        raise Conflict(
            f"sample {sample_id} already has a result for {test_code} (replicate {replicate}): "
            "a result is never overwritten; record a retest through the OOS investigation"
        )
    result = store_result(
        session,
        actor=actor,
        lot=lot,
        sample_id=sample_id,
        test_code=test_code,
        test_name="",
        replicate=replicate,
        value=value,
        text_value=text_value,
        unit=unit,
        tested_at=tested_at,
        analyst=(analyst or actor.full_name).strip()[:100],
        source=ResultSource.MANUAL,
        reason="result entered",
    )
    return follow_up(session, actor=actor, result=result, lot=lot, may_open_investigation=True)


@dataclass
class LimsEvaluation:
    taken_over: int = 0
    failed: list[str] = field(default_factory=list)  # OOS numbers opened
    not_evaluated: int = 0
    out_of_trend: int = 0


def evaluate_lims_results(session: Session, *, actor: Actor, limit: int = 5000) -> LimsEvaluation:
    """Take over the LIMS results the platform has received since the last run, oldest first,
    and judge them. Safe to run any number of times: a result is taken over once."""
    actor.require("qc.results", "evaluate LIMS results")
    rows = session.scalars(
        select(TestResult)
        .outerjoin(QcResult, QcResult.test_result_id == TestResult.id)
        .where(QcResult.id.is_(None))
        .order_by(TestResult.tested_at, TestResult.id)
        .limit(limit)
    ).all()
    summary = LimsEvaluation()
    for row in rows:
        lot = get_lot(session, row.lot_id)
        result = store_result(
            session,
            actor=actor,
            lot=lot,
            sample_id=row.sample_id,
            test_code=row.test_code,
            test_name=row.test_name,
            replicate=row.replicate,
            value=row.value,
            text_value=row.text_value,
            unit=row.unit,
            tested_at=row.tested_at,
            analyst=row.analyst,
            source=ResultSource.LIMS,
            test_result_id=row.id,
            reason=f"LIMS result taken over (import run {row.run_id})",
        )
        recorded = follow_up(
            session, actor=actor, result=result, lot=lot, may_open_investigation=True
        )
        summary.taken_over += 1
        if recorded.investigation is not None:
            summary.failed.append(recorded.investigation.number)
        if result.outcome == ResultOutcome.NOT_EVALUATED:
            summary.not_evaluated += 1
        if recorded.trend_findings:
            summary.out_of_trend += 1
    return summary


# --- out of trend ---------------------------------------------------------------------------


def batch_history(
    session: Session, *, item_code: str, test_code: str, unit: str, before: QcResult
) -> list[float]:
    """One value per earlier batch of the item for the test (the mean of its valid, conforming
    results, in ``unit``), oldest first: the history the trend rules look at."""
    rows = session.execute(
        select(QcResult.lot_id, QcResult.value, QcResult.unit, QcResult.tested_at)
        .where(
            QcResult.item_code == item_code,
            QcResult.test_code == test_code,
            QcResult.status == ResultStatus.VALID,
            # Conforming results only: a confirmed OOS would widen the limits it is judged by.
            QcResult.outcome == ResultOutcome.PASS,
            QcResult.value.is_not(None),
            QcResult.lot_id != before.lot_id,
            QcResult.tested_at <= before.tested_at,
        )
        .order_by(QcResult.tested_at, QcResult.id)
    ).all()
    values: dict[int, list[float]] = defaultdict(list)
    first_seen: dict[int, datetime] = {}
    for lot_id, value, value_unit, tested_at in rows:
        if value is None:  # excluded by the query; says so to the type checker
            continue
        try:
            converted = convert(value, value_unit, unit) if unit else value
        except UnitProblem:
            continue  # a result in a unit of another kind was never judged either
        values[lot_id].append(converted)
        first_seen.setdefault(lot_id, tested_at)
    ordered = sorted(values, key=lambda lot_id: (first_seen[lot_id], lot_id))
    return [sum(values[lot_id]) / len(values[lot_id]) for lot_id in ordered]


def _flag_trend(session: Session, *, actor: Actor, result: QcResult) -> list[str]:
    # Out of trend is a signal about results inside the specification; a result outside it
    # has its OOS investigation already.
    if result.value is None or result.outcome != ResultOutcome.PASS:
        return []
    findings: list[str] = []
    for spec, test in criteria_for(session, result.item_code, result.test_code):
        if test.trend_rule == TrendRule.NONE or test.kind != CriterionKind.NUMERIC:
            continue
        try:
            value = convert(result.value, result.unit, test.unit) if test.unit else result.value
        except UnitProblem:
            continue
        history = batch_history(
            session,
            item_code=result.item_code,
            test_code=result.test_code,
            unit=test.unit,
            before=result,
        )
        for finding in trend_findings(criterion_of(test), history, value):
            findings.append(f"{spec.number}: {finding}")
    if findings:
        with audit.changes(session, actor=actor, reason="out of trend", action="flag_oot"):
            result.trend_status = TrendStatus.OPEN.value
            result.trend_findings = findings
        tasks.open_task(
            session,
            result,
            actor=actor,
            kind="assess_oot",
            title=f"Assess out-of-trend {result.audit_label()}",
            role="qc_analyst",
            due_in=timedelta(days=5),
        )
    return findings


def assess_trend(session: Session, *, actor: Actor, result_id: int, assessment: str) -> QcResult:
    """QC's documented assessment of an out-of-trend result (what it means, what is done)."""
    actor.require("qc.investigate", "assess out-of-trend results")
    result = get_result(session, result_id)
    if result.trend_status != TrendStatus.OPEN:
        raise Conflict(f"{result.audit_label()} has no open out-of-trend finding")
    text = (assessment or "").strip()
    if not text:
        raise InvalidInput("write the assessment of the trend", field="assessment")
    with audit.changes(session, actor=actor, reason=text[:2000], action="assess_oot"):
        result.trend_status = TrendStatus.ASSESSED.value
        result.trend_assessment = text
    tasks.close_tasks(session, result, actor=actor, outcome="out-of-trend assessed")
    return result


def results_of_lot(session: Session, lot_id: int) -> list[QcResult]:
    return list(
        session.scalars(
            select(QcResult)
            .where(QcResult.lot_id == lot_id)
            .order_by(QcResult.test_code, QcResult.tested_at, QcResult.id)
        )
    )


def open_trend_findings(session: Session, *, lot_id: int | None = None) -> list[QcResult]:
    query = select(QcResult).where(QcResult.trend_status == TrendStatus.OPEN)
    if lot_id is not None:
        query = query.where(QcResult.lot_id == lot_id)
    return list(session.scalars(query.order_by(QcResult.tested_at)))


# --- figures for periodic review --------------------------------------------------------------


@dataclass(frozen=True)
class TestFigures:
    """One test's first results on a set of lots: evaluated, out of specification, flagged
    out of trend (a retest is not counted again: it is not a second chance)."""

    test_code: str
    evaluated: int
    out_of_specification: int
    out_of_trend: int


def figures_for_lots(session: Session, lot_ids: list[int]) -> list[TestFigures]:
    if not lot_ids:
        return []
    tally: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for test_code, outcome, trend_status in session.execute(
        select(QcResult.test_code, QcResult.outcome, QcResult.trend_status).where(
            QcResult.lot_id.in_(lot_ids),
            QcResult.retest_of_id.is_(None),
            QcResult.outcome.in_([ResultOutcome.PASS.value, ResultOutcome.FAIL.value]),
        )
    ):
        row = tally[test_code]
        row[0] += 1
        row[1] += outcome == ResultOutcome.FAIL.value
        row[2] += trend_status != TrendStatus.NONE.value
    return [TestFigures(code, *tally[code]) for code in sorted(tally)]
