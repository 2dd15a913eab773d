"""Links between a record and the quality records it led to: an excursion raised DEV-2026-0007,
which led to CAPA-2026-0003, which led to CC-2026-0002. One generic table serves every module,
so that a record page shows both "raised from" and "led to", and every loop closes visibly on
both sides.

A source is a record of any module (``record_type`` + ``record_id``), or something outside the
system named by a label only (an audit finding of an inspection report: ``record_id`` empty).
A target is always a quality record of this system.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from pharmaqms.kernel import audit, clock
from pharmaqms.kernel.db import Base
from pharmaqms.kernel.errors import Conflict, InvalidInput, NotFound
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.records import Audited, GxPRecord
from pharmaqms.kernel.registry import RECORD_TYPES
from pharmaqms.kernel.reports.sections import Section, cells, report_section

RECORD_TYPE_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,59}$")


class QualityLink(Audited, Base):
    __tablename__ = "quality_links"
    __audit_type__ = "quality_link"
    __table_args__ = (
        UniqueConstraint("source_type", "source_id", "source_label", "target_type", "target_id"),
        Index("ix_quality_links_source", "source_type", "source_id"),
        Index("ix_quality_links_target", "target_type", "target_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_type: Mapped[str] = mapped_column(String(60), nullable=False)
    source_id: Mapped[int | None] = mapped_column(Integer)
    source_label: Mapped[str] = mapped_column(String(200), nullable=False)
    target_type: Mapped[str] = mapped_column(String(60), nullable=False)
    target_id: Mapped[int] = mapped_column(Integer, nullable=False)
    target_label: Mapped[str] = mapped_column(String(200), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(nullable=False)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)

    def audit_label(self) -> str:
        return f"{self.source_label} → {self.target_label}"


@dataclass(frozen=True)
class Source:
    """Where a quality event comes from, as the calling module names it."""

    record_type: str
    record_id: int | None
    label: str


def resolve_source(session: Session, source: Source) -> Source:
    """Check a source and, when it is a registered record, take its label from the record."""
    record_type = (source.record_type or "").strip()
    if not RECORD_TYPE_PATTERN.match(record_type):
        raise InvalidInput(
            "source_type must be a record type name (lower case letters, digits and _), "
            f"not {source.record_type!r}",
            field="source_type",
        )
    label = (source.label or "").strip()
    if len(label) > 200:
        raise InvalidInput("source_label is longer than 200 characters", field="source_label")
    registered = RECORD_TYPES.get(record_type)
    if registered is not None:
        if source.record_id is None:
            raise InvalidInput(
                f"a {registered.label.lower()} source needs its record id", field="source_id"
            )
        record = session.get(registered.model, source.record_id)
        if record is None:
            raise NotFound(f"no {registered.label.lower()} with id {source.record_id}")
        return Source(record_type, record.id, record.audit_label())
    if not label:
        raise InvalidInput(
            "name the source (source_label), e.g. the excursion or audit finding number",
            field="source_label",
        )
    return Source(record_type, source.record_id, label)


def record_link(
    session: Session, *, actor: Actor, source: Source, target: GxPRecord, reason: str
) -> QualityLink:
    """Record that ``source`` led to ``target``. The source must have been resolved."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("say why the source leads to this record", field="reason")
    if source.record_type == target.__audit_type__ and source.record_id == target.id:
        raise InvalidInput("a record can't be linked to itself", field="source_id")
    existing = session.scalars(
        select(QualityLink).where(
            QualityLink.source_type == source.record_type,
            QualityLink.source_id.is_(None)
            if source.record_id is None
            else QualityLink.source_id == source.record_id,
            QualityLink.source_label == source.label,
            QualityLink.target_type == target.__audit_type__,
            QualityLink.target_id == target.id,
        )
    ).first()
    if existing is not None:
        raise Conflict(f"{source.label} is already linked to {target.audit_label()}")
    link = QualityLink(
        source_type=source.record_type,
        source_id=source.record_id,
        source_label=source.label,
        target_type=target.__audit_type__,
        target_id=target.id,
        target_label=target.audit_label(),
        reason=reason[:4000],
        created_at=clock.now(),
        created_by_id=actor.user_id,
    )
    with audit.changes(session, actor=actor, reason=reason, action="link"):
        session.add(link)
    return link


