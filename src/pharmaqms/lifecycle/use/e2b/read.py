"""Reading an E2B(R3) batch (``MCCI_IN200100UV01``) of ICSR messages (``PORR_IN049016UV``).

The file is untrusted: its size is bounded before parsing, any DOCTYPE or ENTITY declaration
refuses it (E2B has no use for a DTD, and entities are how XML parsers are attacked), and the
parser loads no DTD, resolves no entity, touches no network and refuses huge trees.

Then each message is read on its own: a message the model cannot hold whole is refused with a
reason code and its position, and the others are still read. Implausible values (a negative
age, a date after ``now``) are kept as sent and reported as findings beside them.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from lxml import etree

from pharmaqms.lifecycle.use.e2b import hl7
from pharmaqms.lifecycle.use.e2b.codes import (
    HL7_NS,
    OID,
    AuthorRole,
    FirstSender,
    Grouping,
    NullFlavor,
    Nullification,
    Obs,
    Qualification,
    ReportType,
    SenderType,
    StudyType,
)
from pharmaqms.lifecycle.use.e2b.findings import plausibility_findings
from pharmaqms.lifecycle.use.e2b.hl7 import MessageError, attr, code_attr, find, find_all
from pharmaqms.lifecycle.use.e2b.icsr import (
    ICSR,
    DocumentReason,
    E2BDocumentRefused,
    Finding,
    FindingCode,
    MessageResult,
    ParsedMessage,
    RefusalReason,
    RefusedMessage,
)
from pharmaqms.lifecycle.use.e2b.model import (
    BatchHeader,
    CaseSummary,
    Document,
    LiteratureReference,
    MedDRA,
    MessageHeader,
    Narrative,
    OtherCaseId,
    PrimarySource,
    ReportIdentification,
    Sender,
    Study,
    StudyRegistration,
)
from pharmaqms.lifecycle.use.e2b.model_drug import Drug
from pharmaqms.lifecycle.use.e2b.read_parts import (
    ORGANIZER,
    assemble_drugs,
    attach_causality,
    date_or_null,
    flag,
    read_drug,
    read_patient,
    read_reaction,
    read_test,
    text_or_null,
)

DEFAULT_MAX_BYTES: Final = 50 * 1024 * 1024
# Declarations refused before parsing, in the encodings an XML file may use.
_FORBIDDEN: Final = tuple(
    marker.encode(encoding)
    for marker in ("<!DOCTYPE", "<!ENTITY")
    for encoding in ("utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")
)
_BATCH: Final = f"{{{HL7_NS}}}MCCI_IN200100UV01"


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        dtd_validation=False,
        remove_comments=True,
        remove_pis=True,
    )


def _refuse(reason: DocumentReason, message: str) -> E2BDocumentRefused:
    return E2BDocumentRefused(reason, message)


def _load(source: Path | bytes, max_bytes: int) -> bytes:
    if isinstance(source, Path):
        with source.open("rb") as handle:
            data = handle.read(max_bytes + 1)  # never more than the bound, whatever the size
    else:
        data = source
    if len(data) > max_bytes:
        raise _refuse(DocumentReason.TOO_LARGE, f"the file is larger than {max_bytes} bytes")
    return data


def parse_document(data: bytes) -> Any:
    """The batch's root element, from bytes already bounded in size."""
    if any(marker in data for marker in _FORBIDDEN):
        raise _refuse(
            DocumentReason.DOCTYPE_FORBIDDEN, "DOCTYPE and ENTITY declarations are refused"
        )
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise _refuse(DocumentReason.NOT_WELL_FORMED, f"not well-formed XML: {exc}") from None
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise _refuse(DocumentReason.DOCTYPE_FORBIDDEN, "DOCTYPE declarations are refused")
    if root.tag != _BATCH:
        raise _refuse(DocumentReason.NOT_E2B_BATCH, f"root element is {root.tag}, not {_BATCH}")
    return root


