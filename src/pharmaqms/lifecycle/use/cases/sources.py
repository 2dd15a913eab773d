"""Reports from outside become cases: E2B(R3) ICSR messages (through ``use.e2b``) and the
openFDA / FAERS reports the platform has taken in. A report seen before (same sender's case
id) becomes a follow-up version of its case, not a second case; a message that can't be taken
is refused whole with its reason, and the others still are."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, auth, clock
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.errors import InvalidInput, QMSError
from pharmaqms.kernel.identity import Actor, Channel
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.use import e2b
from pharmaqms.lifecycle.use.cases import doses, service
from pharmaqms.lifecycle.use.cases.intake import CaseReport, EventReport, ProductReport
from pharmaqms.lifecycle.use.cases.models import (
    CaseSource,
    DrugRole,
    PVCase,
    PVCaseVersion,
    ReportType,
)
from pharmaqms.lifecycle.use.e2b.codes import ROUTES, YEARS_PER_AGE_UNIT
from pharmaqms.lifecycle.use.e2b.model import Quantity
from pharmaqms.lifecycle.use.e2b.model_drug import Drug
from pharmaqms.platform.ingest.deliveries import add_delivery_listener
from pharmaqms.platform.traceability.models import AdverseEventReport

log = logging.getLogger("pharmaqms.pv")

E2B_REPORT_TYPES = {"1": ReportType.SPONTANEOUS.value, "2": ReportType.STUDY.value}
E2B_ROLES = {"1": DrugRole.SUSPECT.value, "2": DrugRole.CONCOMITANT.value, "3": "interacting"}
# C.2.r.4: physician, pharmacist, other HCP → HCP; consumer → patient; a lawyer is neither.
E2B_REPORTERS = {"1": "hcp", "2": "hcp", "3": "hcp", "5": "patient"}
E2B_SEX = {"1": "male", "2": "female"}
OPENFDA_SEX = {"1": "male", "2": "female", "0": "unknown"}
OPENFDA_AGE_UNITS = {
    "800": 10.0,
    "801": 1.0,
    "802": 1 / 12,
    "803": 7 / 365.25,
    "804": 1 / 365.25,
    "805": 1 / 8766,
}
CRITERIA_FIELDS = (
    ("death", "death"),
    ("life_threatening", "life_threatening"),
    ("hospitalisation", "hospitalisation"),
    ("disabling", "disabling"),
    ("congenital_anomaly", "congenital_anomaly"),
    ("other_medically_important", "other_medically_important"),
)


@dataclass
class ImportOutcome:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # "position: reason"


def _years(value: Decimal, per_unit: float) -> str:
    return str((value * Decimal(str(per_unit))).quantize(Decimal("0.01")))


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _initials(name: str) -> str:
    name = name.strip()
    if len(name) <= 5:
        return name
    return "".join(part[0] for part in name.split() if part)[:20]


def _day(value: Any) -> date | None:
    if not isinstance(value, e2b.HL7Time):
        return None
    if value.month is not None and value.day is not None:
        # A calendar date is the reporter's day: its earliest instant anywhere on Earth
        # (UTC-12) falls on the day before, which would move every onset back by one.
        return date(value.year, value.month, value.day)
    return value.earliest().date()


def _sex(value: Any) -> str | None:
    """D.5: a code, or a null flavour (the sender says it is unknown), or nothing at all."""
    if value is None:
        return None
    code = getattr(value, "value", None)
    return E2B_SEX.get(code, "unknown") if isinstance(code, str) else "unknown"


def report_from_icsr(icsr: e2b.ICSR, found: tuple[e2b.Finding, ...] = ()) -> CaseReport:
    rep = icsr.report
    received = rep.most_recent or rep.first_received or rep.created
    patient = icsr.patient
    age = None
    if patient.age is not None and patient.age.unit in YEARS_PER_AGE_UNIT:
        age = _years(patient.age.value, YEARS_PER_AGE_UNIT[patient.age.unit])
    sources = sorted(icsr.primary_sources, key=lambda s: not s.for_regulatory_purposes)
    primary = sources[0] if sources else None
    qualification = getattr(primary.qualification, "value", None) if primary else None
    products = []
    dose_findings: list[tuple[str, str, str]] = []
    weight = _weight(patient.weight_kg, dose_findings)
    for drug in icsr.drugs:
        role = E2B_ROLES.get(getattr(drug.role, "value", ""))
        name = drug.product_name or next((s.name for s in drug.substances if s.name), None)
        if role is None or not name:
            continue
        lots = drug.lot_numbers
        dose, route = _regimen(drug, dose_findings)
        products.append(
            ProductReport(
                name[:200],
                lots[0] if lots else "",
                role,
                drug.authorisation_number or "",
                dose_value=f"{dose.value:f}" if dose else None,
                dose_unit=dose.unit if dose else "",
                route=route,
            )
        )
    events = []
    for reaction in icsr.reactions:
        s = reaction.seriousness
        met = tuple(
            name
            for name, value in (
                ("death", s.death),
                ("life_threatening", s.life_threatening),
                ("hospitalisation", s.hospitalisation),
                ("disabling", s.disabling),
                ("congenital_anomaly", s.congenital_anomaly),
                ("other_medically_important", s.other_medically_important),
            )
            if value is True
        )
        code = reaction.meddra.code if reaction.meddra and reaction.meddra.code else ""
        verbatim = reaction.reported_translation or reaction.reported_native or code
        events.append(EventReport(verbatim[:500], code, _day(reaction.start), met))
    names = (primary.given_name, primary.middle_name, primary.family_name) if primary else ()
    return CaseReport(
        source=CaseSource.E2B.value,
        source_reference=(rep.worldwide_case_id or rep.safety_report_id)[:100],
        received_at=received.earliest(),
        first_received_at=rep.first_received.earliest() if rep.first_received else None,
        reporter_name=" ".join(n for n in names if isinstance(n, str))[:200],
        report_type=E2B_REPORT_TYPES.get(getattr(rep.report_type, "value", ""), "other"),
        patient_initials=_initials(_text(patient.name)),
        patient_age=age,
        patient_sex=_sex(patient.sex),
        patient_weight=weight,
        reporter_type=E2B_REPORTERS.get(qualification) if isinstance(qualification, str) else None,
        reporter_country=_text(primary.country) if primary else None,
        narrative=(icsr.narrative.case_narrative or "")[:20_000],
        products=tuple(products),
        events=tuple(events),
        # The reader's own findings, except those the case's screening makes again itself.
        findings=tuple(
            (f"E2B {f.element}", f.value[:200], f.message)
            for f in found
            if f.code is not e2b.FindingCode.IMPLAUSIBLE_AGE
            and not (f.code is e2b.FindingCode.IMPLAUSIBLE_MEASURE and f.element == "D.3")
        )
        + tuple(dose_findings),
    )


def _weight(value: Decimal | None, findings: list[tuple[str, str, str]]) -> str | None:
    """D.3 as the case takes it. A weight no patient can have (≤ 0, above the case's 650 kg)
    is a finding, not a value, as an impossible age is: the message and the rest of the case
    are still taken, and only follow-up can tell what the reporter meant."""
    if value is None:
        return None
    text = f"{value:f}"
    try:
        doses.weight_kg(text)
    except InvalidInput as err:
        findings.append(("patient_weight", text[:200], f"{err.detail}: not taken"))
        return None
    return text


def _regimen(drug: Drug, findings: list[tuple[str, str, str]]) -> tuple[Quantity | None, str]:
    """The case holds one dose and one route per drug: the first dosage (G.k.4.r) that gives
    each. A dose whose UCUM unit pint can't read is a finding, not a value (the message is
    still taken: the IG allows units the case can't analyse)."""
    dose = next((d.dose for d in drug.dosages if d.dose is not None), None)
    if dose is not None:
        try:
            doses.dose_unit(dose.unit)
        except InvalidInput as err:
            findings.append(("E2B G.k.4.r.1b", f"{dose.value} {dose.unit}"[:200], err.detail))
            dose = None
    route = ""
    for dosage in drug.dosages:
        term = dosage.route_term
        if term is not None and term.code in ROUTES:
            route = term.code
            break
    return dose, route


def _take(session: Session, actor: Actor, report: CaseReport, outcome: ImportOutcome) -> PVCase:
    existing = service.case_for_reference(session, report.source, report.source_reference)
    while existing is not None and existing.duplicate_of_id is not None:
        # A follow-up of a report merged as a duplicate belongs to the case it was merged into.
        existing = service.get_case(session, existing.duplicate_of_id)
    if existing is None:
        case = service.open_case(session, actor=actor, report=report)
        outcome.created.append(case.number)
    else:
        case = service._follow_up(session, actor=actor, case=existing, report=report)
        outcome.updated.append(case.number)
    return case


def _quarantine(
    session: Session, actor: Actor, position: int, reason: str, detail: str, raw: bytes
) -> None:
    """A refused message stays on record: its reason and its XML (up to 256 kB) in the trail."""
    audit.record_event(
        session,
        actor=actor,
        action="e2b_message_refused",
        record_type="pv_case",
        record_label=f"E2B message {position}",
        details={
            "position": position,
            "reason": reason,
            "detail": detail,
            "sha256": hashlib.sha256(raw).hexdigest(),
            "xml": raw[:262_144].decode("utf-8", "replace"),
        },
        reason=f"E2B message {position} refused: {reason}",
    )


def import_e2b(session: Session, *, actor: Actor, source: Path | bytes) -> ImportOutcome:
    """Every ICSR of an E2B(R3) batch as a case (new or follow-up). A file that can't be read
    at all raises ``E2BDocumentRefused``; a message that can't be taken is refused alone."""
    actor.require("pv.intake", "import E2B reports")
    outcome = ImportOutcome()
    for result in e2b.read_batch(source, now=clock.now()):
        if isinstance(result, e2b.RefusedMessage):
            why = f"{result.reason.value} at {result.element}: {result.detail}"
            _quarantine(session, actor, result.position, result.reason.value, why, result.raw)
            outcome.refused.append(f"message {result.position}: {why}")
            continue
        try:
            report = report_from_icsr(result.icsr, result.findings)
            _take(session, actor, report, outcome)  # screened whole before its first write
        except QMSError as refused:
            _quarantine(session, actor, result.position, "refused", refused.detail, b"")
            outcome.refused.append(f"message {result.position}: {refused.detail}")
    return outcome


# --- openFDA / FAERS through the platform ------------------------------------------------------


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def report_from_faers(row: AdverseEventReport) -> CaseReport:
    doc = row.document
    patient = _json(doc.get("patient")) or {}
    source = _json(doc.get("primarysource")) or {}
    age = None
    raw_age, unit = patient.get("patientonsetage"), str(patient.get("patientonsetageunit") or "801")
    if raw_age not in (None, "") and unit in OPENFDA_AGE_UNITS:
        try:
            age = _years(Decimal(str(raw_age)), OPENFDA_AGE_UNITS[unit])
        except ArithmeticError:
            age = str(raw_age)
    criteria = tuple(c for c in row.seriousness if c in dict(CRITERIA_FIELDS))
    roles = {"1": "suspect", "2": "concomitant", "3": "interacting"}
    received = row.received_on or clock.now().date()
    return CaseReport(
        source=CaseSource.FAERS.value,
        source_reference=row.safety_report_id,
        version_reference=_version_reference(row),
        received_at=datetime.combine(received, time(0), tzinfo=UTC),
        report_type={"2": "study"}.get(str(doc.get("reporttype") or "1"), "spontaneous"),
        patient_age=age,
        patient_sex=OPENFDA_SEX.get(str(patient.get("patientsex") or "")),
        reporter_type=E2B_REPORTERS.get(str(source.get("qualification") or "")),
        reporter_country=source.get("reportercountry") or row.country,
        products=tuple(
            ProductReport(
                str(d["medicinal_product"])[:200],
                str(d.get("batch_number") or "")[:60],
                roles.get(str(d.get("characterisation") or "1"), "suspect"),
                str(d.get("authorisation_number") or "")[:100],
            )
            for d in row.drugs
        ),
        # openFDA states seriousness per report, not per reaction: every reaction carries it.
        events=tuple(
            EventReport(str(r["meddra_pt"])[:500], "", None, criteria) for r in row.reactions
        ),
    )


def _taken(session: Session, row: AdverseEventReport) -> bool:
    """Whether this version of the report is a case version already (the command line takes a
    delivery's reports in its own transaction, the listener after commit finds them taken)."""
    found = session.scalars(
        select(PVCaseVersion.id).where(
            PVCaseVersion.source == CaseSource.FAERS.value,
            PVCaseVersion.source_reference == _version_reference(row),
        )
    ).first()
    return found is not None


def _version_reference(row: AdverseEventReport) -> str:
    return f"{row.safety_report_id} v{row.report_version}"[:100]


def import_platform_reports(session: Session, *, actor: Actor, run_id: int) -> ImportOutcome:
    """The reports one platform import run took in, each as a case (new or follow-up)."""
    actor.require("pv.intake", "take in adverse event reports")
    outcome = ImportOutcome()
    rows = session.scalars(
        select(AdverseEventReport)
        .where(AdverseEventReport.run_id == run_id)
        .order_by(AdverseEventReport.id)
    )
    for row in rows:
        if _taken(session, row):
            continue
        try:
            report = report_from_faers(row)
            _take(session, actor, report, outcome)  # screened whole before its first write
        except QMSError as refused:
            outcome.refused.append(f"report {row.safety_report_id}: {refused.detail}")
    return outcome


def take_in_faers_delivery(database: Database, run_id: int) -> None:
    """Every openFDA / FAERS delivery, however it reached the platform (upload page, API,
    command line), becomes cases once it has committed."""
    with unit_of_work() as session:
        outcome = import_platform_reports(
            session, actor=auth.system_actor(session, Channel.IMPORT), run_id=run_id
        )
    log.info(
        "import run %d: cases created %s, updated %s, refused %s",
        run_id,
        outcome.created,
        outcome.updated,
        outcome.refused,
    )


add_delivery_listener("faers", take_in_faers_delivery)
