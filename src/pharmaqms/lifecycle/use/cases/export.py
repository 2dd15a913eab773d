"""A case as an E2B(R3) ICSR: every field the case holds mapped to the ``use.e2b`` model and
written with its writer, the export audited (who exported which version of which case).

What the case holds and where it goes:

==========================  =====================================================
case                        E2B(R3) element
==========================  =====================================================
number (our id)             C.1.1 sender's safety report id ``<country>-<sender>-<number>``
source_reference            C.1.8.1 worldwide unique case id (the first sender's id,
                            e.g. an openFDA safetyreportid); ours when we first had it
report_type                 C.1.3
first / latest received     C.1.4 / C.1.5, to the second in UTC
reporter type, country      C.2.r.4 (HCP → other health professional: the case does not
                            say which profession), C.2.r.3
reporter name               C.2.r.1.4 (held as one text, sent as it is held)
patient initials, age, sex  D.1, D.2.2 (years, unit ``a``), D.5 (unknown → UNK)
events                      E.i: verbatim E.i.1.1a, MedDRA code E.i.2.1b, onset E.i.4,
                            criteria E.i.3.2 (met: true, not met: NI)
patient weight (kg)         D.3
products                    G.k: role G.k.1, name G.k.2.2, MA number G.k.3.1, and one
                            dosage G.k.4.r: dose G.k.4.r.1a/1b (UCUM), lot G.k.4.r.7,
                            route G.k.4.r.10.1 (its name) and 10.2b (the E2B code)
causality (WHO-UMC)         G.k.9.i.2.r for each suspect/interacting drug × event
causality reasoning,        H.4 sender's comments (E2B has no element for expectedness)
expectedness
narrative                   H.1
==========================  =====================================================

Not sent: the reporter's free-text contact (no E2B field takes free text; the telephone and
address are structured) and the case's findings (values that were not taken are not data).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, clock
from pharmaqms.kernel.errors import Conflict, InvalidInput, NotFound
from pharmaqms.kernel.identity import Actor
from pharmaqms.lifecycle.use import e2b
from pharmaqms.lifecycle.use.cases import doses, facts, rules
from pharmaqms.lifecycle.use.cases.models import (
    CaseStatus,
    PVCase,
    PVCaseEvent,
    PVCaseProduct,
    PVCaseVersion,
)
from pharmaqms.lifecycle.use.e2b import codes
from pharmaqms.lifecycle.use.e2b.dates import Precision, from_datetime
from pharmaqms.lifecycle.use.e2b.model import (
    MedDRA,
    MessageHeader,
    Narrative,
    PrimarySource,
    Quantity,
    Reaction,
    ReportIdentification,
    Sender,
    SeriousnessCriteria,
    TermId,
)
from pharmaqms.lifecycle.use.e2b.model_drug import (
    Dosage,
    Drug,
    DrugReactionAssessment,
    Relatedness,
)
from pharmaqms.lifecycle.use.e2b.model_patient import Patient

SENDER_ID = "PHARMAQMS"  # N.1.3 / N.2.r.2: this system as the sending device
DEFAULT_RECEIVER = "ICHTEST"  # N.1.4 / N.2.r.3: the ICH test receiver unless one is named
CAUSALITY_METHOD = "WHO-UMC"
REPORT_TYPES = {
    "spontaneous": codes.ReportType.SPONTANEOUS,
    "study": codes.ReportType.STUDY,
    "other": codes.ReportType.OTHER,
}
QUALIFICATIONS = {
    # The case knows "a health professional", not which one: C.2.r.4 value 3.
    "hcp": codes.Qualification.OTHER_HEALTH_PROFESSIONAL,
    "patient": codes.Qualification.CONSUMER,
}
ROLES = {
    "suspect": codes.DrugRole.SUSPECT,
    "concomitant": codes.DrugRole.CONCOMITANT,
    "interacting": codes.DrugRole.INTERACTING,
}
SEX = {"male": codes.Sex.MALE, "female": codes.Sex.FEMALE}
NOT_EXPORTED = (CaseStatus.INVALID.value, CaseStatus.DUPLICATE.value)


class CaseNotExportable(InvalidInput):
    """The case can't go out as an ICSR yet (minimum criteria, or what the message can't carry)."""

    code = "e2b_case_not_exportable"
    title = "Case not exportable as E2B"


@dataclass(frozen=True)
class Exported:
    number: str
    case_version: int
    safety_report_id: str
    xml: bytes
    # What the IG asks that the case does not hold (e.g. a MedDRA code): the receiver may
    # query or reject the message for these, so the person exporting is told.
    warnings: tuple[str, ...]


def find_case(session: Session, reference: str) -> PVCase:
    """A case by its number (PV-2026-0001) or by the sender's report id it was received with."""
    ref = (reference or "").strip()
    if not ref:
        raise InvalidInput("name the case: its number or the sender's report id", field="case")
    case = session.scalars(select(PVCase).where(PVCase.number == ref)).first()
    if case is not None:
        return case
    found = session.scalars(
        select(PVCase).where(PVCase.source_reference == ref).order_by(PVCase.id)
    ).all()
    if not found:
        raise NotFound(f"no PV case numbered {ref!r} or received with that report id")
    if len(found) > 1:
        numbers = ", ".join(c.number for c in found)
        raise Conflict(f"report id {ref!r} names several cases ({numbers}): give the case number")
    return found[0]