def _batch_header(root: Any) -> BatchHeader:
    def device_id(role: str, oid: str) -> str | None:
        node = find(root, f"h:{role}/h:device/h:id[@root=$r]", "N.1", r=oid)
        return code_attr(node, "extension")

    created = code_attr(find(root, "h:creationTime", "N.1.5"), "value")
    values = {
        "N.1.2": code_attr(find(root, "h:id[@root=$r]", "N.1.2", r=OID.BATCH_NUMBER), "extension"),
        "N.1.3": device_id("sender", OID.BATCH_SENDER),
        "N.1.4": device_id("receiver", OID.BATCH_RECEIVER),
        "N.1.5": created,
    }
    missing = [element for element, value in values.items() if value is None]
    if missing:
        raise _refuse(DocumentReason.MISSING_ELEMENT, f"batch header lacks {', '.join(missing)}")
    try:
        when = hl7.timestamp(created, "N.1.5")
    except MessageError as exc:
        raise _refuse(DocumentReason.INVALID_DATE, exc.detail) from None
    assert when is not None
    return BatchHeader(
        batch_id=str(values["N.1.2"]),
        sender_id=str(values["N.1.3"]),
        receiver_id=str(values["N.1.4"]),
        created=when,
        message_type=code_attr(find(root, "h:name", "N.1.1")) or "1",
    )


def read_batch(
    source: Path | bytes, *, now: datetime, max_bytes: int = DEFAULT_MAX_BYTES
) -> list[MessageResult]:
    """Every message of the batch, each parsed (with findings) or refused (with its reason).

    Raises :class:`E2BDocumentRefused` when the file as a whole cannot be read."""
    root = parse_document(_load(source, max_bytes))
    try:
        batch = _batch_header(root)
    except MessageError as exc:
        raise _refuse(DocumentReason.MISSING_ELEMENT, str(exc)) from None
    messages = find_all(root, "h:PORR_IN049016UV")
    if not messages:
        raise _refuse(DocumentReason.NO_MESSAGES, "the batch holds no PORR_IN049016UV message")
    results: list[MessageResult] = []
    for position, element in enumerate(messages, start=1):
        try:
            with hl7.tracking_null_flavours() as held:
                icsr = read_message(element)
        except MessageError as exc:
            ids = find_all(element, "h:id")
            message_id = code_attr(ids[0], "extension") if ids else None
            results.append(
                RefusedMessage(
                    position=position,
                    batch=batch,
                    reason=exc.reason,
                    element=exc.element,
                    detail=exc.detail,
                    message_id=message_id,
                    raw=etree.tostring(element, encoding="UTF-8", with_tail=False),
                )
            )
            continue
        findings = plausibility_findings(icsr, now=now) + _unheld_null_flavours(element, held)
        results.append(ParsedMessage(position, batch, icsr, findings))
    return _flag_duplicates(results)


# Null flavours that are structure, not data: the lot's instance id (always NI), the code of a
# linked-report relation (NA), a code-less history or test entry (NI: we hold None), and the
# open side of a test result range (NINF / PINF: the LT / GT qualifier we hold).
_STRUCTURAL_NULLS: Final = frozenset(
    {
        ("productInstanceInstance", "id"),
        ("relatedInvestigation", "code"),
        ("observation", "code"),
        ("value", "low"),
        ("value", "high"),
    }
)


def _where(node: Any, top: Any) -> str:
    """A readable path from the message to ``node``: local names, [n] among same-named twins."""
    steps = []
    while node is not None and node is not top:
        name = etree.QName(node).localname
        twins = [s for s in node.getparent() if s.tag == node.tag]
        steps.append(f"{name}[{twins.index(node) + 1}]" if len(twins) > 1 else name)
        node = node.getparent()
    return "/".join(reversed(steps))


def _unheld_null_flavours(message: Any, held: set[str]) -> tuple[Finding, ...]:
    """A null flavour the model has no room for is reported, never dropped in silence."""
    tree = message.getroottree()
    found = []
    for node in find_all(message, ".//*[@nullFlavor]"):
        parent = node.getparent()
        key = (etree.QName(parent).localname, etree.QName(node).localname)
        path = tree.getpath(node)
        if path in held or key in _STRUCTURAL_NULLS:
            continue
        found.append(
            Finding(
                FindingCode.NULL_FLAVOUR_NOT_HELD,
                _where(node, message),
                f"null flavour {node.get('nullFlavor')} on an element this model has no "
                "null flavour for: read as absent",
                str(node.get("nullFlavor")),
            )
        )
    return tuple(found)


