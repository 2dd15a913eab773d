"""Rule-based release: the checklist evaluated over everything linked to a batch, and the
qualified person's signed decision — release (only while every rule passes, checked again at
the moment of signing) or reject. The time from the end of manufacture to the decision is
recorded: the release cycle time."""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, clock
from pharmaqms.kernel.canonical import content_hash
from pharmaqms.kernel.configuration import store as config_store
from pharmaqms.kernel.configuration.store import InForce
from pharmaqms.kernel.errors import Conflict, InvalidInput, NotFound, StaleRecord
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.workflow import perform
from pharmaqms.lifecycle.production.batchrecords import release_trace
from pharmaqms.lifecycle.production.batchrecords.models import BatchRecord, BatchRecordStatus
from pharmaqms.lifecycle.production.release.evidence import gather
from pharmaqms.lifecycle.production.release.families import (
    families_of,
    family_of_lot,
    family_title,
)
from pharmaqms.lifecycle.production.release.models import BatchRelease, ReleaseStatus
from pharmaqms.lifecycle.production.release.rule_sets import (
    RELEASE_RULE_SETS,
    rule_set_in_force,
    rules_for,
)
from pharmaqms.lifecycle.production.release.rules import RuleResult, judge_all
from pharmaqms.lifecycle.production.release.workflow import BATCH_RELEASE_WORKFLOW
from pharmaqms.platform.masterdata.models import Lot, LotStatus
from pharmaqms.platform.masterdata.service import set_lot_status


class ReleaseBlocked(Conflict):
    code = "release_blocked"
    title = "Release blocked by the checklist"


@dataclass(frozen=True)
class Evaluation:
    lot_id: int
    lot_label: str
    lot_number: str
    product_code: str
    lot_status: str
    batch_record_id: int | None
    batch_record_number: str | None
    manufacturing_ended_at: datetime | None
    evaluated_at: datetime
    results: tuple[RuleResult, ...]
    took_ms: float
    # The product family (placed by the rule set's families) and the rule set the checklist
    # ran under.
    family: str
    rule_set: InForce

    @property
    def family_title(self) -> str:
        """The family's title in the rule set it ran under (the code is what is recorded)."""
        return family_title(self.family, families_of(self.rule_set.content))

    @property
    def rule_set_purpose(self) -> str:
        return f"the release checklist of the {self.family} family"

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    @property
    def failing(self) -> list[RuleResult]:
        return [r for r in self.results if not r.passed]

    def as_list(self) -> list[dict[str, object]]:
        return [r.as_dict() for r in self.results]

    @property
    def hash(self) -> str:
        """What the QP looked at: a page posts it back so a checklist that changed meanwhile
        is refused instead of signed unseen — its results, and the family and the rule set
        they ran under (a product moved to another family whose rules happen to give the
        same results is still another checklist). Decisions made before the family was
        hashed keep the hash of their results alone."""
        return content_hash(
            {
                "results": self.as_list(),
                "family": self.family,
                "rule_set": [self.rule_set.key, self.rule_set.version_no],
                "rule_set_sha256": self.rule_set.content_sha256,
            }
        )


_collector = threading.Lock()
_pausing = 0
_was_enabled = False


@contextmanager
def _collector_paused() -> Iterator[None]:
    """An evaluation of a large batch record allocates tens of thousands of short-lived,
    acyclic objects, which reference counting frees. The cyclic collector running meanwhile
    only promotes them, and so triggers full collections of the whole process (250 ms pauses
    measured with 2,000 steps). It is paused for the evaluation; concurrent evaluations keep it
    paused until the last one ends, and it is left as found."""
    global _pausing, _was_enabled
    with _collector:
        if _pausing == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _pausing += 1
    try:
        yield
    finally:
        with _collector:
            _pausing -= 1
            if _pausing == 0 and _was_enabled:
                gc.enable()


