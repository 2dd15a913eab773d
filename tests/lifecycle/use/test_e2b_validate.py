"""The four minimum criteria, the IG's structural checks, and the ICH schema path."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from pharmaqms.kernel.settings import Settings
from pharmaqms.lifecycle.use.e2b import (
    ICSR,
    Criterion,
    E2BSchemaUnavailable,
    ParsedMessage,
    Severity,
    ValidationIssue,
    case_validity,
    configured_schema_errors,
    read_batch,
    schema_errors,
    structural_issues,
    write_batch,
)
from pharmaqms.lifecycle.use.e2b.codes import DrugRole, NullFlavor, Qualification
from pharmaqms.lifecycle.use.e2b.model import PrimarySource, Quantity
from pharmaqms.lifecycle.use.e2b.model_patient import Patient

HERE = Path(__file__).parent
SAMPLES = HERE / "samples"
STAND_IN = HERE / "xsd_standin"  # NOT the ICH schemas: see xsd_standin/README.md
NOW = datetime(2024, 6, 1, tzinfo=UTC)


def _serious() -> ICSR:
    [result] = read_batch(SAMPLES / "serious_hospitalisation.xml", now=NOW)
    assert isinstance(result, ParsedMessage)
    return result.icsr


def _with(icsr: ICSR, **changes: object) -> ICSR:
    return dataclasses.replace(icsr, **changes)


def test_the_serious_sample_is_a_valid_case_with_no_structural_issue() -> None:
    icsr = _serious()
    assert case_validity(icsr).valid is True
    assert structural_issues(icsr) == ()


def test_a_report_with_none_of_the_four_criteria_says_which_and_why() -> None:
    icsr = _with(_serious(), patient=Patient(), primary_sources=(), drugs=(), reactions=())
    validity = case_validity(icsr)
    assert validity.valid is False
    assert validity.missing == (
        Criterion.IDENTIFIABLE_PATIENT,
        Criterion.IDENTIFIABLE_REPORTER,
        Criterion.SUSPECT_PRODUCT,
        Criterion.ADVERSE_EVENT,
    )
    assert validity.reasons[0] == (
        "no patient initials, identifier, date of birth, age, age group or sex"
    )


def test_a_masked_name_still_identifies_a_patient_but_unknown_does_not() -> None:
    icsr = _serious()
    assert case_validity(_with(icsr, patient=Patient(name=NullFlavor.MSK))).valid is True
    unknown = case_validity(_with(icsr, patient=Patient(name=NullFlavor.UNK)))
    assert unknown.missing == (Criterion.IDENTIFIABLE_PATIENT,)
    aged = case_validity(_with(icsr, patient=Patient(age=Quantity(Decimal(3), "a"))))
    assert aged.valid is True


def test_a_reporter_is_identified_by_a_qualification_but_not_by_a_country_alone() -> None:
    icsr = _serious()
    by_country = _with(icsr, primary_sources=(PrimarySource(country="FR"),))
    assert case_validity(by_country).missing == (Criterion.IDENTIFIABLE_REPORTER,)
    by_role = _with(icsr, primary_sources=(PrimarySource(qualification=Qualification.PHARMACIST),))
    assert case_validity(by_role).valid is True


def test_a_concomitant_drug_alone_is_not_a_suspect_product() -> None:
    icsr = _serious()
    concomitant_only = _with(icsr, drugs=(icsr.drugs[1],))
    assert icsr.drugs[1].role is DrugRole.CONCOMITANT
    assert case_validity(concomitant_only).missing == (Criterion.SUSPECT_PRODUCT,)
    assert ValidationIssue("G.k.1", "at least one suspect or interacting drug") in (
        structural_issues(concomitant_only)
    )


def test_the_ig_cardinalities_are_checked() -> None:
    icsr = _with(_serious(), reactions=(), drugs=(), primary_sources=())
    assert structural_issues(icsr) == (
        ValidationIssue("C.2.r", "at least one primary source is required"),
        ValidationIssue("E.i", "at least one reaction / event is required"),
        ValidationIssue("G.k", "at least one drug is required"),
    )


def test_required_elements_codes_and_units_are_checked() -> None:
    icsr = _serious()
    reaction = dataclasses.replace(icsr.reactions[0], outcome=None, country="XX")
    reaction = dataclasses.replace(
        reaction, seriousness=dataclasses.replace(reaction.seriousness, death=None)
    )
    patient = dataclasses.replace(icsr.patient, age=Quantity(Decimal(67), "yr"), name=NullFlavor.NA)
    broken = _with(icsr, reactions=(reaction,), patient=patient)
    assert structural_issues(broken) == (
        ValidationIssue("D.2.2", "unit 'yr' not in the IG's list"),
        ValidationIssue("E.i.7", "outcome is required"),
        ValidationIssue("E.i.3.2a", "each seriousness criterion (true, or NI) is required"),
        ValidationIssue("D.1", "null flavour NA is not one the IG admits here", Severity.WARNING),
        ValidationIssue("E.i.9", "'XX' is not an ISO 3166 country code"),
    )


def test_the_exported_batch_is_checked_against_the_schema_directory(tmp_path: Path) -> None:
    # given: the stand-in laid out like the ICH package (multicacheschemas/ + coreschemas/)
    xml = write_batch([_serious()], sender="S", receiver="R", batch_id="B-1", now=NOW)
    # then: a well-formed export passes, and a broken wrapper is reported with its line
    assert schema_errors(xml, STAND_IN) == ()
    broken = xml.replace(b'<responseModeCode code="D"/>\n', b"")
    [error] = schema_errors(broken, STAND_IN)
    assert error.startswith("line 5: Element '{urn:hl7-org:v3}interactionId': This element is")
    # and: a directory without the batch schema is said so, not skipped
    with pytest.raises(E2BSchemaUnavailable):
        schema_errors(xml, tmp_path)


def test_the_setting_names_the_schema_directory_and_unset_means_not_checked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    xml = write_batch([_serious()], sender="S", receiver="R", batch_id="B-1", now=NOW)
    monkeypatch.setenv("PHARMAQMS_E2B_XSD_DIR", str(STAND_IN))
    assert Settings().e2b_xsd_dir == STAND_IN
    assert configured_schema_errors(xml, Settings().e2b_xsd_dir) == ()
    monkeypatch.delenv("PHARMAQMS_E2B_XSD_DIR")
    assert Settings().e2b_xsd_dir is None
    assert configured_schema_errors(xml, Settings().e2b_xsd_dir) is None


def test_every_sample_passes_the_stand_in_schema() -> None:
    for sample in sorted(SAMPLES.glob("*.xml")):
        if sample.name == "doctype_entity.xml":
            continue
        assert schema_errors(sample.read_bytes(), STAND_IN) == (), sample.name