def safety_report_id(session: Session, case: PVCase) -> str:
    """ICH IG C.1.1: country of the primary source, sender, our case number. The same for every
    version (a follow-up must reach the receiver's case), so the country is the first report's
    even when a follow-up corrects it."""
    first = session.scalars(
        select(PVCaseVersion.snapshot).where(
            PVCaseVersion.case_id == case.id, PVCaseVersion.case_version == 1
        )
    ).first()
    country = (first or {}).get("reporter_country") or case.reporter_country or "XX"
    return f"{country}-{SENDER_ID}-{case.number}"


def _moment(value: datetime) -> e2b.HL7Time:
    # Stored in UTC; a backend that hands it back without its zone still means UTC.
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return from_datetime(aware, Precision.SECOND)


def _age(value: Decimal | None) -> Quantity | None:
    if value is None:
        return None
    return Quantity(Decimal(f"{value.normalize():f}"), "a")


def _weight(value: Decimal | None) -> Decimal | None:
    return Decimal(doses.decimal_text(value) or "0") if value is not None else None


def _reaction(event: PVCaseEvent) -> Reaction:
    met = set(event.seriousness)
    criteria = {
        name: (True if name in met else codes.NullFlavor.NI)
        for name in (
            "death",
            "life_threatening",
            "hospitalisation",
            "disabling",
            "congenital_anomaly",
            "other_medically_important",
        )
    }
    onset = event.onset
    return Reaction(
        ref_id=f"r{event.position}",
        reported_native=event.verbatim,
        meddra=MedDRA(None, event.meddra_code) if event.meddra_code else None,
        seriousness=SeriousnessCriteria(**criteria),
        start=e2b.HL7Time(onset.year, onset.month, onset.day) if onset else None,
        # The case holds no outcome: the IG wants one, and "unknown" is what we know.
        outcome=codes.Outcome.UNKNOWN,
    )


def _drug(product: PVCaseProduct, case: PVCase, reactions: tuple[Reaction, ...]) -> Drug:
    role = ROLES[product.role]
    assessments: tuple[DrugReactionAssessment, ...] = ()
    if case.causality and role in codes.SUSPECTED_ROLES:
        judged = Relatedness(source="Sender", method=CAUSALITY_METHOD, result=case.causality)
        assessments = tuple(DrugReactionAssessment(r.ref_id, (judged,)) for r in reactions)
    return Drug(
        ref_id=f"d{product.position}",
        role=role,
        product_name=product.product,
        authorisation_number=product.authorisation_number or None,
        dosages=_dosages(product),
        assessments=assessments,
    )


def _dosages(product: PVCaseProduct) -> tuple[Dosage, ...]:
    dose = None
    if product.dose_value is not None and product.dose_unit:
        dose = Quantity(Decimal(doses.decimal_text(product.dose_value) or "0"), product.dose_unit)
    route = product.route
    if dose is None and not route and not product.lot_number:
        return ()
    return (
        Dosage(
            dose=dose,
            batch_lot=product.lot_number or None,
            route_text=codes.ROUTES.get(route) if route else None,
            route_term=TermId(route, system=codes.OID.ROUTE) if route else None,
        ),
    )


def _sender_comments(case: PVCase) -> str | None:
    parts = []
    if case.causality:
        parts.append(f"Causality ({CAUSALITY_METHOD}): {case.causality}.")
        if case.causality_reasoning:
            parts.append(f"Reasoning: {case.causality_reasoning}")
    if case.expectedness:
        parts.append(f"Expectedness: {case.expectedness}.")
        if case.expectedness_basis:
            parts.append(f"Basis: {case.expectedness_basis}")
    return "\n".join(parts) or None


def _expedited(session: Session, case: PVCase) -> bool:
    """C.1.7: whether a 7- or 15-day clock runs for the case in any region we report to."""
    day_zero = case.day_zero or case.first_received_at.date()
    return any(c.days <= 15 for c in rules.clocks(facts.of_case(session, case), day_zero))


