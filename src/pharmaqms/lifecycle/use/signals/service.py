"""Signal services: the only code that writes signals. Opening one (from the scan, a flagged
lot, or by hand), its evidence, validation or refutation, the assessment, the actions (a CAPA
or a change request opened through quality's front door, ``quality.events``, and linked back)
and closure. Nothing here commits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, clock, tasks
from pharmaqms.kernel.errors import Conflict, InvalidInput, NotFound
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.models import AuditEntry
from pharmaqms.kernel.settings import get_settings
from pharmaqms.kernel.workflow import perform
from pharmaqms.lifecycle.use.cases import facts, related
from pharmaqms.lifecycle.use.cases.models import PVCase
from pharmaqms.lifecycle.use.lots import service as lot_service
from pharmaqms.lifecycle.use.signals import casebase
from pharmaqms.lifecycle.use.signals.counts import count_pairs
from pharmaqms.lifecycle.use.signals.models import (
    OPEN_SIGNAL_STATUSES,
    ActionKind,
    Conclusion,
    PVSignal,
    PVSignalAction,
    PVSignalCase,
    Risk,
    SignalSource,
    SignalStatus,
)
from pharmaqms.lifecycle.use.signals.scan import score_table
from pharmaqms.lifecycle.use.signals.workflow import PV_SIGNAL_WORKFLOW
from pharmaqms.platform.masterdata.models import Lot
from pharmaqms.quality import events
from pharmaqms.quality.capa.models import Capa

LOT_EVENT_KEY = "*"  # a lot-rate signal is about every event reported on the lot


def get_signal(session: Session, signal_id: int) -> PVSignal:
    signal = session.get(PVSignal, signal_id)
    if signal is None:
        raise NotFound(f"no signal with id {signal_id}")
    return signal


def validation_due(detected: datetime) -> date:
    return detected.date() + timedelta(days=get_settings().pv_signal_validation_days)


def add_evidence(
    session: Session, *, actor: Actor, signal: PVSignal, case_ids: list[int], note: str
) -> int:
    """Link cases to the signal as its evidence (a case already linked is left as it is)."""
    held = set(
        session.scalars(select(PVSignalCase.case_id).where(PVSignalCase.signal_id == signal.id))
    )
    new = [c for c in dict.fromkeys(case_ids) if c not in held]
    if not new:
        return 0
    now = clock.now()
    with audit.changes(session, actor=actor, reason=f"evidence of {signal.number} ({note})"):
        for case_id in new:
            session.add(PVSignalCase(signal_id=signal.id, case_id=case_id, added_at=now, note=note))
    return len(new)


def open_signal(
    session: Session,
    *,
    actor: Actor,
    product: str,
    event_key: str,
    event_term: str,
    meddra_code: str,
    source: SignalSource,
    figures: dict[str, Any],
    basis: str,
    case_ids: list[int],
    lot_id: int | None = None,
    lot_number: str = "",
) -> PVSignal:
    """A detected signal with its frozen figures, its evidence and the validation task (the
    permission is checked by the calling verb)."""
    now = clock.now()

    def cell(name: str) -> int | None:
        value = figures.get(name)
        return int(value) if isinstance(value, int | float) else None

    signal = PVSignal(
        status=SignalStatus.DETECTED.value,
        product=product[:200],
        event_key=event_key[:500],
        event_term=event_term[:500],
        meddra_code=meddra_code[:8],
        lot_id=lot_id,
        lot_number=lot_number[:60],
        source=source.value,
        detected_at=now,
        detection_basis=basis,
        table_a=cell("a"),
        table_b=cell("b"),
        table_c=cell("c"),
        table_d=cell("d"),
        figures=figures,
        latest_figures={},
        validation_due=validation_due(now),
        refutation_reason="",
        assessment="",
    )
    with audit.changes(session, actor=actor, reason=f"signal detected ({source.value})"):
        session.add(signal)
        session.flush()
    add_evidence(session, actor=actor, signal=signal, case_ids=case_ids, note="at detection")
    tasks.open_task(
        session,
        signal,
        actor=actor,
        kind="validate",
        title=f"Validate {signal.number}: {signal.product} / {signal.event_term}",
        role="pv_officer",
        due_at=datetime.combine(signal.validation_due, datetime.max.time(), tzinfo=now.tzinfo),
    )
    return signal


def _text(value: str, field: str, what: str, limit: int) -> str:
    text = (value or "").strip()
    if not text:
        raise InvalidInput(f"{what} is required", field=field)
    if len(text) > limit:
        raise InvalidInput(f"{what} is longer than {limit} characters", field=field)
    return text


def register_manual(
    session: Session,
    *,
    actor: Actor,
    product: str,
    event_term: str,
    meddra_code: str = "",
    basis: str,
    case_ids: Sequence[int] = (),
) -> PVSignal:
    """A signal a PV officer raises from their own observation (a case series, literature).
    Its 2×2 table is read from the case base when the pair is reported there."""
    actor.require("signals.detect", "raise signals")
    name = _text(product, "product", "the product", 200)
    term = _text(event_term, "event_term", "the event", 500)
    code = (meddra_code or "").strip()
    if code and not (code.isdecimal() and len(code) == 8):
        raise InvalidInput("a MedDRA code is 8 digits", field="meddra_code")
    why = _text(basis, "basis", "the reason for raising the signal", 20_000)
    for case_id in case_ids:
        if session.get(PVCase, case_id) is None:
            raise InvalidInput(f"no PV case with id {case_id}", field="case_ids")
    # Counted at PT level as the scan counts: an LLT code names its PT's signal.
    coded = casebase.coding(session, {code} if code else set())
    key = coded.key(term, code)
    if key in coded.pt_names:
        code = key
    if _open_for(session, name, key, ""):
        raise Conflict(f"an open signal on {name} / {term} exists already", field="event_term")
    base = casebase.load(session)
    figures: dict[str, Any] = {}
    rows = base.rows
    if rows.height and base.cases_of(name, key):
        counted = count_pairs(rows).pairs
        pair = counted.filter((counted["drug"] == name) & (counted["event"] == key)).row(
            0, named=True
        )
        a, n_drug, n_event, total = pair["a"], pair["n_drug"], pair["n_event"], rows["report_id"]
        reports = total.n_unique()
        figures = score_table(a, n_drug - a, n_event - a, reports - n_drug - n_event + a)
    return open_signal(
        session,
        actor=actor,
        product=name,
        event_key=key,
        event_term=term,
        meddra_code=code,
        source=SignalSource.MANUAL,
        figures=figures,
        basis=why,
        case_ids=list(case_ids) or base.cases_of(name, key),
    )


def _open_for(session: Session, product: str, key: str, lot_number: str) -> PVSignal | None:
    return session.scalars(
        select(PVSignal).where(
            PVSignal.product == product,
            PVSignal.event_key == key,
            PVSignal.lot_number == lot_number,
            PVSignal.status.in_(OPEN_SIGNAL_STATUSES),
        )
    ).first()


def raise_from_lot(session: Session, *, actor: Actor, lot_id: int) -> PVSignal:
    """A signal for a lot the lot-rate test flags: every event reported on it, the rate test's
    figures frozen, the cases citing the lot as evidence."""
    actor.require("signals.detect", "raise signals")
    safety = lot_service.lot_safety(session, lot_id)
    lot, rate = safety.lot, safety.signal.rate if safety.signal else None
    if safety.product is None or rate is None or not rate.flagged:
        raise Conflict(
            f"lot {lot.lot_number} is not flagged by the lot-rate test"
            + (f" ({rate.reason})" if rate else "")
        )
    name = safety.product.name
    if _open_for(session, name, LOT_EVENT_KEY, lot.lot_number):
        raise Conflict(f"an open signal on lot {lot.lot_number} exists already")
    figures = {
        "a": rate.cases,
        "lot_units": rate.units,
        "other_cases": rate.other_cases,
        "other_units": rate.other_units,
        "E": rate.expected,
        "rate_ratio": rate.rate_ratio if rate.rate_ratio != float("inf") else None,
        "p_value": rate.p_value,
        "threshold": rate.threshold,
    }
    return open_signal(
        session,
        actor=actor,
        product=name,
        event_key=LOT_EVENT_KEY,
        event_term=f"all events reported on lot {lot.lot_number}",
        meddra_code="",
        source=SignalSource.LOT_RATE,
        figures=figures,
        basis=f"Lot-rate test: {rate.reason}.",
        case_ids=[c.id for c in safety.cases],
        lot_id=lot.id,
        lot_number=lot.lot_number,
    )


# --- the lifecycle -----------------------------------------------------------------------------


def validate_signal(
    session: Session,
    *,
    actor: Actor,
    signal_id: int,
    password: str,
    comment: str = "",
    expected_version: int | None = None,
) -> PVSignal:
    signal = get_signal(session, signal_id)
    perform(
        session,
        PV_SIGNAL_WORKFLOW,
        signal,
        "validate",
        actor=actor,
        password=password,
        comment=comment,
        expected_version=expected_version,
    )
    return signal


def refute_signal(
    session: Session,
    *,
    actor: Actor,
    signal_id: int,
    reason: str,
    password: str,
    expected_version: int | None = None,
) -> PVSignal:
    """Not a signal: the reason is kept on the record, signed "Refuted"."""
    signal = get_signal(session, signal_id)
    perform(
        session,
        PV_SIGNAL_WORKFLOW,
        signal,
        "refute",
        actor=actor,
        reason=reason,
        password=password,
        expected_version=expected_version,
    )
    return signal


def note_refutation(session: Session, signal: PVSignal, actor: Actor) -> None:
    """The workflow's effect of "refute", whatever route took it: the reason given to the
    transition (as the trail holds it) is kept on the record."""
    reason = session.scalar(
        select(AuditEntry.reason)
        .where(
            AuditEntry.record_type == signal.__audit_type__,
            AuditEntry.record_id == signal.id,
            AuditEntry.action == "transition:refute",
        )
        .order_by(AuditEntry.seq.desc())
        .limit(1)
    )
    with audit.changes(session, actor=actor, reason="not a signal: the reason kept"):
        signal.refutation_reason = (reason or "").strip()[:20_000]


def record_assessment(
    session: Session,
    *,
    actor: Actor,
    signal_id: int,
    assessment: str,
    conclusion: str,
    risk: str,
    expected_version: int | None = None,
) -> PVSignal:
    """The assessment of a validated signal (text, confirmed or refuted, the risk), and the
    signal moves on to "assessed"."""
    actor.require("signals.assess", "assess signals")
    signal = get_signal(session, signal_id)
    if expected_version is not None and signal.version != expected_version:
        raise Conflict(f"{signal.number} changed meanwhile (version {signal.version}): reload it")
    if signal.status != SignalStatus.VALIDATED:
        raise Conflict(
            f"{signal.number} is {PV_SIGNAL_WORKFLOW.state_label(signal.status)}: "
            "assess a validated signal"
        )
    text = _text(assessment, "assessment", "the assessment", 20_000)
    if conclusion not in [c.value for c in Conclusion]:
        raise InvalidInput("the conclusion is confirmed or refuted", field="conclusion")
    risks = [r.value for r in Risk]
    if risk not in risks:
        raise InvalidInput(f"the risk is one of {', '.join(risks)}", field="risk")
    if conclusion == Conclusion.REFUTED and risk != Risk.NONE:
        raise InvalidInput("a refuted signal adds no new risk: choose no_new_risk", field="risk")
    with audit.changes(session, actor=actor, reason="signal assessed", action="assess"):
        signal.assessment = text
        signal.conclusion = conclusion
        signal.risk = risk
    perform(session, PV_SIGNAL_WORKFLOW, signal, "assess", actor=actor)
    return signal


def take_action(
    session: Session,
    *,
    actor: Actor,
    signal_id: int,
    kind: str,
    title: str,
    description: str,
    owner_id: int | None = None,
    due_at: datetime | None = None,
) -> PVSignalAction:
    """An action on a confirmed signal. A CAPA or a change request (a label change goes through
    change control) is opened through ``quality.events``, raised from the signal: the quality
    record shows where it came from and the signal shows what it led to."""
    actor.require("signals.act", "take action on signals")
    signal = get_signal(session, signal_id)
    if signal.status not in (SignalStatus.ASSESSED, SignalStatus.ACTION):
        raise Conflict(
            f"{signal.number} is {PV_SIGNAL_WORKFLOW.state_label(signal.status)}: "
            "actions follow the assessment"
        )
    if signal.conclusion != Conclusion.CONFIRMED:
        raise Conflict(f"{signal.number} was refuted: close it, there is nothing to act on")
    kinds = [k.value for k in ActionKind]
    if kind not in kinds:
        raise InvalidInput(f"the action is one of {', '.join(kinds)}", field="kind")
    heading = _text(title, "title", "a title", 300)
    text = _text(description, "description", "a description", 20_000)
    evidence = (
        f"{text}\n\nSignal {signal.number}: {signal.product} / {signal.event_term} "
        f"({signal.source}); {signal.detection_basis}\nAssessment: {signal.assessment}\n"
        f"Conclusion: {signal.conclusion}, {signal.risk}."
    )
    record: Any
    if kind == ActionKind.CAPA:
        if owner_id is None:
            raise InvalidInput("name the CAPA owner", field="owner_id")
        if due_at is None:
            raise InvalidInput("the CAPA due date is required", field="due_at")
        record = events.open_capa(
            session,
            actor=actor,
            source_type="pv_signal",
            source_id=signal.id,
            source_label=None,
            title=heading,
            problem_statement=evidence[:20_000],
            owner_id=owner_id,
            due_at=due_at,
            reason=f"action on signal {signal.number}",
        )
    else:
        record = events.request_change(
            session,
            actor=actor,
            source_type="pv_signal",
            source_id=signal.id,
            source_label=None,
            title=heading,
            description=evidence[:20_000],
            justification=(
                "Pharmacovigilance signal confirmed: the product information must reflect the risk."
                if kind == ActionKind.LABEL_CHANGE
                else f"Pharmacovigilance signal {signal.number} confirmed."
            ),
            owner_id=owner_id,
            reason=f"action on signal {signal.number}",
        )
    session.flush()
    action = PVSignalAction(
        signal_id=signal.id,
        kind=kind,
        title=heading,
        description=text,
        record_type=record.__audit_type__,
        record_id=record.id,
        record_number=record.number,
        recorded_at=clock.now(),
        recorded_by_id=actor.user_id,
    )
    with audit.changes(session, actor=actor, reason=f"action on {signal.number}: {kind}"):
        session.add(action)
    if signal.status == SignalStatus.ASSESSED:
        perform(session, PV_SIGNAL_WORKFLOW, signal, "act", actor=actor)
    return action


def close_signal(
    session: Session,
    *,
    actor: Actor,
    signal_id: int,
    password: str,
    comment: str = "",
    expected_version: int | None = None,
) -> PVSignal:
    signal = get_signal(session, signal_id)
    perform(
        session,
        PV_SIGNAL_WORKFLOW,
        signal,
        "close",
        actor=actor,
        password=password,
        comment=comment,
        expected_version=expected_version,
    )
    return signal


# --- reading -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RegisterRow:
    signal: PVSignal
    overdue: bool
    cases: int


def is_overdue(signal: PVSignal, today: date) -> bool:
    """Validation is the step with a clock: a signal still "detected" after its due date."""
    return signal.status == SignalStatus.DETECTED and signal.validation_due < today


def evidence_of(session: Session, signal: PVSignal) -> list[PVCase]:
    ids = select(PVSignalCase.case_id).where(PVSignalCase.signal_id == signal.id)
    return list(session.scalars(select(PVCase).where(PVCase.id.in_(ids)).order_by(PVCase.id)))


def actions_of(session: Session, signal: PVSignal) -> list[PVSignalAction]:
    return list(
        session.scalars(
            select(PVSignalAction)
            .where(PVSignalAction.signal_id == signal.id)
            .order_by(PVSignalAction.id)
        )
    )


def register_rows(
    session: Session, *, status: str | None = None, limit: int = 200, offset: int = 0
) -> tuple[list[RegisterRow], int]:
    from sqlalchemy import func

    query = select(PVSignal)
    count = select(func.count()).select_from(PVSignal)
    if status:
        query = query.where(PVSignal.status == status)
        count = count.where(PVSignal.status == status)
    total = int(session.scalar(count) or 0)
    today = clock.now().date()
    signals = list(session.scalars(query.order_by(PVSignal.id.desc()).limit(limit).offset(offset)))
    per_signal: dict[int, int] = dict.fromkeys((s.id for s in signals), 0)
    if signals:
        for (signal_id,) in session.execute(
            select(PVSignalCase.signal_id).where(PVSignalCase.signal_id.in_(list(per_signal)))
        ):
            per_signal[signal_id] += 1
    return [RegisterRow(s, is_overdue(s, today), per_signal[s.id]) for s in signals], total


def signals_by_pair(session: Session) -> dict[tuple[str, str], PVSignal]:
    """The latest signal of each (product, event key) of the scan, for the dashboard's links."""
    return {
        (s.product, s.event_key): s
        for s in session.scalars(
            select(PVSignal).where(PVSignal.lot_number == "").order_by(PVSignal.id)
        )
    }