def rule_set_of(session: Session, lot_id: int) -> InForce:
    """The rule set a batch's checklist runs: the one its decision was made under (recorded
    on it; for a decision older than the rule sets, the one in force at its evaluation), else
    the one in force now."""
    decided = decision_of(session, lot_id)
    if decided is None:
        return rule_set_in_force(session)
    used = config_store.used_on(session, decided, RELEASE_RULE_SETS)
    return used or config_store.in_force(session, RELEASE_RULE_SETS, at=decided.evaluated_at)


def evaluate_release(session: Session, lot_id: int) -> Evaluation:
    """The rules of the batch's product family over the batch's evidence, both by the rule
    set the checklist runs under (a version may define its own families). Reads only."""
    started = time.perf_counter()
    with _collector_paused():
        evidence = gather(session, lot_id)
        rule_set = rule_set_of(session, lot_id)
        family = family_of_lot(session, evidence.lot, families_of(rule_set.content))
        results = tuple(judge_all(evidence, rules_for(rule_set.content, family)))
    lot, record = evidence.lot, evidence.record
    return Evaluation(
        lot_id=lot.id,
        lot_label=lot.audit_label(),
        lot_number=lot.lot_number,
        product_code=lot.item_code,
        lot_status=lot.status,
        batch_record_id=record.id if record else None,
        batch_record_number=record.number if record else None,
        manufacturing_ended_at=lot.manufacturing_ended_at,
        evaluated_at=clock.now(),
        results=results,
        took_ms=(time.perf_counter() - started) * 1000,
        family=family,
        rule_set=rule_set,
    )


def decision_of(session: Session, lot_id: int) -> BatchRelease | None:
    return session.scalars(select(BatchRelease).where(BatchRelease.lot_id == lot_id)).first()


def get_release(session: Session, release_id: int) -> BatchRelease:
    release = session.get(BatchRelease, release_id)
    if release is None:
        raise NotFound(f"no batch release with id {release_id}")
    return release


def _decision(
    session: Session, *, actor: Actor, evaluation: Evaluation, decision: str, expected: str | None
) -> BatchRelease:
    existing = decision_of(session, evaluation.lot_id)
    if existing is not None:
        raise Conflict(
            f"{evaluation.lot_label} was {existing.status} already ({existing.number})",
            extra={"release": existing.number},
        )
    if expected is not None and expected != evaluation.hash:
        raise StaleRecord(
            "the checklist changed since you looked at it: nothing was signed; review it again",
            extra={"evaluation_hash": evaluation.hash},
        )
    release = BatchRelease(
        status=ReleaseStatus.PENDING.value,
        lot_id=evaluation.lot_id,
        batch_record_id=evaluation.batch_record_id,
        decision=decision,
        evaluation=evaluation.as_list(),
        evaluation_hash=evaluation.hash,
        all_passed=evaluation.passed,
        evaluated_at=evaluation.evaluated_at,
        manufacturing_ended_at=evaluation.manufacturing_ended_at,
        decision_comment="",
    )
    with audit.changes(session, actor=actor, reason=f"{decision} of {evaluation.lot_label}"):
        session.add(release)
    config_store.record_use(
        session, release, evaluation.rule_set, evaluation.rule_set_purpose, actor=actor
    )
    return release


def release_batch(
    session: Session,
    *,
    actor: Actor,
    lot_id: int,
    password: str,
    comment: str | None = None,
    expected_evaluation: str | None = None,
) -> BatchRelease:
    """The QP's release, signed "Released". Refused while any rule fails (409, every failing
    rule named), by anyone who is not a qualified person (403), and when the checklist changed
    since the page showed it (``expected_evaluation``)."""
    actor.require("release.decide", "release batches")
    evaluation = evaluate_release(session, lot_id)
    if not evaluation.passed:
        reasons = [f"{r.title}: {'; '.join(r.findings)}" for r in evaluation.failing]
        raise ReleaseBlocked(
            f"{evaluation.lot_label} can't be released: "
            + ", ".join(r.title for r in evaluation.failing),
            reasons=reasons,
            extra={"failing_rules": [r.code for r in evaluation.failing]},
        )
    release = _decision(
        session,
        actor=actor,
        evaluation=evaluation,
        decision="release",
        expected=expected_evaluation,
    )
    perform(
        session,
        BATCH_RELEASE_WORKFLOW,
        release,
        "release",
        actor=actor,
        password=password,
        comment=comment,
    )
    return release