def icsr_of(session: Session, case: PVCase, *, receiver: str = DEFAULT_RECEIVER) -> e2b.ICSR:
    """The case as it stands (its latest version) as one ICSR."""
    now = clock.now()
    report_id = safety_report_id(session, case)
    reactions = tuple(_reaction(e) for e in facts.events_of(session, case))
    products = facts.products_of(session, case)
    initials = case.patient_initials
    return e2b.ICSR(
        message=MessageHeader(
            message_id=f"{report_id}-v{case.case_version}",
            sender_id=SENDER_ID,
            receiver_id=receiver,
            created=from_datetime(now, Precision.SECOND),
        ),
        report=ReportIdentification(
            safety_report_id=report_id,
            created=from_datetime(now, Precision.SECOND),
            report_type=REPORT_TYPES.get(case.report_type, codes.ReportType.OTHER),
            first_received=_moment(case.first_received_at),
            most_recent=_moment(case.latest_received_at),
            expedited=_expedited(session, case),
            worldwide_case_id=case.source_reference or report_id,
            # A report we took in from another sender: we are not its first sender.
            first_sender=codes.FirstSender.OTHER,
        ),
        primary_sources=(
            PrimarySource(
                family_name=case.reporter_name or None,
                country=case.reporter_country,
                qualification=QUALIFICATIONS.get(case.reporter_type or ""),
                for_regulatory_purposes=True,
            ),
        ),
        sender=Sender(
            sender_type=codes.SenderType.PHARMACEUTICAL_COMPANY,
            organisation=SENDER_ID,
        ),
        patient=Patient(
            name=initials or codes.NullFlavor.UNK,
            age=_age(case.patient_age_years),
            sex=SEX.get(case.patient_sex or "", codes.NullFlavor.UNK) if case.patient_sex else None,
            weight_kg=_weight(case.patient_weight_kg),
        ),
        reactions=reactions,
        drugs=tuple(_drug(p, case, reactions) for p in products),
        narrative=Narrative(
            case_narrative=case.narrative or None,
            sender_comments=_sender_comments(case),
        ),
    )


def _too_long(icsr: e2b.ICSR) -> list[str]:
    """Texts longer than the E2B(R3) IG allows: the schema takes them and nothing is lost, but
    a receiver applying the IG's business rules (EudraVigilance, FDA) may reject them."""
    found: list[tuple[str, str | None, int]] = [
        ("C.2.r.1.4", _str(s.family_name), 60) for s in icsr.primary_sources
    ]
    found += [("E.i.1.1a", r.reported_native, 250) for r in icsr.reactions]
    for drug in icsr.drugs:
        found += [("G.k.2.2", drug.product_name, 250), ("G.k.3.1", drug.authorisation_number, 35)]
        found += [("G.k.4.r.7", _str(d.batch_lot), 35) for d in drug.dosages]
    found.append(("H.4", icsr.narrative.sender_comments, 20_000))
    return [
        f"{element}: {len(text)} characters, the IG allows {limit}"
        for element, text, limit in found
        if text is not None and len(text) > limit
    ]


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _refusals(session: Session, case: PVCase, icsr: e2b.ICSR) -> list[str]:
    if case.status in NOT_EXPORTED:
        return [f"{case.number} is {case.status}: it is not a case to report"]
    # The case's own rules say why in our words; the library's judge the message itself and
    # are added only when ours pass (they would repeat them otherwise).
    reasons = [r.found for r in rules.validity(facts.of_case(session, case)) if not r.passed]
    if not reasons:
        reasons = [f"E2B: {r}" for r in e2b.case_validity(icsr).reasons]
    reasons += [f"E2B {i.element}: {i.message}" for i in e2b.export_blockers(icsr)]
    return reasons


def export_case(
    session: Session,
    *,
    actor: Actor,
    reference: str,
    receiver: str = DEFAULT_RECEIVER,
    xsd_dir: Path | None = None,
) -> Exported:
    """The case as an E2B(R3) batch of one message, or a refusal with every reason (nothing
    written, nothing audited). With ``xsd_dir`` the message must also pass the ICH schema."""
    actor.require("pv.export", "export cases as E2B(R3)")
    case = find_case(session, reference)
    try:
        icsr = icsr_of(session, case, receiver=receiver)
    except ValueError as err:
        # A date E2B's HL7 timestamps can't carry (before the year 1000), stored before the
        # intake refused such years: said as a refusal, not a crash.
        raise CaseNotExportable(
            f"{case.number} can't be exported as E2B: {err}", reasons=[str(err)]
        ) from None
    reasons = _refusals(session, case, icsr)
    if reasons:
        raise CaseNotExportable(
            f"{case.number} can't be exported as E2B: " + "; ".join(reasons), reasons=reasons
        )
    xml = e2b.write_batch(
        (icsr,),
        sender=SENDER_ID,
        receiver=receiver,
        batch_id=icsr.message.message_id,
        now=clock.now(),
    )
    if xsd_dir is not None:
        errors = e2b.schema_errors(xml, xsd_dir)
        if errors:
            raise CaseNotExportable(
                f"{case.number}: the message fails the ICH schema: " + "; ".join(errors[:5]),
                reasons=list(errors),
            )
    warnings = tuple(
        [f"{i.element}: {i.message}" for i in e2b.structural_issues(icsr)] + _too_long(icsr)
    )
    audit.record_event(
        session,
        actor=actor,
        action="e2b_exported",
        record=case,
        details={
            "case_version": case.case_version,
            "safety_report_id": icsr.report.safety_report_id,
            "message_id": icsr.message.message_id,
            "receiver": receiver,
            "sha256": hashlib.sha256(xml).hexdigest(),
        },
        reason=f"{case.number} version {case.case_version} exported as E2B(R3)",
    )
    return Exported(case.number, case.case_version, icsr.report.safety_report_id, xml, warnings)
