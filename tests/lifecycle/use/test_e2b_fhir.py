"""FHIR R4 AdverseEvent interchange: what maps goes out and comes back unchanged."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pharmaqms.lifecycle.use.e2b import ICSR, HL7Time, ParsedMessage, read_batch
from pharmaqms.lifecycle.use.e2b.codes import DrugRole, Outcome, Sex
from pharmaqms.lifecycle.use.e2b.fhir import fhir_date, from_fhir, hl7_from_fhir, to_fhir
from pharmaqms.lifecycle.use.e2b.model import ReportIdentification, SeriousnessCriteria
from pharmaqms.lifecycle.use.e2b.model_drug import Dosage, Drug, DrugReactionAssessment
from pharmaqms.lifecycle.use.e2b.model_patient import Patient

SAMPLES = Path(__file__).parent / "samples"
NOW = datetime(2024, 6, 1, tzinfo=UTC)


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
    assert kinds == ["Patient", "Medication", "Medication", "AdverseEvent"]
    suspect = bundle["entry"][1]["resource"]
    assert suspect["batch"] == {"lotNumber": "LOT-0424-B17"}
    event = bundle["entry"][3]["resource"]
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
            "instance": {"reference": "Medication/1d0b7c52-3a8e-4f6b-b2d4-9e7a5c3f1a10"},
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
    assert back.patient == Patient(name="M.D.", sex=Sex.FEMALE)
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
            dosages=(Dosage(batch_lot="LOT-0424-B17"),),
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