def _flag_duplicates(results: list[MessageResult]) -> list[MessageResult]:
    """The same case twice in one batch is flagged on each copy after the first, never dropped."""
    seen: Counter[str] = Counter()
    out: list[MessageResult] = []
    for result in results:
        if not isinstance(result, ParsedMessage):
            out.append(result)
            continue
        report = result.icsr.report
        keys = [("C.1.1", report.safety_report_id)]
        if report.worldwide_case_id:
            keys.append(("C.1.8.1", report.worldwide_case_id))
        extra = tuple(
            Finding(
                FindingCode.DUPLICATE_IN_BATCH,
                element,
                f"{element} {value!r} appears earlier in this batch",
                value,
            )
            for element, value in keys
            if seen[f"{element}|{value}"]
        )
        for element, value in keys:
            seen[f"{element}|{value}"] += 1
        out.append(
            ParsedMessage(result.position, result.batch, result.icsr, result.findings + extra)
            if extra
            else result
        )
    return out


def read_message(message: Any) -> ICSR:
    """One ``PORR_IN049016UV`` element as an ICSR; raises ``MessageError`` to refuse it."""
    header = _message_header(message)
    act = find(message, "h:controlActProcess", "C.1")
    event = None if act is None else find(act, "h:subject/h:investigationEvent", "C.1")
    if event is None:
        raise MessageError(RefusalReason.WRONG_STRUCTURE, "C.1", "no investigationEvent")
    created = hl7.timestamp(code_attr(find(act, "h:effectiveTime", "C.1.2"), "value"), "C.1.2")
    if created is None:
        raise MessageError(RefusalReason.MISSING_ELEMENT, "C.1.2", "no date of creation")
    report = _report(event, created)
    assessment = find(event, "h:component/h:adverseEventAssessment", "D")
    role = None if assessment is None else find(assessment, "h:subject1/h:primaryRole", "D")
    if role is None:
        raise MessageError(RefusalReason.WRONG_STRUCTURE, "D", "no primaryRole (patient)")
    case_id = report.safety_report_id
    reactions = tuple(
        read_reaction(observation, f"{case_id}/reaction/{i}")
        for i, observation in enumerate(
            find_all(
                role,
                "h:subjectOf2/h:observation[h:code[@code=$c and @codeSystem=$s]]",
                c=Obs.REACTION,
                s=OID.OBSERVATION,
            )
        )
    )
    reaction_refs = [r.ref_id for r in reactions]
    if len(set(reaction_refs)) != len(reaction_refs):
        raise MessageError(RefusalReason.REPEATED_ELEMENT, "E.i", "two reactions share an id")
    drugs: dict[str, Drug] = {}
    per_drug: dict[str, dict[str, dict[str, Any]]] = {}
    organizer = find(role, ORGANIZER, "G.k", c=Grouping.DRUG_INFORMATION, s=OID.VALUE_GROUPING)
    for i, administration in enumerate(
        [] if organizer is None else find_all(organizer, "h:component/h:substanceAdministration")
    ):
        drug, rows = read_drug(administration, f"{case_id}/drug/{i}")
        if drug.ref_id in drugs:
            raise MessageError(RefusalReason.REPEATED_ELEMENT, "G.k", "two drugs share an id")
        drugs[drug.ref_id], per_drug[drug.ref_id] = drug, rows
    roles: dict[str, Any] = {}
    for causality in find_all(assessment, "h:component/h:causalityAssessment"):
        attach_causality(causality, drugs, reaction_refs, per_drug, roles)
    tests = find(role, ORGANIZER, "F.r", c=Grouping.TESTS, s=OID.VALUE_GROUPING)
    sources, first_sender, linked = _relations(event)
    report = _with(report, first_sender=first_sender, linked_reports=linked)
    sender, other_ids = _subject_of1(event)
    report = _with(report, other_case_ids=other_ids)
    return ICSR(
        message=header,
        report=report,
        primary_sources=sources,
        sender=sender,
        literature=_literature(event),
        study=_study(role),
        patient=read_patient(role),
        reactions=reactions,
        tests=()
        if tests is None
        else tuple(read_test(o) for o in find_all(tests, "h:component/h:observation")),
        drugs=assemble_drugs(drugs, reaction_refs, per_drug, roles),
        narrative=_narrative(event, assessment),
    )


def _with(report: ReportIdentification, **changes: Any) -> ReportIdentification:
    from dataclasses import replace

    return replace(report, **changes)


