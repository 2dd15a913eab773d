"""Writing sections D (patient), E (reactions), F (tests) and G (drugs) of one message, in the
element order of the ICH schema (HL7 v3 content models are sequences)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from pharmaqms.lifecycle.use.e2b.codes import (
    OID,
    AuthorRole,
    Grouping,
    NullFlavor,
    Obs,
)
from pharmaqms.lifecycle.use.e2b.hl7 import number, sub, text_or_null, ts_or_null
from pharmaqms.lifecycle.use.e2b.icsr import ICSR
from pharmaqms.lifecycle.use.e2b.model import (
    Date,
    Flag,
    MedDRA,
    Quantity,
    Reaction,
    Study,
    TermId,
    TestResult,
    Text,
)
from pharmaqms.lifecycle.use.e2b.model_drug import Dosage, Drug
from pharmaqms.lifecycle.use.e2b.model_patient import (
    CauseOfDeath,
    MedicalHistoryEpisode,
    Parent,
    PastDrug,
    Patient,
)

OBS_ATTRS = {"classCode": "OBS", "moodCode": "EVN"}


def observation(relation: Any, code: Obs) -> Any:
    """``<observation>`` with its ICH observation code, under a relationship element."""
    node = sub(relation, "observation", **OBS_ATTRS)
    sub(node, "code", code=code.value, codeSystem=OID.OBSERVATION)
    return node


def subject_observation(parent: Any, code: Obs) -> Any:
    return observation(sub(parent, "subjectOf2", typeCode="SBJ"), code)


def pq(parent: Any, name: str, value: Quantity, **attrs: str) -> Any:
    return sub(parent, name, value=number(value.value), unit=value.unit, **attrs)


def bl(parent: Any, value: Flag) -> None:
    if isinstance(value, NullFlavor):
        sub(parent, "value", xsi_type="BL", nullFlavor=value.value)
    elif value is not None:
        sub(parent, "value", xsi_type="BL", value="true" if value else "false")


def ts(parent: Any, name: str, value: Date, **attrs: str) -> None:
    if value is not None:
        sub(parent, name, **attrs, **ts_or_null(value))


def meddra_value(parent: Any, name: str, value: MedDRA | None, original: Text = None) -> Any:
    node = sub(
        parent,
        name,
        xsi_type="CE" if name == "value" else None,
        code=None if value is None else value.code,
        codeSystem=OID.MEDDRA,
        codeSystemVersion=None if value is None else value.version,
    )
    text_or_null(node, "originalText", original)
    return node


def term(parent: Any, name: str, value: TermId | None, original: Text, **attrs: str) -> None:
    if value is None and original is None:
        return
    node = sub(
        parent,
        name,
        **attrs,
        code=None if value is None else value.code,
        codeSystem=None if value is None else value.system,
        codeSystemVersion=None if value is None else value.version,
    )
    text_or_null(node, "originalText", original)


def interval(parent: Any, low: Date, high: Date, width: Quantity | None) -> None:
    """An IVL_TS; start, end and duration together need an SXPR_TS (IVL_TS allows two)."""
    if low is None and high is None and width is None:
        return
    if low is not None and high is not None and width is not None:
        node = sub(parent, "effectiveTime", xsi_type="SXPR_TS")
        bounds = sub(node, "comp", xsi_type="IVL_TS")
        ts(bounds, "low", low)
        ts(bounds, "high", high)
        pq(sub(node, "comp", xsi_type="IVL_TS", operator="A"), "width", width)
        return
    node = sub(parent, "effectiveTime", xsi_type="IVL_TS")
    ts(node, "low", low)
    if width is not None:
        pq(node, "width", width)
    ts(node, "high", high)


# --- D ------------------------------------------------------------------------------------


def _history(
    parent: Any, episodes: tuple[MedicalHistoryEpisode, ...], text: Text, concomitant: bool | None
) -> None:
    if not episodes and text is None and concomitant is None:
        return
    organizer = sub(
        sub(parent, "subjectOf2", typeCode="SBJ"), "organizer", classCode="CATEGORY", moodCode="EVN"
    )
    sub(organizer, "code", code=Grouping.MEDICAL_HISTORY.value, codeSystem=OID.VALUE_GROUPING)
    for episode in episodes:
        node = sub(sub(organizer, "component", typeCode="COMP"), "observation", **OBS_ATTRS)
        if episode.meddra is None:
            sub(node, "code", nullFlavor="NI")
        else:
            meddra_value(node, "code", episode.meddra)
        if episode.start is not None or episode.end is not None:
            period = sub(node, "effectiveTime", xsi_type="IVL_TS")
            ts(period, "low", episode.start)
            ts(period, "high", episode.end)
        if episode.comments is not None:
            comment = observation(sub(node, "outboundRelationship2", typeCode="COMP"), Obs.COMMENT)
            sub(comment, "value", episode.comments, xsi_type="ED")
        if episode.family_history is not None:
            family = observation(
                sub(node, "outboundRelationship2", typeCode="EXPL"), Obs.FAMILY_HISTORY
            )
            bl(family, episode.family_history)
        if episode.continuing is not None:
            bl(
                observation(sub(node, "inboundRelationship", typeCode="REFR"), Obs.CONTINUING),
                episode.continuing,
            )
    if text is not None:
        node = observation(sub(organizer, "component", typeCode="COMP"), Obs.HISTORY_TEXT)
        text_or_null(node, "value", text, **{"xsi_type": "ED"})
    if concomitant is not None:
        node = observation(sub(organizer, "component", typeCode="COMP"), Obs.CONCOMITANT_THERAPY)
        bl(node, concomitant)


def _product_code(product: Any, mpid: TermId | None, phpid: TermId | None) -> None:
    # One <code> element: the IG has MPID or PhPID, and the code system tells which
    # (export_blockers makes sure it does).
    chosen = mpid if mpid is not None else phpid
    if chosen is not None:
        sub(
            product,
            "code",
            code=chosen.code,
            codeSystem=chosen.system,
            codeSystemVersion=chosen.version,
        )


def _past_drugs(parent: Any, drugs: tuple[PastDrug, ...]) -> None:
    if not drugs:
        return
    organizer = sub(
        sub(parent, "subjectOf2", typeCode="SBJ"), "organizer", classCode="CATEGORY", moodCode="EVN"
    )
    sub(organizer, "code", code=Grouping.DRUG_HISTORY.value, codeSystem=OID.VALUE_GROUPING)
    for drug in drugs:
        node = sub(
            sub(organizer, "component", typeCode="COMP"),
            "substanceAdministration",
            classCode="SBADM",
            moodCode="EVN",
        )
        if drug.start is not None or drug.end is not None:
            period = sub(node, "effectiveTime", xsi_type="IVL_TS")
            ts(period, "low", drug.start)
            ts(period, "high", drug.end)
        product = sub(
            sub(sub(node, "consumable", typeCode="CSM"), "instanceOfKind", classCode="INST"),
            "kindOfProduct",
            classCode="MMAT",
            determinerCode="KIND",
        )
        _product_code(product, drug.mpid, drug.phpid)
        text_or_null(product, "name", drug.name)
        if drug.indication is not None:
            meddra_value(
                observation(sub(node, "outboundRelationship2", typeCode="RSON"), Obs.INDICATION),
                "value",
                drug.indication,
            )
        if drug.reaction is not None:
            meddra_value(
                observation(sub(node, "outboundRelationship2", typeCode="CAUS"), Obs.REACTION),
                "value",
                drug.reaction,
            )


def _sex(person: Any, value: Any) -> None:
    if isinstance(value, NullFlavor):
        sub(person, "administrativeGenderCode", nullFlavor=value.value)
    elif value is not None:
        sub(person, "administrativeGenderCode", code=value.value, codeSystem=OID.ISO_SEX)


def _measures(role: Any, who: Patient | Parent, age_element: Quantity | None) -> None:
    if age_element is not None:
        pq(subject_observation(role, Obs.AGE), "value", age_element, xsi_type="PQ")
    if isinstance(who, Patient):
        if who.gestation_period is not None:
            pq(
                subject_observation(role, Obs.GESTATION_PERIOD),
                "value",
                who.gestation_period,
                xsi_type="PQ",
            )
        if who.age_group is not None:
            sub(
                subject_observation(role, Obs.AGE_GROUP),
                "value",
                xsi_type="CE",
                code=who.age_group.value,
                codeSystem=OID.AGE_GROUP,
            )
    if who.weight_kg is not None:
        sub(
            subject_observation(role, Obs.BODY_WEIGHT),
            "value",
            xsi_type="PQ",
            value=number(who.weight_kg),
            unit="kg",
        )
    if who.height_cm is not None:
        sub(
            subject_observation(role, Obs.HEIGHT),
            "value",
            xsi_type="PQ",
            value=number(who.height_cm),
            unit="cm",
        )
    if who.last_menstrual_period is not None:
        ts(
            subject_observation(role, Obs.LAST_MENSTRUAL_PERIOD),
            "value",
            who.last_menstrual_period,
            xsi_type="TS",
        )


def _parent(person: Any, parent: Parent) -> None:
    role = sub(person, "role", classCode="PRS")
    sub(role, "code", code="PRN", codeSystem=OID.HL7_ROLE_CODE)
    if parent.name is not None or parent.sex is not None or parent.birth_date is not None:
        who = sub(role, "associatedPerson", classCode="PSN", determinerCode="INSTANCE")
        text_or_null(who, "name", parent.name)
        _sex(who, parent.sex)
        ts(who, "birthTime", parent.birth_date)
    _measures(role, parent, parent.age)
    _history(role, parent.medical_history, parent.medical_history_text, None)
    _past_drugs(role, parent.past_drugs)


_RECORDS = (
    ("gp_record", OID.GP_RECORD, "1"),
    ("specialist_record", OID.SPECIALIST_RECORD, "2"),
    ("hospital_record", OID.HOSPITAL_RECORD, "3"),
    ("investigation_number", OID.INVESTIGATION_NUMBER, "4"),
)


def _cause(parent: Any, relation: str, code: Obs, cause: CauseOfDeath, **attrs: str) -> None:
    node = observation(sub(parent, relation, **attrs), code)
    meddra_value(node, "value", cause.meddra, cause.text)


def write_patient(role: Any, icsr: ICSR) -> None:
    """``primaryRole``'s content: the patient, then their observations and organizers."""
    patient = icsr.patient
    person = sub(role, "player1", classCode="PSN", determinerCode="INSTANCE")
    text_or_null(person, "name", patient.name)
    _sex(person, patient.sex)
    ts(person, "birthTime", patient.birth_date)
    if patient.death is not None:
        ts(person, "deceasedTime", patient.death.date)
    for attr_name, root, source in _RECORDS:
        value = getattr(patient, attr_name)
        if value is None:
            continue
        identified = sub(person, "asIdentifiedEntity", classCode="IDENT")
        if isinstance(value, NullFlavor):
            sub(identified, "id", root=root, nullFlavor=value.value)
        else:
            sub(identified, "id", root=root, extension=value)
        sub(identified, "code", code=source, codeSystem=OID.RECORD_SOURCE)
    if patient.parent is not None:
        _parent(person, patient.parent)
    if icsr.study is not None:
        _study(role, icsr.study)
    _measures(role, patient, patient.age)
    _history(
        role, patient.medical_history, patient.medical_history_text, patient.concomitant_therapies
    )
    _past_drugs(role, patient.past_drugs)
    if patient.death is not None:
        for cause in patient.death.reported_causes:
            _cause(role, "subjectOf2", Obs.REPORTED_CAUSE_OF_DEATH, cause, typeCode="SBJ")
        if patient.death.autopsy is not None or patient.death.autopsy_causes:
            autopsy = subject_observation(role, Obs.AUTOPSY)
            bl(autopsy, patient.death.autopsy)
            for cause in patient.death.autopsy_causes:
                _cause(autopsy, "outboundRelationship2", Obs.CAUSE_OF_DEATH, cause, typeCode="DRIV")
    for reaction in icsr.reactions:
        _reaction(role, reaction)
    _tests(role, icsr.tests)
    _drugs(role, tuple(in_reaction_order(d, icsr.reactions) for d in icsr.drugs))


