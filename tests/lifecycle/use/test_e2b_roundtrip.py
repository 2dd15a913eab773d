"""Write → read gives back an equal ICSR, for every field the model holds: on the samples, and
on generated ICSRs (arbitrary Unicode text, partial dates, null flavours, several reactions
and drugs with their drug–reaction matrix)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pharmaqms.lifecycle.use.e2b import (
    ICSR,
    E2BExportRefused,
    ParsedMessage,
    export_blockers,
    read_batch,
    write_batch,
)
from pharmaqms.lifecycle.use.e2b import codes as c
from pharmaqms.lifecycle.use.e2b.dates import HL7Time
from pharmaqms.lifecycle.use.e2b.model import (
    CaseSummary,
    Document,
    LiteratureReference,
    MedDRA,
    MessageHeader,
    Narrative,
    OtherCaseId,
    PrimarySource,
    Quantity,
    Reaction,
    ReportIdentification,
    Sender,
    SeriousnessCriteria,
    Study,
    StudyRegistration,
    TermId,
    TestResult,
)
from pharmaqms.lifecycle.use.e2b.model_drug import (
    Dosage,
    Drug,
    DrugReactionAssessment,
    Indication,
    Relatedness,
    Substance,
)
from pharmaqms.lifecycle.use.e2b.model_patient import (
    CauseOfDeath,
    Death,
    MedicalHistoryEpisode,
    Parent,
    PastDrug,
    Patient,
)

SAMPLES = Path(__file__).parent / "samples"
NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


def _round_trip(icsrs: list[ICSR]) -> list[ICSR]:
    xml = write_batch(icsrs, sender="PHARMAQMS", receiver="EVHUMAN", batch_id="B-1", now=NOW)
    results = read_batch(xml, now=NOW)
    assert all(isinstance(r, ParsedMessage) for r in results), results
    return [r.icsr for r in results if isinstance(r, ParsedMessage)]


@pytest.mark.parametrize(
    "sample", ["serious_hospitalisation.xml", "non_serious_partial_dates.xml", "negative_age.xml"]
)
def test_a_sample_read_written_and_read_again_is_unchanged(sample: str) -> None:
    # given: a sample read into the model
    original = [
        r.icsr for r in read_batch(SAMPLES / sample, now=NOW) if isinstance(r, ParsedMessage)
    ]
    assert original
    # when: it is written as a batch and read back
    again = _round_trip(original)
    # then: every field is equal
    assert again == original


def test_the_batch_wrapper_carries_what_was_asked() -> None:
    icsr = _round_trip_source()
    xml = write_batch([icsr], sender="PHARMAQMS", receiver="EVHUMAN", batch_id="B-7", now=NOW)
    [result] = read_batch(xml, now=NOW)
    assert isinstance(result, ParsedMessage)
    assert result.batch.batch_id == "B-7"
    assert result.batch.sender_id == "PHARMAQMS"
    assert result.batch.receiver_id == "EVHUMAN"
    assert result.batch.created == HL7Time(2024, 6, 1, 12, 0, 0, utc_offset=0)
    assert b'xmlns="urn:hl7-org:v3"' in xml
    assert b'<interactionId root="2.16.840.1.113883.1.6" extension="PORR_IN049016UV"/>' in xml


def _round_trip_source() -> ICSR:
    [result] = read_batch(SAMPLES / "serious_hospitalisation.xml", now=NOW)
    assert isinstance(result, ParsedMessage)
    return result.icsr


def test_a_model_the_message_cannot_carry_is_refused_with_the_reasons() -> None:
    # given: a drug with both an MPID and a PhPID (the message has one <code> for them)
    icsr = _round_trip_source()
    drug = icsr.drugs[0]
    both = Drug(
        ref_id=drug.ref_id,
        role=drug.role,
        product_name=drug.product_name,
        mpid=TermId("MP-1", "1", c.OID.MPID),
        phpid=TermId("PH-1", "1", c.OID.PHPID),
    )
    bad = ICSR(**{**icsr.__dict__, "drugs": (both,)})
    # when / then
    with pytest.raises(E2BExportRefused) as refused:
        write_batch([bad], sender="S", receiver="R", batch_id="B", now=NOW)
    assert refused.value.reasons == [
        "FR-PHARMAQMS-2024-000117: G.k both MPID and PhPID (the IG carries one)"
    ]


# --- generated ICSRs ------------------------------------------------------------------------

# Any text XML 1.0 can carry: no surrogates, no controls but tab / newline / carriage return.
_chars = st.characters(
    codec="utf-8", exclude_categories=("Cs", "Cc"), exclude_characters="\ufffe\uffff"
)
text = st.text(st.one_of(_chars, st.sampled_from("\t\n\r")), min_size=1, max_size=24)
ident = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9.\-]{0,15}", fullmatch=True)
flavour = st.sampled_from(list(c.NullFlavor))
countries = st.sampled_from(["FR", "DE", "US", "JP", "GB", "EU"])


def maybe(strategy: st.SearchStrategy) -> st.SearchStrategy:  # type: ignore[type-arg]
    return st.none() | strategy


def nullable(strategy: st.SearchStrategy) -> st.SearchStrategy:  # type: ignore[type-arg]
    return st.none() | flavour | strategy


@st.composite
def hl7_times(draw: st.DrawFn) -> HL7Time:
    precision = draw(st.integers(0, 5))
    year = draw(st.integers(1900, 2030))
    month = draw(st.integers(1, 12))
    day = draw(st.integers(1, 28))
    clock = [draw(st.integers(0, 23)), draw(st.integers(0, 59)), draw(st.integers(0, 59))]
    parts = [month, day, *clock]
    kept = [p if i < precision else None for i, p in enumerate(parts)]
    fraction = draw(maybe(st.from_regex(r"\d{1,4}", fullmatch=True))) if precision == 5 else None
    # Times with a zone are held in UTC (that is what reading makes of them); dates keep theirs.
    zones = [None, 0] if precision >= 3 else [None, 0, 60, -300, 330]
    return HL7Time(year, *kept, fraction=fraction, utc_offset=draw(st.sampled_from(zones)))


dates = nullable(hl7_times())
numbers = st.decimals(
    allow_nan=False, allow_infinity=False, places=3, min_value=-9999, max_value=9999
)
quantities = st.builds(Quantity, numbers, st.sampled_from(["mg", "{DF}", "a", "d", "mL", "1"]))
meddra = st.builds(
    MedDRA, st.from_regex(r"\d{2}\.\d", fullmatch=True), st.from_regex(r"\d{8}", fullmatch=True)
)
terms = st.builds(TermId, ident, maybe(ident), maybe(ident))
documents = st.builds(
    Document,
    maybe(text),
    maybe(st.sampled_from(["application/pdf"])),
    maybe(text),
    maybe(st.just("DF")),
)
flags = nullable(st.booleans())


@st.composite
def primary_sources(draw: st.DrawFn) -> PrimarySource:
    given_name = draw(nullable(text))
    return PrimarySource(
        title=draw(nullable(text)),
        given_name=given_name,
        middle_name=None if given_name is None else draw(nullable(text)),
        family_name=draw(nullable(text)),
        organisation=draw(nullable(text)),
        department=draw(nullable(text)),
        street=draw(nullable(text)),
        city=draw(nullable(text)),
        state=draw(nullable(text)),
        postcode=draw(nullable(text)),
        telephone=draw(nullable(text)),
        country=draw(nullable(countries)),
        qualification=draw(nullable(st.sampled_from(list(c.Qualification)))),
        for_regulatory_purposes=draw(st.booleans()),
    )


@st.composite
def senders(draw: st.DrawFn) -> Sender:
    given_name = draw(maybe(text))
    return Sender(
        sender_type=draw(maybe(st.sampled_from(list(c.SenderType)))),
        organisation=draw(maybe(text)),
        department=draw(maybe(text)),
        title=draw(maybe(text)),
        given_name=given_name,
        middle_name=None if given_name is None else draw(maybe(text)),
        family_name=draw(maybe(text)),
        street=draw(maybe(text)),
        city=draw(maybe(text)),
        state=draw(maybe(text)),
        postcode=draw(maybe(text)),
        country=draw(maybe(countries)),
        telephone=draw(maybe(text)),
        fax=draw(maybe(text)),
        email=draw(maybe(text)),
    )


history = st.builds(
    MedicalHistoryEpisode, maybe(meddra), dates, flags, dates, maybe(text), maybe(st.booleans())
)
mpid = st.builds(TermId, ident, maybe(ident), st.just(c.OID.MPID))
phpid = st.builds(TermId, ident, maybe(ident), st.just(c.OID.PHPID))


@st.composite
def past_drugs(draw: st.DrawFn) -> PastDrug:
    which = draw(st.sampled_from(["none", "mpid", "phpid"]))
    return PastDrug(
        name=draw(nullable(text)),
        mpid=draw(mpid) if which == "mpid" else None,
        phpid=draw(phpid) if which == "phpid" else None,
        start=draw(dates),
        end=draw(dates),
        indication=draw(maybe(meddra)),
        reaction=draw(maybe(meddra)),
    )


causes = st.builds(CauseOfDeath, maybe(meddra), maybe(text))
deaths = st.builds(
    Death,
    dates,
    st.lists(causes, max_size=2).map(tuple),
    flags,
    st.lists(causes, max_size=2).map(tuple),
).filter(lambda d: d != Death())
sexes = nullable(st.sampled_from(list(c.Sex)))
parents = st.builds(
    Parent,
    nullable(text),
    dates,
    maybe(quantities),
    dates,
    maybe(numbers),
    maybe(numbers),
    sexes,
    st.lists(history, max_size=2).map(tuple),
    nullable(text),
    st.lists(past_drugs(), max_size=2).map(tuple),
)
patients = st.builds(
    Patient,
    name=nullable(text),
    gp_record=nullable(ident),
    specialist_record=nullable(ident),
    hospital_record=nullable(ident),
    investigation_number=nullable(ident),
    birth_date=dates,
    age=maybe(quantities),
    gestation_period=maybe(quantities),
    age_group=maybe(st.sampled_from(list(c.AgeGroup))),
    weight_kg=maybe(numbers),
    height_cm=maybe(numbers),
    sex=sexes,
    last_menstrual_period=dates,
    medical_history=st.lists(history, max_size=2).map(tuple),
    medical_history_text=nullable(text),
    concomitant_therapies=maybe(st.booleans()),
    past_drugs=st.lists(past_drugs(), max_size=2).map(tuple),
    death=maybe(deaths),
    parent=maybe(parents),
)
criteria = st.builds(SeriousnessCriteria, flags, flags, flags, flags, flags, flags)


@st.composite
def reactions(draw: st.DrawFn, ref_id: str) -> Reaction:
    native = draw(maybe(text))
    return Reaction(
        ref_id=ref_id,
        reported_native=native,
        reported_language=None if native is None else draw(maybe(ident)),
        reported_translation=draw(maybe(text)),
        meddra=draw(maybe(meddra)),
        term_highlighted=draw(maybe(st.sampled_from(list(c.TermHighlighted)))),
        seriousness=draw(criteria),
        start=draw(dates),
        end=draw(dates),
        duration=draw(maybe(quantities)),
        outcome=draw(maybe(st.sampled_from(list(c.Outcome)))),
        medically_confirmed=draw(maybe(st.booleans())),
        country=draw(maybe(countries)),
    )


@st.composite
def lab_tests(draw: st.DrawFn) -> TestResult:
    value = draw(maybe(numbers))
    return TestResult(
        date=draw(dates),
        name=draw(maybe(text)),
        meddra=draw(maybe(meddra)),
        result_code=draw(maybe(st.sampled_from(list(c.TestResultCode)))),
        result_value=value,
        result_qualifier=None
        if value is None
        else draw(maybe(st.sampled_from(["LT", "GT", "LE", "GE"]))),
        result_unit=None if value is None else draw(maybe(st.sampled_from(["U/L", "mg/dL"]))),
        result_text=draw(maybe(text)),
        normal_low=draw(maybe(quantities)),
        normal_high=draw(maybe(quantities)),
        comments=draw(maybe(text)),
        more_information=draw(maybe(st.booleans())),
    )


dosages = st.builds(
    Dosage,
    maybe(quantities),
    maybe(numbers),
    maybe(st.sampled_from(["d", "h", "wk"])),
    dates,
    dates,
    maybe(quantities),
    nullable(text),
    maybe(text),
    nullable(text),
    maybe(terms),
    nullable(text),
    maybe(terms),
    nullable(text),
    maybe(terms),
)
relatedness = st.builds(Relatedness, maybe(text), maybe(text), maybe(text))


@st.composite
def assessments(draw: st.DrawFn, reaction_ref: str) -> DrugReactionAssessment:
    row = DrugReactionAssessment(
        reaction_ref=reaction_ref,
        relatedness=tuple(draw(st.lists(relatedness, max_size=2))),
        interval_from_start=draw(maybe(quantities)),
        interval_from_last_dose=draw(maybe(quantities)),
        recurrence=draw(maybe(st.sampled_from(list(c.Recurrence)))),
    )
    if row == DrugReactionAssessment(reaction_ref):  # a row must hold something
        return DrugReactionAssessment(reaction_ref, relatedness=(Relatedness(result="unknown"),))
    return row


@st.composite
def drugs(draw: st.DrawFn, ref_id: str, reaction_refs: list[str]) -> Drug:
    which = draw(st.sampled_from(["none", "mpid", "phpid"]))
    assessed = [r for r in reaction_refs if draw(st.booleans())]
    return Drug(
        ref_id=ref_id,
        role=draw(maybe(st.sampled_from(list(c.DrugRole)))),
        mpid=draw(mpid) if which == "mpid" else None,
        phpid=draw(phpid) if which == "phpid" else None,
        product_name=draw(maybe(text)),
        substances=tuple(
            draw(
                st.lists(
                    st.builds(Substance, maybe(text), maybe(terms), maybe(quantities)), max_size=2
                )
            )
        ),
        obtained_country=draw(maybe(countries)),
        blinded=draw(maybe(st.booleans())),
        authorisation_number=draw(maybe(ident)),
        authorisation_country=draw(maybe(countries)),
        authorisation_holder=draw(maybe(text)),
        dosages=tuple(draw(st.lists(dosages, max_size=2))),
        cumulative_dose=draw(maybe(quantities)),
        gestation_at_exposure=draw(maybe(quantities)),
        indications=tuple(
            draw(st.lists(st.builds(Indication, nullable(text), maybe(meddra)), max_size=2))
        ),
        action_taken=draw(maybe(st.sampled_from(list(c.ActionTaken)))),
        assessments=tuple(draw(assessments(r)) for r in assessed),
        additional_info=tuple(
            draw(st.lists(st.sampled_from(list(c.AdditionalDrugInfo)), max_size=2))
        ),
        additional_info_text=draw(maybe(text)),
    )


@st.composite
def icsrs(draw: st.DrawFn) -> ICSR:
    case_id = draw(ident)
    refs = draw(st.lists(st.uuids().map(str), min_size=1, max_size=6, unique=True))
    reaction_refs, drug_refs = refs[: len(refs) // 2 or 1], refs[len(refs) // 2 or 1 :]
    literature = st.builds(
        LiteratureReference,
        nullable(text),
        maybe(documents.filter(lambda d: d != Document())),
    )
    study = st.builds(
        Study,
        st.lists(
            st.builds(StudyRegistration, nullable(ident), nullable(countries)), max_size=2
        ).map(tuple),
        nullable(text),
        nullable(ident),
        maybe(st.sampled_from(list(c.StudyType))),
    )
    return ICSR(
        message=MessageHeader(case_id, draw(ident), draw(ident), draw(hl7_times())),
        report=ReportIdentification(
            safety_report_id=case_id,
            created=draw(hl7_times()),
            report_type=draw(maybe(st.sampled_from(list(c.ReportType)))),
            first_received=draw(maybe(hl7_times())),
            most_recent=draw(maybe(hl7_times())),
            additional_documents=draw(maybe(st.booleans())),
            documents_held=tuple(draw(st.lists(documents, max_size=2))),
            expedited=draw(flags),
            worldwide_case_id=draw(maybe(ident)),
            first_sender=draw(maybe(st.sampled_from(list(c.FirstSender)))),
            other_case_ids_exist=draw(flags),
            other_case_ids=tuple(
                draw(st.lists(st.builds(OtherCaseId, maybe(text), maybe(ident)), max_size=2))
            ),
            linked_reports=tuple(draw(st.lists(ident, max_size=2))),
            nullification=draw(maybe(st.sampled_from(list(c.Nullification)))),
            nullification_reason=draw(maybe(text)),
        ),
        primary_sources=tuple(draw(st.lists(primary_sources(), max_size=2))),
        sender=draw(maybe(senders())),
        literature=tuple(draw(st.lists(literature, max_size=2))),
        study=draw(maybe(study)),
        patient=draw(patients),
        reactions=tuple(draw(reactions(r)) for r in reaction_refs),
        tests=tuple(draw(st.lists(lab_tests(), max_size=2))),
        drugs=tuple(draw(drugs(d, reaction_refs)) for d in drug_refs),
        narrative=Narrative(
            case_narrative=draw(maybe(text)),
            reporter_comments=draw(maybe(text)),
            sender_diagnoses=tuple(draw(st.lists(meddra, max_size=2))),
            sender_comments=draw(maybe(text)),
            case_summaries=tuple(
                draw(st.lists(st.builds(CaseSummary, text, maybe(ident)), max_size=2))
            ),
        ),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(icsrs(), min_size=1, max_size=2))
def test_any_icsr_the_model_can_hold_survives_write_and_read(batch: list[ICSR]) -> None:
    # given: generated ICSRs the message can carry (the generator keeps to export_blockers)
    for icsr in batch:
        assert export_blockers(icsr) == ()
    # when / then
    assert _round_trip(batch) == batch


def test_decimals_keep_their_value_and_are_written_without_exponent() -> None:
    icsr = _round_trip_source()
    patient = Patient(weight_kg=Decimal("1E+2"), height_cm=Decimal("0.00001"))
    xml = write_batch(
        [ICSR(**{**icsr.__dict__, "patient": patient})],
        sender="S",
        receiver="R",
        batch_id="B",
        now=NOW,
    )
    assert b'value="100" unit="kg"' in xml
    assert b'value="0.00001" unit="cm"' in xml
    assert _round_trip([ICSR(**{**icsr.__dict__, "patient": patient})])[0].patient == patient
