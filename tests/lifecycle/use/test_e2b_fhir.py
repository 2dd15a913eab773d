"""FHIR R4 AdverseEvent interchange: what maps goes out and comes back unchanged."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from pharmaqms.lifecycle.use.e2b import ICSR, HL7Time, ParsedMessage, read_batch
from pharmaqms.lifecycle.use.e2b.codes import OID, DrugRole, Outcome, Sex
from pharmaqms.lifecycle.use.e2b.fhir import fhir_date, from_fhir, hl7_from_fhir, to_fhir
from pharmaqms.lifecycle.use.e2b.model import (
    Quantity,
    ReportIdentification,
    SeriousnessCriteria,
    TermId,
)
from pharmaqms.lifecycle.use.e2b.model_drug import Dosage, Drug, DrugReactionAssessment
from pharmaqms.lifecycle.use.e2b.model_patient import Patient

SAMPLES = Path(__file__).parent / "samples"
NOW = datetime(2024, 6, 1, tzinfo=UTC)
UCUM = "http://unitsofmeasure.org"


def _sample(name: str) -> ICSR:
    [result] = read_batch(SAMPLES / name, now=NOW)
    assert isinstance(result, ParsedMessage)
    return result.icsr


def test_the_serious_case_becomes_a_bundle_of_patient_medications_and_adverse_events() -> None:
    bundle = to_fhir(_sample("serious_hospitalisation.xml"))
    json.dumps(bundle)  # plain JSON all the way down
    assert bundle["identifier"] == {
        "system": "urn:oid:2.16.840.1.113883.3.989.2.1.3.1",
        "value": "FR-PHARMAQMS-2024-000117",
    }
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert kinds == [
        "Patient",
        "Observation",
        "Medication",
        "Medication",
        "MedicationStatement",
        "AdverseEvent",
    ]
    weight = bundle["entry"][1]["resource"]
    assert weight["code"]["coding"] == [
        {"system": "http://loinc.org", "code": "29463-7", "display": "Body weight"}
    ]
    assert weight["category"][0]["coding"][0]["code"] == "vital-signs"
    assert weight["subject"] == {"reference": "Patient/patient"}
    assert weight["valueQuantity"] == {
        "value": 61.5,
        "unit": "kg",
        "system": "http://unitsofmeasure.org",
        "code": "kg",
    }
    suspect = bundle["entry"][2]["resource"]
    assert suspect["batch"] == {"lotNumber": "LOT-0424-B17"}
    # The suspect drug's dose (1 dosage form) and route (oral, E2B route 048); the
    # concomitant drug gives neither and has no statement.
    statement = bundle["entry"][4]["resource"]
    assert statement == {
        "resourceType": "MedicationStatement",
        "id": "1d0b7c52-3a8e-4f6b-b2d4-9e7a5c3f1a10-use",
        "status": "unknown",
        "medicationReference": {"reference": "Medication/1d0b7c52-3a8e-4f6b-b2d4-9e7a5c3f1a10"},
        "subject": {"reference": "Patient/patient"},
        "dosage": [
            {
                "sequence": 1,
                "doseAndRate": [
                    {
                        "doseQuantity": {
                            "value": 1,
                            "unit": "{DF}",
                            "system": "http://unitsofmeasure.org",
                            "code": "{DF}",
                        }
                    }
                ],
                "route": {
                    "coding": [
                        {"code": "048", "system": "urn:oid:2.16.840.1.113883.3.989.2.1.1.14"}
                    ],
                    "text": "oral",
                },
            }
        ],
    }
    event = bundle["entry"][5]["resource"]
    assert event["event"] == {
        "coding": [
            {
                "system": "http://terminology.hl7.org/CodeSystem/mdr",
                "version": "26.1",
                "code": "10019837",
            }
        ],
        "text": "hépatite cholestatique avec ictère",
    }
    assert event["seriousness"]["coding"] == [
        {
            "system": "http://terminology.hl7.org/CodeSystem/adverse-event-seriousness",
            "code": "serious",
        },
        {"system": "urn:oid:2.16.840.1.113883.3.989.2.1.1.19", "code": "33"},
    ]
    assert event["date"] == "2024-02-28"
    assert event["recordedDate"] == "2024-03-15T13:30:00Z"
    assert event["outcome"]["coding"][0]["code"] == "resolved"
    assert event["suspectEntity"] == [
        {
            "instance": {
                "reference": "MedicationStatement/1d0b7c52-3a8e-4f6b-b2d4-9e7a5c3f1a10-use"
            },
            "causality": [
                {
                    "assessment": {"text": "probable"},
                    "method": {"text": "WHO-UMC"},
                    "author": {"display": "primary source reporter"},
                }
            ],
        }
    ]


def test_what_fhir_carries_comes_back_unchanged() -> None:
    icsr = _sample("serious_hospitalisation.xml")
    back = from_fhir(to_fhir(icsr), message=icsr.message)
    suspect, concomitant = icsr.drugs
    assert back.report == ReportIdentification(
        safety_report_id=icsr.report.safety_report_id,
        created=icsr.report.created,
        worldwide_case_id=icsr.report.worldwide_case_id,
    )
    assert back.patient == Patient(name="M.D.", sex=Sex.FEMALE, weight_kg=Decimal("61.5"))
    [reaction] = back.reactions
    original = icsr.reactions[0]
    assert (reaction.ref_id, reaction.reported_native, reaction.meddra, reaction.start) == (
        original.ref_id,
        original.reported_native,
        original.meddra,
        original.start,
    )
    assert reaction.outcome is Outcome.RECOVERED
    assert reaction.seriousness == SeriousnessCriteria(hospitalisation=True)  # NI is not carried
    assert back.drugs == (
        Drug(
            ref_id=suspect.ref_id,
            role=DrugRole.SUSPECT,
            product_name=suspect.product_name,
            # lot, dose and route travel; the dosage's text, period and form do not
            dosages=(
                Dosage(
                    dose=Quantity(Decimal(1), "{DF}"),
                    batch_lot="LOT-0424-B17",
                    route_text="oral",
                    route_term=TermId("048", system=OID.ROUTE),
                ),
            ),
            # the relatedness assessments travel; the time intervals do not
            assessments=tuple(
                DrugReactionAssessment(row.reaction_ref, relatedness=row.relatedness)
                for row in suspect.assessments
            ),
        ),
        Drug(
            ref_id=concomitant.ref_id,
            role=DrugRole.CONCOMITANT,
            product_name=concomitant.product_name,
        ),
    )


def test_a_case_already_in_the_fhir_shape_survives_the_journey_whole() -> None:
    icsr = from_fhir(
        to_fhir(_sample("serious_hospitalisation.xml")),
        message=_sample("serious_hospitalisation.xml").message,
    )
    assert from_fhir(to_fhir(icsr), message=icsr.message) == icsr


@pytest.mark.parametrize(
    ("value", "literal"),
    [
        (HL7Time(2023), "2023"),
        (HL7Time(2023, 11), "2023-11"),
        (HL7Time(2023, 11, 5), "2023-11-05"),
        (HL7Time(2023, 11, 5, 8, 30, 15, utc_offset=0), "2023-11-05T08:30:15Z"),
        (HL7Time(2023, 11, 5, utc_offset=60), "2023-11-05"),
    ],
)
def test_partial_dates_stay_partial_in_fhir(value: HL7Time, literal: str) -> None:
    assert fhir_date(value) == literal
    back = hl7_from_fhir(literal)
    assert back == (HL7Time(2023, 11, 5) if value.utc_offset == 60 else value)


def test_a_time_without_a_zone_becomes_its_day_since_fhir_needs_a_zone() -> None:
    assert fhir_date(HL7Time(2023, 11, 5, 8, 30)) == "2023-11-05"
    assert hl7_from_fhir("2023-11-05T08:30:15+01:00") == HL7Time(
        2023, 11, 5, 7, 30, 15, utc_offset=0
    )
    with pytest.raises(ValueError):
        hl7_from_fhir("2023-11-05T08:30:15")


def test_further_lots_of_one_drug_travel_in_an_extension() -> None:
    icsr = _sample("serious_hospitalisation.xml")
    drug = Drug(
        ref_id="d1",
        role=DrugRole.SUSPECT,
        product_name="X",
        dosages=(Dosage(batch_lot="L1"), Dosage(batch_lot="L2")),
    )
    case = ICSR(message=icsr.message, report=icsr.report, drugs=(drug,))
    medication = to_fhir(case)["entry"][1]["resource"]
    assert medication["batch"] == {"lotNumber": "L1"}
    assert medication["extension"][-1] == {
        "url": "https://pharmaqms.org/fhir/StructureDefinition/e2b-further-lots",
        "valueString": "L2",
    }
    assert from_fhir(to_fhir(case), message=icsr.message, report=icsr.report).drugs == (drug,)


def test_each_dosage_keeps_its_dose_route_and_lot_by_position() -> None:
    icsr = _sample("serious_hospitalisation.xml")
    iv = TermId("042", system=OID.ROUTE)
    drug = Drug(
        ref_id="d1",
        role=DrugRole.INTERACTING,
        product_name="X",
        dosages=(
            Dosage(dose=Quantity(Decimal("2.5"), "mg"), batch_lot="L1", route_term=iv),
            Dosage(batch_lot="L2"),  # a second lot, with no dose or route
            Dosage(dose=Quantity(Decimal("7.5"), "mg"), batch_lot="L3", route_text="drip"),
        ),
    )
    case = ICSR(
        message=icsr.message,
        report=icsr.report,
        patient=Patient(weight_kg=Decimal("3.25")),
        drugs=(drug,),
        reactions=icsr.reactions,
    )
    bundle = to_fhir(case)
    [statement] = [
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "MedicationStatement"
    ]
    assert [d["sequence"] for d in statement["dosage"]] == [1, 3]
    [event] = [
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "AdverseEvent"
    ]
    assert event["suspectEntity"][0]["instance"] == {"reference": "MedicationStatement/d1-use"}
    back = from_fhir(json.loads(json.dumps(bundle)), message=icsr.message, report=icsr.report)
    assert back.drugs[0].dosages == drug.dosages
    assert back.drugs[0].assessments == drug.assessments
    assert back.patient.weight_kg == Decimal("3.25")


def test_a_body_weight_in_grams_is_read_as_kilograms_and_other_units_are_refused() -> None:
    icsr = _sample("serious_hospitalisation.xml")
    bundle = to_fhir(icsr)
    [weight] = [
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Observation"
    ]
    weight["valueQuantity"] = {"value": 3250, "unit": "g", "system": UCUM, "code": "g"}
    assert from_fhir(bundle, message=icsr.message).patient.weight_kg == Decimal("3.25")
    weight["valueQuantity"] = {"value": 7, "unit": "lb", "system": UCUM, "code": "[lb_av]"}
    with pytest.raises(ValueError, match="a body weight in '\\[lb_av\\]'"):
        from_fhir(bundle, message=icsr.message)


def test_a_bundle_written_before_doses_travelled_still_reads() -> None:
    # Earlier bundles named the Medication itself as the suspect entity and had no
    # statement: their drugs come back with their lots and assessments as before.
    icsr = _sample("serious_hospitalisation.xml")
    bundle = to_fhir(icsr)
    entries = [e for e in bundle["entry"] if e["resource"]["resourceType"] != "MedicationStatement"]
    for entry in entries:
        for suspect in entry["resource"].get("suspectEntity", []):
            suspect["instance"]["reference"] = (
                suspect["instance"]["reference"]
                .replace("MedicationStatement/", "Medication/")
                .removesuffix("-use")
            )
    old = from_fhir({**bundle, "entry": entries}, message=icsr.message)
    suspect = old.drugs[0]
    assert suspect.dosages == (Dosage(batch_lot="LOT-0424-B17"),)
    assert [row.reaction_ref for row in suspect.assessments] == [icsr.reactions[0].ref_id]
