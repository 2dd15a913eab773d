"""What a report says, before it is a case: one shape for every channel (staff, public form,
complaint, openFDA, E2B), and the screening that turns it into values and findings.

Screening is strict about form (lengths, code lists, one country code) and refuses what is
malformed, naming the field; it is lenient about plausibility: an age of −67 or an onset in
the future is kept as a *finding* (what was reported and why it is not taken), never as the
value. Pure: no session, no clock of its own."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from pharmaqms.kernel.errors import InvalidInput
from pharmaqms.lifecycle.use.cases import doses
from pharmaqms.lifecycle.use.cases.models import (
    CaseSource,
    DrugRole,
    ReporterType,
    ReportType,
    Sex,
)

SERIOUSNESS_CRITERIA = (
    "death",
    "life_threatening",
    "hospitalisation",
    "disabling",
    "congenital_anomaly",
    "other_medically_important",
)
OLDEST_AGE = Decimal(150)  # no human has been recorded older
MAX_NARRATIVE = 20_000
MAX_PRODUCTS = 20
# Modern pharmacovigilance starts in the 1960s; a year before this one is a typing error (and
# E2B's timestamps can't carry years before 1000).
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
MAX_EVENTS = 50
MEDDRA_CODE = re.compile(r"^\d{8}$")
COUNTRY = re.compile(r"^[A-Z]{2}$")
# Markup has no place in a report of what happened to a patient: a form post carrying tags is
# refused rather than stored for a page to render one day.
MARKUP = re.compile(r"<\s*/?\s*[a-zA-Z!]|javascript:", re.IGNORECASE)


@dataclass(frozen=True)
class ProductReport:
    product: str
    lot_number: str = ""
    role: str = DrugRole.SUSPECT.value
    authorisation_number: str = ""
    dose_value: str | None = None  # as reported; read with its unit by ``doses``
    dose_unit: str = ""
    route: str = ""  # an E2B route code or a route's name


@dataclass(frozen=True)
class EventReport:
    verbatim: str
    meddra_code: str = ""
    onset: date | None = None
    seriousness: tuple[str, ...] = ()


@dataclass(frozen=True)
class CaseReport:
    """One receipt of information about a case, from any channel."""

    source: str
    received_at: datetime
    source_reference: str = ""
    report_type: str = ReportType.SPONTANEOUS.value
    patient_initials: str = ""
    patient_age: str | None = None  # as reported: a number of years, perhaps nonsense
    patient_sex: str | None = None
    patient_weight: str | None = None  # kilograms, as reported
    reporter_type: str | None = None
    reporter_country: str | None = None
    reporter_name: str = ""
    reporter_contact: str = ""
    narrative: str = ""
    products: tuple[ProductReport, ...] = ()
    events: tuple[EventReport, ...] = ()
    # The sender's id of this very version, when it has one (openFDA: "<id> v<version>").
    version_reference: str = ""
    # When the sender first received the case (E2B C.1.4), if before this receipt: a new
    # case taken from another system keeps its first receipt, which day 0 may depend on.
    first_received_at: datetime | None = None
    # Findings the sender's parser made already (the E2B reader's plausibility checks).
    findings: tuple[tuple[str, str, str], ...] = ()  # (field, value, message)


@dataclass(frozen=True)
class Screened:
    """A report's values as the case takes them, and the findings beside them."""

    report: CaseReport
    age_years: Decimal | None
    weight_kg: Decimal | None = None
    findings: list[dict[str, Any]] = field(default_factory=list)


def _text(value: str | None, name: str, what: str, max_length: int) -> str:
    text = (value or "").strip()
    if len(text) > max_length:
        raise InvalidInput(f"{what} is longer than {max_length} characters", field=name)
    if MARKUP.search(text):
        raise InvalidInput(f"{what} may not contain markup or scripts", field=name)
    return text


def _choice(value: str | None, name: str, allowed: type[Any], what: str) -> str | None:
    if value is None or value == "":
        return None
    options = [m.value for m in allowed]
    if value not in options:
        raise InvalidInput(f"{what} must be one of: {', '.join(options)}", field=name)
    return value


def _finding(name: str, value: str, message: str) -> dict[str, Any]:
    return {"field": name, "value": value, "message": message}


def _age(raw: str | None, findings: list[dict[str, Any]]) -> Decimal | None:
    text = (raw or "").strip()
    if not text:
        return None
    try:
        age = Decimal(text)
    except InvalidOperation:
        raise InvalidInput(
            f"the patient's age must be a number of years, not {text[:20]!r}", field="patient_age"
        ) from None
    if not age.is_finite():
        raise InvalidInput("the patient's age must be a finite number", field="patient_age")
    if age < 0 or age > OLDEST_AGE:
        findings.append(
            _finding("patient_age", text, f"an age of {text} years is not possible: not taken")
        )
        return None
    return age.quantize(Decimal("0.01"))


