"""The whole ICSR, and what reading a batch gives back for each message in it.

Reading never half-stores: each message is either parsed whole (:class:`ParsedMessage`, with
findings about implausible values beside it) or refused whole (:class:`RefusedMessage`, with a
reason code, its position in the batch and its own XML for quarantine). A batch that cannot be
read at all (not XML, a DOCTYPE, too large, not an E2B batch) raises
:class:`E2BDocumentRefused`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pharmaqms.kernel.errors import DocumentRefused
from pharmaqms.lifecycle.use.e2b.model import (
    BatchHeader,
    LiteratureReference,
    MessageHeader,
    Narrative,
    PrimarySource,
    Reaction,
    ReportIdentification,
    Sender,
    Study,
    TestResult,
    el,
    req,
)
from pharmaqms.lifecycle.use.e2b.model_drug import Drug
from pharmaqms.lifecycle.use.e2b.model_patient import Patient


@dataclass(frozen=True)
class ICSR:
    """One individual case safety report, as one E2B(R3) message carries it."""

    message: MessageHeader = req("N.2.r")
    report: ReportIdentification = req("C.1")
    primary_sources: tuple[PrimarySource, ...] = el("C.2.r", ())
    sender: Sender | None = el("C.3", None)
    literature: tuple[LiteratureReference, ...] = el("C.4.r", ())
    study: Study | None = el("C.5", None)
    patient: Patient = el("D", Patient())  # the message always has one, perhaps empty
    reactions: tuple[Reaction, ...] = el("E.i", ())
    tests: tuple[TestResult, ...] = el("F.r", ())
    drugs: tuple[Drug, ...] = el("G.k", ())
    narrative: Narrative = el("H", Narrative())

    @property
    def serious(self) -> bool:
        """A case is serious if any reaction meets any E.i.3.2 criterion (ICH E2A)."""
        return any(reaction.serious for reaction in self.reactions)

    @property
    def lot_numbers(self) -> tuple[str, ...]:
        """Every batch / lot number reported in the case, in message order, no repeats."""
        seen: dict[str, None] = {}
        for drug in self.drugs:
            for lot in drug.lot_numbers:
                seen.setdefault(lot, None)
        return tuple(seen)


class FindingCode(StrEnum):
    """Why a parsed value deserves a person's eye. A finding never changes the value."""

    IMPLAUSIBLE_AGE = "implausible_age"  # negative, or beyond a human lifespan
    IMPLAUSIBLE_MEASURE = "implausible_measure"  # negative or absurd weight, height, dose
    FUTURE_DATE = "future_date"  # certainly after the reading's "now"
    END_BEFORE_START = "end_before_start"  # an end (or death) certainly before its start
    DUPLICATE_IN_BATCH = "duplicate_in_batch"  # the same case id twice in one batch
    NULL_FLAVOUR_NOT_HELD = "null_flavour_not_held"  # a null flavour where none is allowed


@dataclass(frozen=True)
class Finding:
    """A plausibility finding about one value: where (E2B element), what, and the value."""

    code: FindingCode
    element: str
    message: str
    value: str


class RefusalReason(StrEnum):
    """Why one message of a batch was not taken (the others still are)."""

    MISSING_ELEMENT = "missing_element"  # an element the model cannot do without
    INVALID_DATE = "invalid_date"  # not an HL7 timestamp, or no such day
    INVALID_NUMBER = "invalid_number"  # not a finite decimal
    UNKNOWN_CODE = "unknown_code"  # a code outside its ICH code list
    REPEATED_ELEMENT = "repeated_element"  # more than one where the IG allows one
    DANGLING_REFERENCE = "dangling_reference"  # a causality pointing at no drug or reaction
    WRONG_STRUCTURE = "wrong_structure"  # not a PORR_IN049016UV message as the IG builds it


class DocumentReason(StrEnum):
    """Why a whole batch file was not taken."""

    TOO_LARGE = "too_large"
    DOCTYPE_FORBIDDEN = "doctype_forbidden"
    NOT_WELL_FORMED = "not_well_formed"
    NOT_E2B_BATCH = "not_e2b_batch"
    MISSING_ELEMENT = "missing_element"
    INVALID_DATE = "invalid_date"
    NO_MESSAGES = "no_messages"


class E2BDocumentRefused(DocumentRefused):
    """A whole E2B file that cannot be taken at all (HTTP 422, ``document_refused``)."""

    def __init__(self, reason: DocumentReason, message: str) -> None:
        super().__init__(message, extra={"reason": reason.value})
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class ParsedMessage:
    """A message read whole, with its position in the batch (1-based) and its findings."""

    position: int
    batch: BatchHeader
    icsr: ICSR
    findings: tuple[Finding, ...]


@dataclass(frozen=True)
class RefusedMessage:
    """A message not taken: why, where in the batch, and its XML as received (for quarantine)."""

    position: int
    batch: BatchHeader
    reason: RefusalReason
    element: str  # the E2B element (or XML path) at fault
    detail: str
    message_id: str | None  # N.2.r.1 when it could be read, to name the message
    raw: bytes


MessageResult = ParsedMessage | RefusedMessage