def reject_batch(
    session: Session,
    *,
    actor: Actor,
    lot_id: int,
    password: str,
    reason: str,
    comment: str | None = None,
) -> BatchRelease:
    """The QP's rejection, signed "Rejected" with its reason; the lot becomes rejected."""
    actor.require("release.decide", "reject batches")
    if not (reason or "").strip():
        raise InvalidInput("say why the batch is rejected", field="reason")
    evaluation = evaluate_release(session, lot_id)
    release = _decision(
        session, actor=actor, evaluation=evaluation, decision="reject", expected=None
    )
    perform(
        session,
        BATCH_RELEASE_WORKFLOW,
        release,
        "reject",
        actor=actor,
        password=password,
        reason=reason,
        comment=comment,
    )
    return release


def on_decided(session: Session, release: BatchRelease, *, actor: Actor) -> None:
    """The decision reaches the lot, and the release cycle time is recorded."""
    lot = session.get(Lot, release.lot_id)
    assert lot is not None  # a foreign key
    now = clock.now()
    target = LotStatus.RELEASED if release.status == ReleaseStatus.RELEASED else LotStatus.REJECTED
    verb = "released" if target == LotStatus.RELEASED else "rejected"
    set_lot_status(
        session,
        lot,
        target,
        actor=actor,
        reason=f"{release.number}: {verb} by the qualified person {actor.full_name}",
    )
    hours = None
    if release.manufacturing_ended_at is not None:
        hours = round((now - release.manufacturing_ended_at).total_seconds() / 3600, 3)
    with audit.changes(session, actor=actor, reason=f"{release.number} decided"):
        release.decided_at = now
        release.cycle_time_hours = hours


@dataclass(frozen=True)
class QueueItem:
    record: BatchRecord
    lot: Lot
    evaluation: Evaluation


def _awaiting() -> Select[BatchRecord, Lot]:
    decided = select(BatchRelease.lot_id)
    return (
        select(BatchRecord, Lot)
        .join(Lot, Lot.id == BatchRecord.lot_id)
        .where(
            BatchRecord.status == BatchRecordStatus.COMPLETED,
            BatchRecord.lot_id.not_in(decided),
        )
    )


def awaiting_release(session: Session, *, limit: int = 50) -> list[QueueItem]:
    """Completed batch records whose batch has no decision yet, with their checklist now."""
    rows = session.execute(_awaiting().order_by(BatchRecord.completed_at).limit(limit)).all()
    return [QueueItem(r, lot, evaluate_release(session, lot.id)) for r, lot in rows]


def count_awaiting_release(session: Session) -> int:
    """How many batches wait for a decision (the queue's length, without its checklists)."""
    return int(session.scalar(select(func.count()).select_from(_awaiting().subquery())) or 0)


def recent_decisions(session: Session, *, limit: int = 50) -> list[tuple[BatchRelease, Lot]]:
    rows = session.execute(
        select(BatchRelease, Lot)
        .join(Lot, Lot.id == BatchRelease.lot_id)
        .where(BatchRelease.status != ReleaseStatus.PENDING)
        .order_by(BatchRelease.decided_at.desc(), BatchRelease.id.desc())
        .limit(limit)
    ).all()
    return [(r, lot) for r, lot in rows]


# The batch record's exceptions page shows this trace; batch records can't import release.
release_trace.register(evaluate_release)
