"""Signal API (``/api/v1/pv/signals…``): thin, as the case API. The register with due and
overdue flags, the disproportionality table of the case base, a detection run, a signal
raised by hand or from a flagged lot, and the lifecycle steps (signed where the workflow
says so, naming the version reviewed)."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from sqlalchemy.orm import Session

from pharmaqms.kernel import clock
from pharmaqms.kernel.errors import InvalidInput
from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.pages import ActorDep
from pharmaqms.kernel.http.params import Offset, RecordId
from pharmaqms.kernel.schemas import Page
from pharmaqms.lifecycle.use.signals import detection, service
from pharmaqms.lifecycle.use.signals.errors import SignalInputError
from pharmaqms.lifecycle.use.signals.models import PVSignal
from pharmaqms.lifecycle.use.signals.scan import Method, Thresholds, parse_methods
from pharmaqms.lifecycle.use.signals.schemas import (
    ActionIn,
    ActionOut,
    DetectionIn,
    DetectionOut,
    EvidenceOut,
    LotSignalIn,
    ManualSignalIn,
    PairOut,
    RefuteIn,
    SignalAssessmentIn,
    SignalOut,
    SignalSummary,
    SignedStepIn,
)
from pharmaqms.quality.schemas import links_out, signatures_out

router = APIRouter(prefix="/api/v1/pv", tags=["pharmacovigilance"])


def summary(signal: PVSignal, cases: int) -> SignalSummary:
    return SignalSummary(
        id=signal.id,
        number=signal.number,
        status=signal.status,
        product=signal.product,
        event_term=signal.event_term,
        meddra_code=signal.meddra_code,
        lot_number=signal.lot_number,
        source=signal.source,
        detected_at=signal.detected_at,
        validation_due=signal.validation_due,
        overdue=service.is_overdue(signal, clock.now().date()),
        cases=cases,
        conclusion=signal.conclusion,
        risk=signal.risk,
    )


def signal_out(session: Session, signal: PVSignal) -> SignalOut:
    session.flush()
    evidence = service.evidence_of(session, signal)
    return SignalOut(
        **summary(signal, len(evidence)).model_dump(),
        version=signal.version,
        event_key=signal.event_key,
        detection_basis=signal.detection_basis,
        table={
            "a": signal.table_a,
            "b": signal.table_b,
            "c": signal.table_c,
            "d": signal.table_d,
        },
        figures=dict(signal.figures),
        latest_figures=dict(signal.latest_figures),
        refreshed_at=signal.refreshed_at,
        refutation_reason=signal.refutation_reason,
        assessment=signal.assessment,
        evidence=[EvidenceOut(case_id=c.id, number=c.number, status=c.status) for c in evidence],
        actions=[
            ActionOut(
                kind=a.kind,
                title=a.title,
                description=a.description,
                record_type=a.record_type,
                record_id=a.record_id,
                record_number=a.record_number,
                recorded_at=a.recorded_at,
            )
            for a in service.actions_of(session, signal)
        ],
        signatures=signatures_out(session, signal),
        links=links_out(session, signal),
    )


def _summaries(session: Session, signals: list[PVSignal]) -> list[SignalSummary]:
    session.flush()
    return [summary(s, len(service.evidence_of(session, s))) for s in signals]


@router.get("/signals", response_model=Page[SignalSummary])
def list_signals(
    actor: ActorDep,
    request: Request,
    status: str | None = Query(default=None, max_length=40),
    limit: int = Query(default=50, ge=1, le=500),
    offset: Offset = 0,
) -> Page[SignalSummary]:
    actor.require("records.read", "read signals")
    with transaction(request) as session:
        rows, total = service.register_rows(session, status=status, limit=limit, offset=offset)
        items = [summary(r.signal, r.cases) for r in rows]
    return Page[SignalSummary](items=items, total=total, limit=limit, offset=offset)


@router.post("/signals", response_model=SignalOut, status_code=201)
def raise_signal(body: ManualSignalIn, actor: ActorDep, request: Request) -> SignalOut:
    with transaction(request) as session:
        signal = service.register_manual(
            session,
            actor=actor,
            product=body.product,
            event_term=body.event_term,
            meddra_code=body.meddra_code,
            basis=body.basis,
            case_ids=body.case_ids,
        )
        return signal_out(session, signal)


@router.post("/signals/from-lot", response_model=SignalOut, status_code=201)
def raise_from_lot(body: LotSignalIn, actor: ActorDep, request: Request) -> SignalOut:
    with transaction(request) as session:
        signal = service.raise_from_lot(session, actor=actor, lot_id=body.lot_id)
        return signal_out(session, signal)


def _methods(names: list[str]) -> tuple[Method, ...]:
    try:
        return parse_methods(",".join(names))
    except SignalInputError as error:
        raise InvalidInput(str(error), field="methods") from None


@router.post("/signals/detection", response_model=DetectionOut)
def run_detection(body: DetectionIn, actor: ActorDep, request: Request) -> DetectionOut:
    """Scan the case base; open a signal for each newly flagged pair (see docs: a re-run notes
    new figures on an open signal, never opens a second one)."""
    methods = _methods(body.methods)
    limits = Thresholds(**body.thresholds.model_dump())
    with transaction(request) as session:
        outcome = detection.run_detection(
            session, actor=actor, methods=methods, min_count=body.min_count, thresholds=limits
        )
        return DetectionOut(
            pairs=outcome.pairs,
            flagged=outcome.flagged,
            opened=_summaries(session, outcome.opened),
            refreshed=_summaries(session, outcome.refreshed),
            unchanged=_summaries(session, outcome.unchanged),
        )


@router.get("/signals/pairs", response_model=list[PairOut])
def pairs(
    actor: ActorDep,
    request: Request,
    methods: str = Query(default="prr,ror,ic,ebgm", max_length=40),
    min_count: int = Query(default=3, ge=1, le=1_000_000),
) -> list[PairOut]:
    """The disproportionality table of the case base, flagged pairs first."""
    actor.require("records.read", "read the disproportionality table")
    chosen = _methods(methods.split(","))
    with transaction(request) as session:
        found = detection.scan_case_base(session, methods=chosen, min_count=min_count)
        known = service.signals_by_pair(session)
        out = []
        for row in found.rows():
            signal = known.get((row["drug"], row["event"]))
            out.append(
                PairOut(
                    product=row["drug"],
                    event_key=row["event"],
                    event_term=row["event_term"],
                    meddra_code=row["meddra_code"],
                    figures=detection.figures_of(row, found),
                    flagged_by=row["flagged_by"],
                    signal_id=signal.id if signal else None,
                    signal_number=signal.number if signal else None,
                )
            )
    return sorted(out, key=lambda p: (not p.flagged_by, p.product, p.event_term))


@router.get("/signals/{signal_id}", response_model=SignalOut)
def get_signal(signal_id: RecordId, actor: ActorDep, request: Request) -> SignalOut:
    actor.require("records.read", "read signals")
    with transaction(request) as session:
        return signal_out(session, service.get_signal(session, signal_id))


@router.post("/signals/{signal_id}/validate", response_model=SignalOut)
def validate(
    signal_id: RecordId, body: SignedStepIn, actor: ActorDep, request: Request
) -> SignalOut:
    with transaction(request) as session:
        signal = service.validate_signal(
            session,
            actor=actor,
            signal_id=signal_id,
            password=body.password,
            comment=body.comment,
            expected_version=body.expected_version,
        )
        return signal_out(session, signal)


@router.post("/signals/{signal_id}/refute", response_model=SignalOut)
def refute(signal_id: RecordId, body: RefuteIn, actor: ActorDep, request: Request) -> SignalOut:
    with transaction(request) as session:
        signal = service.refute_signal(
            session,
            actor=actor,
            signal_id=signal_id,
            reason=body.reason,
            password=body.password,
            expected_version=body.expected_version,
        )
        return signal_out(session, signal)


@router.post("/signals/{signal_id}/assessment", response_model=SignalOut)
def assess(
    signal_id: RecordId, body: SignalAssessmentIn, actor: ActorDep, request: Request
) -> SignalOut:
    with transaction(request) as session:
        signal = service.record_assessment(
            session,
            actor=actor,
            signal_id=signal_id,
            assessment=body.assessment,
            conclusion=body.conclusion,
            risk=body.risk,
            expected_version=body.expected_version,
        )
        return signal_out(session, signal)


@router.post("/signals/{signal_id}/actions", response_model=SignalOut, status_code=201)
def act(signal_id: RecordId, body: ActionIn, actor: ActorDep, request: Request) -> SignalOut:
    with transaction(request) as session:
        service.take_action(
            session,
            actor=actor,
            signal_id=signal_id,
            kind=body.kind,
            title=body.title,
            description=body.description,
            owner_id=body.owner_id,
            due_at=body.due_at,
        )
        return signal_out(session, service.get_signal(session, signal_id))


@router.post("/signals/{signal_id}/close", response_model=SignalOut)
def close(signal_id: RecordId, body: SignedStepIn, actor: ActorDep, request: Request) -> SignalOut:
    with transaction(request) as session:
        signal = service.close_signal(
            session,
            actor=actor,
            signal_id=signal_id,
            password=body.password,
            comment=body.comment,
            expected_version=body.expected_version,
        )
        return signal_out(session, signal)