def _product(p: ProductReport, i: int) -> ProductReport:
    # Kept as the reporter wrote it ("Lot: 25v-014"): the platform's matching knows our
    # numbering; only its length and markup are refused.
    lot = _text(p.lot_number, f"products[{i}].lot_number", f"product {i}'s lot number", 60)
    name = _text(p.product, f"products[{i}].product", f"product {i}'s name", 200)
    if not name:
        raise InvalidInput(f"product {i} has no name", field=f"products[{i}].product")
    value = doses.dose_value(p.dose_value, f"products[{i}].dose_value")
    unit = ""
    if value is not None or (p.dose_unit or "").strip():
        if value is None:
            raise InvalidInput(
                f"product {i}: a dose unit without a dose", field=f"products[{i}].dose_value"
            )
        unit = doses.dose_unit(p.dose_unit, f"products[{i}].dose_unit")
    return ProductReport(
        product=name,
        lot_number=lot,
        role=_choice(p.role, f"products[{i}].role", DrugRole, "the drug's role")
        or DrugRole.SUSPECT.value,
        authorisation_number=_text(
            p.authorisation_number, f"products[{i}].authorisation_number", "the MA number", 100
        ),
        dose_value=str(value) if value is not None else None,
        dose_unit=unit,
        route=doses.route(p.route, f"products[{i}].route"),
    )


def _event(e: EventReport, i: int, today: date, findings: list[dict[str, Any]]) -> EventReport:
    verbatim = _text(e.verbatim, f"events[{i}].verbatim", f"event {i} as reported", 500)
    if not verbatim:
        raise InvalidInput(f"event {i} has no description", field=f"events[{i}].verbatim")
    code = (e.meddra_code or "").strip()
    if code and not MEDDRA_CODE.match(code):
        raise InvalidInput(
            f"event {i}: a MedDRA code has 8 digits, not {code[:20]!r}",
            field=f"events[{i}].meddra_code",
        )
    unknown = sorted(set(e.seriousness) - set(SERIOUSNESS_CRITERIA))
    if unknown:
        raise InvalidInput(
            f"event {i}: unknown seriousness criteria {', '.join(unknown)}; the E2B criteria "
            f"are {', '.join(SERIOUSNESS_CRITERIA)}",
            field=f"events[{i}].seriousness",
        )
    onset = e.onset
    if onset is not None and onset > today:
        findings.append(
            _finding(
                f"events[{i}].onset",
                onset.isoformat(),
                f"an onset on {onset.isoformat()} is in the future: not taken",
            )
        )
        onset = None
    elif onset is not None and onset < EARLIEST.date():
        findings.append(
            _finding(
                f"events[{i}].onset",
                onset.isoformat(),
                f"an onset in the year {onset.year} is before {EARLIEST.year}: not taken",
            )
        )
        onset = None
    criteria = tuple(c for c in SERIOUSNESS_CRITERIA if c in e.seriousness)
    return EventReport(verbatim, code, onset, criteria)


def concomitant_products(text: str) -> tuple[ProductReport, ...]:
    """Other medicines taken at the time, one a line (a form's text box), as concomitant drugs
    (E2B G.k.1 = 2): co-medication the risk-factor analysis can count."""
    names = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return tuple(ProductReport(name, role=DrugRole.CONCOMITANT.value) for name in names)


def screen(report: CaseReport, *, now: datetime) -> Screened:
    """The report's values as a case takes them, or a refusal naming the first bad field."""
    if report.received_at.tzinfo is None:
        raise InvalidInput("the time of receipt needs its time zone", field="received_at")
    if report.received_at > now:
        raise InvalidInput("the report can't have been received in the future", field="received_at")
    first = report.first_received_at
    if first is not None and first.tzinfo is None:
        raise InvalidInput("the first receipt needs its time zone", field="first_received_at")
    for name, moment in (("received_at", report.received_at), ("first_received_at", first)):
        if moment is not None and moment < EARLIEST:
            raise InvalidInput(
                f"a receipt in the year {moment.year} is before {EARLIEST.year}: check the year",
                field=name,
            )
    if len(report.products) > MAX_PRODUCTS or len(report.events) > MAX_EVENTS:
        raise InvalidInput(
            f"at most {MAX_PRODUCTS} products and {MAX_EVENTS} events a report", field="events"
        )
    if not report.products and not report.events:
        raise InvalidInput("a report names at least a product or an event", field="events")
    findings: list[dict[str, Any]] = [_finding(*f) for f in report.findings]
    country = (report.reporter_country or "").strip().upper() or None
    if country is not None and not COUNTRY.match(country):
        raise InvalidInput(
            "the reporter's country is a two-letter ISO 3166 code (e.g. DE, US, CN)",
            field="reporter_country",
        )
    age = _age(report.patient_age, findings)
    weight = doses.weight_kg(report.patient_weight)
    cleaned = replace(
        report,
        source=_choice(report.source, "source", CaseSource, "the source") or "",
        source_reference=_text(report.source_reference, "source_reference", "the reference", 100),
        report_type=_choice(report.report_type, "report_type", ReportType, "the report type")
        or ReportType.SPONTANEOUS.value,
        patient_initials=_text(
            report.patient_initials, "patient_initials", "the patient's initials", 20
        ),
        patient_sex=_choice(report.patient_sex, "patient_sex", Sex, "the patient's sex"),
        reporter_type=_choice(
            report.reporter_type, "reporter_type", ReporterType, "the reporter type"
        ),
        reporter_country=country,
        reporter_name=_text(report.reporter_name, "reporter_name", "the reporter's name", 200),
        reporter_contact=_text(
            report.reporter_contact, "reporter_contact", "the reporter's contact", 1000
        ),
        narrative=_text(report.narrative, "narrative", "the narrative", MAX_NARRATIVE),
        products=tuple(_product(p, i + 1) for i, p in enumerate(report.products)),
        events=tuple(_event(e, i + 1, now.date(), findings) for i, e in enumerate(report.events)),
    )
    if not cleaned.source:
        raise InvalidInput("the source of the report is required", field="source")
    return Screened(cleaned, age, weight, findings)
