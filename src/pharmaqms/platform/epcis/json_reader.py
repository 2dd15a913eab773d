"""EPCIS 2.0 JSON-LD documents (capture and query documents).

JSON-LD is read as plain JSON in the compact form the EPCIS 2.0 standard publishes: no context
is fetched or expanded (no network, and bare CBV words are defined by the standard context
anyway). The document must name the EPCIS context (``…/epcis-context.jsonld``).
Numbers are read as ``Decimal`` so that quantities and sensor values keep their written digits;
NaN and Infinity are refused. A key repeated in one object keeps its last value, as in every
common JSON parser: GS1's own example AssociationEvent-h repeats ``eventID`` and must be taken.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any, NoReturn

from pharmaqms.platform.epcis.events import build_event, parse_timestamp
from pharmaqms.platform.epcis.model import (
    DocumentErrorReason,
    EPCISDocumentError,
    EPCISEvent,
    ParsedDocument,
    RejectedEvent,
    SourceFormat,
)
from pharmaqms.platform.epcis.schema import document_schema_error, event_schema_issues

_VERSION_2 = re.compile(r"2(\.\d+)*")
_DOCUMENT_TYPES = ("EPCISDocument", "EPCISQueryDocument")


def _no_constants(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a JSON number")


def _refuse(reason: DocumentErrorReason, message: str) -> NoReturn:
    raise EPCISDocumentError(reason, message)


def dump_json(value: object) -> str:
    """Compact JSON of a parsed value, writing Decimals with the digits they were read with."""
    if isinstance(value, dict):
        inner = ",".join(
            f"{json.dumps(k, ensure_ascii=False)}:{dump_json(v)}" for k, v in value.items()
        )
        return "{" + inner + "}"
    if isinstance(value, list):
        return "[" + ",".join(dump_json(v) for v in value) + "]"
    if isinstance(value, Decimal):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def _load(text: str) -> Any:
    try:
        return json.loads(
            text,
            parse_float=Decimal,
            parse_constant=_no_constants,
        )
    except RecursionError:
        _refuse(DocumentErrorReason.TOO_DEEPLY_NESTED, "the JSON nests too deeply")
    except json.JSONDecodeError as exc:
        _refuse(
            DocumentErrorReason.INVALID_JSON, f"line {exc.lineno} column {exc.colno}: {exc.msg}"
        )
    except ValueError as exc:
        _refuse(DocumentErrorReason.INVALID_JSON, str(exc))


def _names_epcis_context(context: object) -> bool:
    items = context if isinstance(context, list) else [context]
    return any(isinstance(item, str) and item.endswith("epcis-context.jsonld") for item in items)


def _event_list(doc: dict[str, Any]) -> tuple[list[Any] | None, dict[str, Any]]:
    """The events and the document frame with an empty event list in their place."""
    body = doc.get("epcisBody")
    if not isinstance(body, dict):
        return None, doc
    if doc["type"] == "EPCISDocument":
        events = body.get("eventList")
        frame_body = {**body, "eventList": []}
    else:
        results = body.get("queryResults")
        results_body = results.get("resultsBody") if isinstance(results, dict) else None
        if not isinstance(results, dict) or not isinstance(results_body, dict):
            return None, doc
        events = results_body.get("eventList")
        frame_body = {
            **body,
            "queryResults": {**results, "resultsBody": {**results_body, "eventList": []}},
        }
    if not isinstance(events, list):
        return None, doc
    return events, {**doc, "epcisBody": frame_body}


def _optional_text(doc: dict[str, Any], key: str) -> str | None:
    value = doc.get(key)
    return value if isinstance(value, str) else None


def parse_json_document(text: str) -> ParsedDocument:
    """Parse decoded JSON text already checked for size (see :func:`parse_epcis`)."""
    doc = _load(text)
    if not isinstance(doc, dict) or doc.get("type") not in _DOCUMENT_TYPES:
        _refuse(
            DocumentErrorReason.NOT_EPCIS,
            "the top level must be an object of type EPCISDocument or EPCISQueryDocument",
        )
    version = doc.get("schemaVersion")
    if version is not None and (not isinstance(version, str) or not _VERSION_2.fullmatch(version)):
        _refuse(DocumentErrorReason.UNSUPPORTED_VERSION, f"schemaVersion {version!r}, expected 2.x")
    if not _names_epcis_context(doc.get("@context")):
        _refuse(
            DocumentErrorReason.MISSING_CONTEXT,
            "@context must name the EPCIS 2.0 context (…/epcis-context.jsonld)",
        )
    events, frame = _event_list(doc)
    problem = document_schema_error(frame)
    if problem is not None or events is None:
        _refuse(DocumentErrorReason.SCHEMA_VIOLATION, problem or "no event list in epcisBody")
    creation_date = None
    if "creationDate" in doc:
        try:
            creation_date = parse_timestamp(doc["creationDate"])
        except ValueError as exc:
            _refuse(DocumentErrorReason.INVALID_CREATION_DATE, str(exc))
    accepted: list[EPCISEvent] = []
    rejected: list[RejectedEvent] = []
    for index, item in enumerate(events):
        outcome = build_event(index, item, dump_json(item), event_schema_issues(item))
        if isinstance(outcome, RejectedEvent):
            rejected.append(outcome)
        else:
            accepted.append(outcome)
    return ParsedDocument(
        format=SourceFormat.JSON,
        document_type=doc["type"],
        schema_version=version or "2.0",
        creation_date=creation_date,
        sender=_optional_text(doc, "sender"),
        receiver=_optional_text(doc, "receiver"),
        instance_identifier=_optional_text(doc, "instanceIdentifier"),
        events=tuple(accepted),
        rejected=tuple(rejected),
    )