def _message_header(message: Any) -> MessageHeader:
    def device(role: str, oid: str) -> str | None:
        return code_attr(
            find(message, f"h:{role}/h:device/h:id[@root=$r]", "N.2.r", r=oid), "extension"
        )

    values = {
        "N.2.r.1": code_attr(
            find(message, "h:id[@root=$r]", "N.2.r.1", r=OID.SAFETY_REPORT_ID), "extension"
        ),
        "N.2.r.2": device("sender", OID.MESSAGE_SENDER),
        "N.2.r.3": device("receiver", OID.MESSAGE_RECEIVER),
        "N.2.r.4": code_attr(find(message, "h:creationTime", "N.2.r.4"), "value"),
    }
    for element, value in values.items():
        if value is None:
            raise MessageError(RefusalReason.MISSING_ELEMENT, element, "required by the IG")
    created = hl7.timestamp(values["N.2.r.4"], "N.2.r.4")
    assert created is not None
    return MessageHeader(
        message_id=str(values["N.2.r.1"]),
        sender_id=str(values["N.2.r.2"]),
        receiver_id=str(values["N.2.r.3"]),
        created=created,
    )


def _characteristic(event: Any, code: str, element: str) -> Any | None:
    observation = find(
        event,
        "h:subjectOf2/h:investigationCharacteristic[h:code[@code=$c and @codeSystem=$s]]",
        element,
        c=code,
        s=OID.REPORT_CHARACTERISATION,
    )
    return None if observation is None else find(observation, "h:value", element)


def _component(event: Any, code: Obs, element: str) -> Any | None:
    observation = find(
        event,
        "h:component/h:observationEvent[h:code[@code=$c and @codeSystem=$s]]",
        element,
        c=code,
        s=OID.OBSERVATION,
    )
    return None if observation is None else find(observation, "h:value", element)


def _document(node: Any) -> Document:
    body = find(node, "h:text", "C.1.6.1.r.2")
    return Document(
        title=hl7.text(find(node, "h:title", "C.1.6.1.r.1")),
        media_type=None if body is None else attr(body, "mediaType"),
        data_b64=None if body is None else "".join(body.itertext()) or None,
        compression=None if body is None else attr(body, "compression"),
    )


def _report(event: Any, created: Any) -> ReportIdentification:
    safety_id = code_attr(
        find(event, "h:id[@root=$r]", "C.1.1", r=OID.SAFETY_REPORT_ID), "extension"
    )
    if safety_id is None:
        raise MessageError(RefusalReason.MISSING_ELEMENT, "C.1.1", "no sender's safety report id")
    documents = find_all(
        event, "h:reference/h:document[h:code[@code='1' and @codeSystem=$s]]", s=OID.DOCUMENT_SOURCE
    )
    reason = _characteristic(event, "4", "C.1.11.2")
    return ReportIdentification(
        safety_report_id=safety_id,
        created=created,
        report_type=hl7.coded(ReportType, code_attr(_characteristic(event, "1", "C.1.3")), "C.1.3"),
        first_received=hl7.timestamp(
            code_attr(find(event, "h:effectiveTime/h:low", "C.1.4"), "value"), "C.1.4"
        ),
        most_recent=hl7.timestamp(
            code_attr(find(event, "h:availabilityTime", "C.1.5"), "value"), "C.1.5"
        ),
        additional_documents=hl7.boolean(
            _component(event, Obs.ADDITIONAL_DOCUMENTS, "C.1.6.1"), "C.1.6.1"
        ),
        documents_held=tuple(_document(d) for d in documents),
        expedited=flag(_component(event, Obs.LOCAL_EXPEDITED, "C.1.7"), "C.1.7"),
        worldwide_case_id=code_attr(
            find(event, "h:id[@root=$r]", "C.1.8.1", r=OID.WORLDWIDE_CASE_ID), "extension"
        ),
        other_case_ids_exist=flag(_characteristic(event, "2", "C.1.9.1"), "C.1.9.1"),
        nullification=hl7.coded(
            Nullification, code_attr(_characteristic(event, "3", "C.1.11.1")), "C.1.11.1"
        ),
        nullification_reason=hl7.text(
            None if reason is None else find(reason, "h:originalText", "C.1.11.2")
        ),
    )


def _names(person: Any | None, element: str) -> dict[str, Any]:
    name = None if person is None else find(person, "h:name", element)
    if name is None:
        return {}
    given = find_all(name, "h:given")
    if len(given) > 2:
        raise MessageError(RefusalReason.REPEATED_ELEMENT, element, "more than two given names")
    return {
        "title": text_or_null(find(name, "h:prefix", element), element),
        "given_name": text_or_null(given[0], element) if given else None,
        "middle_name": text_or_null(given[1], element) if len(given) > 1 else None,
        "family_name": text_or_null(find(name, "h:family", element), element),
    }


