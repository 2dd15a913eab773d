"""Duplicates in the case base: candidates for one case with their explained scores, and the
merge, which keeps both originals — the duplicate is retired pointing at the case it
duplicates, and that case records a version saying what was merged into it (the duplicate's
whole snapshot, for the reviewer to reconcile)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, clock
from pharmaqms.kernel.errors import Conflict, InvalidInput
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.workflow import perform
from pharmaqms.lifecycle.use.cases import duplicates, facts, service
from pharmaqms.lifecycle.use.cases.models import (
    CaseStatus,
    PVCase,
    PVCaseProduct,
    PVCaseVersion,
)
from pharmaqms.lifecycle.use.cases.workflow import PV_CASE_WORKFLOW

COMPARED_STATUSES = (
    CaseStatus.RECEIVED.value,
    CaseStatus.VALID.value,
    CaseStatus.REVIEWED.value,
    CaseStatus.CLOSED.value,
)


def profile_of(session: Session, case: PVCase) -> duplicates.Profile:
    products = facts.products_of(session, case)
    events = facts.events_of(session, case)
    onsets = [e.onset for e in events if e.onset is not None]
    terms = {duplicates.term(e.verbatim) for e in events} | {
        e.meddra_code for e in events if e.meddra_code
    }
    return duplicates.Profile(
        case_id=case.id,
        number=case.number,
        age_years=case.patient_age_years,
        sex=case.patient_sex,
        products=frozenset(duplicates.term(p.product) for p in products if p.role != "concomitant"),
        events=frozenset(terms),
        onset=min(onsets) if onsets else None,
        received=case.first_received_at.date(),
        reporter_type=case.reporter_type,
        country=case.reporter_country,
    )


def find_duplicates(session: Session, case: PVCase) -> list[duplicates.Score]:
    """Cases sharing a suspect product (the blocking key), scored against this one."""
    mine = profile_of(session, case)
    names = {p.product for p in facts.products_of(session, case) if p.role != "concomitant"}
    if not names:
        return []
    ids = session.scalars(
        select(PVCaseProduct.case_id)
        .join(PVCase, PVCase.id == PVCaseProduct.case_id)
        .where(
            PVCaseProduct.current.is_(True),
            PVCaseProduct.product.in_(names),
            PVCaseProduct.case_id != case.id,
            PVCase.status.in_(COMPARED_STATUSES),
        )
        .distinct()
    ).all()
    others = [profile_of(session, service.get_case(session, i)) for i in ids]
    return duplicates.candidates(mine, others)


def merge_into(
    session: Session, *, actor: Actor, case_id: int, into_id: int, reason: str
) -> PVCase:
    """``case_id`` is a duplicate of ``into_id``: both are kept, the first retired."""
    actor.require("pv.process", "merge duplicate cases")
    why = (reason or "").strip()
    if not why:
        raise InvalidInput("say why the two reports are one case", field="reason")
    if case_id == into_id:
        raise InvalidInput("a case can't be merged into itself", field="into_id")
    duplicate = service.get_case(session, case_id)
    kept = service.get_case(session, into_id)
    if kept.status not in COMPARED_STATUSES:
        raise Conflict(f"{kept.number} is {kept.status}: merge into a case that is in use")
    last = session.scalars(
        select(PVCaseVersion)
        .where(PVCaseVersion.case_id == duplicate.id)
        .order_by(PVCaseVersion.case_version.desc())
    ).first()
    score = duplicates.score(profile_of(session, kept), profile_of(session, duplicate))
    with audit.changes(session, actor=actor, reason=why, action="merge"):
        duplicate.duplicate_of_id = kept.id
    perform(session, PV_CASE_WORKFLOW, duplicate, "mark_duplicate", actor=actor, reason=why)
    with audit.changes(session, actor=actor, reason=f"{duplicate.number} merged: {why}"):
        kept.case_version += 1
        session.add(
            PVCaseVersion(
                case_id=kept.id,
                case_version=kept.case_version,
                source=duplicate.source,
                source_reference=duplicate.source_reference,
                received_at=duplicate.latest_received_at,
                changes={
                    "merged_from": duplicate.number,
                    "score": score.explanation(),
                    "reason": why,
                },
                snapshot=last.snapshot if last else {},
                recorded_at=clock.now(),
                recorded_by_id=actor.user_id,
            )
        )
    return duplicate
