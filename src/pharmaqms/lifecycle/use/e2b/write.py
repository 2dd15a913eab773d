"""Writing ICSRs as an E2B(R3) batch: one ``MCCI_IN200100UV01`` holding one
``PORR_IN049016UV`` message per ICSR, in the ``urn:hl7-org:v3`` namespace, with the ICH OIDs.

The writer and the reader are each other's test: what is written here reads back to an equal
model for every field the model holds. A model that could not survive that (two product ids
where the message has room for one, a middle name without a given name…) is refused before
anything is written, with the reasons, rather than exported with a silent loss.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

from lxml import etree

from pharmaqms.kernel.errors import InvalidInput
from pharmaqms.lifecycle.use.e2b.codes import HL7_NS, OID, XSI_NS, AuthorRole, NullFlavor, Obs
from pharmaqms.lifecycle.use.e2b.dates import Precision, from_datetime
from pharmaqms.lifecycle.use.e2b.hl7 import sub, text_or_null
from pharmaqms.lifecycle.use.e2b.icsr import ICSR
from pharmaqms.lifecycle.use.e2b.model import Document, PrimarySource, Sender
from pharmaqms.lifecycle.use.e2b.validate import export_blockers
from pharmaqms.lifecycle.use.e2b.write_parts import (
    bl,
    country_code,
    in_reaction_order,
    meddra_value,
    observation,
    write_causality,
    write_patient,
)

NSMAP: Final = {None: HL7_NS, "xsi": XSI_NS}


class E2BExportRefused(InvalidInput):
    """An ICSR the E2B message cannot carry without losing part of it."""

    code = "e2b_export_refused"
    title = "E2B export refused"


def _device(parent: Any, role: str, root: str, extension: str) -> None:
    device = sub(
        sub(parent, role, typeCode="RCV" if role == "receiver" else "SND"),
        "device",
        classCode="DEV",
        determinerCode="INSTANCE",
    )
    sub(device, "id", root=root, extension=extension)


def _document(parent: Any, code: str, document: Document | None, reference: Any = None) -> None:
    node = sub(
        sub(parent, "reference", typeCode="REFR"), "document", classCode="DOC", moodCode="EVN"
    )
    sub(node, "code", code=code, codeSystem=OID.DOCUMENT_SOURCE)
    if document is not None:
        if document.title is not None:
            sub(node, "title", document.title)
        if (document.data_b64, document.media_type, document.compression) != (None, None, None):
            sub(
                node,
                "text",
                document.data_b64,
                mediaType=document.media_type,
                representation="B64" if document.data_b64 is not None else None,
                compression=document.compression,
            )
    if reference is not None:
        text_or_null(node, "bibliographicDesignationText", reference)


def _names(parent: Any, person: PrimarySource | Sender) -> None:
    parts = (
        ("prefix", person.title),
        ("given", person.given_name),
        ("given", person.middle_name),
        ("family", person.family_name),
    )
    if all(value is None for _, value in parts):
        return
    name = sub(parent, "name")
    for tag, value in parts:
        text_or_null(name, tag, value)


def _addr(entity: Any, person: PrimarySource | Sender) -> None:
    parts = (
        ("streetAddressLine", person.street),
        ("city", person.city),
        ("state", person.state),
        ("postalCode", person.postcode),
    )
    if all(value is None for _, value in parts):
        return
    addr = sub(entity, "addr")
    for tag, value in parts:
        text_or_null(addr, tag, value)


def _organisations(entity: Any, person: PrimarySource | Sender) -> None:
    if person.department is None and person.organisation is None:
        return
    department = sub(entity, "representedOrganization", classCode="ORG", determinerCode="INSTANCE")
    text_or_null(department, "name", person.department)
    if person.organisation is not None:
        organisation = sub(
            sub(department, "assignedEntity", classCode="ASSIGNED"),
            "representedOrganization",
            classCode="ORG",
            determinerCode="INSTANCE",
        )
        text_or_null(organisation, "name", person.organisation)


def _author_entity(relation: Any) -> Any:
    control = sub(
        sub(relation, "subjectOf2", typeCode="SUBJ"),
        "controlActEvent",
        classCode="CACT",
        moodCode="EVN",
    )
    return sub(sub(control, "author", typeCode="AUT"), "assignedEntity", classCode="ASSIGNED")


def _primary_source(event: Any, source: PrimarySource) -> None:
    relation = sub(event, "outboundRelationship", typeCode="SPRT")
    if source.for_regulatory_purposes:
        sub(relation, "priorityNumber", value="1")
    investigation = sub(relation, "relatedInvestigation", classCode="INVSTG", moodCode="EVN")
    sub(investigation, "code", code="2", codeSystem=OID.REPORT_RELATION)
    entity = _author_entity(investigation)
    _addr(entity, source)
    if isinstance(source.telephone, NullFlavor):
        sub(entity, "telecom", nullFlavor=source.telephone.value)
    elif source.telephone is not None:
        sub(entity, "telecom", value=f"tel:{source.telephone}")
    names = any(
        v is not None
        for v in (source.title, source.given_name, source.middle_name, source.family_name)
    )
    if names or source.qualification is not None or source.country is not None:
        person = sub(entity, "assignedPerson", classCode="PSN", determinerCode="INSTANCE")
        _names(person, source)
        if source.qualification is not None:
            qualified = sub(person, "asQualifiedEntity", classCode="QUAL")
            if isinstance(source.qualification, NullFlavor):
                sub(
                    qualified,
                    "code",
                    nullFlavor=source.qualification.value,
                    codeSystem=OID.QUALIFICATION,
                )
            else:
                sub(
                    qualified, "code", code=source.qualification.value, codeSystem=OID.QUALIFICATION
                )
        if source.country is not None:
            location = sub(
                sub(person, "asLocatedEntity", classCode="LOCE"),
                "location",
                classCode="COUNTRY",
                determinerCode="INSTANCE",
            )
            country_code(location, source.country)
    _organisations(entity, source)


def _sender(event: Any, sender: Sender) -> None:
    control = sub(
        sub(event, "subjectOf1", typeCode="SUBJ"),
        "controlActEvent",
        classCode="CACT",
        moodCode="EVN",
    )
    entity = sub(sub(control, "author", typeCode="AUT"), "assignedEntity", classCode="ASSIGNED")
    if sender.sender_type is not None:
        sub(entity, "code", code=sender.sender_type.value, codeSystem=OID.SENDER_TYPE)
    _addr(entity, sender)
    for prefix, value in (
        ("tel:", sender.telephone),
        ("fax:", sender.fax),
        ("mailto:", sender.email),
    ):
        if value is not None:
            sub(entity, "telecom", value=f"{prefix}{value}")
    names = any(
        v is not None
        for v in (sender.title, sender.given_name, sender.middle_name, sender.family_name)
    )
    if names or sender.country is not None:
        person = sub(entity, "assignedPerson", classCode="PSN", determinerCode="INSTANCE")
        _names(person, sender)
        if sender.country is not None:
            location = sub(
                sub(person, "asLocatedEntity", classCode="LOCE"),
                "location",
                classCode="COUNTRY",
                determinerCode="INSTANCE",
            )
            country_code(location, sender.country)
    _organisations(entity, sender)


def _characteristic(event: Any, code: str) -> Any:
    node = sub(
        sub(event, "subjectOf2", typeCode="SUBJ"),
        "investigationCharacteristic",
        classCode="OBS",
        moodCode="EVN",
    )
    sub(node, "code", code=code, codeSystem=OID.REPORT_CHARACTERISATION)
    return node


def _component(event: Any, code: Obs) -> Any:
    node = sub(
        sub(event, "component", typeCode="COMP"),
        "observationEvent",
        classCode="OBS",
        moodCode="EVN",
    )
    sub(node, "code", code=code.value, codeSystem=OID.OBSERVATION)
    return node


def _authored(parent: Any, role: AuthorRole) -> None:
    entity = sub(sub(parent, "author", typeCode="AUT"), "assignedEntity", classCode="ASSIGNED")
    sub(entity, "code", code=role.value, codeSystem=OID.AUTHOR_ROLE)


def _assessment_comments(assessment: Any, icsr: ICSR) -> None:
    narrative = icsr.narrative
    if narrative.reporter_comments is not None:
        node = _component1(assessment, Obs.COMMENT)
        sub(node, "value", narrative.reporter_comments, xsi_type="ED")
        _authored(node, AuthorRole.SOURCE_REPORTER)
    for diagnosis in narrative.sender_diagnoses:
        node = _component1(assessment, Obs.DIAGNOSIS)
        meddra_value(node, "value", diagnosis)
        _authored(node, AuthorRole.SENDER)
    if narrative.sender_comments is not None:
        node = _component1(assessment, Obs.COMMENT)
        sub(node, "value", narrative.sender_comments, xsi_type="ED")
        _authored(node, AuthorRole.SENDER)


def _component1(assessment: Any, code: Obs) -> Any:
    node = sub(
        sub(assessment, "component1", typeCode="COMP"),
        "observationEvent",
        classCode="OBS",
        moodCode="EVN",
    )
    sub(node, "code", code=code.value, codeSystem=OID.OBSERVATION)
    return node


def _investigation(subject: Any, icsr: ICSR) -> None:
    report, narrative = icsr.report, icsr.narrative
    event = sub(subject, "investigationEvent", classCode="INVSTG", moodCode="EVN")
    sub(event, "id", root=OID.SAFETY_REPORT_ID, extension=report.safety_report_id)
    if report.worldwide_case_id is not None:
        sub(event, "id", root=OID.WORLDWIDE_CASE_ID, extension=report.worldwide_case_id)
    sub(event, "code", code="PAT_ADV_EVNT", codeSystem=OID.HL7_ACT_CODE)
    if narrative.case_narrative is not None:
        sub(event, "text", narrative.case_narrative)
    sub(event, "statusCode", code="active")
    if report.first_received is not None:
        sub(sub(event, "effectiveTime"), "low", value=report.first_received.format())
    if report.most_recent is not None:
        sub(event, "availabilityTime", value=report.most_recent.format())
    for document in report.documents_held:
        _document(event, "1", document)
    for literature in icsr.literature:
        _document(event, "2", literature.document, literature.reference)
    assessment = sub(
        sub(event, "component", typeCode="COMP"),
        "adverseEventAssessment",
        classCode="INVSTG",
        moodCode="EVN",
    )
    role = sub(sub(assessment, "subject1", typeCode="SBJ"), "primaryRole", classCode="INVSBJ")
    write_patient(role, icsr)
    write_causality(assessment, tuple(in_reaction_order(d, icsr.reactions) for d in icsr.drugs))
    _assessment_comments(assessment, icsr)
    if report.additional_documents is not None:
        bl(_component(event, Obs.ADDITIONAL_DOCUMENTS), report.additional_documents)
    if report.expedited is not None:
        bl(_component(event, Obs.LOCAL_EXPEDITED), report.expedited)
    for summary in narrative.case_summaries:
        node = _component(event, Obs.SUMMARY_AND_COMMENT)
        sub(node, "value", summary.text, xsi_type="ED", language=summary.language)
        _authored(node, AuthorRole.REPORTER)
    if report.first_sender is not None:
        investigation = sub(
            sub(event, "outboundRelationship", typeCode="SPRT"),
            "relatedInvestigation",
            classCode="INVSTG",
            moodCode="EVN",
        )
        sub(investigation, "code", code="1", codeSystem=OID.REPORT_RELATION)
        entity = _author_entity(investigation)
        sub(entity, "code", code=report.first_sender.value, codeSystem=OID.FIRST_SENDER)
    for linked in report.linked_reports:
        investigation = sub(
            sub(event, "outboundRelationship", typeCode="SPRT"),
            "relatedInvestigation",
            classCode="INVSTG",
            moodCode="EVN",
        )
        sub(investigation, "code", nullFlavor="NA")
        control = sub(
            sub(investigation, "subjectOf2", typeCode="SUBJ"),
            "controlActEvent",
            classCode="CACT",
            moodCode="EVN",
        )
        sub(control, "id", root=OID.WORLDWIDE_CASE_ID, extension=linked)
    for source in icsr.primary_sources:
        _primary_source(event, source)
    if icsr.sender is not None:
        _sender(event, icsr.sender)
    for other in report.other_case_ids:
        control = sub(
            sub(event, "subjectOf1", typeCode="SUBJ"),
            "controlActEvent",
            classCode="CACT",
            moodCode="EVN",
        )
        sub(
            control,
            "id",
            root=OID.OTHER_CASE_ID,
            extension=other.case_id,
            assigningAuthorityName=other.source,
        )
    if report.report_type is not None:
        sub(
            _characteristic(event, "1"),
            "value",
            xsi_type="CE",
            code=report.report_type.value,
            codeSystem=OID.REPORT_TYPE,
        )
    if report.other_case_ids_exist is not None:
        bl(_characteristic(event, "2"), report.other_case_ids_exist)
    if report.nullification is not None:
        sub(
            _characteristic(event, "3"),
            "value",
            xsi_type="CE",
            code=report.nullification.value,
            codeSystem=OID.NULLIFICATION,
        )
    if report.nullification_reason is not None:
        value = sub(_characteristic(event, "4"), "value", xsi_type="CE")
        sub(value, "originalText", report.nullification_reason)


def write_message(batch: Any, icsr: ICSR) -> Any:
    """One ``PORR_IN049016UV`` element for ``icsr``, appended to ``batch``."""
    header = icsr.message
    message = sub(batch, "PORR_IN049016UV")
    sub(message, "id", root=OID.SAFETY_REPORT_ID, extension=header.message_id)
    sub(message, "creationTime", value=header.created.format())
    sub(message, "interactionId", root=OID.HL7_INTERACTION, extension="PORR_IN049016UV")
    sub(message, "processingCode", code="P")
    sub(message, "processingModeCode", code="T")
    sub(message, "acceptAckCode", code="AL")
    _device(message, "receiver", OID.MESSAGE_RECEIVER, header.receiver_id)
    _device(message, "sender", OID.MESSAGE_SENDER, header.sender_id)
    act = sub(message, "controlActProcess", classCode="CACT", moodCode="EVN")
    sub(act, "code", code="PORR_TE049016UV", codeSystem=OID.HL7_TRIGGER)
    sub(act, "effectiveTime", value=icsr.report.created.format())
    _investigation(sub(act, "subject", typeCode="SUBJ"), icsr)
    return message


def write_batch(
    icsrs: Sequence[ICSR], *, sender: str, receiver: str, batch_id: str, now: datetime
) -> bytes:
    """The batch as UTF-8 XML bytes; ``now`` stamps N.1.5 (to the second, in UTC).

    Raises :class:`E2BExportRefused` when an ICSR cannot be written without loss."""
    if not icsrs:
        raise E2BExportRefused("an E2B batch needs at least one ICSR")
    reasons = [
        f"{icsr.report.safety_report_id}: {issue.element} {issue.message}"
        for icsr in icsrs
        for issue in export_blockers(icsr)
    ]
    if reasons:
        raise E2BExportRefused("the ICSR cannot be written without loss", reasons=reasons)
    root = etree.Element(f"{{{HL7_NS}}}MCCI_IN200100UV01", nsmap=NSMAP)
    root.set("ITSVersion", "XML_1.0")
    sub(root, "id", root=OID.BATCH_NUMBER, extension=batch_id)
    sub(root, "creationTime", value=from_datetime(now, Precision.SECOND).format())
    sub(root, "responseModeCode", code="D")
    sub(root, "interactionId", root=OID.HL7_INTERACTION, extension="MCCI_IN200100UV01")
    sub(root, "name", code="1", codeSystem=OID.MESSAGE_TYPE)
    for icsr in icsrs:
        write_message(root, icsr)
    _device(root, "receiver", OID.BATCH_RECEIVER, receiver)
    _device(root, "sender", OID.BATCH_SENDER, sender)
    return bytes(etree.tostring(root, encoding="UTF-8", xml_declaration=True, pretty_print=True))


__all__ = ["E2BExportRefused", "observation", "write_batch", "write_message"]
