"""The ICSR as typed, immutable values: what one E2B(R3) ``PORR_IN049016UV`` message holds.

Every field names its ICH E2B(R3) data element in its metadata (``e2b``), which findings and
validation messages quote. ``None`` means the element was absent; a :class:`NullFlavor` means
the sender said why it is absent (masked, asked but unknown…), which is information and is kept.
Repeating elements are tuples, in message order. Quantities are :class:`~decimal.Decimal` so
that a dose of 0.1 mg stays 0.1 mg through a round trip.

Patient (section D) and drugs (section G) live in ``model_patient`` and ``model_drug``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from pharmaqms.lifecycle.use.e2b.codes import (
    FirstSender,
    NullFlavor,
    Nullification,
    Outcome,
    Qualification,
    ReportType,
    SenderType,
    StudyType,
    TermHighlighted,
    TestResultCode,
)
from pharmaqms.lifecycle.use.e2b.dates import HL7Time

T = TypeVar("T")

# A value, or the reason it is missing, or nothing at all.
Text = str | NullFlavor | None
Date = HL7Time | NullFlavor | None
Flag = bool | NullFlavor | None
Country = str | NullFlavor | None


def el(element: str, default: T) -> T:
    """A dataclass field that knows its E2B data element (for messages and checks)."""
    result: T = field(default=default, metadata={"e2b": element})
    return result


def req(element: str) -> Any:
    """A required dataclass field that knows its E2B data element."""
    return field(metadata={"e2b": element})


@dataclass(frozen=True)
class Quantity:
    """An HL7 physical quantity: a number and its UCUM unit."""

    value: Decimal
    unit: str


@dataclass(frozen=True)
class MedDRA:
    """A MedDRA term: version (e.g. "26.1") and code (an 8-digit LLT code, e.g. "10022617")."""

    version: str | None
    code: str | None


@dataclass(frozen=True)
class TermId:
    """A term from an outside dictionary (ISO IDMP MPID/PhPID, substance, dose form, route)."""

    code: str | None
    version: str | None = None
    system: str | None = None  # the code system OID (or the IG's "TBD-…" placeholder)


@dataclass(frozen=True)
class Document:
    """C.1.6.1.r / C.4.r.2: a document held by the sender, optionally included (base64)."""

    title: str | None = None
    media_type: str | None = None
    data_b64: str | None = None  # included as sent, not decoded: we keep, not interpret
    compression: str | None = None  # "DF" when the data is deflated before base64


@dataclass(frozen=True)
class MessageHeader:
    """N.2.r: the message wrapper around one ICSR."""

    message_id: str = req("N.2.r.1")
    sender_id: str = req("N.2.r.2")
    receiver_id: str = req("N.2.r.3")
    created: HL7Time = req("N.2.r.4")


@dataclass(frozen=True)
class BatchHeader:
    """N.1: the batch wrapper (``MCCI_IN200100UV01``) around one or more messages."""

    batch_id: str = req("N.1.2")
    sender_id: str = req("N.1.3")
    receiver_id: str = req("N.1.4")
    created: HL7Time = req("N.1.5")
    message_type: str = el("N.1.1", "1")  # 1 = ichicsr


@dataclass(frozen=True)
class OtherCaseId:
    """C.1.9.1.r: an identifier the case had in an earlier transmission."""

    source: str | None = el("C.1.9.1.r.1", None)
    case_id: str | None = el("C.1.9.1.r.2", None)


@dataclass(frozen=True)
class ReportIdentification:
    """C.1: identification of the case safety report."""

    safety_report_id: str = req("C.1.1")
    created: HL7Time = req("C.1.2")
    report_type: ReportType | None = el("C.1.3", None)
    first_received: HL7Time | None = el("C.1.4", None)
    most_recent: HL7Time | None = el("C.1.5", None)
    additional_documents: bool | None = el("C.1.6.1", None)
    documents_held: tuple[Document, ...] = el("C.1.6.1.r", ())
    expedited: Flag = el("C.1.7", None)
    worldwide_case_id: str | None = el("C.1.8.1", None)
    first_sender: FirstSender | None = el("C.1.8.2", None)
    other_case_ids_exist: Flag = el("C.1.9.1", None)
    other_case_ids: tuple[OtherCaseId, ...] = el("C.1.9.1.r", ())
    linked_reports: tuple[str, ...] = el("C.1.10.r", ())
    nullification: Nullification | None = el("C.1.11.1", None)
    nullification_reason: str | None = el("C.1.11.2", None)


@dataclass(frozen=True)
class PrimarySource:
    """C.2.r: a primary source (reporter) of the information."""

    title: Text = el("C.2.r.1.1", None)
    given_name: Text = el("C.2.r.1.2", None)
    middle_name: Text = el("C.2.r.1.3", None)
    family_name: Text = el("C.2.r.1.4", None)
    organisation: Text = el("C.2.r.2.1", None)
    department: Text = el("C.2.r.2.2", None)
    street: Text = el("C.2.r.2.3", None)
    city: Text = el("C.2.r.2.4", None)
    state: Text = el("C.2.r.2.5", None)
    postcode: Text = el("C.2.r.2.6", None)
    telephone: Text = el("C.2.r.2.7", None)
    country: Country = el("C.2.r.3", None)
    qualification: Qualification | NullFlavor | None = el("C.2.r.4", None)
    for_regulatory_purposes: bool = el("C.2.r.5", False)


@dataclass(frozen=True)
class Sender:
    """C.3: the sender of the case safety report (the organisation, and who sends it)."""

    sender_type: SenderType | None = el("C.3.1", None)
    organisation: str | None = el("C.3.2", None)
    department: str | None = el("C.3.3.1", None)
    title: str | None = el("C.3.3.2", None)
    given_name: str | None = el("C.3.3.3", None)
    middle_name: str | None = el("C.3.3.4", None)
    family_name: str | None = el("C.3.3.5", None)
    street: str | None = el("C.3.4.1", None)
    city: str | None = el("C.3.4.2", None)
    state: str | None = el("C.3.4.3", None)
    postcode: str | None = el("C.3.4.4", None)
    country: str | None = el("C.3.4.5", None)
    telephone: str | None = el("C.3.4.6", None)
    fax: str | None = el("C.3.4.7", None)
    email: str | None = el("C.3.4.8", None)


@dataclass(frozen=True)
class LiteratureReference:
    """C.4.r: a literature reference, optionally with the article itself."""

    reference: Text = el("C.4.r.1", None)
    document: Document | None = el("C.4.r.2", None)


@dataclass(frozen=True)
class StudyRegistration:
    """C.5.1.r: a registration of the study (number and country)."""

    number: Text = el("C.5.1.r.1", None)
    country: Country = el("C.5.1.r.2", None)


@dataclass(frozen=True)
class Study:
    """C.5: the study the reaction was observed in."""

    registrations: tuple[StudyRegistration, ...] = el("C.5.1.r", ())
    name: Text = el("C.5.2", None)
    sponsor_study_number: Text = el("C.5.3", None)
    study_type: StudyType | None = el("C.5.4", None)


@dataclass(frozen=True)
class SeriousnessCriteria:
    """E.i.3.2a–f: each criterion true, or a null flavour (the IG admits NI), or absent."""

    death: Flag = el("E.i.3.2a", None)
    life_threatening: Flag = el("E.i.3.2b", None)
    hospitalisation: Flag = el("E.i.3.2c", None)
    disabling: Flag = el("E.i.3.2d", None)
    congenital_anomaly: Flag = el("E.i.3.2e", None)
    other_medically_important: Flag = el("E.i.3.2f", None)

    def any_met(self) -> bool:
        return any(
            value is True
            for value in (
                self.death,
                self.life_threatening,
                self.hospitalisation,
                self.disabling,
                self.congenital_anomaly,
                self.other_medically_important,
            )
        )


@dataclass(frozen=True)
class Reaction:
    """E.i: one reaction / event. ``ref_id`` is its XML id, which section G refers to."""

    ref_id: str = req("E.i")
    reported_native: str | None = el("E.i.1.1a", None)
    reported_language: str | None = el("E.i.1.1b", None)
    reported_translation: str | None = el("E.i.1.2", None)
    meddra: MedDRA | None = el("E.i.2.1", None)
    term_highlighted: TermHighlighted | None = el("E.i.3.1", None)
    seriousness: SeriousnessCriteria = el("E.i.3.2", SeriousnessCriteria())
    start: Date = el("E.i.4", None)
    end: Date = el("E.i.5", None)
    duration: Quantity | None = el("E.i.6", None)
    outcome: Outcome | None = el("E.i.7", None)
    medically_confirmed: bool | None = el("E.i.8", None)
    country: str | None = el("E.i.9", None)

    @property
    def serious(self) -> bool:
        return self.seriousness.any_met()


@dataclass(frozen=True)
class TestResult:
    """F.r: a test or procedure relevant to the investigation of the patient."""

    __test__ = False  # not a pytest class, despite the name

    date: Date = el("F.r.1", None)
    name: str | None = el("F.r.2.1", None)
    meddra: MedDRA | None = el("F.r.2.2", None)
    result_code: TestResultCode | None = el("F.r.3.1", None)
    # F.r.3.2: a number, optionally with LT / GT / LE / GE (the result is below, above…).
    result_value: Decimal | None = el("F.r.3.2", None)
    result_qualifier: str | None = el("F.r.3.2", None)
    result_unit: str | None = el("F.r.3.3", None)
    result_text: str | None = el("F.r.3.4", None)
    normal_low: Quantity | None = el("F.r.4", None)
    normal_high: Quantity | None = el("F.r.5", None)
    comments: str | None = el("F.r.6", None)
    more_information: bool | None = el("F.r.7", None)


@dataclass(frozen=True)
class CaseSummary:
    """H.5.r: case summary and reporter's comments in the reporter's language."""

    text: str = req("H.5.r.1a")
    language: str | None = el("H.5.r.1b", None)


@dataclass(frozen=True)
class Narrative:
    """H: narrative case summary and further information."""

    case_narrative: str | None = el("H.1", None)
    reporter_comments: str | None = el("H.2", None)
    sender_diagnoses: tuple[MedDRA, ...] = el("H.3.r", ())
    sender_comments: str | None = el("H.4", None)
    case_summaries: tuple[CaseSummary, ...] = el("H.5.r", ())
