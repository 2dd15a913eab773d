"""FHIR R4 (4.0.1) ``AdverseEvent`` as a JSON interchange for the same ICSR model.

FHIR's AdverseEvent is narrower than an ICSR, so this maps only what has a place there, and
says so: one ``collection`` Bundle per case holding the ``Patient``, one ``Medication`` per drug
and one ``AdverseEvent`` per reaction. Per reaction: the reaction as reported and its MedDRA
code (``event``), start date (``date``), the case's creation date (``recordedDate``),
seriousness (serious / non-serious, with each E.i.3.2 criterion met as an extra coding),
outcome, and each suspect or interacting drug with its relatedness assessments
(``suspectEntity.causality``). Per drug: product name, role and the batch / lot numbers
(one ``Medication.batch`` each drug holds; further lots in an extension). Per patient: initials,
sex and date of birth.

Dose and route (G.k.4.r.1, G.k.4.r.10): a drug with either gets one ``MedicationStatement``
(R4's record of a medicine a patient took, as reported by them or a clinician; a
``MedicationAdministration`` is an administration a clinician recorded as it happened, which a
spontaneous report is not). It is a Bundle entry, not a resource contained in each
AdverseEvent: one statement per drug serves all the case's reactions, and concomitant drugs
have theirs too. Its ``dosage`` has one element per E2B dosage that gives a dose or a route
(``sequence`` = the dosage's position; ``doseAndRate.doseQuantity`` in UCUM,
``route`` coded in the E2B route list with its text); a suspect or interacting drug's
``AdverseEvent.suspectEntity.instance`` then names the statement (the R4 AdverseEvent allows
Medication, MedicationStatement or MedicationAdministration there), whose
``medicationReference`` names the Medication. Lots and dosages are matched by position.

Body weight (D.3): an ``Observation`` entry coded as the R4 vital-signs body weight (LOINC
29463-7, category ``vital-signs``, ``valueQuantity`` in kg, UCUM) about the Patient. It does not
claim the vital-signs profile, which requires a time of measurement that E2B does not hold.

Not carried (held only in E2B): null flavours, the report's sender and primary sources, the
rest of a dosage (frequency, dates, text, form), height and the parent's data,
dates with a time but no zone (FHIR requires a zone with a time: such values become their day)
and times to the hour or minute (FHIR times have seconds: they gain ":00"),
tests, narrative, and every element not named above. :func:`from_fhir` reads back what
:func:`to_fhir` writes; the rest of the ICSR is left empty (or is given by the caller).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Final

from pharmaqms.lifecycle.use.e2b.codes import (
    OID,
    SUSPECTED_ROLES,
    DrugRole,
    Outcome,
    Seriousness,
    Sex,
)
from pharmaqms.lifecycle.use.e2b.dates import HL7Time
from pharmaqms.lifecycle.use.e2b.icsr import ICSR
from pharmaqms.lifecycle.use.e2b.model import (
    MedDRA,
    MessageHeader,
    Quantity,
    Reaction,
    ReportIdentification,
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

MEDDRA_URI: Final = "http://terminology.hl7.org/CodeSystem/mdr"
SERIOUSNESS_URI: Final = "http://terminology.hl7.org/CodeSystem/adverse-event-seriousness"
OUTCOME_URI: Final = "http://terminology.hl7.org/CodeSystem/adverse-event-outcome"
CRITERIA_URI: Final = f"urn:oid:{OID.OBSERVATION}"
ROLE_URI: Final = f"urn:oid:{OID.DRUG_ROLE}"
CASE_ID_URI: Final = f"urn:oid:{OID.SAFETY_REPORT_ID}"
WORLDWIDE_URI: Final = f"urn:oid:{OID.WORLDWIDE_CASE_ID}"
ROLE_EXTENSION: Final = "https://pharmaqms.org/fhir/StructureDefinition/e2b-drug-role"
LOTS_EXTENSION: Final = "https://pharmaqms.org/fhir/StructureDefinition/e2b-further-lots"
UCUM_URI: Final = "http://unitsofmeasure.org"
LOINC_URI: Final = "http://loinc.org"
BODY_WEIGHT: Final = "29463-7"  # LOINC "Body weight", the R4 vital-signs body weight code
VITAL_SIGNS_URI: Final = "http://terminology.hl7.org/CodeSystem/observation-category"
WEIGHT_ID: Final = "body-weight"

_OUTCOMES: Final = {
    Outcome.UNKNOWN: "unknown",
    Outcome.RECOVERED: "resolved",
    Outcome.RECOVERING: "recovering",
    Outcome.NOT_RECOVERED: "ongoing",
    Outcome.RECOVERED_WITH_SEQUELAE: "resolvedWithSequelae",
    Outcome.FATAL: "fatal",
}
_CRITERIA: Final = (
    ("death", Seriousness.DEATH),
    ("life_threatening", Seriousness.LIFE_THREATENING),
    ("hospitalisation", Seriousness.HOSPITALISATION),
    ("disabling", Seriousness.DISABLING),
    ("congenital_anomaly", Seriousness.CONGENITAL_ANOMALY),
    ("other_medically_important", Seriousness.OTHER_MEDICALLY_IMPORTANT),
)
_GENDERS: Final = {Sex.MALE: "male", Sex.FEMALE: "female"}


def fhir_date(value: object) -> str | None:
    """A FHIR date / dateTime: partial dates stay partial; a time needs its zone."""
    if not isinstance(value, HL7Time):
        return None
    out = f"{value.year:04}"
    if value.month is not None:
        out += f"-{value.month:02}"
    if value.day is not None:
        out += f"-{value.day:02}"
    if value.hour is None or value.utc_offset is None:
        return out
    out += f"T{value.hour:02}:{value.minute or 0:02}:{value.second or 0:02}"
    sign = "-" if value.utc_offset < 0 else "+"
    hours, minutes = divmod(abs(value.utc_offset), 60)
    return out + ("Z" if value.utc_offset == 0 else f"{sign}{hours:02}:{minutes:02}")


def hl7_from_fhir(value: str | None) -> HL7Time | None:
    """The HL7Time a FHIR date / dateTime stands for (seconds precision for a time)."""
    if not value:
        return None
    date, _, time = value.partition("T")
    parts = date.split("-")
    if time:
        return HL7Time.parse(
            "".join(parts) + time.replace(":", "").replace("Z", "+0000")[:6] + _zone(time)
        )
    return HL7Time.parse("".join(parts))


def _zone(time: str) -> str:
    if time.endswith("Z"):
        return "+0000"
    for sign in "+-":
        if sign in time:
            return sign + time.rsplit(sign, 1)[1].replace(":", "")
    raise ValueError(f"a FHIR time needs a zone: {time!r}")


def _event(reaction: Reaction) -> dict[str, Any]:
    concept: dict[str, Any] = {}
    if reaction.meddra is not None:
        concept["coding"] = [
            {
                "system": MEDDRA_URI,
                **({"version": reaction.meddra.version} if reaction.meddra.version else {}),
                **({"code": reaction.meddra.code} if reaction.meddra.code else {}),
            }
        ]
    if reaction.reported_native is not None:
        concept["text"] = reaction.reported_native
    return concept


def _seriousness(reaction: Reaction) -> dict[str, Any]:
    codings = [
        {"system": SERIOUSNESS_URI, "code": "serious" if reaction.serious else "non-serious"}
    ]
    codings += [
        {"system": CRITERIA_URI, "code": code.value}
        for name, code in _CRITERIA
        if getattr(reaction.seriousness, name) is True
    ]
    return {"coding": codings}


def _causality(row: DrugReactionAssessment) -> list[dict[str, Any]]:
    out = []
    for related in row.relatedness:
        entry: dict[str, Any] = {}
        if related.result is not None:
            entry["assessment"] = {"text": related.result}
        if related.method is not None:
            entry["method"] = {"text": related.method}
        if related.source is not None:
            entry["author"] = {"display": related.source}
        out.append(entry)
    return out


def _medication(drug: Drug) -> dict[str, Any]:
    resource: dict[str, Any] = {"resourceType": "Medication", "id": drug.ref_id}
    if drug.role is not None:
        resource["extension"] = [
            {"url": ROLE_EXTENSION, "valueCoding": {"system": ROLE_URI, "code": drug.role.value}}
        ]
    if drug.product_name is not None:
        resource["code"] = {"text": drug.product_name}
    lots = drug.lot_numbers
    if lots:
        resource["batch"] = {"lotNumber": lots[0]}
        resource.setdefault("extension", []).extend(
            {"url": LOTS_EXTENSION, "valueString": lot} for lot in lots[1:]
        )
    return resource


def _number(value: Decimal) -> int | float:
    """A decimal as a JSON number (FHIR's decimal): whole numbers stay whole."""
    return int(value) if value == value.to_integral_value() else float(value)


def _decimal(value: Any, what: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{what} is not a number: {value!r}")
    return Decimal(str(value))


def _oid_system(system: str | None) -> str | None:
    return f"urn:oid:{system}" if system and not system.startswith("TBD") else system


def _route(dosage: Dosage) -> dict[str, Any] | None:
    route: dict[str, Any] = {}
    term = dosage.route_term
    if term is not None and term.code is not None:
        coding: dict[str, Any] = {"code": term.code}
        if (system := _oid_system(term.system)) is not None:
            coding["system"] = system
        if term.version is not None:
            coding["version"] = term.version
        route["coding"] = [coding]
    if isinstance(dosage.route_text, str):
        route["text"] = dosage.route_text
    return route or None


def _statement(drug: Drug) -> dict[str, Any] | None:
    """The drug's MedicationStatement, when one of its dosages gives a dose or a route."""
    given = []
    for position, dosage in enumerate(drug.dosages, start=1):
        entry: dict[str, Any] = {"sequence": position}
        if dosage.dose is not None:
            unit = dosage.dose.unit
            entry["doseAndRate"] = [
                {
                    "doseQuantity": {
                        "value": _number(dosage.dose.value),
                        "unit": unit,
                        "system": UCUM_URI,
                        "code": unit,
                    }
                }
            ]
        if (route := _route(dosage)) is not None:
            entry["route"] = route
        if len(entry) > 1:
            given.append(entry)
    if not given:
        return None
    return {
        "resourceType": "MedicationStatement",
        "id": _statement_id(drug.ref_id),
        # A report says the patient took it, not whether they still do.
        "status": "unknown",
        "medicationReference": {"reference": f"Medication/{drug.ref_id}"},
        "subject": {"reference": "Patient/patient"},
        "dosage": given,
    }


def _statement_id(ref_id: str) -> str:
    return f"{ref_id}-use"


def _weight(patient: Patient) -> dict[str, Any] | None:
    if patient.weight_kg is None:
        return None
    return {
        "resourceType": "Observation",
        "id": WEIGHT_ID,
        "status": "final",
        "category": [{"coding": [{"system": VITAL_SIGNS_URI, "code": "vital-signs"}]}],
        "code": {
            "coding": [{"system": LOINC_URI, "code": BODY_WEIGHT, "display": "Body weight"}],
            "text": "Body weight",
        },
        "subject": {"reference": "Patient/patient"},
        "valueQuantity": {
            "value": _number(patient.weight_kg),
            "unit": "kg",
            "system": UCUM_URI,
            "code": "kg",
        },
    }


def _patient(patient: Patient) -> dict[str, Any]:
    resource: dict[str, Any] = {"resourceType": "Patient", "id": "patient"}
    if isinstance(patient.name, str):
        resource["name"] = [{"text": patient.name}]
    if isinstance(patient.sex, Sex):
        resource["gender"] = _GENDERS[patient.sex]
    birth = fhir_date(patient.birth_date)
    if birth is not None:
        resource["birthDate"] = birth[:10]
    return resource


def to_fhir(icsr: ICSR) -> dict[str, Any]:
    """The case as a FHIR R4 ``collection`` Bundle: the Patient, its body weight, the
    Medications, their MedicationStatements (dose, route) and the AdverseEvents."""
    entries: list[dict[str, Any]] = [
        {"fullUrl": "Patient/patient", "resource": _patient(icsr.patient)}
    ]
    if (weight := _weight(icsr.patient)) is not None:
        entries.append({"fullUrl": f"Observation/{WEIGHT_ID}", "resource": weight})
    entries += [
        {"fullUrl": f"Medication/{d.ref_id}", "resource": _medication(d)} for d in icsr.drugs
    ]
    statements = {d.ref_id: s for d in icsr.drugs if (s := _statement(d)) is not None}
    entries += [
        {"fullUrl": f"MedicationStatement/{s['id']}", "resource": s} for s in statements.values()
    ]
    for reaction in icsr.reactions:
        event: dict[str, Any] = {
            "resourceType": "AdverseEvent",
            "id": reaction.ref_id,
            "actuality": "actual",
            "event": _event(reaction),
            "subject": {"reference": "Patient/patient"},
            "seriousness": _seriousness(reaction),
        }
        if icsr.report.worldwide_case_id is not None:
            event["identifier"] = {"system": WORLDWIDE_URI, "value": icsr.report.worldwide_case_id}
        if (start := fhir_date(reaction.start)) is not None:
            event["date"] = start
        if (recorded := fhir_date(icsr.report.created)) is not None:
            event["recordedDate"] = recorded
        if reaction.outcome is not None:
            event["outcome"] = {
                "coding": [{"system": OUTCOME_URI, "code": _OUTCOMES[reaction.outcome]}]
            }
        suspects = []
        for drug in icsr.drugs:
            if drug.role not in SUSPECTED_ROLES:
                continue
            instance = (
                f"MedicationStatement/{_statement_id(drug.ref_id)}"
                if drug.ref_id in statements
                else f"Medication/{drug.ref_id}"
            )
            entry: dict[str, Any] = {"instance": {"reference": instance}}
            rows = [r for r in drug.assessments if r.reaction_ref == reaction.ref_id]
            causality = [c for row in rows for c in _causality(row)]
            if causality:
                entry["causality"] = causality
            suspects.append(entry)
        if suspects:
            event["suspectEntity"] = suspects
        entries.append({"fullUrl": f"AdverseEvent/{reaction.ref_id}", "resource": event})
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "identifier": {"system": CASE_ID_URI, "value": icsr.report.safety_report_id},
        "entry": entries,
    }


def _criteria(concept: dict[str, Any]) -> SeriousnessCriteria:
    met = {c.get("code") for c in concept.get("coding", []) if c.get("system") == CRITERIA_URI}
    return SeriousnessCriteria(**{name: True for name, code in _CRITERIA if code.value in met})


def _reaction(event: dict[str, Any]) -> Reaction:
    concept = event.get("event", {})
    coding = next((c for c in concept.get("coding", []) if c.get("system") == MEDDRA_URI), None)
    outcome_code = next(
        (
            c.get("code")
            for c in event.get("outcome", {}).get("coding", [])
            if c.get("system") == OUTCOME_URI
        ),
        None,
    )
    outcomes = {v: k for k, v in _OUTCOMES.items()}
    return Reaction(
        ref_id=event["id"],
        reported_native=concept.get("text"),
        meddra=None if coding is None else MedDRA(coding.get("version"), coding.get("code")),
        seriousness=_criteria(event.get("seriousness", {})),
        start=hl7_from_fhir(event.get("date")),
        outcome=outcomes.get(outcome_code) if outcome_code else None,
    )


def _dosage_back(element: dict[str, Any], lot: str | None) -> Dosage:
    dose = None
    for rate in element.get("doseAndRate", []):
        quantity = rate.get("doseQuantity")
        if quantity is not None:
            unit = quantity.get("code") or quantity.get("unit") or ""
            dose = Quantity(_decimal(quantity.get("value"), "a dose"), unit)
            break
    route = element.get("route", {})
    coding = next(iter(route.get("coding", [])), None)
    term = None
    if coding is not None:
        system = coding.get("system")
        term = TermId(
            coding.get("code"),
            coding.get("version"),
            system.removeprefix("urn:oid:") if isinstance(system, str) else None,
        )
    return Dosage(dose=dose, batch_lot=lot, route_text=route.get("text"), route_term=term)


def _dosages(lots: list[str], statement: dict[str, Any] | None) -> tuple[Dosage, ...]:
    """The drug's E2B dosages: its lots and its statement's doses and routes, by position."""
    given: dict[int, dict[str, Any]] = {}
    for element in (statement or {}).get("dosage", []):
        sequence = element.get("sequence", len(given) + 1)
        if not isinstance(sequence, int) or sequence < 1:
            raise ValueError(f"a dosage's sequence is a positive whole number: {sequence!r}")
        given[sequence] = element
    count = max([len(lots), *given])
    return tuple(
        _dosage_back(given[i + 1], lots[i] if i < len(lots) else None)
        if i + 1 in given
        else Dosage(batch_lot=lots[i] if i < len(lots) else None)
        for i in range(count)
    )


def _weight_back(resources: list[dict[str, Any]]) -> Decimal | None:
    for resource in resources:
        if resource.get("resourceType") != "Observation":
            continue
        codes = resource.get("code", {}).get("coding", [])
        if not any(c.get("system") == LOINC_URI and c.get("code") == BODY_WEIGHT for c in codes):
            continue
        quantity = resource.get("valueQuantity", {})
        value = _decimal(quantity.get("value"), "a body weight")
        unit = quantity.get("code") or quantity.get("unit")
        if unit == "kg":
            return value
        if unit == "g":
            return value / 1000
        raise ValueError(f"a body weight in {unit!r}: expected kg or g (UCUM)")
    return None


def _drug(
    resource: dict[str, Any],
    events: list[dict[str, Any]],
    statement: dict[str, Any] | None = None,
) -> Drug:
    extensions = resource.get("extension", [])
    role = next(
        (DrugRole(e["valueCoding"]["code"]) for e in extensions if e.get("url") == ROLE_EXTENSION),
        None,
    )
    lots = [resource["batch"]["lotNumber"]] if "lotNumber" in resource.get("batch", {}) else []
    lots += [e["valueString"] for e in extensions if e.get("url") == LOTS_EXTENSION]
    references = {f"Medication/{resource['id']}"}
    if statement is not None:
        references.add(f"MedicationStatement/{statement['id']}")
    rows = []
    for event in events:
        for suspect in event.get("suspectEntity", []):
            if suspect.get("instance", {}).get("reference") not in references:
                continue
            related = tuple(
                Relatedness(
                    source=c.get("author", {}).get("display"),
                    method=c.get("method", {}).get("text"),
                    result=c.get("assessment", {}).get("text"),
                )
                for c in suspect.get("causality", [])
            )
            if related:
                rows.append(DrugReactionAssessment(event["id"], relatedness=related))
    return Drug(
        ref_id=resource["id"],
        role=role,
        product_name=resource.get("code", {}).get("text"),
        dosages=_dosages(lots, statement),
        assessments=tuple(rows),
    )


def from_fhir(
    bundle: dict[str, Any], *, message: MessageHeader, report: ReportIdentification | None = None
) -> ICSR:
    """The ICSR a Bundle made by :func:`to_fhir` stands for, within what FHIR carries.

    FHIR has no E2B message header, so the caller gives it (and, if it has one, the C.1 block:
    otherwise it is built from the Bundle's identifier and the events' recorded date)."""
    resources = [e["resource"] for e in bundle.get("entry", [])]
    events = [r for r in resources if r.get("resourceType") == "AdverseEvent"]
    patient_resource: dict[str, Any] = next(
        (r for r in resources if r.get("resourceType") == "Patient"), {}
    )
    genders = {v: k for k, v in _GENDERS.items()}
    names = patient_resource.get("name", [])
    patient = Patient(
        name=names[0].get("text") if names else None,
        sex=genders.get(patient_resource.get("gender", "")),
        birth_date=hl7_from_fhir(patient_resource.get("birthDate")),
        weight_kg=_weight_back(resources),
    )
    statements = {
        r["medicationReference"]["reference"]: r
        for r in resources
        if r.get("resourceType") == "MedicationStatement"
        and "reference" in r.get("medicationReference", {})
    }
    if report is None:
        recorded = next(
            (hl7_from_fhir(e.get("recordedDate")) for e in events if e.get("recordedDate")), None
        )
        worldwide = next((e["identifier"]["value"] for e in events if "identifier" in e), None)
        report = ReportIdentification(
            safety_report_id=bundle["identifier"]["value"],
            created=recorded or message.created,
            worldwide_case_id=worldwide,
        )
    return ICSR(
        message=message,
        report=report,
        patient=patient,
        reactions=tuple(_reaction(e) for e in events),
        drugs=tuple(
            _drug(r, events, statements.get(f"Medication/{r['id']}"))
            for r in resources
            if r.get("resourceType") == "Medication"
        ),
    )


__all__ = ["fhir_date", "from_fhir", "hl7_from_fhir", "to_fhir"]