@dataclass(frozen=True)
class LinkedRecord:
    """The other end of a link, seen from one record."""

    record_type: str
    record_id: int | None
    label: str
    reason: str
    linked_at: datetime
    status: str | None
    url: str | None

    @property
    def type_label(self) -> str:
        registered = RECORD_TYPES.get(self.record_type)
        return registered.label if registered else self.record_type.replace("_", " ")

    @property
    def read_permission(self) -> str:
        """What the linked record's page asks of its reader (the notebook's own permission for
        its records): a page shows the link only to those who hold it."""
        registered = RECORD_TYPES.get(self.record_type)
        return (registered.read_permission if registered else None) or "records.read"

    def as_dict(self) -> dict[str, Any]:
        return {
            "record_type": self.record_type,
            "record_id": self.record_id,
            "label": self.label,
            "type_label": self.type_label,
            "reason": self.reason,
            "linked_at": self.linked_at,
            "status": self.status,
            "url": self.url,
        }


@dataclass(frozen=True)
class RecordLinks:
    raised_from: list[LinkedRecord]
    led_to: list[LinkedRecord]


def _describe(
    session: Session, record_type: str, record_id: int | None, label: str, link: QualityLink
) -> LinkedRecord:
    registered = RECORD_TYPES.get(record_type)
    status = url = None
    if registered is not None and record_id is not None:
        record = session.get(registered.model, record_id)
        if record is not None:
            status = record.status
            label = record.audit_label()
            url = (
                registered.detail_url(record)
                if registered.detail_url
                else f"/records/{record_type}/{record_id}"
            )
    return LinkedRecord(record_type, record_id, label, link.reason, link.created_at, status, url)


def links_of(session: Session, record_type: str, record_id: int) -> RecordLinks:
    rows = session.scalars(
        select(QualityLink)
        .where(
            or_(
                (QualityLink.source_type == record_type) & (QualityLink.source_id == record_id),
                (QualityLink.target_type == record_type) & (QualityLink.target_id == record_id),
            )
        )
        .order_by(QualityLink.created_at, QualityLink.id)
    )
    raised_from: list[LinkedRecord] = []
    led_to: list[LinkedRecord] = []
    for link in rows:
        if link.target_type == record_type and link.target_id == record_id:
            raised_from.append(
                _describe(session, link.source_type, link.source_id, link.source_label, link)
            )
        else:
            led_to.append(
                _describe(session, link.target_type, link.target_id, link.target_label, link)
            )
    return RecordLinks(raised_from, led_to)


def targets_of(session: Session, source_type: str, source_id: int, target_type: str) -> list[int]:
    """Ids of the ``target_type`` records a source led to (the CAPAs of a deviation)."""
    return list(
        session.scalars(
            select(QualityLink.target_id).where(
                QualityLink.source_type == source_type,
                QualityLink.source_id == source_id,
                QualityLink.target_type == target_type,
            )
        )
    )


@report_section()
def linked_records(session: Session, record: GxPRecord) -> list[Section]:
    """Every record's printed report lists what it was raised from and what it led to."""
    links = links_of(session, record.__audit_type__, record.id)
    rows = []
    for direction, found in (("Raised from", links.raised_from), ("Led to", links.led_to)):
        for other in found:
            registered = RECORD_TYPES.get(other.record_type)
            status = (
                registered.workflow.state_label(other.status)
                if registered is not None and other.status
                else other.status
            )
            when = cells(status, other.linked_at)
            rows.append([direction, other.type_label, other.label, *when, other.reason])
    return [
        Section(
            "Linked records",
            rows,
            columns=("Link", "Type", "Record", "Status", "Linked", "Why"),
            note="" if rows else "No linked records.",
            widths=(14, 20, 24, 16, 22, 40),
        )
    ]


def targets_from(session: Session, sources: list[tuple[str, int]], target_type: str) -> list[int]:
    """Ids of the ``target_type`` records any of these sources led to, each once, in order:
    the CAPAs raised from a product's deviations and complaints."""
    found: set[int] = set()
    by_type: dict[str, list[int]] = {}
    for source_type, source_id in sources:
        by_type.setdefault(source_type, []).append(source_id)
    for source_type, ids in by_type.items():
        found.update(
            session.scalars(
                select(QualityLink.target_id).where(
                    QualityLink.source_type == source_type,
                    QualityLink.source_id.in_(ids),
                    QualityLink.target_type == target_type,
                )
            )
        )
    return sorted(found)