def _study(role: Any, study: Study) -> None:
    """C.5 sits beside the patient, in ``primaryRole/subjectOf1``."""
    node = sub(
        sub(role, "subjectOf1", typeCode="SBJ"), "researchStudy", classCode="CLNTRL", moodCode="EVN"
    )
    sponsor = study.sponsor_study_number
    if isinstance(sponsor, NullFlavor):
        sub(node, "id", root=OID.SPONSOR_STUDY_NUMBER, nullFlavor=sponsor.value)
    elif sponsor is not None:
        sub(node, "id", root=OID.SPONSOR_STUDY_NUMBER, extension=sponsor)
    if study.study_type is not None:
        sub(node, "code", code=study.study_type.value, codeSystem=OID.STUDY_TYPE)
    text_or_null(node, "title", study.name)
    for registration in study.registrations:
        entry = sub(
            sub(node, "authorization", typeCode="AUTH"),
            "studyRegistration",
            classCode="ACT",
            moodCode="EVN",
        )
        number_ = registration.number
        if isinstance(number_, NullFlavor):
            sub(entry, "id", root=OID.STUDY_REGISTRATION, nullFlavor=number_.value)
        elif number_ is not None:
            sub(entry, "id", root=OID.STUDY_REGISTRATION, extension=number_)
        if registration.country is not None:
            place = sub(
                sub(sub(entry, "author", typeCode="AUT"), "territorialAuthority", classCode="TERR"),
                "governingPlace",
                classCode="COUNTRY",
                determinerCode="INSTANCE",
            )
            country_code(place, registration.country)