@dataclass(frozen=True, slots=True)
class CaseSignal:
    signal: PVSignal
    why: str  # how the case belongs to it, in words


def signals_of_case(session: Session, case: PVCase) -> list[CaseSignal]:
    """The signals a case belongs to: those holding it as evidence, those raised on a lot it
    cites (as suspect or interacting drug), and the product–event signals on one of its
    suspect products with one of its events — whether or not a run has added it yet."""
    products = [p for p in facts.products_of(session, case) if p.role != "concomitant"]
    names = {" ".join(p.product.split()).lower() for p in products}
    lots = {p.lot_id for p in products if p.lot_id is not None}
    events = facts.events_of(session, case)
    coded = casebase.coding(session, {e.meddra_code for e in events if not e.meddra_pt_code})
    keys = {coded.key(e.verbatim, e.meddra_code, e.meddra_pt_code) for e in events}
    evidence = set(
        session.scalars(select(PVSignalCase.signal_id).where(PVSignalCase.case_id == case.id))
    )
    found = []
    for signal in session.scalars(select(PVSignal).order_by(PVSignal.id)):
        same_product = " ".join(signal.product.split()).lower() in names
        if signal.id in evidence:
            why = "one of its cases"
        elif signal.lot_id is not None and signal.lot_id in lots:
            why = f"cites lot {signal.lot_number}"
        elif not signal.lot_number and same_product and signal.event_key in keys:
            why = "same product and event"
        else:
            continue
        found.append(CaseSignal(signal, why))
    return found


def _related(session: Session, case: PVCase) -> list[related.Related]:
    return [
        related.Related(
            number=s.signal.number,
            href=f"/pv/signals/{s.signal.id}",
            title=f"{s.signal.product} / {s.signal.event_term}"
            + (f" (lot {s.signal.lot_number})" if s.signal.lot_number else ""),
            status=s.signal.status,
            why=s.why,
        )
        for s in signals_of_case(session, case)
    ]


related.register(_related)


def _link_lot_signals(session: Session, actor: Actor, lot: Lot, capa: Capa) -> None:
    """A CAPA opened from a lot's page is also what its open lot signals led to."""
    for signal in session.scalars(
        select(PVSignal)
        .where(PVSignal.lot_id == lot.id, PVSignal.status.in_(OPEN_SIGNAL_STATUSES))
        .order_by(PVSignal.id)
    ):
        events.link_records(
            session,
            actor=actor,
            source_type="pv_signal",
            source_id=signal.id,
            source_label=None,
            target_type="capa",
            target_id=capa.id,
            reason=f"{signal.number} is on lot {lot.lot_number}, evidence of {capa.number}",
        )


lot_service.on_capa_for_lot(_link_lot_signals)