def _address(entity: Any, element: str) -> dict[str, Any]:
    addr = find(entity, "h:addr", element)
    if addr is None:
        return {}
    return {
        key: text_or_null(find(addr, f"h:{tag}", element), element)
        for key, tag in (
            ("street", "streetAddressLine"),
            ("city", "city"),
            ("state", "state"),
            ("postcode", "postalCode"),
        )
    }


def _organisations(entity: Any, element: str) -> dict[str, Any]:
    department = find(entity, "h:representedOrganization", element)
    if department is None:
        return {}
    organisation = find(department, "h:assignedEntity/h:representedOrganization/h:name", element)
    return {
        "department": text_or_null(find(department, "h:name", element), element),
        "organisation": text_or_null(organisation, element),
    }


def _primary_source(relation: Any) -> PrimarySource:
    entity = find(
        relation,
        "h:relatedInvestigation/h:subjectOf2/h:controlActEvent/h:author/h:assignedEntity",
        "C.2.r",
    )
    if entity is None:
        return PrimarySource(for_regulatory_purposes=_priority(relation))
    person = find(entity, "h:assignedPerson", "C.2.r")
    phone = find(entity, "h:telecom", "C.2.r.2.7")
    phone_value = attr(phone, "value")
    qualification = (
        None if person is None else find(person, "h:asQualifiedEntity/h:code", "C.2.r.4")
    )
    country = (
        None if person is None else find(person, "h:asLocatedEntity/h:location/h:code", "C.2.r.3")
    )
    return PrimarySource(
        **_names(person, "C.2.r.1"),
        **_address(entity, "C.2.r.2"),
        **_organisations(entity, "C.2.r.2"),
        telephone=hl7.null_flavour(phone, "C.2.r.2.7")
        or (phone_value.removeprefix("tel:") if phone_value else None),
        country=_code_or_null(country, "C.2.r.3"),
        qualification=None
        if qualification is None
        else (
            hl7.null_flavour(qualification, "C.2.r.4")
            or hl7.coded(Qualification, code_attr(qualification), "C.2.r.4")
        ),
        for_regulatory_purposes=_priority(relation),
    )


def _priority(relation: Any) -> bool:
    return code_attr(find(relation, "h:priorityNumber", "C.2.r.5"), "value") == "1"


def _relations(event: Any) -> tuple[tuple[PrimarySource, ...], FirstSender | None, tuple[str, ...]]:
    sources: list[PrimarySource] = []
    first_sender: FirstSender | None = None
    linked: list[str] = []
    for relation in find_all(event, "h:outboundRelationship[@typeCode='SPRT']"):
        code = find(relation, "h:relatedInvestigation/h:code", "C.1.8.2")
        kind = code_attr(code)
        control = find(relation, "h:relatedInvestigation/h:subjectOf2/h:controlActEvent", "C.1")
        if kind == "2":
            sources.append(_primary_source(relation))
        elif kind == "1":
            value = find(control, "h:author/h:assignedEntity/h:code", "C.1.8.2")
            first_sender = hl7.coded(FirstSender, code_attr(value), "C.1.8.2")
        elif code_attr(code, "nullFlavor") == "NA" and control is not None:
            for identifier in find_all(control, "h:id[@root=$r]", r=OID.WORLDWIDE_CASE_ID):
                value = code_attr(identifier, "extension")
                if value is not None:
                    linked.append(value)
        else:
            raise MessageError(RefusalReason.UNKNOWN_CODE, "C.1", f"report relation {kind!r}")
    return tuple(sources), first_sender, tuple(linked)