def country_code(parent: Any, value: str | NullFlavor) -> None:
    if isinstance(value, NullFlavor):
        sub(parent, "code", nullFlavor=value.value, codeSystem=OID.ISO_COUNTRY)
    else:
        sub(parent, "code", code=value, codeSystem=OID.ISO_COUNTRY)


# --- E ------------------------------------------------------------------------------------

_CRITERIA = (
    ("death", Obs.DEATH),
    ("life_threatening", Obs.LIFE_THREATENING),
    ("hospitalisation", Obs.HOSPITALISATION),
    ("disabling", Obs.DISABLING),
    ("congenital_anomaly", Obs.CONGENITAL_ANOMALY),
    ("other_medically_important", Obs.OTHER_MEDICALLY_IMPORTANT),
)


def _pertinent(node: Any, code: Obs) -> Any:
    return observation(sub(node, "outboundRelationship2", typeCode="PERT"), code)


def _reaction(role: Any, reaction: Reaction) -> None:
    node = sub(sub(role, "subjectOf2", typeCode="SBJ"), "observation", **OBS_ATTRS)
    sub(node, "id", root=reaction.ref_id)
    sub(node, "code", code=Obs.REACTION.value, codeSystem=OID.OBSERVATION)
    interval(node, reaction.start, reaction.end, reaction.duration)
    value = meddra_value(node, "value", reaction.meddra)
    if reaction.reported_native is not None:
        sub(value, "originalText", reaction.reported_native, language=reaction.reported_language)
    if reaction.country is not None:
        place = sub(
            sub(sub(node, "location", typeCode="LOC"), "locatedEntity", classCode="LOCE"),
            "locatedPlace",
            classCode="COUNTRY",
            determinerCode="INSTANCE",
        )
        sub(place, "code", code=reaction.country, codeSystem=OID.ISO_COUNTRY)
    if reaction.reported_translation is not None:
        sub(
            _pertinent(node, Obs.REACTION_FOR_TRANSLATION),
            "value",
            reaction.reported_translation,
            xsi_type="ED",
        )
    if reaction.term_highlighted is not None:
        sub(
            _pertinent(node, Obs.TERM_HIGHLIGHTED),
            "value",
            xsi_type="CE",
            code=reaction.term_highlighted.value,
            codeSystem=OID.TERM_HIGHLIGHTED,
        )
    for name, code in _CRITERIA:
        value_flag = getattr(reaction.seriousness, name)
        if value_flag is not None:
            bl(_pertinent(node, code), value_flag)
    if reaction.outcome is not None:
        sub(
            _pertinent(node, Obs.OUTCOME),
            "value",
            xsi_type="CE",
            code=reaction.outcome.value,
            codeSystem=OID.OUTCOME,
        )
    if reaction.medically_confirmed is not None:
        bl(_pertinent(node, Obs.MEDICAL_CONFIRMATION), reaction.medically_confirmed)


