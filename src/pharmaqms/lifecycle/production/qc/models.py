"""QC testing: specifications (versioned, approved by signature) with their test criteria, the
results judged against them, the laboratory investigations of out-of-specification results
(FDA, *Investigating OOS Test Results for Pharmaceutical Production*, 2006/2022), and the
certificate of analysis of a lot."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pharmaqms.kernel.db import Base, JSONText
from pharmaqms.kernel.records import Audited, GxPRecord, Versioned

# --- specifications -------------------------------------------------------------------------


class SubjectKind(StrEnum):
    PRODUCT = "product"  # finished product: judged on its batches (finished lots)
    MATERIAL = "material"  # starting or packaging material: judged on incoming lots


class SpecificationStatus(StrEnum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    SUPERSEDED = "superseded"
    RETIRED = "retired"


class CriterionKind(StrEnum):
    NUMERIC = "numeric"  # limits, either side optional
    LIST = "list"  # the result must be one of the allowed answers ("conforms", "white")


class TrendRule(StrEnum):
    NONE = "none"
    # Out of trend when outside mean ± k·s of the previous N batches.
    MEAN_KS = "mean_ks"
    # Out of trend when it completes a run of R batches steadily rising or falling.
    RUN = "run"
    BOTH = "both"


class Specification(GxPRecord, Base):
    """One revision of a specification for a product or material in one market. A family
    (``family``, e.g. QSPEC-2026-0003) holds its revisions; one revision of a family is approved
    at a time, and approving a new one supersedes the previous."""

    __tablename__ = "qc_specifications"
    __audit_type__ = "qc_specification"
    __table_args__ = (UniqueConstraint("family", "revision"),)
    __draft_states__ = frozenset({SpecificationStatus.DRAFT.value})
    __signed_fields__ = (
        "family",
        "revision",
        "subject_kind",
        "product_id",
        "material_id",
        "market",
        "title",
        "change_summary",
    )

    family: Mapped[str] = mapped_column(String(40), nullable=False, index=True)
    revision: Mapped[int] = mapped_column(Integer, nullable=False)
    subject_kind: Mapped[str] = mapped_column(String(20), nullable=False)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))
    material_id: Mapped[int | None] = mapped_column(ForeignKey("materials.id"))
    # The item's code (product or material code), the key lots carry as ``item_code``.
    item_code: Mapped[str] = mapped_column(String(40), nullable=False, index=True)
    market: Mapped[str] = mapped_column(String(40), nullable=False)
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    change_summary: Mapped[str] = mapped_column(Text, nullable=False, default="")
    approved_at: Mapped[datetime | None] = mapped_column()

    # The criteria in force in this revision. A criterion removed from a draft keeps its row
    # (nothing is deleted) with a position below 1, which takes it out of the specification.
    tests: Mapped[list[SpecificationTest]] = relationship(
        primaryjoin="and_(SpecificationTest.specification_id == Specification.id, "
        "SpecificationTest.position > 0)",
        order_by="SpecificationTest.position",
        viewonly=True,
    )

    def signed_content(self) -> dict[str, Any]:
        # The approval covers the criteria, not only the header: a changed limit would
        # otherwise keep a valid-looking signature.
        content = super().signed_content()
        content["tests"] = [t.criterion_content() for t in self.tests]
        return content


class SpecificationTest(Audited, Base):
    """One test of a specification and its acceptance criterion."""

    __tablename__ = "qc_specification_tests"
    __audit_type__ = "qc_specification_test"
    __table_args__ = (UniqueConstraint("specification_id", "test_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    specification_id: Mapped[int] = mapped_column(
        ForeignKey("qc_specifications.id"), nullable=False
    )
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    test_code: Mapped[str] = mapped_column(String(60), nullable=False)
    test_name: Mapped[str] = mapped_column(String(200), nullable=False)
    method: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    unit: Mapped[str] = mapped_column(String(20), nullable=False, default="")
    lower_limit: Mapped[float | None] = mapped_column(Float)
    upper_limit: Mapped[float | None] = mapped_column(Float)
    # Results are rounded to this many decimals before they are compared with the limits
    # (USP General Notices 7.20: the limit's own number of digits); None compares as measured.
    decimals: Mapped[int | None] = mapped_column(Integer)
    allowed_values: Mapped[list[str]] = mapped_column(JSONText, nullable=False, default=list)
    trend_rule: Mapped[str] = mapped_column(String(20), nullable=False, default="none")
    trend_window: Mapped[int] = mapped_column(Integer, nullable=False, default=10)
    trend_k: Mapped[float] = mapped_column(Float, nullable=False, default=3.0)
    trend_run_length: Mapped[int] = mapped_column(Integer, nullable=False, default=6)

    def audit_label(self) -> str:
        return f"test {self.test_code} of specification #{self.specification_id}"

    def criterion_content(self) -> dict[str, Any]:
        return {
            "test_code": self.test_code,
            "test_name": self.test_name,
            "method": self.method,
            "kind": self.kind,
            "unit": self.unit,
            "lower_limit": self.lower_limit,
            "upper_limit": self.upper_limit,
            "decimals": self.decimals,
            "allowed_values": list(self.allowed_values),
            "trend_rule": self.trend_rule,
            "trend_window": self.trend_window,
            "trend_k": self.trend_k,
            "trend_run_length": self.trend_run_length,
        }

    @property
    def criterion_text(self) -> str:
        if self.kind == CriterionKind.LIST:
            return " or ".join(self.allowed_values)
        unit = f" {self.unit}" if self.unit else ""
        low, high = self.lower_limit, self.upper_limit
        if low is not None and high is not None:
            return f"{low:g} – {high:g}{unit}"
        if low is not None:
            return f"≥ {low:g}{unit}"
        return f"≤ {high:g}{unit}"


# --- results --------------------------------------------------------------------------------


class ResultOutcome(StrEnum):
    PASS = "pass"  # noqa: S105 - an outcome, not a password
    FAIL = "fail"  # out of specification
    NOT_EVALUATED = "not_evaluated"  # no approved criterion, or a unit that can't be compared


class ResultStatus(StrEnum):
    VALID = "valid"
    # Invalidated by a recorded decision of an OOS investigation; the row and its value stay.
    INVALIDATED = "invalidated"


class TrendStatus(StrEnum):
    NONE = "none"
    OPEN = "open"  # out of trend, waiting for QC's assessment
    ASSESSED = "assessed"


class ResultSource(StrEnum):
    LIMS = "lims"  # a platform TestResult delivered by a LIMS
    MANUAL = "manual"  # entered in the UI or through the API


class QcResult(Audited, Versioned, Base):
    """A QC result as the QC unit judges it. The measured value is never changed after it is
    recorded: an error is handled by invalidating the result in an OOS investigation and
    recording a retest, which is a new row pointing at the original."""

    __tablename__ = "qc_results"
    __audit_type__ = "qc_result"
    __table_args__ = (Index("ix_qc_results_lot_test", "lot_id", "test_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"), nullable=False)
    item_code: Mapped[str] = mapped_column(String(40), nullable=False)
    sample_id: Mapped[str] = mapped_column(String(60), nullable=False)
    test_code: Mapped[str] = mapped_column(String(60), nullable=False)
    test_name: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    replicate: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    value: Mapped[float | None] = mapped_column(Float)
    text_value: Mapped[str | None] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(20), nullable=False, default="")
    tested_at: Mapped[datetime] = mapped_column(nullable=False)
    analyst: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    source: Mapped[str] = mapped_column(String(20), nullable=False)
    test_result_id: Mapped[int | None] = mapped_column(ForeignKey("test_results.id"), unique=True)
    # A retest points at the result it repeats (FDA OOS guidance: the original is kept).
    retest_of_id: Mapped[int | None] = mapped_column(ForeignKey("qc_results.id"))
    outcome: Mapped[str] = mapped_column(String(20), nullable=False)
    # One judgement per approved specification of the item that lists the test:
    # [{"specification": "QSPEC-2026-0001 r1", "specification_id": 3, "market": "EU",
    #   "criterion": "95 – 105 %", "compared_value": 99.8, "outcome": "pass", "note": ""}]
    evaluations: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONText, nullable=False, default=list
    )
    evaluation_note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="valid")
    invalidated_reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    invalidated_at: Mapped[datetime | None] = mapped_column()
    trend_status: Mapped[str] = mapped_column(String(20), nullable=False, default="none")
    trend_findings: Mapped[list[str]] = mapped_column(JSONText, nullable=False, default=list)
    trend_assessment: Mapped[str] = mapped_column(Text, nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(nullable=False)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)

    def audit_label(self) -> str:
        shown = f"{self.value:g} {self.unit}".strip() if self.value is not None else self.text_value
        return f"result {self.test_code} {shown} (sample {self.sample_id})"

    def reason_required_for(self, changed: set[str], previous_status: str | None) -> bool:
        # A recorded result changes only by a documented decision (Annex 11 §9).
        return True

    @property
    def shown_value(self) -> str:
        if self.value is not None:
            return f"{self.value:g} {self.unit}".strip()
        return self.text_value or ""


# --- OOS investigations ---------------------------------------------------------------------


class InvestigationStatus(StrEnum):
    PHASE_1 = "phase_1"  # laboratory investigation: is there an assignable lab error?
    RETEST = "retest"  # lab error proven, original invalidated: the retest decides
    PHASE_2 = "phase_2"  # full-scale investigation, manufacturing included
    PENDING_APPROVAL = "pending_approval"  # conclusion written, waiting for QA
    CLOSED = "closed"


OPEN_INVESTIGATION_STATUSES = (
    InvestigationStatus.PHASE_1,
    InvestigationStatus.RETEST,
    InvestigationStatus.PHASE_2,
    InvestigationStatus.PENDING_APPROVAL,
)


class Conclusion(StrEnum):
    # The OOS result stands: the lot fails (a nonconforming product record follows).
    CONFIRMED = "confirmed"
    # Phase II proved the original result invalid (a root cause in the laboratory found late).
    INVALIDATED = "invalidated"


class OosInvestigation(GxPRecord, Base):
    __tablename__ = "oos_investigations"
    __audit_type__ = "oos_investigation"
    __number_prefix__ = "OOS"
    __draft_states__ = frozenset({InvestigationStatus.PHASE_1.value})
    __signed_fields__ = (
        "lot_id",
        "result_id",
        "test_code",
        "phase1_findings",
        "phase1_checklist",
        "assignable_cause",
        "lab_error_evidence",
        "phase2_manufacturing_review",
        "retest_protocol",
        "root_cause",
        "conclusion",
        "conclusion_rationale",
        "impact_on_other_lots",
    )

    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"), nullable=False, index=True)
    result_id: Mapped[int] = mapped_column(ForeignKey("qc_results.id"), nullable=False)
    test_code: Mapped[str] = mapped_column(String(60), nullable=False)
    summary: Mapped[str] = mapped_column(Text, nullable=False)
    # The lot's status before the hold this investigation placed ('' when no hold was placed:
    # the lot was rejected or expired already, or on hold by another record).
    lot_status_before_hold: Mapped[str] = mapped_column(String(20), nullable=False, default="")
    # Phase I: the laboratory check (FDA OOS guidance, section III).
    phase1_findings: Mapped[str] = mapped_column(Text, nullable=False, default="")
    phase1_checklist: Mapped[dict[str, str]] = mapped_column(JSONText, nullable=False, default=dict)
    assignable_cause: Mapped[bool | None] = mapped_column(Boolean)
    lab_error_evidence: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # Phase II: the full-scale investigation (section IV).
    phase2_manufacturing_review: Mapped[str] = mapped_column(Text, nullable=False, default="")
    retest_protocol: Mapped[str] = mapped_column(Text, nullable=False, default="")
    root_cause: Mapped[str] = mapped_column(Text, nullable=False, default="")
    conclusion: Mapped[str | None] = mapped_column(String(20))
    conclusion_rationale: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # Who submitted the conclusion: QA's approval must come from someone else.
    concluded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    impact_on_other_lots: Mapped[str] = mapped_column(Text, nullable=False, default="")
    closed_at: Mapped[datetime | None] = mapped_column()
    nonconformance_id: Mapped[int | None] = mapped_column(ForeignKey("nonconforming_products.id"))

    def reason_required_for(self, changed: set[str], previous_status: str | None) -> bool:
        # Findings are written while the phase is open; changing them afterwards needs a reason.
        if previous_status in (InvestigationStatus.PHASE_1, InvestigationStatus.PHASE_2):
            return bool(changed - WORKING_FIELDS)
        return super().reason_required_for(changed, previous_status)


WORKING_FIELDS = frozenset(
    {
        "phase1_findings",
        "phase1_checklist",
        "assignable_cause",
        "lab_error_evidence",
        "phase2_manufacturing_review",
        "retest_protocol",
        "root_cause",
        "conclusion",
        "conclusion_rationale",
        "impact_on_other_lots",
        "lot_status_before_hold",
        "concluded_by_id",
    }
)


# --- certificate of analysis ----------------------------------------------------------------


class CertificateStatus(StrEnum):
    DRAFT = "draft"
    REVIEWED = "reviewed"  # QC has checked the results against the specification
    APPROVED = "approved"  # QA approved: the certificate may be issued
    WITHDRAWN = "withdrawn"  # prepared in error or overtaken (a result was invalidated)


class CertificateOfAnalysis(GxPRecord, Base):
    """The certificate of analysis of one lot against one specification (one market). What it
    reports is frozen when it is prepared, and the QC and QA signatures cover exactly that."""

    __tablename__ = "certificates_of_analysis"
    __audit_type__ = "certificate_of_analysis"
    __number_prefix__ = "COA"
    __draft_states__ = frozenset({CertificateStatus.DRAFT.value})
    __signed_fields__ = ("lot_id", "specification_id", "result_ids", "reported")

    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"), nullable=False, index=True)
    specification_id: Mapped[int] = mapped_column(
        ForeignKey("qc_specifications.id"), nullable=False
    )
    # The reportable results chosen when the certificate was prepared, and what it reports
    # for each test (value, criterion, conclusion): the printout is rendered from this.
    result_ids: Mapped[list[int]] = mapped_column(JSONText, nullable=False, default=list)
    reported: Mapped[list[dict[str, Any]]] = mapped_column(JSONText, nullable=False, default=list)
    approved_at: Mapped[datetime | None] = mapped_column()
