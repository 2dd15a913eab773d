"""The quality events API: how any module raises a quality event about one of its records.

A cold-chain excursion, an out-of-specification result, a pharmacovigilance signal or an audit
finding is not a quality record itself; it *leads to* one. Call these functions inside your own
unit of work, with the acting user (a person, or the system account of an automated check), and
name the source record. Each creates the quality record through its module's service (so it is
numbered, audited and enters its workflow) and records a link ``source → record`` in the
``quality_links`` table, so the loop closes visibly on both sides: the quality record shows
"raised from …", and ``links_of(session, "excursion", 42).led_to`` lists what the excursion led
to. Nothing here commits.

    from pharmaqms.quality import events

    deviation = events.raise_deviation(
        session,
        actor=actor,
        source_type="excursion",          # the source's record type (its audit type)
        source_id=excursion.id,           # its id; None for something outside the system
        source_label=excursion.number,    # how people know it; taken from the record itself
                                          # when source_type is a registered record type
        title="Shipper at 11.4 °C for 95 min",
        description="...",
        area="Distribution",
        occurred_at=..., discovered_at=...,   # time-zone aware; discovery not before occurrence
        product="Insulin glargine 100 U/ml",
        batch_ids=["L2403-117"],          # each is put on hold through the batch platform hook
    )

The functions:

``raise_deviation(session, *, actor, source_type, source_id, source_label, title, description,
area, occurred_at, discovered_at, product="", batch_ids=(), immediate_actions="", reason=None)``
    → ``Deviation`` (reported; QA gets a task to classify it). Needs ``deviations.report``.

``open_capa(session, *, actor, source_type, source_id, source_label, title, problem_statement,
owner_id, due_at, reason=None)``
    → ``Capa`` (draft; the owner gets a task to plan it). Needs ``capa.raise``. A CAPA opened
    from a deviation under investigation becomes that deviation's CAPA decision.

``request_change(session, *, actor, source_type, source_id, source_label, title, description,
justification, change_type="permanent", owner_id=None, affected=(), reason=None)``
    → ``ChangeRequest`` (draft). Needs ``changes.request``. ``affected`` names what the change
    touches, one line each ("product IBU200 — Ibuprofen 200 mg tablets", "master batch record
    MBR-2026-0004"): the lines are written into the description under "Affected:", so the
    impact assessment and every approver read them as part of what they sign. A module that
    must keep the change open until something of its own is done registers a closure
    condition (``quality.changes.closure``).

``register_complaint(session, *, actor, source_type, source_id, source_label, product, lot,
complainant_name, complainant_type, received_at, description, complainant_contact="",
reason=None)``
    → ``Complaint`` (received; QA gets a task to triage it). Needs ``complaints.register``.

``link_records(session, *, actor, source_type, source_id, source_label, target_type, target_id,
reason)``
    links an existing quality record to a source (a recurrence linked to the CAPA already open).

``links_of(session, record_type, record_id)`` → ``RecordLinks(raised_from, led_to)``.

``hand_over_adverse_event(session, *, actor, complaint_id, case)``
    the pharmacovigilance case opened for a complaint's adverse event: links complaint → case
    (the complaint shows "led to PV-2026-0001", the case "raised from CMP-…") and names the
    case on the complaint. The handover stays pending until PV acknowledges it.

``acknowledge_adverse_event(session, *, actor, complaint_id, case)``
    PV took the case in (validated it): the complaint's handover is acknowledged with the
    case's number. Needs ``complaints.pv_handover``.

Sources whose record type is registered in ``kernel.registry`` are checked to exist and take
their label from the record; other sources (a module not built yet, an inspection finding) are
recorded with the label given. ``reason`` defaults to "raised from <source>". Every refusal is a
``QMSError`` naming the field, and leaves nothing behind once the caller's unit of work rolls
back.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from pharmaqms.kernel.errors import InvalidInput, NotFound, PermissionDenied
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.records import GxPRecord
from pharmaqms.kernel.registry import RECORD_TYPES
from pharmaqms.quality import links
from pharmaqms.quality.capa import service as capa_service
from pharmaqms.quality.capa.models import Capa
from pharmaqms.quality.changes import service as change_service
from pharmaqms.quality.changes.models import ChangeRequest
from pharmaqms.quality.complaints import service as complaint_service
from pharmaqms.quality.complaints.models import Complaint
from pharmaqms.quality.deviations import service as deviation_service
from pharmaqms.quality.deviations.models import Deviation
from pharmaqms.quality.links import QualityLink, RecordLinks, Source

QUALITY_RECORD_TYPES = ("deviation", "capa", "change_request", "complaint")


def _source(
    session: Session, source_type: str, source_id: int | None, source_label: str | None
) -> Source:
    return links.resolve_source(session, Source(source_type, source_id, source_label or ""))


def _link(
    session: Session, *, actor: Actor, source: Source, target: GxPRecord, reason: str | None
) -> QualityLink:
    link = links.record_link(
        session,
        actor=actor,
        source=source,
        target=target,
        reason=(reason or "").strip() or f"raised from {source.label}",
    )
    if source.record_type == "deviation" and isinstance(target, Capa):
        deviation = session.get(Deviation, source.record_id)
        if deviation is not None:
            deviation_service.note_capa_raised(
                session, actor=actor, deviation=deviation, capa_label=target.audit_label()
            )
    return link


def raise_deviation(
    session: Session,
    *,
    actor: Actor,
    source_type: str,
    source_id: int | None,
    source_label: str | None,
    title: str,
    description: str,
    area: str,
    occurred_at: datetime,
    discovered_at: datetime,
    product: str = "",
    batch_ids: Sequence[str] = (),
    immediate_actions: str = "",
    reason: str | None = None,
) -> Deviation:
    source = _source(session, source_type, source_id, source_label)
    deviation = deviation_service.report_deviation(
        session,
        actor=actor,
        title=title,
        description=description,
        area=area,
        occurred_at=occurred_at,
        discovered_at=discovered_at,
        product=product,
        batch_ids=batch_ids,
        immediate_actions=immediate_actions,
    )
    _link(session, actor=actor, source=source, target=deviation, reason=reason)
    return deviation


def open_capa(
    session: Session,
    *,
    actor: Actor,
    source_type: str,
    source_id: int | None,
    source_label: str | None,
    title: str,
    problem_statement: str,
    owner_id: int,
    due_at: datetime,
    reason: str | None = None,
) -> Capa:
    source = _source(session, source_type, source_id, source_label)
    capa = capa_service.create_capa(
        session,
        actor=actor,
        title=title,
        problem_statement=problem_statement,
        owner_id=owner_id,
        due_at=due_at,
    )
    _link(session, actor=actor, source=source, target=capa, reason=reason)
    return capa


def request_change(
    session: Session,
    *,
    actor: Actor,
    source_type: str,
    source_id: int | None,
    source_label: str | None,
    title: str,
    description: str,
    justification: str,
    change_type: str = "permanent",
    owner_id: int | None = None,
    affected: Sequence[str] = (),
    reason: str | None = None,
) -> ChangeRequest:
    source = _source(session, source_type, source_id, source_label)
    named = [line.strip() for line in affected if line.strip()]
    if named:
        description = (
            description.rstrip() + "\n\nAffected:\n" + "\n".join(f"- {line}" for line in named)
        )
    change = change_service.request_change(
        session,
        actor=actor,
        title=title,
        description=description,
        justification=justification,
        change_type=change_type,
        owner_id=owner_id,
    )
    _link(session, actor=actor, source=source, target=change, reason=reason)
    return change


def register_complaint(
    session: Session,
    *,
    actor: Actor,
    source_type: str,
    source_id: int | None,
    source_label: str | None,
    product: str,
    lot: str,
    complainant_name: str,
    complainant_type: str,
    received_at: datetime,
    description: str,
    complainant_contact: str = "",
    reason: str | None = None,
) -> Complaint:
    source = _source(session, source_type, source_id, source_label)
    complaint = complaint_service.register_complaint(
        session,
        actor=actor,
        product=product,
        lot=lot,
        complainant_name=complainant_name,
        complainant_type=complainant_type,
        complainant_contact=complainant_contact,
        received_at=received_at,
        description=description,
    )
    _link(session, actor=actor, source=source, target=complaint, reason=reason)
    return complaint


def link_records(
    session: Session,
    *,
    actor: Actor,
    source_type: str,
    source_id: int | None,
    source_label: str | None,
    target_type: str,
    target_id: int,
    reason: str,
) -> QualityLink:
    if target_type not in QUALITY_RECORD_TYPES:
        raise InvalidInput(
            f"links lead to quality records ({', '.join(QUALITY_RECORD_TYPES)}), "
            f"not to {target_type!r}",
            field="target_type",
        )
    if not (actor.can("deviations.investigate") or actor.can("capa.manage")):
        raise PermissionDenied(
            f"{actor.username} may not link quality records: that needs "
            "'deviations.investigate' or 'capa.manage'"
        )
    registered = RECORD_TYPES[target_type]
    target = session.get(registered.model, target_id)
    if target is None:
        raise NotFound(f"no {registered.label.lower()} with id {target_id}")
    source = _source(session, source_type, source_id, source_label)
    return _link(session, actor=actor, source=source, target=target, reason=reason)


def hand_over_adverse_event(
    session: Session, *, actor: Actor, complaint_id: int, case: GxPRecord
) -> QualityLink:
    complaint = complaint_service.get_complaint(session, complaint_id)
    source = _source(session, "complaint", complaint.id, None)
    link = links.record_link(
        session,
        actor=actor,
        source=source,
        target=case,
        reason=f"adverse event handed to pharmacovigilance as {case.audit_label()}",
    )
    complaint_service.note_pv_case(
        session, actor=actor, complaint=complaint, case_label=case.audit_label()
    )
    return link


def acknowledge_adverse_event(
    session: Session, *, actor: Actor, complaint_id: int, case: GxPRecord
) -> Complaint:
    return complaint_service.acknowledge_handover(
        session, actor=actor, complaint_id=complaint_id, pv_reference=case.audit_label()
    )


def links_of(session: Session, record_type: str, record_id: int) -> RecordLinks:
    return links.links_of(session, record_type, record_id)
