"""Reading E2B(R3) batches: the samples, refusals (whole file, one message), findings."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from pharmaqms.lifecycle.use.e2b import (
    DocumentReason,
    E2BDocumentRefused,
    Finding,
    FindingCode,
    HL7Time,
    ParsedMessage,
    RefusalReason,
    RefusedMessage,
    read_batch,
)
from pharmaqms.lifecycle.use.e2b.codes import (
    ActionTaken,
    DrugRole,
    NullFlavor,
    Outcome,
    Qualification,
    Sex,
)
from pharmaqms.lifecycle.use.e2b.model import MedDRA, Quantity, SeriousnessCriteria

SAMPLES = Path(__file__).parent / "samples"
_REACTION = "6f1c3e2a-7b9d-4c1e-9a55-0c2d6b1e8f01"  # the reaction's id in the serious sample
_NOBODY = "00000000-0000-0000-0000-000000000000"
_INDENT = " " * 20
NOW = datetime(2024, 6, 1, tzinfo=UTC)


def _only(path: Path | bytes, now: datetime = NOW) -> ParsedMessage:
    [result] = read_batch(path, now=now)
    assert isinstance(result, ParsedMessage), result
    return result


def test_the_serious_case_is_read_with_its_lot_and_its_seriousness() -> None:
    result = _only(SAMPLES / "serious_hospitalisation.xml")
    icsr = result.icsr
    assert result.position == 1
    assert result.findings == ()
    assert result.batch.batch_id == "BATCH-2024-0042"
    assert result.batch.created == HL7Time(2024, 3, 15, 14, 0, 0, utc_offset=0)  # +0100 → UTC
    assert icsr.report.safety_report_id == "FR-PHARMAQMS-2024-000117"
    assert icsr.report.created == HL7Time(2024, 3, 15, 13, 30, 0, utc_offset=0)
    assert icsr.serious is True
    [reaction] = icsr.reactions
    assert reaction.seriousness == SeriousnessCriteria(
        death=NullFlavor.NI,
        life_threatening=NullFlavor.NI,
        hospitalisation=True,
        disabling=NullFlavor.NI,
        congenital_anomaly=NullFlavor.NI,
        other_medically_important=NullFlavor.NI,
    )
    assert (reaction.reported_native, reaction.reported_language) == (
        "hépatite cholestatique avec ictère",
        "fra",
    )
    assert reaction.reported_translation == "cholestatic hepatitis with jaundice"
    assert reaction.meddra == MedDRA("26.1", "10019837")
    assert reaction.outcome is Outcome.RECOVERED
    suspect, concomitant = icsr.drugs
    assert (suspect.role, concomitant.role) == (DrugRole.SUSPECT, DrugRole.CONCOMITANT)
    assert icsr.lot_numbers == ("LOT-0424-B17",)
    [dosage] = suspect.dosages
    assert dosage.batch_lot == "LOT-0424-B17"
    assert dosage.dose == Quantity(Decimal("1"), "{DF}")
    assert (dosage.frequency, dosage.frequency_unit) == (Decimal("12"), "h")
    assert dosage.route_term is not None and dosage.route_term.code == "048"
    assert suspect.action_taken is ActionTaken.WITHDRAWN
    [row] = suspect.assessments
    assert row.reaction_ref == reaction.ref_id
    assert row.interval_from_start == Quantity(Decimal("8"), "d")
    assert [(r.source, r.method, r.result) for r in row.relatedness] == [
        ("primary source reporter", "WHO-UMC", "probable")
    ]
    [source] = icsr.primary_sources
    assert (source.given_name, source.family_name, source.qualification) == (
        "Claire",
        "Rousseau",
        Qualification.PHYSICIAN,
    )
    assert source.for_regulatory_purposes is True
    assert icsr.patient.age == Quantity(Decimal("67"), "a")
    assert icsr.patient.sex is Sex.FEMALE
    assert icsr.narrative.sender_diagnoses == (MedDRA("26.1", "10019837"),)


def test_partial_dates_and_null_flavours_are_kept_as_sent() -> None:
    result = _only(SAMPLES / "non_serious_partial_dates.xml")
    assert result.findings == ()  # every null flavour in it has a place in the model
    icsr = result.icsr
    assert icsr.serious is False
    assert icsr.reactions[0].start == HL7Time(2023, 11)
    [dosage] = icsr.drugs[0].dosages
    assert (dosage.start, dosage.end) == (HL7Time(2023), HL7Time(2023, 11))
    assert dosage.batch_lot is NullFlavor.UNK
    assert icsr.lot_numbers == ()
    assert icsr.patient.name is NullFlavor.MSK
    assert icsr.patient.sex is NullFlavor.UNK
    assert icsr.primary_sources[0].telephone is NullFlavor.MSK
    assert icsr.primary_sources[0].qualification is Qualification.CONSUMER


def test_one_malformed_message_is_refused_alone_and_the_others_are_read() -> None:
    first, second, third = read_batch(SAMPLES / "batch_of_three_middle_malformed.xml", now=NOW)
    assert isinstance(first, ParsedMessage) and isinstance(third, ParsedMessage)
    assert first.icsr.report.safety_report_id == "GB-PHARMAQMS-2024-000201"
    assert third.icsr.report.safety_report_id == "GB-PHARMAQMS-2024-000203"
    assert third.icsr.reactions[0].start == HL7Time(2024)
    assert isinstance(second, RefusedMessage)
    assert second.position == 2
    assert second.reason is RefusalReason.INVALID_DATE
    assert second.element == "E.i.4"
    assert second.detail == "month 13 out of range"
    assert second.message_id == "GB-PHARMAQMS-2024-000202"
    assert b'<low value="20231345"/>' in second.raw
    assert second.raw.count(b"<PORR_IN049016UV") == 1  # only its own message, for quarantine


def test_a_doctype_with_entities_refuses_the_whole_file_before_reading() -> None:
    with pytest.raises(E2BDocumentRefused) as refused:
        read_batch(SAMPLES / "doctype_entity.xml", now=NOW)
    assert refused.value.reason is DocumentReason.DOCTYPE_FORBIDDEN
    assert refused.value.problem()["reason"] == "doctype_forbidden"


def test_a_doctype_in_utf16_is_refused_too() -> None:
    data = (SAMPLES / "doctype_entity.xml").read_text(encoding="utf-8")
    encoded = data.replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")
    with pytest.raises(E2BDocumentRefused) as refused:
        read_batch(encoded, now=NOW)
    assert refused.value.reason is DocumentReason.DOCTYPE_FORBIDDEN


def test_a_negative_age_is_a_finding_beside_the_value_not_a_correction() -> None:
    result = _only(SAMPLES / "negative_age.xml")
    assert result.icsr.patient.age == Quantity(Decimal("-67"), "a")
    assert result.findings == (
        Finding(FindingCode.IMPLAUSIBLE_AGE, "D.2.2", "a negative age", "-67"),
    )


def test_a_null_flavour_the_model_has_no_room_for_is_a_finding_not_a_silent_drop() -> None:
    xml = _sample("serious_hospitalisation.xml").replace(
        '<value xsi:type="PQ" value="61.5" unit="kg"/>', '<value xsi:type="PQ" nullFlavor="UNK"/>'
    )
    result = _only(xml.encode())
    assert result.icsr.patient.weight_kg is None
    [finding] = result.findings
    assert (finding.code, finding.value) == (FindingCode.NULL_FLAVOUR_NOT_HELD, "UNK")
    assert finding.element == (  # D.3, named by its place in the message
        "controlActProcess/subject/investigationEvent/component[1]/adverseEventAssessment/"
        "subject1/primaryRole/subjectOf2[2]/observation/value"
    )


def _sample(name: str) -> str:
    return (SAMPLES / name).read_text(encoding="utf-8")


def test_dates_after_now_and_an_end_before_its_start_are_findings() -> None:
    xml = _sample("serious_hospitalisation.xml").replace(
        '<high value="20240327"/>', '<high value="20240227"/>'
    )
    result = _only(xml.encode(), now=datetime(2024, 3, 10, tzinfo=UTC))
    assert [(f.code, f.element, f.value) for f in result.findings] == [
        (FindingCode.FUTURE_DATE, "N.2.r.4", "20240315133000+0000"),
        (FindingCode.FUTURE_DATE, "C.1.2", "20240315133000+0000"),
        (FindingCode.FUTURE_DATE, "C.1.5", "20240312"),
        (FindingCode.END_BEFORE_START, "E.i.5", "20240227"),
    ]
    assert result.icsr.reactions[0].end == HL7Time(2024, 2, 27)  # kept as sent


def test_a_partial_date_is_not_called_future_while_some_of_it_is_past() -> None:
    xml = _sample("non_serious_partial_dates.xml")
    assert _only(xml.encode(), now=datetime(2023, 11, 2, tzinfo=UTC)).findings != ()
    reaction_findings = [
        f
        for f in _only(xml.encode(), now=datetime(2023, 11, 2, tzinfo=UTC)).findings
        if f.element == "E.i.4"
    ]
    assert reaction_findings == []  # "November 2023" has begun by 2 November


def test_the_same_case_twice_in_a_batch_is_flagged_never_dropped() -> None:
    text = _sample("batch_of_three_middle_malformed.xml")
    twice = text.replace("GB-PHARMAQMS-2024-000203", "GB-PHARMAQMS-2024-000201")
    results = read_batch(twice.encode(), now=NOW)
    assert len(results) == 3
    assert isinstance(results[2], ParsedMessage)
    assert [(f.code, f.element) for f in results[2].findings] == [
        (FindingCode.DUPLICATE_IN_BATCH, "C.1.1"),
        (FindingCode.DUPLICATE_IN_BATCH, "C.1.8.1"),
    ]
    assert isinstance(results[0], ParsedMessage) and results[0].findings == ()


@pytest.mark.parametrize(
    ("old", "new", "reason", "element"),
    [
        (
            'code="2" codeSystem="1.0.5218"',
            'code="7" codeSystem="1.0.5218"',
            RefusalReason.UNKNOWN_CODE,
            "D.5",
        ),
        (
            '<value xsi:type="PQ" value="67" unit="a"/>',
            '<value xsi:type="PQ" value="6x7" unit="a"/>',
            RefusalReason.INVALID_NUMBER,
            "D.2.2",
        ),
        (
            '<value xsi:type="PQ" value="67" unit="a"/>',
            '<value xsi:type="PQ" value="Infinity" unit="a"/>',
            RefusalReason.INVALID_NUMBER,
            "D.2.2",
        ),
        (
            f'<id root="{_REACTION}"/>\n{_INDENT}</adverseEffect',
            f'<id root="{_NOBODY}"/>\n{_INDENT}</adverseEffect',
            RefusalReason.DANGLING_REFERENCE,
            "G.k.9.i.1",
        ),
        (
            '<id root="2.16.840.1.113883.3.989.2.1.3.1" extension="FR-PHARMAQMS-2024-000117"/>\n'
            '          <id root="2.16.840.1.113883.3.989.2.1.3.2"',
            '<id root="2.16.840.1.113883.3.989.2.1.3.2"',
            RefusalReason.MISSING_ELEMENT,
            "C.1.1",
        ),
        (
            '<value xsi:type="BL" value="true"/>',
            '<value xsi:type="BL" value="yes"/>',
            RefusalReason.UNKNOWN_CODE,
            "D.7.1.r.3",
        ),
        (
            '<value xsi:type="BL" nullFlavor="NI"/>',
            '<value xsi:type="BL" nullFlavor="XX"/>',
            RefusalReason.UNKNOWN_CODE,
            "E.i.3.2a",
        ),
        (
            "<name>M.D.</name>",
            "<name>M.D.</name><name>X</name>",
            RefusalReason.REPEATED_ELEMENT,
            "D.1",
        ),
    ],
)
def test_a_message_the_model_cannot_hold_whole_is_refused_with_its_reason(
    old: str, new: str, reason: RefusalReason, element: str
) -> None:
    xml = _sample("serious_hospitalisation.xml")
    assert old in xml
    [result] = read_batch(xml.replace(old, new, 1).encode(), now=NOW)
    assert isinstance(result, RefusedMessage)
    assert (result.reason, result.element) == (reason, element)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"<MCCI_IN200100UV01", DocumentReason.NOT_WELL_FORMED),
        (b'<batch xmlns="urn:hl7-org:v3"/>', DocumentReason.NOT_E2B_BATCH),
        (b"<MCCI_IN200100UV01/>", DocumentReason.NOT_E2B_BATCH),  # no HL7 namespace
    ],
)
def test_a_file_that_is_not_an_e2b_batch_is_refused_whole(
    data: bytes, reason: DocumentReason
) -> None:
    with pytest.raises(E2BDocumentRefused) as refused:
        read_batch(data, now=NOW)
    assert refused.value.reason is reason


def test_a_batch_without_messages_or_header_is_refused_whole() -> None:
    xml = _sample("negative_age.xml")
    start, end = xml.index("<PORR_IN049016UV>"), xml.index("</PORR_IN049016UV>")
    empty = xml[:start] + xml[end + len("</PORR_IN049016UV>") :]
    with pytest.raises(E2BDocumentRefused) as refused:
        read_batch(empty.encode(), now=NOW)
    assert refused.value.reason is DocumentReason.NO_MESSAGES
    headless = xml.replace('<creationTime value="20240201120500+0000"/>', "", 1)
    with pytest.raises(E2BDocumentRefused) as refused:
        read_batch(headless.encode(), now=NOW)
    assert refused.value.reason is DocumentReason.MISSING_ELEMENT


def test_the_size_is_bounded_before_anything_is_parsed(tmp_path: Path) -> None:
    path = tmp_path / "big.xml"
    path.write_bytes((SAMPLES / "negative_age.xml").read_bytes())
    with pytest.raises(E2BDocumentRefused) as refused:
        read_batch(path, now=NOW, max_bytes=1024)
    assert refused.value.reason is DocumentReason.TOO_LARGE
    assert _only(path).icsr.report.safety_report_id == "GB-PHARMAQMS-2024-000204"


def test_now_must_be_aware() -> None:
    with pytest.raises(ValueError):
        read_batch(SAMPLES / "negative_age.xml", now=datetime(2024, 6, 1))
