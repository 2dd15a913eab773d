"""Technology transfer: how development hands a recipe to production without either module
importing the other.

Research and development owns the development recipe; production owns the master batch record
and the specifications its batches are made and tested to. A lifecycle module never imports
another, so production registers itself here as the *transfer target* at import, and R&D calls
the target through this module when the change control of a transfer is implemented::

    # production, at import
    from pharmaqms.quality.transfer import register_transfer_target
    register_transfer_target(ProductionTarget())

    # R&D, while implementing the approved change
    from pharmaqms.quality.transfer import TransferPackage, transfer_target
    drafts = transfer_target().create_drafts(session, actor=actor, package=package)
    ...
    problems = transfer_target().not_effective(session, drafts)   # [] once all are in force

The target creates its drafts through its own services (so they are numbered, audited and go
through their own approval) and checks its own permissions; a refusal is a ``QMSError`` and
leaves nothing behind once the caller's unit of work rolls back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.orm import Session

from pharmaqms.kernel.errors import Conflict
from pharmaqms.kernel.identity import Actor


@dataclass(frozen=True)
class FormulaLine:
    """A material of the formula with its quantity for one batch of ``batch_size``."""

    material_code: str
    quantity: float
    unit: str
    tolerance_percent: float


@dataclass(frozen=True)
class ProcessParameter:
    """A critical process parameter (or an in-process control) with its proven range."""

    name: str
    unit: str
    low: float | None
    high: float | None


@dataclass(frozen=True)
class ProcessStep:
    unit_procedure: str
    operation: str
    title: str
    instructions: str
    equipment: tuple[str, ...]
    parameters: tuple[ProcessParameter, ...]
    in_process_controls: tuple[ProcessParameter, ...]
    target_minutes: int


@dataclass(frozen=True)
class QualityAttribute:
    """A critical quality attribute with its specification limits (either side optional)."""

    code: str
    name: str
    unit: str
    lower: float | None
    upper: float | None
    method: str = ""


@dataclass(frozen=True)
class TransferPackage:
    """What development hands over: the recipe as approved, for one product and market."""

    source_label: str  # the recipe's number, e.g. "RCP-2026-0001 r1"
    change_label: str  # the change request that implements it
    product_code: str
    title: str
    market: str
    batch_size: float
    batch_unit: str
    formula: tuple[FormulaLine, ...]
    steps: tuple[ProcessStep, ...]
    attributes: tuple[QualityAttribute, ...]
    # The production procedures (SOP numbers in force) governing the manufacturing steps.
    governing_sops: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class DraftRef:
    """A draft the target created: its kind, id and number, and the page that shows it."""

    kind: str  # "master_batch_record" or "specification"
    record_id: int
    number: str
    url: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "record_id": self.record_id,
            "number": self.number,
            "url": self.url,
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> DraftRef:
        return cls(str(raw["kind"]), int(raw["record_id"]), str(raw["number"]), str(raw["url"]))


class TransferTarget(Protocol):
    def create_drafts(
        self, session: Session, *, actor: Actor, package: TransferPackage
    ) -> list[DraftRef]: ...

    def in_force(self, session: Session, product_code: str) -> list[str]:
        """The product's production documents in force now, as people name them (what a new
        transfer affects)."""
        ...

    def not_effective(self, session: Session, drafts: Sequence[DraftRef]) -> list[str]:
        """Why the drafts are not all in force yet, one reason each; empty when they are."""
        ...


_TARGET: list[TransferTarget] = []


def register_transfer_target(target: TransferTarget) -> None:
    _TARGET[:] = [target]


class NoTransferTarget(Conflict):
    code = "no_transfer_target"
    title = "No production module to receive the transfer"


def transfer_target() -> TransferTarget:
    if not _TARGET:
        raise NoTransferTarget("no production module is installed to receive a technology transfer")
    return _TARGET[0]
