"""Configuration change services: draft a version, revise it, run it on the sandbox, take it
through its workflow (approve with QA's signature, reopen, cancel). The only code that writes
configuration versions besides the kernel's seeding of the built-in first versions."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pharmaqms.compliance.configuration import checks, sandbox_evidence
from pharmaqms.compliance.configuration.workflow import CONFIG_WORKFLOW
from pharmaqms.kernel import audit, clock, workflow_rehearsal
from pharmaqms.kernel.canonical import plain
from pharmaqms.kernel.configuration import store
from pharmaqms.kernel.configuration.models import ConfigStatus, ConfigVersion
from pharmaqms.kernel.errors import ControlBroken, InvalidInput, NotFound, StaleRecord
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.workflow import TransitionResult, perform
from pharmaqms.quality.changes.closure import ClosureCheck, register_closure_condition
from pharmaqms.quality.changes.models import ChangeRequest

MANAGE = "config.manage"
MAX_CONTENT_CHARS = 64_000
PENDING = (ConfigStatus.DRAFT.value, ConfigStatus.TESTED.value)


def parse_content(text: str) -> Any:
    """The content as typed in the JSON editor: strict JSON, bounded."""
    if len(text) > MAX_CONTENT_CHARS:
        raise InvalidInput(
            f"the content is longer than {MAX_CONTENT_CHARS} characters", field="content"
        )
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidInput(
            f"the content is not valid JSON: {error.msg} (line {error.lineno}, "
            f"column {error.colno})",
            field="content",
        ) from None


def _refuse_bad_content(session: Session, key: str, content: Any) -> None:
    schema = checks.schema_problems(key, content) or checks.reference_problems(
        session, key, content
    )
    if schema:
        raise InvalidInput(f"{key}: " + "; ".join(schema), field="content", reasons=schema)
    controls = checks.control_problems(key, content)
    if controls:
        raise ControlBroken(
            f"{key}: refused, it would break a control: " + "; ".join(controls),
            field="content",
            reasons=controls,
        )


def get_version(session: Session, version_id: int) -> ConfigVersion:
    version = session.get(ConfigVersion, version_id)
    if version is None:
        raise NotFound(f"no configuration version with id {version_id}")
    return version


def _check_version(version: ConfigVersion, expected_version: int | None) -> None:
    if expected_version is not None and version.version != expected_version:
        raise StaleRecord(
            f"{version.number} is at version {version.version}, not {expected_version}: reload it",
            extra={"current_version": version.version},
        )


def draft_version(
    session: Session,
    *,
    actor: Actor,
    key: str,
    content: Any,
    effective_from: datetime,
    change_id: int | None,
    rationale: str,
) -> ConfigVersion:
    """A new version of ``key``, drafted under an open change control. A malformed content, or
    one that would break a control the code demands, is refused with the reasons and nothing
    is stored."""
    actor.require(MANAGE, "change the configuration")
    store.kind(key)
    _refuse_bad_content(session, key, content)
    problems = checks.change_problems(session, change_id, approving=False)
    if problems:
        raise InvalidInput("; ".join(problems), field="change_id", reasons=problems)
    if effective_from < clock.now():
        raise InvalidInput(
            "the effective date has passed: give a date from now on", field="effective_from"
        )
    why = rationale.strip()
    if not why:
        raise InvalidInput("say why the configuration changes", field="rationale")
    pending = session.scalars(
        select(ConfigVersion).where(ConfigVersion.key == key, ConfigVersion.status.in_(PENDING))
    ).first()
    if pending is not None:
        raise InvalidInput(
            f"{pending.number} ({pending.audit_label()}) is still {pending.status}: approve "
            "or cancel it before drafting another version of the same key",
            field="key",
        )
    change = session.get(ChangeRequest, change_id)
    assert change is not None  # checked above
    latest = session.scalar(
        select(func.max(ConfigVersion.version_no)).where(ConfigVersion.key == key)
    )
    proposed = plain(content)
    version = ConfigVersion(
        status=ConfigStatus.DRAFT.value,
        key=key,
        # Version 1 is the code's built-in one, stored or not.
        version_no=max(latest or 1, 1) + 1,
        content=proposed,
        content_sha256=store.content_sha256(proposed),
        effective_from=effective_from,
        change_id=change.id,
        change_number=change.number,
        rationale=why[:20_000],
        test_summary=[],
    )
    with audit.changes(session, actor=actor, reason=f"configuration change under {change.number}"):
        session.add(version)
    return version


def revise_draft(
    session: Session,
    *,
    actor: Actor,
    version_id: int,
    expected_version: int,
    content: Any | None = None,
    effective_from: datetime | None = None,
    rationale: str | None = None,
) -> ConfigVersion:
    actor.require(MANAGE, "change the configuration")
    version = get_version(session, version_id)
    _check_version(version, expected_version)
    if version.status != ConfigStatus.DRAFT:
        raise InvalidInput(
            f"{version.number} is {version.status}: only a draft is revised "
            "(a tested one goes back to draft first)",
            field="status",
        )
    if content is not None:
        _refuse_bad_content(session, version.key, content)
    if effective_from is not None and effective_from < clock.now():
        raise InvalidInput(
            "the effective date has passed: give a date from now on", field="effective_from"
        )
    with audit.changes(session, actor=actor, reason="draft revised"):
        if content is not None:
            version.content = plain(content)
            version.content_sha256 = store.content_sha256(version.content)
        if effective_from is not None:
            version.effective_from = effective_from
        if rationale is not None:
            if not rationale.strip():
                raise InvalidInput("say why the configuration changes", field="rationale")
            version.rationale = rationale.strip()[:20_000]
        version.test_summary = []
        version.tested_at = None
    return version


def _generic_findings(current: Any, proposed: Any) -> list[str]:
    if isinstance(current, dict) and isinstance(proposed, dict):
        changed = [
            f"{name}: {json.dumps(current.get(name))} → {json.dumps(proposed.get(name))}"
            for name in sorted(set(current) | set(proposed))
            if current.get(name) != proposed.get(name)
        ]
        return changed or ["no change from the version in force"]
    if current == proposed:
        return ["no change from the version in force"]
    return [f"{json.dumps(current)} → {json.dumps(proposed)}"]


def _names(value: Any) -> list[str] | None:
    """A list of plain values (permissions, roles, guard names) compared as a set."""
    if isinstance(value, list) and all(isinstance(v, str | int | float | bool) for v in value):
        return [json.dumps(v) if not isinstance(v, str) else v for v in value]
    return None


def differences(old: Any, new: Any, path: str = "") -> list[str]:
    """What changes from ``old`` to ``new``, one line per changed leaf: an object compared
    entry by entry, a list of names by what it adds (+) and removes (−)."""
    where = f"{path}: " if path else ""
    if isinstance(old, dict) and isinstance(new, dict):
        lines: list[str] = []
        for name in sorted(set(old) | set(new), key=str):
            if name not in new:
                lines.append(f"{path + '.' if path else ''}{name}: removed")
            elif name not in old:
                lines.append(f"{path + '.' if path else ''}{name}: added {json.dumps(new[name])}")
            else:
                lines += differences(old[name], new[name], f"{path + '.' if path else ''}{name}")
        return lines
    before, after = _names(old), _names(new)
    if before is not None and after is not None:
        gained = sorted(set(after) - set(before))
        lost = sorted(set(before) - set(after))
        parts = ([f"+ {', '.join(gained)}"] if gained else []) + (
            [f"− {', '.join(lost)}"] if lost else []
        )
        if not parts and before != after:
            parts = ["order changed"]
        return [where + "; ".join(parts)] if parts else []
    if old != new:
        return [f"{where}{json.dumps(old)} → {json.dumps(new)}"]
    return []


def sandbox_findings(session: Session, key: str, content: Any) -> list[str]:
    """The dry run: the proposal checked again and evaluated against the records as they are
    now. It reads only — nothing it looks at is written."""
    config_kind = store.kind(key)
    current = store.in_force(session, key)
    findings = [
        f"checked against the schema and the controls of {key}: passed",
        f"compared with {current.label} (in force now)",
    ]
    findings += _generic_findings(current.content, content)
    if config_kind.sandbox is not None:
        findings += config_kind.sandbox(session, current, content)
    # A workflow's rules: the engine itself run with the draft in force, record by record.
    findings += workflow_rehearsal.rehearse(session, key, content)
    return findings


def test_version(
    session: Session, *, actor: Actor, version_id: int, expected_version: int | None = None
) -> ConfigVersion:
    """Run the draft on the sandbox and keep its findings as the test evidence."""
    actor.require(MANAGE, "test configuration versions")
    version = get_version(session, version_id)
    _check_version(version, expected_version)
    _refuse_bad_content(session, version.key, version.content)
    # Written before the transition, which checks them; a refused transition rolls them back.
    findings = sandbox_findings(session, version.key, version.content)
    # What was tried on sandbox copies of this content (the copies are optional: the dry
    # run above is the floor; the approval page shows which copies were tried).
    findings += sandbox_evidence.evidence_lines(session, version)
    with audit.changes(session, actor=actor, reason="sandbox run"):
        version.test_summary = findings
        version.tested_at = clock.now()
    perform(session, CONFIG_WORKFLOW, version, "test", actor=actor)
    return version


def transition(
    session: Session,
    *,
    actor: Actor,
    version_id: int,
    name: str,
    reason: str | None = None,
    password: str | None = None,
    comment: str | None = None,
    expected_version: int | None = None,
) -> TransitionResult:
    """Approve (QA's signature), reopen or cancel. Testing is ``test_version``."""
    if name == "test":
        raise InvalidInput("run the sandbox test with its own step", field="name")
    version = get_version(session, version_id)
    return perform(
        session,
        CONFIG_WORKFLOW,
        version,
        name,
        actor=actor,
        reason=reason,
        password=password,
        comment=comment,
        expected_version=expected_version,
    )


# Reading


@dataclass(frozen=True)
class KeyOverview:
    kind: store.ConfigKind
    in_force: store.InForce
    pending: list[ConfigVersion]
    scheduled: list[ConfigVersion]  # approved, not yet in force


def overview(session: Session) -> list[KeyOverview]:
    now = clock.now()
    rows = session.scalars(
        select(ConfigVersion).where(
            ConfigVersion.status.in_((*PENDING, ConfigStatus.APPROVED.value))
        )
    ).all()
    found = []
    for config_kind in store.kinds():
        mine = [r for r in rows if r.key == config_kind.key]
        found.append(
            KeyOverview(
                config_kind,
                store.in_force(session, config_kind.key),
                [r for r in mine if r.status in PENDING],
                [r for r in mine if r.status == ConfigStatus.APPROVED and r.effective_from > now],
            )
        )
    return found


def state_of(version: ConfigVersion, in_force: store.InForce) -> str:
    """What a version is now: draft, tested, cancelled, or for an approved one scheduled, in
    force or superseded."""
    if version.status != ConfigStatus.APPROVED:
        return version.status
    if version.version_no == in_force.version_no:
        return "in force"
    if version.effective_from > clock.now():
        return "approved, scheduled"
    return "superseded"


def _versions_under(session: Session, change: Any) -> list[ClosureCheck]:
    """A change control closes only when the configuration versions drafted under it are
    approved or cancelled."""
    rows = session.scalars(
        select(ConfigVersion).where(ConfigVersion.change_id == change.id).order_by(ConfigVersion.id)
    ).all()
    return [
        ClosureCheck(
            f"Configuration {row.number} ({row.audit_label()})",
            [f"still {row.status}: approve or cancel it"] if row.status in PENDING else [],
            url=f"/compliance/configuration/versions/{row.id}",
        )
        for row in rows
    ]


register_closure_condition("configuration", _versions_under)