def _telecoms(entity: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for telecom in find_all(entity, "h:telecom"):
        value = attr(telecom, "value") or ""
        for prefix, key in (("tel:", "telephone"), ("fax:", "fax"), ("mailto:", "email")):
            if value.startswith(prefix):
                out[key] = value.removeprefix(prefix)
    return out


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    """Sender fields take no null flavour in the IG: text or nothing."""
    return {k: (v if isinstance(v, str) else None) for k, v in values.items()}


def _subject_of1(event: Any) -> tuple[Sender | None, tuple[OtherCaseId, ...]]:
    sender: Sender | None = None
    other: list[OtherCaseId] = []
    for control in find_all(event, "h:subjectOf1/h:controlActEvent"):
        for identifier in find_all(control, "h:id[@root=$r]", r=OID.OTHER_CASE_ID):
            other.append(
                OtherCaseId(
                    source=attr(identifier, "assigningAuthorityName"),
                    case_id=code_attr(identifier, "extension"),
                )
            )
        entity = find(control, "h:author/h:assignedEntity", "C.3")
        if entity is None:
            continue
        if sender is not None:
            raise MessageError(RefusalReason.REPEATED_ELEMENT, "C.3", "two senders")
        person = find(entity, "h:assignedPerson", "C.3.3")
        country = (
            None
            if person is None
            else find(person, "h:asLocatedEntity/h:location/h:code", "C.3.4.5")
        )
        sender = Sender(
            sender_type=hl7.coded(SenderType, code_attr(find(entity, "h:code", "C.3.1")), "C.3.1"),
            **_plain(_names(person, "C.3.3")),
            **_plain(_address(entity, "C.3.4")),
            **_plain(_organisations(entity, "C.3.2")),
            **_telecoms(entity),
            country=code_attr(country),
        )
    return sender, tuple(other)


def _literature(event: Any) -> tuple[LiteratureReference, ...]:
    out = []
    for document in find_all(
        event,
        "h:reference/h:document[h:code[@code='2' and @codeSystem=$s]]",
        s=OID.DOCUMENT_SOURCE,
    ):
        included = _document(document)
        out.append(
            LiteratureReference(
                reference=text_or_null(
                    find(document, "h:bibliographicDesignationText", "C.4.r.1"), "C.4.r.1"
                ),
                document=None if included == Document() else included,
            )
        )
    return tuple(out)


def _id_or_null(node: Any | None, element: str) -> str | NullFlavor | None:
    """An identifier (II): its ``extension``, or the null flavour said instead."""
    if node is None:
        return None
    return hl7.null_flavour(node, element) or code_attr(node, "extension")


def _code_or_null(node: Any | None, element: str) -> str | NullFlavor | None:
    """A code (CE / CS): its ``code``, or the null flavour said instead."""
    if node is None:
        return None
    return hl7.null_flavour(node, element) or code_attr(node)


def _study(role: Any) -> Study | None:
    study = find(role, "h:subjectOf1/h:researchStudy", "C.5")
    if study is None:
        return None
    registrations = tuple(
        StudyRegistration(
            number=_id_or_null(find(r, "h:id", "C.5.1.r.1"), "C.5.1.r.1"),
            country=_code_or_null(
                find(r, "h:author/h:territorialAuthority/h:governingPlace/h:code", "C.5.1.r.2"),
                "C.5.1.r.2",
            ),
        )
        for r in find_all(study, "h:authorization/h:studyRegistration")
    )
    sponsor = find(study, "h:id", "C.5.3")
    return Study(
        registrations=registrations,
        name=text_or_null(find(study, "h:title", "C.5.2"), "C.5.2"),
        sponsor_study_number=_id_or_null(sponsor, "C.5.3"),
        study_type=hl7.coded(StudyType, code_attr(find(study, "h:code", "C.5.4")), "C.5.4"),
    )


def _narrative(event: Any, assessment: Any) -> Narrative:
    reporter, sender, diagnoses = None, None, []
    for observation in find_all(assessment, "h:component1/h:observationEvent"):
        code = code_attr(find(observation, "h:code", "H"))
        author = code_attr(find(observation, "h:author/h:assignedEntity/h:code", "H"))
        value = find(observation, "h:value", "H")
        if code == Obs.DIAGNOSIS:
            diagnoses.append(hl7.meddra(value) or MedDRA(None, None))
        elif code == Obs.COMMENT and author == AuthorRole.SOURCE_REPORTER:
            reporter = hl7.text(value)
        elif code == Obs.COMMENT and author == AuthorRole.SENDER:
            sender = hl7.text(value)
        else:
            raise MessageError(RefusalReason.UNKNOWN_CODE, "H", f"comment {code!r} by {author!r}")
    summaries = tuple(
        CaseSummary(text=hl7.text(value) or "", language=attr(value, "language"))
        for value in find_all(
            event,
            "h:component/h:observationEvent[h:code[@code=$c and @codeSystem=$s]]/h:value",
            c=Obs.SUMMARY_AND_COMMENT,
            s=OID.OBSERVATION,
        )
    )
    return Narrative(
        case_narrative=hl7.text(find(event, "h:text", "H.1")),
        reporter_comments=reporter,
        sender_diagnoses=tuple(diagnoses),
        sender_comments=sender,
        case_summaries=summaries,
    )


__all__ = ["DEFAULT_MAX_BYTES", "date_or_null", "parse_document", "read_batch", "read_message"]
