"""Cold-chain API: alarm profiles, the alarm register and its verbs, excursions with their
lots and budgets, QA's signed assessment, stability budgets. Thin: parse, authorise, call a
service, shape the answer."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import clock
from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.pages import ActorDep
from pharmaqms.kernel.http.params import RecordId
from pharmaqms.kernel.schemas import SignatureOut
from pharmaqms.kernel.signatures import signatures_of
from pharmaqms.lifecycle.distribution import (
    alarms,
    assessment,
    budget,
    excursions,
    kpi,
    profiles,
)
from pharmaqms.lifecycle.distribution.http import PREFIX
from pharmaqms.lifecycle.distribution.models import (
    AlarmProfile,
    AlarmStatus,
    ColdChainAlarm,
    Excursion,
    ExcursionAssessment,
    ProfileStatus,
)
from pharmaqms.lifecycle.distribution.schemas import (
    AlarmOut,
    AssessmentIn,
    AssessmentOut,
    BudgetIn,
    CommentIn,
    ExcursionOut,
    LotIn,
    ProfileIn,
    ProfileOut,
)
from pharmaqms.platform.masterdata.models import Lot

router = APIRouter(prefix=PREFIX, tags=["distribution: cold chain"])


def alarm_out(alarm: ColdChainAlarm) -> AlarmOut:
    out = AlarmOut.model_validate(alarm)
    out.unacknowledged = alarm.status == AlarmStatus.RAISED
    out.overdue = out.unacknowledged and alarm.acknowledge_due_at < clock.now()
    return out


def assessment_out(session: Session, record: ExcursionAssessment) -> AssessmentOut:
    out = AssessmentOut.model_validate(record)
    out.signatures = [
        SignatureOut(
            id=s.id,
            signer_name=s.signer_name,
            signer_username=s.signer_username,
            meaning=s.meaning,
            signed_at=s.signed_at,
            content_hash=s.content_hash,
            valid_for_current_content=s.valid_for_current_content,
            manifestation=s.manifestation,
        )
        for s in signatures_of(session, record)
    ]
    return out


def excursion_out(session: Session, excursion: Excursion) -> ExcursionOut:
    out = ExcursionOut.model_validate(excursion)
    for link in excursions.excursion_lots(session, excursion.id):
        lot = session.get(Lot, link.lot_id)
        out.lots.append(
            {
                "lot": lot.lot_number if lot else "",
                "status": lot.status if lot else "",
                "basis": link.basis,
                "held": link.held,
                "budget": budget.lot_budget(session, link.lot_id).as_dict(),
            }
        )
    record = session.scalars(
        select(ExcursionAssessment).where(ExcursionAssessment.excursion_id == excursion.id)
    ).first()
    out.assessment = assessment_out(session, record) if record else None
    return out


# --- profiles -------------------------------------------------------------------------------


@router.get("/profiles", response_model=list[ProfileOut])
def list_profiles(actor: ActorDep, request: Request) -> list[ProfileOut]:
    actor.require("records.read", "read alarm profiles")
    with transaction(request) as session:
        rows = session.scalars(
            select(AlarmProfile)
            .where(AlarmProfile.status == ProfileStatus.IN_FORCE.value)
            .order_by(AlarmProfile.place_code)
        )
        return [ProfileOut.model_validate(p) for p in rows]


@router.post("/profiles", response_model=ProfileOut, status_code=201)
def set_profile(body: ProfileIn, actor: ActorDep, request: Request) -> ProfileOut:
    with transaction(request) as session:
        profile = profiles.set_alarm_profile(session, actor=actor, **body.model_dump())
        session.flush()
        return ProfileOut.model_validate(profile)


# --- alarms ---------------------------------------------------------------------------------


@router.get("/alarms", response_model=list[AlarmOut])
def list_alarms(
    actor: ActorDep,
    request: Request,
    status: str | None = Query(default=None, max_length=20),
) -> list[AlarmOut]:
    actor.require("records.read", "read cold-chain alarms")
    with transaction(request) as session:
        return [alarm_out(a) for a in alarms.list_alarms(session, status=status)]


@router.get("/alarms/{alarm_id}", response_model=AlarmOut)
def get_alarm(alarm_id: RecordId, actor: ActorDep, request: Request) -> AlarmOut:
    actor.require("records.read", "read cold-chain alarms")
    with transaction(request) as session:
        return alarm_out(alarms.get_alarm(session, alarm_id))


@router.post("/alarms/{alarm_id}/acknowledge", response_model=AlarmOut)
def acknowledge(alarm_id: RecordId, body: CommentIn, actor: ActorDep, request: Request) -> AlarmOut:
    with transaction(request) as session:
        alarm = alarms.acknowledge_alarm(
            session,
            actor=actor,
            alarm_id=alarm_id,
            comment=body.comment,
            expected_version=body.expected_version,
        )
        session.flush()
        return alarm_out(alarm)


@router.post("/alarms/{alarm_id}/assess", response_model=AlarmOut)
def assess(alarm_id: RecordId, body: CommentIn, actor: ActorDep, request: Request) -> AlarmOut:
    with transaction(request) as session:
        alarm = alarms.assess_alarm(
            session,
            actor=actor,
            alarm_id=alarm_id,
            assessment=body.comment,
            expected_version=body.expected_version,
        )
        session.flush()
        return alarm_out(alarm)


@router.post("/alarms/{alarm_id}/close", response_model=AlarmOut)
def close(alarm_id: RecordId, body: CommentIn, actor: ActorDep, request: Request) -> AlarmOut:
    with transaction(request) as session:
        alarm = alarms.close_alarm(
            session,
            actor=actor,
            alarm_id=alarm_id,
            comment=body.comment,
            expected_version=body.expected_version,
        )
        session.flush()
        return alarm_out(alarm)


# --- excursions -----------------------------------------------------------------------------


@router.get("/excursions", response_model=list[ExcursionOut])
def list_excursions(actor: ActorDep, request: Request) -> list[ExcursionOut]:
    actor.require("records.read", "read excursions")
    with transaction(request) as session:
        return [ExcursionOut.model_validate(e) for e in excursions.list_excursions(session)]


@router.get("/excursions/{excursion_id}", response_model=ExcursionOut)
def get_excursion(excursion_id: RecordId, actor: ActorDep, request: Request) -> ExcursionOut:
    actor.require("records.read", "read excursions")
    with transaction(request) as session:
        return excursion_out(session, excursions.get_excursion(session, excursion_id))


@router.post("/excursions/{excursion_id}/lots", response_model=ExcursionOut, status_code=201)
def name_lot(
    excursion_id: RecordId, body: LotIn, actor: ActorDep, request: Request
) -> ExcursionOut:
    with transaction(request) as session:
        excursions.name_affected_lot(
            session,
            actor=actor,
            excursion_id=excursion_id,
            lot_number=body.lot_number,
            item_code=body.item_code,
        )
        session.flush()
        return excursion_out(session, excursions.get_excursion(session, excursion_id))


@router.post("/excursions/{excursion_id}/assessment", response_model=AssessmentOut, status_code=201)
def assess_excursion(
    excursion_id: RecordId, body: AssessmentIn, actor: ActorDep, request: Request
) -> AssessmentOut:
    with transaction(request) as session:
        record = assessment.assess_excursion(
            session,
            actor=actor,
            excursion_id=excursion_id,
            disposition=body.disposition,
            rationale=body.rationale,
            password=body.password,
        )
        session.flush()
        return assessment_out(session, record)


# --- stability budgets ----------------------------------------------------------------------


@router.post("/products/{product_code}/stability-budget", status_code=201)
def set_budget(
    product_code: str, body: BudgetIn, actor: ActorDep, request: Request
) -> list[dict[str, object]]:
    with transaction(request) as session:
        rows = budget.set_stability_budget(
            session,
            actor=actor,
            product_code=product_code,
            bands=[(b.name, b.low_c, b.high_c, b.allowed_h) for b in body.bands],
            basis=body.basis,
        )
        return [
            {"name": r.name, "low_c": r.low_c, "high_c": r.high_c, "allowed_h": r.allowed_h}
            for r in rows
        ]


@router.get("/lots/{lot_id}/budget")
def get_lot_budget(lot_id: RecordId, actor: ActorDep, request: Request) -> dict[str, object]:
    """Consumed and remaining stability budget of a lot over all its excursions."""
    actor.require("records.read", "read stability budgets")
    with transaction(request) as session:
        return budget.lot_budget(session, lot_id).as_dict()


@router.get("/kpi")
def get_kpis(actor: ActorDep, request: Request) -> dict[str, object]:
    """Excursion rate per lane and month, and mean time to acknowledge per month."""
    actor.require("records.read", "read the distribution KPIs")
    with transaction(request) as session:
        return {
            "excursion_rate": [
                {
                    "lane": r.lane,
                    "month": r.month,
                    "shipments": r.shipments,
                    "with_excursion": r.with_excursion,
                    "rate": r.rate,
                }
                for r in kpi.excursion_rate(session)
            ],
            "mean_time_to_acknowledge": [
                {
                    "month": m.month,
                    "acknowledged": m.acknowledged,
                    "mean_minutes": m.mean_minutes,
                    "unacknowledged": m.unacknowledged,
                }
                for m in kpi.mean_time_to_acknowledge(session)
            ],
        }