# --- F ------------------------------------------------------------------------------------

_BOUNDS = {
    "LT": ("high", "false"),
    "LE": ("high", "true"),
    "GT": ("low", "false"),
    "GE": ("low", "true"),
}


def _test(organizer: Any, test: TestResult) -> None:
    node = sub(sub(organizer, "component", typeCode="COMP"), "observation", **OBS_ATTRS)
    if test.meddra is None and test.name is None:
        sub(node, "code", nullFlavor="NI")
    else:
        meddra_value(node, "code", test.meddra, test.name)
    ts(node, "effectiveTime", test.date)
    if test.result_value is not None:
        value = sub(node, "value", xsi_type="IVL_PQ")
        amount = number(test.result_value)
        if test.result_qualifier in _BOUNDS:
            side, inclusive = _BOUNDS[test.result_qualifier]
            if side == "high":
                sub(value, "low", nullFlavor="NINF")
            sub(value, side, value=amount, unit=test.result_unit, inclusive=inclusive)
            if side == "low":
                sub(value, "high", nullFlavor="PINF")
        else:
            sub(value, "center", value=amount, unit=test.result_unit)
    if test.result_text is not None:
        sub(node, "value", test.result_text, xsi_type="ED")
    if test.result_code is not None:
        sub(node, "interpretationCode", code=test.result_code.value, codeSystem=OID.TEST_RESULT)
    for bound, code in ((test.normal_low, "L"), (test.normal_high, "H")):
        if bound is not None:
            observed = sub(
                sub(node, "referenceRange", typeCode="REFV"),
                "observationRange",
                classCode="OBS",
                moodCode="EVN.CRT",
            )
            pq(observed, "value", bound, xsi_type="PQ")
            sub(observed, "interpretationCode", code=code, codeSystem=OID.HL7_INTERPRETATION)
    if test.comments is not None:
        sub(_pertinent(node, Obs.COMMENT), "value", test.comments, xsi_type="ED")
    if test.more_information is not None:
        more = observation(
            sub(node, "outboundRelationship2", typeCode="REFR"), Obs.MORE_INFORMATION
        )
        bl(more, test.more_information)


