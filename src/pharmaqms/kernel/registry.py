"""The record types the generic UI and API know: modules register theirs here, so the shell
(lists, details, workflow buttons, signature dialog, audit trail) works for every module."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.records import GxPRecord
from pharmaqms.kernel.workflow import Workflow, register_signature_rules
from pharmaqms.kernel.workflow_roles import register_transition_roles
from pharmaqms.kernel.workflow_sign_offs import register_sign_offs
from pharmaqms.kernel.workflow_steps import register_steps
from pharmaqms.kernel.workflow_tasks import register_tasks


@dataclass(frozen=True)
class RecordType:
    name: str  # the audit type, e.g. "document_version"
    label: str  # "SOP version", shown to people
    plural: str
    model: type[GxPRecord]
    workflow: Workflow
    list_columns: tuple[tuple[str, str], ...]  # (attribute, heading)
    detail_fields: tuple[tuple[str, str], ...]
    module: str
    # Optional: the URL of a richer page the module provides for a record.
    detail_url: Callable[[Any], str] | None = None
    searchable: tuple[str, ...] = field(default=("number",))
    # What reading a record of this type takes beyond ``records.read``, where the module guards
    # its pages more narrowly (the lab notebook: ``rnd.read``). The printed report asks it.
    read_permission: str | None = None


RECORD_TYPES: dict[str, RecordType] = {}


def register(record_type: RecordType) -> RecordType:
    RECORD_TYPES[record_type.name] = record_type
    # Its signature rules become controlled configuration (the code's are the first version).
    register_signature_rules(record_type.workflow, record_type.model, record_type.label)
    register_transition_roles(record_type.workflow, record_type.model, record_type.label)
    register_sign_offs(record_type.workflow, record_type.model, record_type.label)
    register_tasks(record_type.workflow, record_type.model, record_type.label)
    register_steps(record_type.workflow, record_type.model, record_type.label)
    return record_type


def readable_record_type(name: str, actor: Actor) -> RecordType:
    """The record type, for someone who may read its records: a module that keeps its records
    behind a permission of its own (the lab notebook: ``rnd.read``) is not opened to every
    ``records.read`` holder by the generic pages, API and reports."""
    found = record_type(name)
    if found.read_permission:
        actor.require(found.read_permission, f"read {found.plural.lower()}")
    return found


def record_type(name: str) -> RecordType:
    from pharmaqms.kernel.errors import NotFound

    try:
        return RECORD_TYPES[name]
    except KeyError:
        raise NotFound(
            f"unknown record type {name!r}; known: {', '.join(sorted(RECORD_TYPES))}"
        ) from None
