"""The official EPCIS 2.0 JSON Schema, applied to the document frame and to each event apart.

The schema file is GS1's ``EPCIS-JSON-Schema.json`` (gs1/EPCIS, commit 2b888befbc07), shipped
unchanged in ``platform/epcis/json_schema/``. Validating the frame and the events separately is
what lets one bad event be quarantined while the rest of the document is taken.
``format`` keywords (uri, date-time) are not asserted: jsonschema needs extra packages for
them, and the event builder checks times and identifiers itself, more strictly.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any, Final

from jsonschema import Draft7Validator
from jsonschema.exceptions import ValidationError, best_match

from pharmaqms.platform.epcis.model import EventIssue, IssueCode

_MESSAGE_LIMIT: Final = 300


@cache
def _schema() -> dict[str, Any]:
    text = (
        resources.files("pharmaqms.platform.epcis")
        .joinpath("json_schema", "EPCIS-JSON-Schema.json")
        .read_text(encoding="utf-8")
    )
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def document_validator() -> Draft7Validator:
    return Draft7Validator(_schema())


@cache
def event_validator() -> Draft7Validator:
    schema = _schema()
    return Draft7Validator(
        {
            "$schema": schema["$schema"],
            "$ref": "#/definitions/EPCIS-Document-Event",
            "definitions": schema["definitions"],
        }
    )


def _pointer(error: ValidationError) -> str:
    return "".join(f"/{part}" for part in error.absolute_path)


def _short(message: str) -> str:
    # jsonschema quotes the whole offending instance; an event can be megabytes long.
    return message if len(message) <= _MESSAGE_LIMIT else message[: _MESSAGE_LIMIT - 1] + "…"


def event_schema_issues(event: object) -> list[EventIssue]:
    errors = sorted(event_validator().iter_errors(event), key=lambda e: list(map(str, e.path)))
    return [
        EventIssue(IssueCode.SCHEMA_VIOLATION, _short(error.message), _pointer(error))
        for error in errors
    ]


def document_schema_error(frame: object) -> str | None:
    """The most relevant schema error of the document frame (events removed), if any."""
    error = best_match(document_validator().iter_errors(frame))
    if error is None:
        return None
    return f"{_pointer(error) or '/'}: {_short(error.message)}"