def _tests(role: Any, tests: tuple[TestResult, ...]) -> None:
    if not tests:
        return
    organizer = sub(
        sub(role, "subjectOf2", typeCode="SBJ"), "organizer", classCode="CATEGORY", moodCode="EVN"
    )
    sub(organizer, "code", code=Grouping.TESTS.value, codeSystem=OID.VALUE_GROUPING)
    for test in tests:
        _test(organizer, test)


# --- G ------------------------------------------------------------------------------------


def _dosage(parent: Any, dosage: Dosage) -> None:
    node = sub(
        sub(parent, "outboundRelationship2", typeCode="COMP"),
        "substanceAdministration",
        classCode="SBADM",
        moodCode="EVN",
    )
    if dosage.text is not None:
        sub(node, "text", dosage.text)
    comps: list[tuple[str, dict[str, Any]]] = []
    if dosage.frequency is not None or dosage.frequency_unit is not None:
        comps.append(("PIVL_TS", {"period": (dosage.frequency, dosage.frequency_unit)}))
    if dosage.start is not None or dosage.end is not None:
        comps.append(("IVL_TS", {"low": dosage.start, "high": dosage.end}))
    if dosage.duration is not None:
        comps.append(("IVL_TS", {"width": dosage.duration}))
    if comps:
        holder = sub(node, "effectiveTime", xsi_type="SXPR_TS") if len(comps) > 1 else None
        for i, (kind, parts) in enumerate(comps):
            if holder is None:
                comp = sub(node, "effectiveTime", xsi_type=kind)
            else:
                comp = sub(holder, "comp", xsi_type=kind, operator="A" if i else None)
            for name, value in parts.items():
                if name == "period":
                    amount, unit = value
                    sub(comp, "period", value=None if amount is None else number(amount), unit=unit)
                elif name == "width":
                    pq(comp, "width", value)
                else:
                    ts(comp, name, value)
    term(node, "routeCode", dosage.route_term, dosage.route_text)
    if dosage.dose is not None:
        pq(node, "doseQuantity", dosage.dose)
    form = dosage.form_text is not None or dosage.form_term is not None
    if dosage.batch_lot is not None or form:
        kind_node = sub(sub(node, "consumable", typeCode="CSM"), "instanceOfKind", classCode="INST")
        if dosage.batch_lot is not None:
            instance = sub(
                kind_node, "productInstanceInstance", classCode="MMAT", determinerCode="INSTANCE"
            )
            sub(instance, "id", nullFlavor="NI")
            text_or_null(instance, "lotNumberText", dosage.batch_lot)
        if form:
            product = sub(kind_node, "kindOfProduct", classCode="MMAT", determinerCode="KIND")
            term(product, "formCode", dosage.form_term, dosage.form_text)
    if dosage.parent_route_text is not None or dosage.parent_route_term is not None:
        parent_route = observation(
            sub(node, "inboundRelationship", typeCode="REFR"), Obs.PARENT_ROUTE
        )
        term(
            parent_route, "value", dosage.parent_route_term, dosage.parent_route_text, xsi_type="CE"
        )


