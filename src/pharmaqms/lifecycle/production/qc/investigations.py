"""OOS investigations (FDA guidance *Investigating Out-of-Specification (OOS) Test Results for
Pharmaceutical Production*): opened by the result, holding the lot, phase I in the laboratory,
phase II across manufacturing, QA's signed conclusion.

The rules the guidance sets and this module enforces:

* the original result is never overwritten or deleted; invalidating it is a decision recorded
  with its evidence, signed by QA (phase I) or part of the signed conclusion (phase II);
* a retest is allowed only once phase I has proven an assignable laboratory error and the
  original is invalidated — or in phase II under a written retest protocol; it is a new result
  pointing at the original, never a replacement of it ("testing into compliance" is refused);
* the lot is held from the moment the OOS is recorded until the investigation is closed (and
  stays held by the nonconforming product record when the OOS is confirmed).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, clock, tasks
from pharmaqms.kernel.configuration import store as config_store
from pharmaqms.kernel.configuration.store import ConfigKind, register_kind
from pharmaqms.kernel.errors import Conflict, InvalidInput, NotFound, StaleRecord
from pharmaqms.kernel.identity import Actor
from pharmaqms.lifecycle.production import holds
from pharmaqms.lifecycle.production.qc.models import (
    Conclusion,
    InvestigationStatus,
    OosInvestigation,
    QcResult,
    ResultOutcome,
    ResultSource,
    ResultStatus,
)
from pharmaqms.lifecycle.production.qc.results import (
    Recorded,
    check_entry,
    criteria_for,
    follow_up,
    get_lot,
    get_result,
    store_result,
)

# Phase I laboratory checks (FDA OOS guidance III.A–B): each answered "ok", "error" or "n/a".
# The built-in first version of the controlled checklist ``qc.oos_phase1_checklist``.
PHASE1_CHECKS: dict[str, str] = {
    "sample_identity": "Right sample, correctly labelled and stored",
    "sample_preparation": "Sample preparation (weighing, dilution, extraction) as the method says",
    "calculation": "Calculations and data transcription checked",
    "instrument": "Instrument qualified, calibrated and working (system suitability met)",
    "standards_reagents": "Reference standards, reagents and solutions correct and in date",
    "method": "Method followed; no deviation from the written procedure",
    "analyst": "Analyst trained on the method; observations of the analyst",
    "glassware_equipment": "Glassware and equipment clean and suitable",
}
CHECK_ANSWERS = ("ok", "error", "n/a")
PHASE1_CHECKLIST = "qc.oos_phase1_checklist"
# The checks the guidance names for every phase I (III.B): a checklist version may reword them
# and add checks of its own, never drop one of these.
REQUIRED_CHECKS = (
    "sample_identity",
    "sample_preparation",
    "calculation",
    "instrument",
    "standards_reagents",
    "method",
)
_CHECK_KEY = re.compile(r"^[a-z][a-z0-9_]{1,39}$")


def _checklist_problems(content: Any) -> list[str]:
    if not isinstance(content, dict) or not content:
        return ['give the checks as {"key": "what is checked", ...}']
    problems = []
    for key, label in content.items():
        if not _CHECK_KEY.match(key):
            problems.append(f"{key!r}: a check's key is lower-case letters, digits and _")
        if not isinstance(label, str) or not label.strip() or len(label) > 300:
            problems.append(f"{key}: say what is checked (up to 300 characters)")
    if len(content) > 40:
        problems.append("at most 40 checks")
    return problems


def _checklist_controls(content: Any) -> list[str]:
    if not isinstance(content, dict):
        return []
    return [
        f"the check {key!r} ({PHASE1_CHECKS[key]}) is required by the FDA OOS guidance III.B; "
        "a version may reword it, not drop it"
        for key in REQUIRED_CHECKS
        if key not in content
    ]


def _checklist_sandbox(session: Session, current: Any, proposed: Any) -> list[str]:
    """Open phase I investigations: which checks they will be asked that they were not."""
    rows = session.scalars(
        select(OosInvestigation).where(OosInvestigation.status == InvestigationStatus.PHASE_1.value)
    ).all()
    added = sorted(set(proposed) - set(current.content))
    dropped = sorted(set(current.content) - set(proposed))
    waiting = [inv.number for inv in rows if not inv.phase1_checklist]
    return [
        f"checks added: {', '.join(added) or 'none'}; dropped: {', '.join(dropped) or 'none'}",
        f"{len(waiting)} open phase I investigation(s) would answer the new checklist"
        + (f": {', '.join(waiting)}" if waiting else ""),
        "findings already recorded keep the checklist they were recorded on",
    ]


register_kind(
    ConfigKind(
        key=PHASE1_CHECKLIST,
        title="OOS phase I laboratory checklist",
        module="qc",
        description="The checks every phase I OOS investigation answers (ok, error or n/a).",
        builtin=lambda: dict(PHASE1_CHECKS),
        validate=_checklist_problems,
        controls=_checklist_controls,
        sandbox=_checklist_sandbox,
        regulatory_basis="FDA Guidance for Industry: Investigating OOS Test Results (2022) III",
    )
)


def phase1_checks(session: Session, inv: OosInvestigation | None = None) -> dict[str, str]:
    """The checks of the checklist an investigation's phase I was recorded on, else of the one
    in force."""
    used = config_store.used_on(session, inv, PHASE1_CHECKLIST) if inv is not None else None
    return dict((used or config_store.in_force(session, PHASE1_CHECKLIST)).content)


class RetestNotAllowed(Conflict):
    code = "retest_not_allowed"
    title = "Retest not allowed"


def get_investigation(session: Session, investigation_id: int) -> OosInvestigation:
    inv = session.get(OosInvestigation, investigation_id)
    if inv is None:
        raise NotFound(f"no OOS investigation with id {investigation_id}")
    return inv


def _summary(result: QcResult) -> str:
    failed = [e for e in result.evaluations if e["outcome"] == ResultOutcome.FAIL]
    limits = "; ".join(f"{e['criterion']} ({e['specification']}, {e['market']})" for e in failed)
    return (
        f"{result.test_name or result.test_code}: {result.shown_value} on sample "
        f"{result.sample_id}, outside {limits}"
    )


def open_investigation(session: Session, *, actor: Actor, result: QcResult) -> OosInvestigation:
    """Open the investigation of an out-of-specification result and hold its lot. Called when
    the result is recorded; the actor is whoever recorded it (an analyst, the LIMS account)."""
    lot = get_lot(session, result.lot_id)
    inv = OosInvestigation(
        status=InvestigationStatus.PHASE_1.value,
        lot_id=lot.id,
        result_id=result.id,
        test_code=result.test_code,
        summary=_summary(result),
        lot_status_before_hold="",
        phase1_checklist={},
    )
    with audit.changes(session, actor=actor, reason=f"out of specification: {inv.summary}"[:2000]):
        session.add(inv)
    before = holds.hold_lot(
        session, lot, actor=actor, by=inv.number, why=f"OOS result {result.shown_value}"
    )
    if before:
        with audit.changes(session, actor=actor, reason="hold placed"):
            inv.lot_status_before_hold = before
    tasks.open_task(
        session,
        inv,
        actor=actor,
        kind="investigate",
        title=f"Phase I laboratory investigation of {inv.number} (lot {lot.lot_number})",
        role="qc_analyst",
        due_in=timedelta(days=1),
    )
    return inv


def _require_open_phase(inv: OosInvestigation, phase: InvestigationStatus, doing: str) -> None:
    if inv.status != phase:
        raise Conflict(
            f"{inv.number} is in {inv.status.replace('_', ' ')}: {doing} is only possible in "
            f"{phase.value.replace('_', ' ')}"
        )


def _check_version(inv: OosInvestigation, expected_version: int | None) -> None:
    if expected_version is not None and inv.version != expected_version:
        raise StaleRecord(
            f"{inv.number} is at version {inv.version}, not {expected_version}: reload it",
            extra={"current_version": inv.version},
        )


def record_phase1(
    session: Session,
    *,
    actor: Actor,
    investigation_id: int,
    findings: str,
    checklist: dict[str, str],
    assignable_cause: bool,
    lab_error_evidence: str = "",
    expected_version: int | None = None,
) -> OosInvestigation:
    """The laboratory's phase I findings: every check answered, and whether an assignable
    laboratory error explains the result (with its evidence when it does)."""
    actor.require("qc.investigate", "investigate OOS results")
    inv = get_investigation(session, investigation_id)
    _check_version(inv, expected_version)
    _require_open_phase(inv, InvestigationStatus.PHASE_1, "recording phase I")
    rule = config_store.in_force(session, PHASE1_CHECKLIST)
    checks: dict[str, str] = rule.content
    unknown = sorted(set(checklist) - set(checks))
    if unknown:
        raise InvalidInput(f"unknown phase I checks: {', '.join(unknown)}", field="checklist")
    missing = [label for key, label in checks.items() if key not in checklist]
    if missing:
        raise InvalidInput(
            "every phase I check needs an answer; missing: " + "; ".join(missing),
            field="checklist",
        )
    bad = sorted(k for k, v in checklist.items() if v not in CHECK_ANSWERS)
    if bad:
        raise InvalidInput(
            f"answer each check with {', '.join(CHECK_ANSWERS)} (not for: {', '.join(bad)})",
            field="checklist",
        )
    text = (findings or "").strip()
    if not text:
        raise InvalidInput("describe what phase I found", field="findings")
    evidence = (lab_error_evidence or "").strip()
    if assignable_cause and not evidence:
        raise InvalidInput(
            "an assignable laboratory error needs its evidence (what was wrong, how it is shown)",
            field="lab_error_evidence",
        )
    if assignable_cause and "error" not in checklist.values():
        raise InvalidInput(
            "an assignable laboratory error must show in the checklist: mark the check that "
            "failed as 'error'",
            field="checklist",
        )
    with audit.changes(session, actor=actor, reason="phase I findings recorded"):
        inv.phase1_findings = text
        inv.phase1_checklist = dict(sorted(checklist.items()))
        inv.assignable_cause = assignable_cause
        inv.lab_error_evidence = evidence
    config_store.record_use(session, inv, rule, "phase I checklist", actor=actor)
    return inv


def record_phase2(
    session: Session,
    *,
    actor: Actor,
    investigation_id: int,
    expected_version: int | None = None,
    manufacturing_review: str | None = None,
    retest_protocol: str | None = None,
    root_cause: str | None = None,
    conclusion: str | None = None,
    conclusion_rationale: str | None = None,
    impact_on_other_lots: str | None = None,
    lab_error_evidence: str | None = None,
) -> OosInvestigation:
    """Write the phase II investigation while it is open; the conclusion is submitted by the
    workflow (``submit_conclusion``) and approved by QA."""
    actor.require("qc.investigate", "investigate OOS results")
    inv = get_investigation(session, investigation_id)
    _check_version(inv, expected_version)
    _require_open_phase(inv, InvestigationStatus.PHASE_2, "writing phase II")
    if conclusion is not None and conclusion not in {c.value for c in Conclusion}:
        raise InvalidInput(
            "the conclusion is 'confirmed' (the OOS stands) or 'invalidated' (proven invalid)",
            field="conclusion",
        )
    with audit.changes(session, actor=actor, reason="phase II investigation recorded"):
        for name, value in (
            ("phase2_manufacturing_review", manufacturing_review),
            ("retest_protocol", retest_protocol),
            ("root_cause", root_cause),
            ("conclusion_rationale", conclusion_rationale),
            ("impact_on_other_lots", impact_on_other_lots),
            ("lab_error_evidence", lab_error_evidence),
        ):
            if value is not None:
                setattr(inv, name, value.strip())
        if conclusion is not None:
            inv.conclusion = conclusion
    return inv


def record_retest(
    session: Session,
    *,
    actor: Actor,
    investigation_id: int,
    tested_at: datetime,
    value: float | None = None,
    text_value: str | None = None,
    unit: str = "",
    sample_id: str | None = None,
    analyst: str = "",
) -> Recorded:
    """A retest of the investigated result: a new result pointing at the original, which stays.

    Allowed after phase I proved a laboratory error (the original is invalidated; the retest is
    the reportable result — if it fails, it opens an investigation of its own), or in phase II
    under a written retest protocol (the retest is evidence of that investigation). Refused in
    phase I: retesting before the cause is known is testing into compliance."""
    actor.require("qc.results", "record QC results")
    inv = get_investigation(session, investigation_id)
    if inv.status == InvestigationStatus.PHASE_1:
        raise RetestNotAllowed(
            f"{inv.number} is in phase I: a retest needs either a proven laboratory error "
            "(invalidate the result first) or phase II with a retest protocol"
        )
    if inv.status == InvestigationStatus.PHASE_2 and not inv.retest_protocol.strip():
        raise RetestNotAllowed(
            f"{inv.number} is in phase II without a retest protocol: write the protocol "
            "(number of retests, analyst, acceptance) before retesting"
        )
    if inv.status not in (InvestigationStatus.RETEST, InvestigationStatus.PHASE_2):
        raise RetestNotAllowed(f"{inv.number} is {inv.status.replace('_', ' ')}: no retests")
    original = get_result(session, inv.result_id)
    if inv.status == InvestigationStatus.RETEST and original.status != ResultStatus.INVALIDATED:
        raise RetestNotAllowed(f"the original result of {inv.number} is not invalidated")
    lot = get_lot(session, original.lot_id)
    unit = unit.strip()
    criteria = criteria_for(session, lot.item_code, original.test_code)
    check_entry(criteria, lot, original.test_code, value, text_value, unit, tested_at)
    if tested_at < original.tested_at:
        raise InvalidInput(
            "a retest can't have been tested before the result it repeats", field="tested_at"
        )
    count = len(
        session.scalars(select(QcResult.id).where(QcResult.retest_of_id == original.id)).all()
    )
    result = store_result(
        session,
        actor=actor,
        lot=lot,
        sample_id=(sample_id or original.sample_id).strip(),
        test_code=original.test_code,
        test_name=original.test_name,
        # Retests count up from the original's replicate so (sample, test, replicate) stays
        # unique and the retest is recognisable on the lot's result list.
        replicate=original.replicate + 100 + count,
        value=value,
        text_value=text_value,
        unit=unit,
        tested_at=tested_at,
        analyst=(analyst or actor.full_name).strip()[:100],
        source=ResultSource.MANUAL,
        retest_of=original,
        reason=f"retest under {inv.number}",
    )
    # After a proven lab error the retest is the reportable result and stands on its own;
    # in phase II it is part of this investigation's evidence.
    return follow_up(
        session,
        actor=actor,
        result=result,
        lot=lot,
        may_open_investigation=inv.status == InvestigationStatus.RETEST,
        reportable_retest=inv.status == InvestigationStatus.RETEST,
    )


def _invalidate(session: Session, inv: OosInvestigation, *, actor: Actor, why: str) -> None:
    result = get_result(session, inv.result_id)
    if result.status == ResultStatus.INVALIDATED:
        return
    reason = f"{inv.number}: {why}"[:4000]
    with audit.changes(session, actor=actor, reason=reason, action="invalidate_result"):
        result.status = ResultStatus.INVALIDATED.value
        result.invalidated_reason = reason
        result.invalidated_at = clock.now()


def on_lab_error_proven(session: Session, inv: Any, *, actor: Actor) -> None:
    """Phase I proved a laboratory error: the original result is invalidated with the evidence
    (QA's signature on the transition is the approval of that decision)."""
    _invalidate(
        session, inv, actor=actor, why=f"assignable laboratory error — {inv.lab_error_evidence}"
    )


def note_concluded_by(session: Session, inv: Any, *, actor: Actor) -> None:
    with audit.changes(session, actor=actor, reason="conclusion submitted"):
        inv.concluded_by_id = actor.user_id


def on_concluded(session: Session, inv: Any, *, actor: Actor) -> None:
    """QA approved the phase II conclusion. Confirmed: the lot fails, and a nonconforming
    product record takes over its hold. Invalidated: the original result is invalidated and
    the hold lifted once nothing else holds the lot."""
    from pharmaqms.lifecycle.production.nonconforming.service import open_nonconformance

    lot = get_lot(session, inv.lot_id)
    with audit.changes(session, actor=actor, reason=f"{inv.number} closed"):
        inv.closed_at = clock.now()
    if inv.conclusion == Conclusion.CONFIRMED:
        nc = open_nonconformance(
            session,
            actor=actor,
            lot_id=lot.id,
            source_type="oos_investigation",
            source_id=inv.id,
            source_label=inv.number,
            description=f"Confirmed out-of-specification result: {inv.summary}. "
            f"Root cause: {inv.root_cause}",
        )
        with audit.changes(session, actor=actor, reason=f"{nc.number} opened"):
            inv.nonconformance_id = nc.id
        return
    _invalidate(session, inv, actor=actor, why=f"phase II conclusion — {inv.conclusion_rationale}")
    holds.lift_hold_if_free(session, lot, actor=actor, by=inv.number)


def on_closed_after_retest(session: Session, inv: Any, *, actor: Actor) -> None:
    lot = get_lot(session, inv.lot_id)
    with audit.changes(session, actor=actor, reason=f"{inv.number} closed after retest"):
        inv.closed_at = clock.now()
    holds.lift_hold_if_free(session, lot, actor=actor, by=inv.number)


def retests_of(session: Session, inv: OosInvestigation) -> list[QcResult]:
    return list(
        session.scalars(
            select(QcResult)
            .where(QcResult.retest_of_id == inv.result_id)
            .order_by(QcResult.tested_at, QcResult.id)
        )
    )


def investigations_of_lot(session: Session, lot_id: int) -> list[OosInvestigation]:
    return list(
        session.scalars(
            select(OosInvestigation)
            .where(OosInvestigation.lot_id == lot_id)
            .order_by(OosInvestigation.id)
        )
    )


def list_investigations(session: Session, *, status: str | None = None) -> list[OosInvestigation]:
    query = select(OosInvestigation).order_by(OosInvestigation.id.desc())
    if status:
        query = query.where(OosInvestigation.status == status)
    return list(session.scalars(query))


def investigations_of_lots(session: Session, lot_ids: list[int]) -> list[OosInvestigation]:
    """The OOS investigations opened on any of these lots, oldest first (read-only)."""
    if not lot_ids:
        return []
    return list(
        session.scalars(
            select(OosInvestigation)
            .where(OosInvestigation.lot_id.in_(lot_ids))
            .order_by(OosInvestigation.id)
        )
    )
