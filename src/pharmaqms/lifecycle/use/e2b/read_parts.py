"""Reading sections D (patient), E (reactions), F (tests) and G (drugs) of one message.

Everything here hangs under ``adverseEventAssessment/subject1/primaryRole``. Observations are
told apart by their ICH observation code (OID …1.19) and organizers by their grouping code
(…1.20), never by position, since senders order them freely.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from pharmaqms.lifecycle.use.e2b import hl7
from pharmaqms.lifecycle.use.e2b.codes import (
    OID,
    ActionTaken,
    AdditionalDrugInfo,
    AgeGroup,
    DrugRole,
    Grouping,
    NullFlavor,
    Obs,
    Outcome,
    Recurrence,
    Sex,
    TermHighlighted,
    TestResultCode,
)
from pharmaqms.lifecycle.use.e2b.hl7 import MessageError, attr, code_attr, find, find_all
from pharmaqms.lifecycle.use.e2b.icsr import RefusalReason
from pharmaqms.lifecycle.use.e2b.model import (
    Date,
    Flag,
    MedDRA,
    Quantity,
    Reaction,
    SeriousnessCriteria,
    TermId,
    TestResult,
    Text,
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

OBS = "h:subjectOf2/h:observation[h:code[@code=$c and @codeSystem=$s]]"
ORGANIZER = "h:subjectOf2/h:organizer[h:code[@code=$c and @codeSystem=$s]]"
REL2 = "h:outboundRelationship2/h:observation[h:code[@code=$c and @codeSystem=$s]]"


def _obs(node: Any, path: str, code: Obs, element: str) -> Any | None:
    return find(node, path, element, c=code.value, s=OID.OBSERVATION)


def _value(observation: Any | None, element: str) -> Any | None:
    return None if observation is None else find(observation, "h:value", element)


def date_or_null(node: Any | None, element: str) -> Date:
    """A TS element (``value`` or ``nullFlavor``)."""
    if node is None:
        return None
    flavour = hl7.null_flavour(node, element)
    return flavour if flavour is not None else hl7.timestamp(attr(node, "value"), element)


def text_or_null(node: Any | None, element: str) -> Text:
    if node is None:
        return None
    flavour = hl7.null_flavour(node, element)
    return flavour if flavour is not None else hl7.text(node)


def flag(node: Any | None, element: str) -> Flag:
    if node is None:
        return None
    flavour = hl7.null_flavour(node, element)
    return flavour if flavour is not None else hl7.boolean(node, element)


def ref_id(node: Any, fallback: str) -> str:
    """The XML id other parts refer to; a stable made-up one when the sender gave none."""
    return code_attr(find(node, "h:id", "id"), "root") or str(
        uuid.uuid5(uuid.NAMESPACE_URL, fallback)
    )


# --- D: patient ----------------------------------------------------------------------------

_RECORDS = {
    OID.GP_RECORD: "gp_record",
    OID.SPECIALIST_RECORD: "specialist_record",
    OID.HOSPITAL_RECORD: "hospital_record",
    OID.INVESTIGATION_NUMBER: "investigation_number",
}


def read_patient(role: Any) -> Patient:
    person = find(role, "h:player1", "D")
    fields: dict[str, Any] = {}
    if person is not None:
        fields["name"] = text_or_null(find(person, "h:name", "D.1"), "D.1")
        fields["sex"] = _sex(find(person, "h:administrativeGenderCode", "D.5"), "D.5")
        fields["birth_date"] = date_or_null(find(person, "h:birthTime", "D.2.1"), "D.2.1")
        for identified in find_all(person, "h:asIdentifiedEntity"):
            id_node = find(identified, "h:id", "D.1.1")
            root = code_attr(id_node, "root")
            if root not in _RECORDS:
                raise MessageError(RefusalReason.UNKNOWN_CODE, "D.1.1", f"record root {root!r}")
            if _RECORDS[root] in fields:
                raise MessageError(RefusalReason.REPEATED_ELEMENT, "D.1.1", f"two ids {root}")
            flavour = hl7.null_flavour(id_node, "D.1.1")
            fields[_RECORDS[root]] = flavour or code_attr(id_node, "extension")
    age = _value(_obs(role, OBS, Obs.AGE, "D.2.2"), "D.2.2")
    history = find(role, ORGANIZER, "D.7", c=Grouping.MEDICAL_HISTORY, s=OID.VALUE_GROUPING)
    past = find(role, ORGANIZER, "D.8.r", c=Grouping.DRUG_HISTORY, s=OID.VALUE_GROUPING)
    return Patient(
        **fields,
        age=hl7.quantity(age, "D.2.2"),
        gestation_period=hl7.quantity(
            _value(_obs(role, OBS, Obs.GESTATION_PERIOD, "D.2.2.1"), "D.2.2.1"), "D.2.2.1"
        ),
        age_group=hl7.coded(
            AgeGroup,
            code_attr(_value(_obs(role, OBS, Obs.AGE_GROUP, "D.2.3"), "D.2.3")),
            "D.2.3",
        ),
        weight_kg=_measure(role, Obs.BODY_WEIGHT, "D.3"),
        height_cm=_measure(role, Obs.HEIGHT, "D.4"),
        last_menstrual_period=date_or_null(
            _value(_obs(role, OBS, Obs.LAST_MENSTRUAL_PERIOD, "D.6"), "D.6"), "D.6"
        ),
        **_history(history, "D.7"),
        concomitant_therapies=_concomitant(history),
        past_drugs=_past_drugs(past, "D.8.r"),
        death=_death(role, person),
        parent=_parent(person),
    )


def _sex(node: Any | None, element: str) -> Sex | NullFlavor | None:
    if node is None:
        return None
    return hl7.null_flavour(node, element) or hl7.coded(Sex, code_attr(node), element)


def _measure(node: Any, code: Obs, element: str) -> Decimal | None:
    value = _value(_obs(node, OBS, code, element), element)
    return hl7.decimal(attr(value, "value"), element)


def _history(organizer: Any | None, element: str) -> dict[str, Any]:
    if organizer is None:
        return {"medical_history": (), "medical_history_text": None}
    episodes, text = [], None
    for observation in find_all(organizer, "h:component/h:observation"):
        code = find(observation, "h:code", element)
        if code_attr(code, "codeSystem") == OID.OBSERVATION:
            if code_attr(code) == Obs.HISTORY_TEXT:
                if text is not None:
                    raise MessageError(RefusalReason.REPEATED_ELEMENT, f"{element}.2", "twice")
                text = text_or_null(find(observation, "h:value", f"{element}.2"), f"{element}.2")
            continue  # D.7.3 concomitant therapies: read by _concomitant
        period = find(observation, "h:effectiveTime", element)
        continuing = find(
            observation,
            REL2.replace("outboundRelationship2", "inboundRelationship"),
            element,
            c=Obs.CONTINUING,
            s=OID.OBSERVATION,
        )
        comment = find(observation, REL2, element, c=Obs.COMMENT, s=OID.OBSERVATION)
        family = find(observation, REL2, element, c=Obs.FAMILY_HISTORY, s=OID.OBSERVATION)
        episodes.append(
            MedicalHistoryEpisode(
                meddra=hl7.meddra(code),
                start=date_or_null(
                    find(period, "h:low", element) if period is not None else None,
                    f"{element}.1.r.2",
                ),
                continuing=flag(_value(continuing, element), f"{element}.1.r.3"),
                end=date_or_null(
                    find(period, "h:high", element) if period is not None else None,
                    f"{element}.1.r.4",
                ),
                comments=hl7.text(_value(comment, element)),
                family_history=hl7.boolean(_value(family, element), f"{element}.1.r.6"),
            )
        )
    return {"medical_history": tuple(episodes), "medical_history_text": text}


def _concomitant(organizer: Any | None) -> bool | None:
    if organizer is None:
        return None
    observation = find(
        organizer,
        "h:component/h:observation[h:code[@code=$c and @codeSystem=$s]]",
        "D.7.3",
        c=Obs.CONCOMITANT_THERAPY,
        s=OID.OBSERVATION,
    )
    return hl7.boolean(_value(observation, "D.7.3"), "D.7.3")


def _product_ids(product: Any | None, element: str) -> tuple[TermId | None, TermId | None]:
    """MPID or PhPID: one ``code`` element; its code system says which."""
    code = None if product is None else find(product, "h:code", element)
    identifier = hl7.term(code)
    if identifier is None:
        return None, None
    if identifier.system == OID.PHPID:
        return None, identifier
    return identifier, None


def _past_drugs(organizer: Any | None, element: str) -> tuple[PastDrug, ...]:
    if organizer is None:
        return ()
    drugs = []
    for administration in find_all(organizer, "h:component/h:substanceAdministration"):
        period = find(administration, "h:effectiveTime", element)
        product = find(administration, "h:consumable/h:instanceOfKind/h:kindOfProduct", element)
        mpid, phpid = _product_ids(product, element)
        indication = find(administration, REL2, element, c=Obs.INDICATION, s=OID.OBSERVATION)
        reaction = find(administration, REL2, element, c=Obs.REACTION, s=OID.OBSERVATION)
        drugs.append(
            PastDrug(
                name=text_or_null(
                    None if product is None else find(product, "h:name", element), element
                ),
                mpid=mpid,
                phpid=phpid,
                start=_bound(period, "h:low", f"{element}.4"),
                end=_bound(period, "h:high", f"{element}.5"),
                indication=hl7.meddra(_value(indication, element)),
                reaction=hl7.meddra(_value(reaction, element)),
            )
        )
    return tuple(drugs)


def _bound(period: Any | None, path: str, element: str) -> Date:
    return None if period is None else date_or_null(find(period, path, element), element)


def _cause(observation: Any, element: str) -> CauseOfDeath:
    value = _value(observation, element)
    return CauseOfDeath(
        meddra=hl7.meddra(value),
        text=hl7.text(None if value is None else find(value, "h:originalText", element)),
    )


def _death(role: Any, person: Any | None) -> Death | None:
    date_node = None if person is None else find(person, "h:deceasedTime", "D.9.1")
    reported = find_all(role, OBS, c=Obs.REPORTED_CAUSE_OF_DEATH, s=OID.OBSERVATION)
    autopsy = _obs(role, OBS, Obs.AUTOPSY, "D.9.3")
    if date_node is None and not reported and autopsy is None:
        return None
    autopsy_causes = (
        ()
        if autopsy is None
        else tuple(
            _cause(o, "D.9.4.r")
            for o in find_all(autopsy, REL2, c=Obs.CAUSE_OF_DEATH, s=OID.OBSERVATION)
        )
    )
    return Death(
        date=date_or_null(date_node, "D.9.1"),
        reported_causes=tuple(_cause(o, "D.9.2.r") for o in reported),
        autopsy=flag(_value(autopsy, "D.9.3"), "D.9.3"),
        autopsy_causes=autopsy_causes,
    )


def _parent(person: Any | None) -> Parent | None:
    role = None if person is None else find(person, "h:role[h:code[@code='PRN']]", "D.10")
    if role is None:
        return None
    who = find(role, "h:associatedPerson", "D.10")
    age = _value(_obs(role, OBS, Obs.AGE, "D.10.2.2"), "D.10.2.2")
    history = find(role, ORGANIZER, "D.10.7", c=Grouping.MEDICAL_HISTORY, s=OID.VALUE_GROUPING)
    past = find(role, ORGANIZER, "D.10.8.r", c=Grouping.DRUG_HISTORY, s=OID.VALUE_GROUPING)
    return Parent(
        name=None if who is None else text_or_null(find(who, "h:name", "D.10.1"), "D.10.1"),
        sex=None
        if who is None
        else _sex(find(who, "h:administrativeGenderCode", "D.10.6"), "D.10.6"),
        birth_date=None
        if who is None
        else date_or_null(find(who, "h:birthTime", "D.10.2.1"), "D.10.2.1"),
        age=hl7.quantity(age, "D.10.2.2"),
        last_menstrual_period=date_or_null(
            _value(_obs(role, OBS, Obs.LAST_MENSTRUAL_PERIOD, "D.10.3"), "D.10.3"), "D.10.3"
        ),
        weight_kg=_measure(role, Obs.BODY_WEIGHT, "D.10.4"),
        height_cm=_measure(role, Obs.HEIGHT, "D.10.5"),
        **_history(history, "D.10.7"),
        past_drugs=_past_drugs(past, "D.10.8.r"),
    )


# --- E: reactions --------------------------------------------------------------------------

_CRITERIA = (
    ("death", Obs.DEATH, "E.i.3.2a"),
    ("life_threatening", Obs.LIFE_THREATENING, "E.i.3.2b"),
    ("hospitalisation", Obs.HOSPITALISATION, "E.i.3.2c"),
    ("disabling", Obs.DISABLING, "E.i.3.2d"),
    ("congenital_anomaly", Obs.CONGENITAL_ANOMALY, "E.i.3.2e"),
    ("other_medically_important", Obs.OTHER_MEDICALLY_IMPORTANT, "E.i.3.2f"),
)


def _period(node: Any | None, element: str) -> dict[str, Any]:
    """low / high / width / period of an IVL_TS, PIVL_TS or SXPR_TS of them."""
    found: dict[str, Any] = {}
    if node is None:
        return found
    parts = [node, *find_all(node, "h:comp")]
    for part in parts:
        for name in ("low", "high", "width", "period"):
            for child in find_all(part, f"h:{name}"):
                if name in found:
                    raise MessageError(RefusalReason.REPEATED_ELEMENT, element, f"two <{name}>")
                found[name] = child
    return found


def read_reaction(observation: Any, fallback_id: str) -> Reaction:
    period = _period(find(observation, "h:effectiveTime", "E.i.4"), "E.i.4")
    value = find(observation, "h:value", "E.i.2.1")
    native = None if value is None else find(value, "h:originalText", "E.i.1.1a")
    country = find(observation, "h:location/h:locatedEntity/h:locatedPlace/h:code", "E.i.9")
    criteria = {
        name: flag(_value(find(observation, REL2, e, c=code, s=OID.OBSERVATION), e), e)
        for name, code, e in _CRITERIA
    }

    def rel(code: Obs, element: str) -> Any | None:
        return _value(find(observation, REL2, element, c=code, s=OID.OBSERVATION), element)

    return Reaction(
        ref_id=ref_id(observation, fallback_id),
        reported_native=hl7.text(native),
        reported_language=code_attr(native, "language"),
        reported_translation=hl7.text(rel(Obs.REACTION_FOR_TRANSLATION, "E.i.1.2")),
        meddra=hl7.meddra(value),
        term_highlighted=hl7.coded(
            TermHighlighted, code_attr(rel(Obs.TERM_HIGHLIGHTED, "E.i.3.1")), "E.i.3.1"
        ),
        seriousness=SeriousnessCriteria(**criteria),
        start=date_or_null(period.get("low"), "E.i.4"),
        end=date_or_null(period.get("high"), "E.i.5"),
        duration=hl7.quantity(period.get("width"), "E.i.6"),
        outcome=hl7.coded(Outcome, code_attr(rel(Obs.OUTCOME, "E.i.7")), "E.i.7"),
        medically_confirmed=hl7.boolean(rel(Obs.MEDICAL_CONFIRMATION, "E.i.8"), "E.i.8"),
        country=code_attr(country),
    )


# --- F: tests ------------------------------------------------------------------------------


def _result(value: Any) -> tuple[Decimal | None, str | None, str | None]:
    """F.r.3.2 / F.r.3.3 from an IVL_PQ: a centre, or a bound with the other side infinite."""
    center = find(value, "h:center", "F.r.3.2")
    if center is not None:
        return hl7.decimal(attr(center, "value"), "F.r.3.2"), None, code_attr(center, "unit")
    low, high = find(value, "h:low", "F.r.3.2"), find(value, "h:high", "F.r.3.2")
    if low is not None and high is not None:
        if code_attr(low, "nullFlavor") == "NINF":
            bound, qualifier = high, ("LE" if attr(high, "inclusive") == "true" else "LT")
        elif code_attr(high, "nullFlavor") == "PINF":
            bound, qualifier = low, ("GE" if attr(low, "inclusive") == "true" else "GT")
        else:
            raise MessageError(RefusalReason.WRONG_STRUCTURE, "F.r.3.2", "a closed range")
        return hl7.decimal(attr(bound, "value"), "F.r.3.2"), qualifier, code_attr(bound, "unit")
    if attr(value, "value") is not None:  # a plain PQ
        return hl7.decimal(attr(value, "value"), "F.r.3.2"), None, code_attr(value, "unit")
    raise MessageError(RefusalReason.WRONG_STRUCTURE, "F.r.3.2", "a result without a value")


def read_test(observation: Any) -> TestResult:
    code = find(observation, "h:code", "F.r.2")
    structured, free = None, None
    for value in find_all(observation, "h:value"):
        kind = attr(value, hl7.XSI_TYPE) or ""
        target = "free" if kind.endswith("ED") or kind.endswith("ST") else "structured"
        if (free if target == "free" else structured) is not None:
            raise MessageError(RefusalReason.REPEATED_ELEMENT, "F.r.3", "two results")
        if target == "free":
            free = value
        else:
            structured = value
    number, qualifier, unit = (None, None, None) if structured is None else _result(structured)
    ranges: dict[str, Quantity | None] = {"L": None, "H": None}
    for observed in find_all(observation, "h:referenceRange/h:observationRange"):
        which = code_attr(find(observed, "h:interpretationCode", "F.r.4"))
        if which not in ranges or ranges[which] is not None:
            raise MessageError(RefusalReason.WRONG_STRUCTURE, "F.r.4", f"reference {which!r}")
        ranges[which] = hl7.quantity(find(observed, "h:value", "F.r.4"), "F.r.4")
    comment = find(observation, REL2, "F.r.6", c=Obs.COMMENT, s=OID.OBSERVATION)
    more = find(observation, REL2, "F.r.7", c=Obs.MORE_INFORMATION, s=OID.OBSERVATION)
    interpretation = find(observation, "h:interpretationCode", "F.r.3.1")
    return TestResult(
        date=date_or_null(find(observation, "h:effectiveTime", "F.r.1"), "F.r.1"),
        name=hl7.text(None if code is None else find(code, "h:originalText", "F.r.2.1")),
        meddra=hl7.meddra(code),
        result_code=hl7.coded(TestResultCode, code_attr(interpretation), "F.r.3.1"),
        result_value=number,
        result_qualifier=qualifier,
        result_unit=unit,
        result_text=hl7.text(free),
        normal_low=ranges["L"],
        normal_high=ranges["H"],
        comments=hl7.text(_value(comment, "F.r.6")),
        more_information=hl7.boolean(_value(more, "F.r.7"), "F.r.7"),
    )


# --- G: drugs ------------------------------------------------------------------------------


def _term_with_text(node: Any | None, element: str) -> tuple[Text, TermId | None]:
    if node is None:
        return None, None
    original = find(node, "h:originalText", element)
    return text_or_null(original, element), hl7.term(node)


def _dosage(administration: Any) -> Dosage:
    period = _period(find(administration, "h:effectiveTime", "G.k.4.r"), "G.k.4.r")
    product = "h:consumable/h:instanceOfKind"
    lot = find(administration, f"{product}/h:productInstanceInstance/h:lotNumberText", "G.k.4.r.7")
    form_text, form_term = _term_with_text(
        find(administration, f"{product}/h:kindOfProduct/h:formCode", "G.k.4.r.9"), "G.k.4.r.9"
    )
    route_text, route_term = _term_with_text(
        find(administration, "h:routeCode", "G.k.4.r.10"), "G.k.4.r.10"
    )
    parent = find(
        administration,
        "h:inboundRelationship/h:observation[h:code[@code=$c and @codeSystem=$s]]",
        "G.k.4.r.11",
        c=Obs.PARENT_ROUTE,
        s=OID.OBSERVATION,
    )
    parent_text, parent_term = _term_with_text(_value(parent, "G.k.4.r.11"), "G.k.4.r.11")
    frequency = period.get("period")
    return Dosage(
        dose=hl7.quantity(find(administration, "h:doseQuantity", "G.k.4.r.1"), "G.k.4.r.1"),
        frequency=hl7.decimal(attr(frequency, "value"), "G.k.4.r.2"),
        frequency_unit=code_attr(frequency, "unit"),
        start=date_or_null(period.get("low"), "G.k.4.r.4"),
        end=date_or_null(period.get("high"), "G.k.4.r.5"),
        duration=hl7.quantity(period.get("width"), "G.k.4.r.6"),
        batch_lot=text_or_null(lot, "G.k.4.r.7"),
        text=hl7.text(find(administration, "h:text", "G.k.4.r.8")),
        form_text=form_text,
        form_term=form_term,
        route_text=route_text,
        route_term=route_term,
        parent_route_text=parent_text,
        parent_route_term=parent_term,
    )


def _required_code(enum: type[hl7.E], node: Any | None, element: str) -> hl7.E:
    value = hl7.coded(enum, code_attr(node), element)
    if value is None:
        raise MessageError(RefusalReason.MISSING_ELEMENT, element, "a coded value without a code")
    return value


def _indication(observation: Any) -> Indication:
    value = _value(observation, "G.k.7.r")
    original = None if value is None else find(value, "h:originalText", "G.k.7.r.1")
    return Indication(text=text_or_null(original, "G.k.7.r.1"), meddra=hl7.meddra(value))


def read_drug(administration: Any, fallback_id: str) -> tuple[Drug, dict[str, dict[str, Any]]]:
    """The drug, and what it says per reaction (intervals, recurrence), keyed by reaction id."""
    kind = "h:consumable/h:instanceOfKind"
    product = find(administration, f"{kind}/h:kindOfProduct", "G.k.2")
    approval = (
        None
        if product is None
        else find(product, "h:asManufacturedProduct/h:subjectOf/h:approval", "G.k.3")
    )
    mpid, phpid = _product_ids(product, "G.k.2.1")
    names = [] if product is None else find_all(product, "h:name")
    substances = (
        ()
        if product is None
        else tuple(
            Substance(
                name=hl7.text(find(i, "h:ingredientSubstance/h:name", "G.k.2.3.r.1")),
                term=hl7.term(find(i, "h:ingredientSubstance/h:code", "G.k.2.3.r.2")),
                strength=hl7.quantity(
                    find(i, "h:quantity/h:numerator", "G.k.2.3.r.3"), "G.k.2.3.r.3"
                ),
            )
            for i in find_all(product, "h:ingredient")
        )
    )
    per_reaction: dict[str, dict[str, Any]] = {}
    for relation in find_all(administration, "h:outboundRelationship1"):
        kind_code = attr(relation, "typeCode")
        target = code_attr(find(relation, "h:actReference/h:id", "G.k.9.i.1"), "root")
        key = {"SAS": "interval_from_start", "SAE": "interval_from_last_dose"}.get(kind_code or "")
        if key is None or target is None:
            raise MessageError(RefusalReason.WRONG_STRUCTURE, "G.k.9.i.3", f"{kind_code!r}")
        entry = per_reaction.setdefault(target, {})
        if key in entry:
            raise MessageError(RefusalReason.REPEATED_ELEMENT, "G.k.9.i.3", f"two {kind_code}")
        entry[key] = hl7.quantity(find(relation, "h:pauseQuantity", "G.k.9.i.3"), "G.k.9.i.3")
    for observation in find_all(administration, REL2, c=Obs.RECURRENCE, s=OID.OBSERVATION):
        target = code_attr(
            find(observation, "h:outboundRelationship1/h:actReference/h:id", "G.k.9.i.4"), "root"
        )
        if target is None:
            raise MessageError(RefusalReason.MISSING_ELEMENT, "G.k.9.i.4", "no reaction named")
        entry = per_reaction.setdefault(target, {})
        if "recurrence" in entry:
            raise MessageError(RefusalReason.REPEATED_ELEMENT, "G.k.9.i.4", "twice")
        entry["recurrence"] = hl7.coded(
            Recurrence, code_attr(_value(observation, "G.k.9.i.4")), "G.k.9.i.4"
        )

    def rel(code: Obs, element: str) -> Any | None:
        return _value(find(administration, REL2, element, c=code, s=OID.OBSERVATION), element)

    obtained = find(
        administration,
        f"{kind}/h:subjectOf/h:productEvent/h:performer/"
        "h:assignedEntity/h:representedOrganization/h:addr/h:country",
        "G.k.2.4",
    )
    action = find(administration, "h:inboundRelationship[@typeCode='CAUS']/h:act/h:code", "G.k.8")
    drug = Drug(
        ref_id=ref_id(administration, fallback_id),
        mpid=mpid,
        phpid=phpid,
        product_name=hl7.text(names[0]) if names else None,
        substances=substances,
        obtained_country=None if obtained is None else (hl7.text(obtained) or "").strip() or None,
        blinded=hl7.boolean(rel(Obs.BLINDED, "G.k.2.5"), "G.k.2.5"),
        authorisation_number=code_attr(
            None if approval is None else find(approval, "h:id", "G.k.3.1"), "extension"
        ),
        authorisation_country=code_attr(
            None
            if approval is None
            else find(approval, "h:author/h:territorialAuthority/h:territory/h:code", "G.k.3.2")
        ),
        authorisation_holder=hl7.text(
            None
            if approval is None
            else find(approval, "h:holder/h:role/h:playingOrganization/h:name", "G.k.3.3")
        ),
        dosages=tuple(
            _dosage(a)
            for a in find_all(
                administration,
                "h:outboundRelationship2[@typeCode='COMP']/h:substanceAdministration",
            )
        ),
        cumulative_dose=hl7.quantity(rel(Obs.CUMULATIVE_DOSE, "G.k.5"), "G.k.5"),
        gestation_at_exposure=hl7.quantity(rel(Obs.GESTATION_PERIOD, "G.k.6"), "G.k.6"),
        indications=tuple(
            _indication(o)
            for o in find_all(
                administration,
                "h:inboundRelationship/h:observation[h:code[@code=$c and @codeSystem=$s]]",
                c=Obs.INDICATION,
                s=OID.OBSERVATION,
            )
        ),
        action_taken=hl7.coded(ActionTaken, code_attr(action), "G.k.8"),
        additional_info=tuple(
            _required_code(AdditionalDrugInfo, _value(o, "G.k.10.r"), "G.k.10.r")
            for o in find_all(administration, REL2, c=Obs.CODED_DRUG_INFORMATION, s=OID.OBSERVATION)
        ),
        additional_info_text=hl7.text(rel(Obs.ADDITIONAL_INFORMATION, "G.k.11")),
    )
    return drug, per_reaction


def attach_causality(
    assessment: Any,
    drugs: dict[str, Drug],
    reactions: list[str],
    per_drug: dict[str, dict[str, dict[str, Any]]],
    roles: dict[str, DrugRole],
) -> None:
    """One ``causalityAssessment`` component: G.k.1 (role) or G.k.9.i.2.r (relatedness)."""
    code = find(assessment, "h:code", "G.k")
    drug_ref = code_attr(find(assessment, "h:subject2/h:productUseReference/h:id", "G.k"), "root")
    if drug_ref not in drugs:
        raise MessageError(RefusalReason.DANGLING_REFERENCE, "G.k", f"no drug {drug_ref!r}")
    value = find(assessment, "h:value", "G.k")
    if code_attr(code) == Obs.DRUG_ROLE:
        if drug_ref in roles:
            raise MessageError(RefusalReason.REPEATED_ELEMENT, "G.k.1", f"drug {drug_ref}")
        role = hl7.coded(DrugRole, code_attr(value), "G.k.1")
        if role is None:
            raise MessageError(RefusalReason.MISSING_ELEMENT, "G.k.1", f"drug {drug_ref}")
        roles[drug_ref] = role
        return
    if code_attr(code) != Obs.CAUSALITY:
        raise MessageError(RefusalReason.UNKNOWN_CODE, "G.k", f"assessment {code_attr(code)!r}")
    if value is not None and code_attr(value) is not None:
        return  # a regional coded assessment (EU): not an ICH element, not held
    reaction_ref = code_attr(
        find(assessment, "h:subject1/h:adverseEffectReference/h:id", "G.k.9.i.1"), "root"
    )
    if reaction_ref not in reactions:
        raise MessageError(RefusalReason.DANGLING_REFERENCE, "G.k.9.i.1", f"{reaction_ref!r}")
    method = find(assessment, "h:methodCode/h:originalText", "G.k.9.i.2.r.2")
    source = find(assessment, "h:author/h:assignedEntity/h:code/h:originalText", "G.k.9.i.2.r.1")
    entry = per_drug[drug_ref].setdefault(reaction_ref, {})
    entry.setdefault("relatedness", []).append(
        Relatedness(source=hl7.text(source), method=hl7.text(method), result=hl7.text(value))
    )


def assemble_drugs(
    drugs: dict[str, Drug],
    reactions: list[str],
    per_drug: dict[str, dict[str, dict[str, Any]]],
    roles: dict[str, DrugRole],
) -> tuple[Drug, ...]:
    """Each drug with its role and its G.k.9.i rows, in the order of the reactions."""
    out = []
    for ref, drug in drugs.items():
        rows = per_drug[ref]
        unknown = set(rows) - set(reactions)
        if unknown:
            raise MessageError(RefusalReason.DANGLING_REFERENCE, "G.k.9.i.1", str(sorted(unknown)))
        assessments = tuple(
            DrugReactionAssessment(
                reaction_ref=reaction,
                relatedness=tuple(rows[reaction].get("relatedness", ())),
                interval_from_start=rows[reaction].get("interval_from_start"),
                interval_from_last_dose=rows[reaction].get("interval_from_last_dose"),
                recurrence=rows[reaction].get("recurrence"),
            )
            for reaction in reactions
            if reaction in rows
        )
        out.append(_replace(drug, role=roles.get(ref), assessments=assessments))
    return tuple(out)


def _replace(drug: Drug, **changes: Any) -> Drug:
    from dataclasses import replace

    return replace(drug, **changes)


__all__ = [
    "MedDRA",
    "assemble_drugs",
    "attach_causality",
    "read_drug",
    "read_patient",
    "read_reaction",
    "read_test",
]
