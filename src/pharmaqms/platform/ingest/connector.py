"""What a connector is: a small adapter from an outside format to rows of canonical entities.

``rows`` parses the whole delivery (raising ``DocumentRefused`` when it can't be read at all)
and yields one ``SourceRow`` per record with its position in the source; governance then
checks each row against the entity's ``EntitySpec``; ``store`` writes an accepted row (or finds
it already there: re-importing changes nothing) and may still refuse it for reasons only the
database knows (an unknown lot) — refused rows go to the quarantine with those reasons."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session

from pharmaqms.kernel.identity import Actor
from pharmaqms.platform.governance.rules import Checked, EntitySpec, Problem


@dataclass(frozen=True)
class SourceRow:
    entity: str
    position: str  # "line 14", "event 3", "message 2026-…"
    values: dict[str, Any]


@dataclass
class Stored:
    """The outcome of writing one accepted row."""

    entity_id: int | None = None
    duplicate: bool = False
    problems: list[Problem] = field(default_factory=list)
    # When the measurement was made, for the timeliness figure.
    measured_at: datetime | None = None


@dataclass(frozen=True)
class StoreContext:
    session: Session
    run_id: int
    source_id: int
    received_at: datetime
    mapping: dict[str, Any]
    # Who delivers: a connector that registers master data on the way (a new batch) writes
    # through the master-data services, which name the actor; data rows are sealed as theirs.
    actor: Actor


class Connector(Protocol):
    kind: str
    specs: dict[str, EntitySpec]

    def rows(self, content: bytes, mapping: dict[str, Any]) -> Iterator[SourceRow]: ...

    def store(self, ctx: StoreContext, entity: str, checked: Checked) -> Stored: ...