def _drug(organizer: Any, drug: Drug) -> None:
    node = sub(
        sub(organizer, "component", typeCode="COMP"),
        "substanceAdministration",
        classCode="SBADM",
        moodCode="EVN",
    )
    sub(node, "id", root=drug.ref_id)
    kind_node = sub(sub(node, "consumable", typeCode="CSM"), "instanceOfKind", classCode="INST")
    product = sub(kind_node, "kindOfProduct", classCode="MMAT", determinerCode="KIND")
    _product_code(product, drug.mpid, drug.phpid)
    if drug.product_name is not None:
        sub(product, "name", drug.product_name)
    if (
        drug.authorisation_number or drug.authorisation_country or drug.authorisation_holder
    ) is not None:
        approval = sub(
            sub(
                sub(product, "asManufacturedProduct", classCode="MANU"), "subjectOf", typeCode="SBJ"
            ),
            "approval",
            classCode="CNTRCT",
            moodCode="EVN",
        )
        if drug.authorisation_number is not None:
            sub(approval, "id", root=OID.AUTHORISATION_NUMBER, extension=drug.authorisation_number)
        if drug.authorisation_holder is not None:
            holder = sub(sub(approval, "holder", typeCode="HLD"), "role", classCode="HLD")
            organisation = sub(
                holder, "playingOrganization", classCode="ORG", determinerCode="INSTANCE"
            )
            sub(organisation, "name", drug.authorisation_holder)
        if drug.authorisation_country is not None:
            territory = sub(
                sub(
                    sub(approval, "author", typeCode="AUT"),
                    "territorialAuthority",
                    classCode="TERR",
                ),
                "territory",
                classCode="NAT",
                determinerCode="INSTANCE",
            )
            sub(territory, "code", code=drug.authorisation_country, codeSystem=OID.ISO_COUNTRY)
    for substance in drug.substances:
        ingredient = sub(product, "ingredient", classCode="ACTI")
        if substance.strength is not None:
            quantity = sub(ingredient, "quantity")
            pq(quantity, "numerator", substance.strength)
            sub(quantity, "denominator", value="1")
        if substance.name is not None or substance.term is not None:
            what = sub(ingredient, "ingredientSubstance", classCode="MMAT", determinerCode="KIND")
            if substance.term is not None:
                sub(
                    what,
                    "code",
                    code=substance.term.code,
                    codeSystem=substance.term.system,
                    codeSystemVersion=substance.term.version,
                )
            if substance.name is not None:
                sub(what, "name", substance.name)
    if drug.obtained_country is not None:
        event = sub(
            sub(kind_node, "subjectOf", typeCode="SBJ"),
            "productEvent",
            classCode="ACT",
            moodCode="EVN",
        )
        sub(event, "code", code="1", codeSystem=OID.ACTION_PERFORMED)
        organisation = sub(
            sub(sub(event, "performer", typeCode="PRF"), "assignedEntity", classCode="ASSIGNED"),
            "representedOrganization",
            classCode="ORG",
            determinerCode="INSTANCE",
        )
        sub(sub(organisation, "addr"), "country", drug.obtained_country)
    for row in drug.assessments:
        for kind, value in (("SAS", row.interval_from_start), ("SAE", row.interval_from_last_dose)):
            if value is not None:
                relation = sub(node, "outboundRelationship1", typeCode=kind)
                pq(relation, "pauseQuantity", value)
                sub(
                    sub(relation, "actReference", classCode="OBS", moodCode="EVN"),
                    "id",
                    root=row.reaction_ref,
                )
    if drug.blinded is not None:
        bl(_pertinent(node, Obs.BLINDED), drug.blinded)
    for dosage in drug.dosages:
        _dosage(node, dosage)
    if drug.cumulative_dose is not None:
        cumulative = observation(
            sub(node, "outboundRelationship2", typeCode="SUMM"), Obs.CUMULATIVE_DOSE
        )
        pq(cumulative, "value", drug.cumulative_dose, xsi_type="PQ")
    if drug.gestation_at_exposure is not None:
        pq(
            _pertinent(node, Obs.GESTATION_PERIOD),
            "value",
            drug.gestation_at_exposure,
            xsi_type="PQ",
        )
    for row in drug.assessments:
        if row.recurrence is not None:
            recurrence = _pertinent(node, Obs.RECURRENCE)
            sub(
                recurrence,
                "value",
                xsi_type="CE",
                code=row.recurrence.value,
                codeSystem=OID.RECURRENCE,
            )
            sub(
                sub(
                    sub(recurrence, "outboundRelationship1", typeCode="REFR"),
                    "actReference",
                    classCode="OBS",
                    moodCode="EVN",
                ),
                "id",
                root=row.reaction_ref,
            )
    for info in drug.additional_info:
        coded = observation(
            sub(node, "outboundRelationship2", typeCode="REFR"), Obs.CODED_DRUG_INFORMATION
        )
        sub(coded, "value", xsi_type="CE", code=info.value, codeSystem=OID.ADDITIONAL_DRUG_INFO)
    if drug.additional_info_text is not None:
        free = observation(
            sub(node, "outboundRelationship2", typeCode="REFR"), Obs.ADDITIONAL_INFORMATION
        )
        sub(free, "value", drug.additional_info_text, xsi_type="ST")
    for indication in drug.indications:
        reason = observation(sub(node, "inboundRelationship", typeCode="RSON"), Obs.INDICATION)
        meddra_value(reason, "value", indication.meddra, indication.text)
        performer = sub(
            sub(reason, "performer", typeCode="PRF"), "assignedEntity", classCode="ASSIGNED"
        )
        sub(performer, "code", code=AuthorRole.SOURCE_REPORTER.value, codeSystem=OID.AUTHOR_ROLE)
    if drug.action_taken is not None:
        act = sub(
            sub(node, "inboundRelationship", typeCode="CAUS"),
            "act",
            classCode="ACT",
            moodCode="EVN",
        )
        sub(act, "code", code=drug.action_taken.value, codeSystem=OID.ACTION_TAKEN)


