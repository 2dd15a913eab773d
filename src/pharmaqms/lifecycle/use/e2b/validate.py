"""Checks on an ICSR: the four minimum criteria of a valid case, the structure the ICH IG asks
of an E2B(R3) message, what the XML could not carry, and (when the user gives the ICH schema
files) the XSD itself.

Three questions, kept apart because they lead to different actions:

- :func:`case_validity` – is this a case at all? (ICH E2D: an identifiable patient, an
  identifiable reporter, a suspect product and an adverse event). A report missing one is
  not a valid case; it is kept and followed up, not counted.
- :func:`structural_issues` – would an E2B receiver accept it? (required elements, code
  lists, cardinalities). Errors block a submission; warnings ask a person to look.
- :func:`export_blockers` – could the XML carry it without loss? (The writer refuses if not.)
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

from lxml import etree

from pharmaqms.kernel.errors import QMSError
from pharmaqms.lifecycle.use.e2b.codes import (
    AGE_UNITS,
    COUNTRIES,
    DOSE_UNITS,
    DURATION_UNITS,
    FREQUENCY_UNITS,
    GESTATION_UNITS,
    OID,
    ROUTES,
    SUSPECTED_ROLES,
    NullFlavor,
    ReportType,
)
from pharmaqms.lifecycle.use.e2b.findings import field_specs
from pharmaqms.lifecycle.use.e2b.icsr import ICSR
from pharmaqms.lifecycle.use.e2b.model import MedDRA, PrimarySource, Quantity, Sender, TermId
from pharmaqms.lifecycle.use.e2b.model_patient import Patient

_MEDDRA_CODE: Final = re.compile(r"\d{8}")
_MEDDRA_VERSION: Final = re.compile(r"\d{1,2}\.\d")
# XML 1.0 characters (tab, newline and carriage return are the only controls allowed).
_NOT_XML: Final = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_MASKED_OR_UNKNOWN: Final = frozenset(
    {NullFlavor.MSK, NullFlavor.ASKU, NullFlavor.NASK, NullFlavor.UNK}
)
# Null flavours the IG admits, per element, as far as this package follows it; others are
# reported as warnings (a receiver may reject them), never silently changed.
ALLOWED_NULL_FLAVOURS: Final[dict[str, frozenset[NullFlavor]]] = {
    **dict.fromkeys(
        (
            "E.i.3.2a",
            "E.i.3.2b",
            "E.i.3.2c",
            "E.i.3.2d",
            "E.i.3.2e",
            "E.i.3.2f",
            "C.1.7",
            "C.1.9.1",
        ),
        frozenset({NullFlavor.NI}),
    ),
    **dict.fromkeys(
        (
            "C.2.r.1.1",
            "C.2.r.1.2",
            "C.2.r.1.3",
            "C.2.r.1.4",
            "C.2.r.2.1",
            "C.2.r.2.2",
            "C.2.r.2.3",
            "C.2.r.2.4",
            "C.2.r.2.5",
            "C.2.r.2.6",
            "C.2.r.2.7",
            "C.2.r.3",
            "D.1",
            "D.5",
            "D.9.1",
            "D.10.1",
            "D.10.6",
            "D.7.1.r.3",
            "D.7.2",
            "D.10.7.2",
            "E.i.4",
            "E.i.5",
            "G.k.4.r.4",
            "G.k.4.r.5",
            "D.8.r.4",
            "D.8.r.5",
        ),
        _MASKED_OR_UNKNOWN,
    ),
    **dict.fromkeys(
        ("D.1.1.1", "D.1.1.2", "D.1.1.3", "D.1.1.4", "D.2.1", "D.10.2.1"),
        frozenset({NullFlavor.MSK}),
    ),
    **dict.fromkeys(
        (
            "C.4.r.1",
            "C.5.1.r.1",
            "C.5.1.r.2",
            "C.5.2",
            "C.5.3",
            "D.8.r.1",
            "D.9.3",
            "G.k.4.r.7",
            "G.k.4.r.9.1",
            "G.k.4.r.10.1",
            "G.k.4.r.11.1",
            "G.k.7.r.1",
        ),
        frozenset({NullFlavor.ASKU, NullFlavor.NASK, NullFlavor.UNK}),
    ),
    "C.2.r.4": frozenset({NullFlavor.UNK}),
    "F.r.1": frozenset({NullFlavor.UNK}),
}
# Fields read from XML attributes or codes, where blanks at either end do not survive.
_TRIMMED: Final = frozenset(
    {
        "message_id",
        "sender_id",
        "receiver_id",
        "batch_id",
        "safety_report_id",
        "worldwide_case_id",
        "case_id",
        "authorisation_number",
        "authorisation_country",
        "country",
        "obtained_country",
        "code",
        "version",
        "system",
        "unit",
        "frequency_unit",
        "ref_id",
        "reaction_ref",
        "gp_record",
        "specialist_record",
        "hospital_record",
        "investigation_number",
        "number",
        "sponsor_study_number",
        "language",
        "reported_language",
        "linked_reports",
    }
)


class Severity(StrEnum):
    ERROR = "error"  # an E2B receiver would (or should) reject the message
    WARNING = "warning"  # acceptable, but a person should look


@dataclass(frozen=True)
class ValidationIssue:
    element: str
    message: str
    severity: Severity = Severity.ERROR


class Criterion(StrEnum):
    """The four minimum criteria of a valid ICSR (ICH E2D §4.1, E2B(R3) IG)."""

    IDENTIFIABLE_PATIENT = "identifiable_patient"
    IDENTIFIABLE_REPORTER = "identifiable_reporter"
    SUSPECT_PRODUCT = "suspect_product"
    ADVERSE_EVENT = "adverse_event"


@dataclass(frozen=True)
class Validity:
    missing: tuple[Criterion, ...]
    reasons: tuple[str, ...]

    @property
    def valid(self) -> bool:
        return not self.missing


def _known(value: Any) -> bool:
    """Given, or withheld for privacy (MSK): either way the person exists and is known."""
    return (value is not None and not isinstance(value, NullFlavor)) or value is NullFlavor.MSK


def _patient_identifiable(patient: Patient) -> bool:
    return any(
        _known(v)
        for v in (
            patient.name,
            patient.gp_record,
            patient.specialist_record,
            patient.hospital_record,
            patient.investigation_number,
            patient.birth_date,
            patient.age,
            patient.gestation_period,
            patient.age_group,
            patient.sex,
        )
    )


def _reporter_identifiable(source: PrimarySource) -> bool:
    # Qualification alone identifies a reporter (a physician, a pharmacist…); country does not.
    contact = (
        source.title,
        source.given_name,
        source.middle_name,
        source.family_name,
        source.organisation,
        source.department,
        source.street,
        source.city,
        source.postcode,
        source.telephone,
    )
    qualified = source.qualification is not None and not isinstance(
        source.qualification, NullFlavor
    )
    return qualified or any(_known(v) for v in contact)


def case_validity(icsr: ICSR) -> Validity:
    """The four minimum criteria, each missing one with the reason in words."""
    missing: list[tuple[Criterion, str]] = []
    if not _patient_identifiable(icsr.patient):
        missing.append(
            (
                Criterion.IDENTIFIABLE_PATIENT,
                "no patient initials, identifier, date of birth, age, age group or sex",
            )
        )
    if not any(_reporter_identifiable(s) for s in icsr.primary_sources):
        missing.append(
            (
                Criterion.IDENTIFIABLE_REPORTER,
                "no primary source with a name, organisation, address, telephone or qualification",
            )
        )
    suspects = [d for d in icsr.drugs if d.role in SUSPECTED_ROLES]
    named = [
        d
        for d in suspects
        if d.product_name or d.mpid or d.phpid or any(s.name or s.term for s in d.substances)
    ]
    if not named:
        missing.append(
            (
                Criterion.SUSPECT_PRODUCT,
                "no suspect or interacting drug with a name, product identifier or substance",
            )
        )
    if not any(
        r.reported_native or r.reported_translation or (r.meddra and r.meddra.code)
        for r in icsr.reactions
    ):
        missing.append((Criterion.ADVERSE_EVENT, "no reaction as reported or coded"))
    return Validity(tuple(c for c, _ in missing), tuple(r for _, r in missing))


# --- what the XML cannot carry --------------------------------------------------------------


def _fields(value: Any, element: str = "", name: str = "") -> Iterator[tuple[str, str, Any]]:
    """(element, field name, value) for every field of every dataclass in the model, and for
    every dataclass inside a repeating field."""
    if hasattr(value, "__dataclass_fields__") and not isinstance(value, type):
        for field_name, here in field_specs(type(value)):
            child = getattr(value, field_name)
            here = here or element
            yield here, field_name, child
            if isinstance(child, tuple) or hasattr(child, "__dataclass_fields__"):
                yield from _fields(child, here, field_name)
    elif isinstance(value, tuple):
        for item in value:
            if hasattr(item, "__dataclass_fields__"):
                yield element, name, item
                yield from _fields(item, element, name)


def export_blockers(icsr: ICSR) -> tuple[ValidationIssue, ...]:
    """Why the message could not carry this model whole (the writer refuses on any)."""
    issues: list[ValidationIssue] = []
    for element, name, value in _fields(icsr):
        texts = value if isinstance(value, tuple) else (value,)
        for text in texts:
            if not isinstance(text, str):
                continue
            if text == "":
                issues.append(ValidationIssue(element, f"{name}: empty text (say None)"))
            elif _NOT_XML.search(text):
                issues.append(ValidationIssue(element, f"{name}: a character XML cannot carry"))
            elif name in _TRIMMED and text != text.strip():
                issues.append(ValidationIssue(element, f"{name}: blanks around a code or id"))
        if isinstance(value, MedDRA) and value.code is None and value.version is None:
            issues.append(ValidationIssue(element, "a MedDRA term with neither code nor version"))
        if isinstance(value, TermId) and value.code is None and value.version is None:
            issues.append(ValidationIssue(element, "a term with neither code nor version"))
        issues += _product_id_blockers(element, value)
        if (
            isinstance(value, PrimarySource | Sender)
            and value.middle_name is not None
            and value.given_name is None
        ):
            issues.append(ValidationIssue(element, "a middle name without a given name"))
    reactions = [r.ref_id for r in icsr.reactions]
    for drug in icsr.drugs:
        seen: set[str] = set()
        for row in drug.assessments:
            if row.reaction_ref not in reactions:
                issues.append(ValidationIssue("G.k.9.i.1", f"no reaction {row.reaction_ref!r}"))
            if row.reaction_ref in seen:
                issues.append(ValidationIssue("G.k.9.i", f"{row.reaction_ref!r} assessed twice"))
            seen.add(row.reaction_ref)
            if not (
                row.relatedness
                or row.interval_from_start
                or row.interval_from_last_dose
                or row.recurrence
            ):
                issues.append(ValidationIssue("G.k.9.i", "an assessment holding nothing"))
    for test in icsr.tests:
        if test.result_value is None and (test.result_qualifier or test.result_unit):
            issues.append(ValidationIssue("F.r.3.2", "a qualifier or unit without a value"))
        if test.result_qualifier not in (None, "LT", "GT", "LE", "GE"):
            issues.append(ValidationIssue("F.r.3.2", f"qualifier {test.result_qualifier!r}"))
    for reaction in icsr.reactions:
        if reaction.reported_language is not None and reaction.reported_native is None:
            issues.append(ValidationIssue("E.i.1.1b", "a language without the reported term"))
    death = icsr.patient.death
    if death is not None and death == type(death)():
        issues.append(ValidationIssue("D.9", "a death record holding nothing"))
    for literature in icsr.literature:
        if literature.document is not None and literature.document == type(literature.document)():
            issues.append(ValidationIssue("C.4.r.2", "an included document holding nothing"))
    if len(set(reactions)) != len(reactions):
        issues.append(ValidationIssue("E.i", "two reactions share an id"))
    drug_ids = [d.ref_id for d in icsr.drugs]
    if len(set(drug_ids)) != len(drug_ids):
        issues.append(ValidationIssue("G.k", "two drugs share an id"))
    return tuple(issues)


def _product_id_blockers(element: str, value: Any) -> Iterator[ValidationIssue]:
    # MPID and PhPID share one <code> element; only its code system tells them apart.
    mpid, phpid = getattr(value, "mpid", None), getattr(value, "phpid", None)
    if mpid is not None and phpid is not None:
        yield ValidationIssue(element, "both MPID and PhPID (the IG carries one)")
    if mpid is not None and mpid.system in (None, OID.PHPID):
        yield ValidationIssue(element, f"an MPID needs its own code system (e.g. {OID.MPID})")
    if phpid is not None and phpid.system != OID.PHPID:
        yield ValidationIssue(element, f"a PhPID needs code system {OID.PHPID}")


# --- what an E2B receiver asks ---------------------------------------------------------------


def _unit(
    issues: list[ValidationIssue],
    element: str,
    q: Quantity | None,
    allowed: frozenset[str],
    severity: Severity = Severity.ERROR,
) -> None:
    if q is not None and q.unit not in allowed:
        issues.append(ValidationIssue(element, f"unit {q.unit!r} not in the IG's list", severity))


def _required(issues: list[ValidationIssue], element: str, value: Any, what: str) -> None:
    if value is None:
        issues.append(ValidationIssue(element, f"{what} is required"))


def structural_issues(icsr: ICSR) -> tuple[ValidationIssue, ...]:
    """What the ICH IG requires of the message, beyond what the types already guarantee."""
    issues = list(export_blockers(icsr))
    report = icsr.report
    for element, value, what in (
        ("C.1.3", report.report_type, "type of report"),
        ("C.1.4", report.first_received, "date first received"),
        ("C.1.5", report.most_recent, "date of most recent information"),
        ("C.1.7", report.expedited, "fulfils local expedited criteria"),
        ("C.1.8.1", report.worldwide_case_id, "worldwide unique case id"),
        ("C.1.8.2", report.first_sender, "first sender"),
        ("C.3", icsr.sender, "sender"),
    ):
        _required(issues, element, value, what)
    if report.nullification is not None and report.nullification_reason is None:
        issues.append(ValidationIssue("C.1.11.2", "a nullification / amendment needs a reason"))
    if report.other_case_ids_exist is True and not report.other_case_ids:
        issues.append(ValidationIssue("C.1.9.1.r", "other case ids announced but not given"))
    if not icsr.primary_sources:
        issues.append(ValidationIssue("C.2.r", "at least one primary source is required"))
    elif sum(s.for_regulatory_purposes for s in icsr.primary_sources) != 1:
        issues.append(
            ValidationIssue("C.2.r.5", "exactly one primary source for regulatory purposes")
        )
    if icsr.sender is not None:
        _required(issues, "C.3.1", icsr.sender.sender_type, "sender type")
        _required(issues, "C.3.2", icsr.sender.organisation, "sender's organisation")
    if report.report_type == ReportType.STUDY and (
        icsr.study is None or icsr.study.study_type is None
    ):
        issues.append(ValidationIssue("C.5.4", "a report from a study needs the study type"))
    patient = icsr.patient
    _unit(issues, "D.2.2", patient.age, AGE_UNITS)
    _unit(issues, "D.2.2.1", patient.gestation_period, GESTATION_UNITS)
    if patient.parent is not None:
        _unit(issues, "D.10.2.2", patient.parent.age, AGE_UNITS)
    if not icsr.reactions:
        issues.append(ValidationIssue("E.i", "at least one reaction / event is required"))
    for reaction in icsr.reactions:
        _required(issues, "E.i.1.1a", reaction.reported_native, "reaction as reported")
        _required(issues, "E.i.2.1", reaction.meddra, "MedDRA term (verbatim only is not enough)")
        _required(issues, "E.i.7", reaction.outcome, "outcome")
        for spec in dataclasses.fields(reaction.seriousness):
            _required(
                issues,
                spec.metadata["e2b"],
                getattr(reaction.seriousness, spec.name),
                "each seriousness criterion (true, or NI)",
            )
        _unit(issues, "E.i.6", reaction.duration, DURATION_UNITS)
    for test in icsr.tests:
        if test.name is None and test.meddra is None:
            issues.append(ValidationIssue("F.r.2", "a test needs a name or a MedDRA code"))
        if test.result_code is None and test.result_value is None and test.result_text is None:
            issues.append(ValidationIssue("F.r.3", "a test needs a result"))
    if not icsr.drugs:
        issues.append(ValidationIssue("G.k", "at least one drug is required"))
    elif not any(d.role in SUSPECTED_ROLES for d in icsr.drugs):
        issues.append(ValidationIssue("G.k.1", "at least one suspect or interacting drug"))
    for drug in icsr.drugs:
        _required(issues, "G.k.1", drug.role, "drug role")
        _required(issues, "G.k.2.2", drug.product_name, "product name as reported")
        _unit(issues, "G.k.5", drug.cumulative_dose, DOSE_UNITS, Severity.WARNING)
        _unit(issues, "G.k.6", drug.gestation_at_exposure, GESTATION_UNITS)
        for dosage in drug.dosages:
            _unit(issues, "G.k.4.r.1", dosage.dose, DOSE_UNITS, Severity.WARNING)
            _unit(issues, "G.k.4.r.6", dosage.duration, DURATION_UNITS)
            if dosage.frequency_unit is not None and dosage.frequency_unit not in FREQUENCY_UNITS:
                issues.append(ValidationIssue("G.k.4.r.3", f"unit {dosage.frequency_unit!r}"))
            for element, route in (
                ("G.k.4.r.10.2", dosage.route_term),
                ("G.k.4.r.11.2", dosage.parent_route_term),
            ):
                if route is not None and route.system == OID.ROUTE and route.code not in ROUTES:
                    issues.append(ValidationIssue(element, f"route {route.code!r} not listed"))
        for row in drug.assessments:
            _unit(issues, "G.k.9.i.3.1", row.interval_from_start, DURATION_UNITS)
            _unit(issues, "G.k.9.i.3.2", row.interval_from_last_dose, DURATION_UNITS)
    issues += _codes_and_flavours(icsr)
    return tuple(issues)


def _codes_and_flavours(icsr: ICSR) -> Iterator[ValidationIssue]:
    for element, name, value in _fields(icsr):
        if isinstance(value, NullFlavor):
            allowed = ALLOWED_NULL_FLAVOURS.get(element, frozenset())
            if value not in allowed:
                yield ValidationIssue(
                    element,
                    f"null flavour {value.value} is not one the IG admits here",
                    Severity.WARNING,
                )
        elif name in ("country", "obtained_country", "authorisation_country") and isinstance(
            value, str
        ):
            if value not in COUNTRIES:
                yield ValidationIssue(element, f"{value!r} is not an ISO 3166 country code")
        elif isinstance(value, MedDRA):
            if value.code is not None and not _MEDDRA_CODE.fullmatch(value.code):
                yield ValidationIssue(element, f"MedDRA code {value.code!r} is not 8 digits")
            if value.version is not None and not _MEDDRA_VERSION.fullmatch(value.version):
                yield ValidationIssue(element, f"MedDRA version {value.version!r} (e.g. 26.1)")
            if value.code is not None and value.version is None:
                yield ValidationIssue(element, "a MedDRA code needs its version")


# --- the ICH schema, when the user has it -----------------------------------------------------


class E2BSchemaUnavailable(QMSError):
    """The ICH schema files are not where the setting says."""

    status = 503
    code = "e2b_schema_unavailable"
    title = "E2B schema unavailable"


def schema_file(xsd_dir: Path) -> Path:
    """Where the ICH schema package keeps the batch schema."""
    return xsd_dir / "multicacheschemas" / "MCCI_IN200100UV01.xsd"


@lru_cache(maxsize=4)
def _schema(path: Path) -> Any:
    # Local files only: the schema's includes are resolved next to it, never over the network.
    parser = etree.XMLParser(no_network=True, resolve_entities=False, huge_tree=False)
    try:
        return etree.XMLSchema(etree.parse(str(path), parser))
    except (OSError, etree.XMLSchemaParseError, etree.XMLSyntaxError) as exc:
        raise E2BSchemaUnavailable(f"cannot load the E2B schema {path}: {exc}") from None


def schema_errors(xml: bytes, xsd_dir: Path) -> tuple[str, ...]:
    """XSD errors of a batch against the ICH schema in ``xsd_dir`` (empty when valid)."""
    path = schema_file(xsd_dir)
    if not path.is_file():
        raise E2BSchemaUnavailable(f"no {path.relative_to(xsd_dir)} under {xsd_dir}")
    schema = _schema(path.resolve())
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    document = etree.fromstring(xml, parser)
    if schema.validate(document):
        return ()
    return tuple(f"line {e.line}: {e.message}" for e in schema.error_log)


def configured_schema_errors(xml: bytes, xsd_dir: Path | None) -> tuple[str, ...] | None:
    """As :func:`schema_errors` with ``PHARMAQMS_E2B_XSD_DIR``; None when it is not set."""
    return None if xsd_dir is None else schema_errors(xml, xsd_dir)
