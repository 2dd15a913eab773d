"""The life of a configuration version:

draft → tested (the sandbox run: validated again, evaluated against the current records,
its findings kept as the test evidence) → approved (QA's e-signature "Approved", never the
drafter's; the change control it is made under approved and being implemented; the effective
date not passed) — in force from its effective date until a later approved version's.
A tested version goes back to draft to be revised; draft or tested can be cancelled.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, object_session

from pharmaqms.compliance.configuration import checks
from pharmaqms.kernel import audit
from pharmaqms.kernel.configuration.models import ConfigStatus, ConfigVersion
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.registry import RecordType, register
from pharmaqms.kernel.roles import grant
from pharmaqms.kernel.workflow import Transition, Workflow, roles, states

MANAGERS = ("qa",)
APPROVERS = ("qa",)

grant("config.manage", *MANAGERS)


def _still_valid(version: Any) -> list[str]:
    # What it names may have gone since the sandbox run (a site role dropped meanwhile).
    session = object_session(version)
    references = checks.reference_problems(session, version.key, version.content) if session else []
    return checks.content_problems(version.key, version.content) or references


def _sandbox_run(version: Any) -> list[str]:
    # The sandbox step (``service.test_version``) writes its findings before it moves the
    # version: a bare "test" transition through another door is refused.
    if version.tested_at is None or not version.test_summary:
        return [f"run {version.audit_label()} on the sandbox (its findings are the test)"]
    return []


def _void_the_test(session: Session, version: Any, actor: Actor) -> None:
    with audit.changes(session, actor=actor, reason="back to draft: the sandbox run is void"):
        version.test_summary = []
        version.tested_at = None


def _tested_on_this_content(version: Any) -> list[str]:
    if version.tested_at is None or not version.test_summary:
        return [f"{version.audit_label()} has not been run on the sandbox"]
    return []


def _change_control_approved(version: Any) -> list[str]:
    session = object_session(version)
    if session is None:
        return []
    return checks.change_problems(session, version.change_id, approving=True)


def _effective_date_allowed(version: Any) -> list[str]:
    session = object_session(version)
    if session is None:
        return []
    return checks.effective_date_problems(session, version.key, version.effective_from)


CONFIG_WORKFLOW = Workflow(
    record_type="config_version",
    states=tuple(s.value for s in ConfigStatus),
    initial=ConfigStatus.DRAFT.value,
    retired_states=frozenset({ConfigStatus.CANCELLED.value}),
    # The control over configuration changes is not itself configurable.
    site_steps=False,
    transitions=(
        Transition(
            "test",
            "Run on the sandbox",
            states("draft"),
            "tested",
            roles(*MANAGERS),
            guards=(_still_valid, _sandbox_run),
        ),
        Transition(
            "reopen",
            "Back to draft for revision",
            states("tested"),
            "draft",
            roles(*MANAGERS),
            reason_required=True,
            effects=(_void_the_test,),
        ),
        Transition(
            "approve",
            "Approve",
            states("tested"),
            "approved",
            roles(*APPROVERS),
            signature="Approved",
            forbid_author=True,
            guards=(
                _still_valid,
                _tested_on_this_content,
                _change_control_approved,
                _effective_date_allowed,
            ),
        ),
        Transition(
            "cancel",
            "Cancel",
            states("draft", "tested"),
            "cancelled",
            roles(*MANAGERS),
            reason_required=True,
        ),
    ),
)

CONFIG_VERSION = register(
    RecordType(
        name="config_version",
        label="Configuration version",
        plural="Configuration versions",
        model=ConfigVersion,
        workflow=CONFIG_WORKFLOW,
        list_columns=(
            ("number", "Number"),
            ("key", "Key"),
            ("version_no", "Version"),
            ("status", "Status"),
            ("effective_from", "Effective from"),
            ("change_number", "Change"),
        ),
        detail_fields=(
            ("number", "Number"),
            ("key", "Key"),
            ("version_no", "Version"),
            ("status", "Status"),
            ("effective_from", "Effective from"),
            ("change_number", "Change control"),
            ("content_sha256", "Content SHA-256"),
            ("rationale", "Rationale"),
        ),
        module="compliance",
        detail_url=lambda v: f"/compliance/configuration/versions/{v.id}",
        searchable=("number", "key", "change_number"),
    )
)