def in_reaction_order(drug: Drug, reactions: tuple[Reaction, ...]) -> Drug:
    """G.k.9.i is a matrix indexed by reaction: its rows follow the order of E.i."""
    order = {reaction.ref_id: i for i, reaction in enumerate(reactions)}
    rows = sorted(drug.assessments, key=lambda row: order.get(row.reaction_ref, len(order)))
    return replace(drug, assessments=tuple(rows))


def _drugs(role: Any, drugs: tuple[Drug, ...]) -> None:
    if not drugs:
        return
    organizer = sub(
        sub(role, "subjectOf2", typeCode="SBJ"), "organizer", classCode="CATEGORY", moodCode="EVN"
    )
    sub(organizer, "code", code=Grouping.DRUG_INFORMATION.value, codeSystem=OID.VALUE_GROUPING)
    for drug in drugs:
        _drug(organizer, drug)


def write_causality(assessment: Any, drugs: tuple[Drug, ...]) -> None:
    """G.k.1 (one component per drug) and G.k.9.i.2.r (one per relatedness assessment)."""
    for drug in drugs:
        if drug.role is None:
            continue
        node = sub(
            sub(assessment, "component", typeCode="COMP"), "causalityAssessment", **OBS_ATTRS
        )
        sub(node, "code", code=Obs.DRUG_ROLE.value, codeSystem=OID.OBSERVATION)
        sub(node, "value", xsi_type="CE", code=drug.role.value, codeSystem=OID.DRUG_ROLE)
        _use_reference(node, drug.ref_id)
    for drug in drugs:
        for row in drug.assessments:
            for related in row.relatedness:
                node = sub(
                    sub(assessment, "component", typeCode="COMP"),
                    "causalityAssessment",
                    **OBS_ATTRS,
                )
                sub(node, "code", code=Obs.CAUSALITY.value, codeSystem=OID.OBSERVATION)
                if related.result is not None:
                    sub(node, "value", related.result, xsi_type="ST")
                if related.method is not None:
                    sub(sub(node, "methodCode"), "originalText", related.method)
                if related.source is not None:
                    entity = sub(
                        sub(node, "author", typeCode="AUT"), "assignedEntity", classCode="ASSIGNED"
                    )
                    sub(sub(entity, "code"), "originalText", related.source)
                reference = sub(
                    sub(node, "subject1", typeCode="SUBJ"), "adverseEffectReference", **OBS_ATTRS
                )
                sub(reference, "id", root=row.reaction_ref)
                _use_reference(node, drug.ref_id)


def _use_reference(node: Any, drug_ref: str) -> None:
    reference = sub(
        sub(node, "subject2", typeCode="SUBJ"),
        "productUseReference",
        classCode="SBADM",
        moodCode="EVN",
    )
    sub(reference, "id", root=drug_ref)
