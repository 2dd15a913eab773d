"""Tables of the EPCIS repository: duplicate findings, named queries, their subscriptions and
the log of every delivery attempt to a subscriber."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pharmaqms.kernel.db import Base, JSONText
from pharmaqms.kernel.records import Audited, SealedData


class EpcisDuplicate(SealedData, Base):
    """An event that arrived with an eventID of its own but the CBV 2.0 event hash of an event
    already captured: both are kept (accepted data is never dropped), and this row is the
    finding a person reviews — a re-sent document, two systems reporting one observation, or
    an eventID reused to disguise a copy."""

    __tablename__ = "epcis_duplicates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_hash: Mapped[str] = mapped_column(String(120), nullable=False, index=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("epcis_events.id"), nullable=False)
    """The later arrival."""
    original_event_id: Mapped[int] = mapped_column(ForeignKey("epcis_events.id"), nullable=False)
    """The event captured first with the same hash."""
    found_at: Mapped[datetime] = mapped_column(nullable=False)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("import_runs.id"))


class EpcisNamedQuery(Audited, Base):
    """A stored EPCIS query (the standard's named queries): its parameters as given to
    ``GET /api/v1/epcis/events``, checked when it is created."""

    __tablename__ = "epcis_named_queries"
    __audit_type__ = "epcis_named_query"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True, nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    parameters: Mapped[dict[str, Any]] = mapped_column(JSONText, nullable=False)
    created_at: Mapped[datetime] = mapped_column(nullable=False)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    retired: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)

    def audit_label(self) -> str:
        return f"EPCIS query {self.name}"


class EpcisSubscription(Audited, Base):
    """A subscriber to a named query (the standard's subscriptions, REST bindings): each new
    capture whose events the query matches is sent to ``dest`` as an ``EPCISQueryDocument``,
    signed with ``secret`` (HMAC-SHA256). Deactivated, never deleted: the log of what was sent
    keeps pointing at it."""

    __tablename__ = "epcis_subscriptions"
    __audit_type__ = "epcis_subscription"
    # The shared secret signs what is sent; the audit trail says it changed, never its value.
    __audit_masked__ = frozenset({"secret"})

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    query_id: Mapped[int] = mapped_column(ForeignKey("epcis_named_queries.id"), nullable=False)
    dest: Mapped[str] = mapped_column(String(2000), nullable=False)
    secret: Mapped[str] = mapped_column(String(200), nullable=False)
    report_if_empty: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = mapped_column(nullable=False)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    deactivated_at: Mapped[datetime | None] = mapped_column()
    deactivated_reason: Mapped[str | None] = mapped_column(Text)

    def audit_label(self) -> str:
        return f"EPCIS subscription {self.id} to {self.dest}"


class EpcisDeliveryAttempt(SealedData, Base):
    """One attempt to send new events to a subscriber, as it happened: append-only, so the state
    of a delivery (``delivery_key``) is its latest attempt — sent, waiting for ``retry_at``, or
    given up. A trading partner's "we never got it" is answered from these rows."""

    __tablename__ = "epcis_delivery_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_key: Mapped[str] = mapped_column(String(40), nullable=False, index=True)
    """The ``X-Pharmaqms-Delivery`` header: the same on every attempt of one delivery."""
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("epcis_subscriptions.id"), nullable=False, index=True
    )
    run_id: Mapped[int | None] = mapped_column(ForeignKey("import_runs.id"))
    event_ids: Mapped[list[int]] = mapped_column(JSONText, nullable=False)
    """The repository rows (``epcis_events.id``) sent."""
    attempt: Mapped[int] = mapped_column(Integer, nullable=False)
    attempted_at: Mapped[datetime] = mapped_column(nullable=False)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    delivered: Mapped[bool] = mapped_column(Boolean, nullable=False)
    retry_at: Mapped[datetime | None] = mapped_column(index=True)
    """When to try again; empty once delivered or given up."""
    given_up: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
