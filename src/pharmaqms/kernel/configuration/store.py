"""The configuration store: which configuration kinds exist, and which version of each was in
force at any moment.

A module that owns a configurable rule registers its kind at import (the kernel imports no
module above it)::

    register_kind(ConfigKind(
        key="quality.deviation_due_days",
        title="Deviation due days by class",
        module="deviations",
        builtin=lambda: dict(quality_settings().deviation_due_days),
        validate=due_days_problems,
    ))

and reads the version in force where it acts, recording it on the record it acted on::

    rule = in_force(session, "quality.deviation_due_days")
    record_use(session, deviation, rule, "due date from the classification", actor=actor)

The code's built-in value is the first version of every key (``seed_builtins`` stores it at
installation). Before it is stored, ``in_force`` answers with the same value and the same
version number, so a record made before seeding names exactly what the seed then stores.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Text, bindparam, select, type_coerce
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, clock
from pharmaqms.kernel.canonical import content_hash, plain
from pharmaqms.kernel.configuration import sandbox
from pharmaqms.kernel.configuration.models import ConfigStatus, ConfigUse, ConfigVersion
from pharmaqms.kernel.errors import InvalidInput, QMSError
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.records import Audited

# The built-in first version applies from before any record the system can hold.
BUILT_IN_FROM = datetime(2000, 1, 1, tzinfo=UTC)
BUILT_IN_RATIONALE = "the code's built-in definition, seeded as the first version"

Problems = Callable[[Any], list[str]]
# (session, version in force, proposed content) → what the proposal would change on the
# records as they are now, one line each. Reads only.
Sandbox = Callable[[Session, Any, Any], list[str]]


def _no_problems(_content: Any) -> list[str]:
    return []


@dataclass(frozen=True)
class Grid:
    """A version's content as a table a reviewer reads (permission × role, transition ×
    roles) instead of its JSON: the heading, then each row's label and cells."""

    columns: tuple[str, ...]
    rows: list[tuple[str, list[str]]]


@dataclass(frozen=True)
class Reading:
    """A version's content as QA reads it beside its JSON: which form of
    ``compliance/_config_readable.html`` draws it (``grid``: a ``Grid``; or a form of the
    owning module's, such as the risk matrix's coloured grid) and what it draws."""

    form: str
    data: Any


def grid_reading(table: Callable[[Any], Grid]) -> Callable[[Any], Reading]:
    """A reading as a plain table (permission × role, transition × roles)."""
    return lambda content: Reading("grid", table(content))


@dataclass(frozen=True)
class ConfigKind:
    key: str
    title: str
    # The module that owns the rule (and reads it).
    module: str
    description: str
    builtin: Callable[[], Any]
    # Schema of the content: the reasons it is malformed (empty: well formed).
    validate: Problems
    # The Part 11 / GMP controls the code demands of any version: the reasons a proposal
    # would break one (a signature without meaning, dropped segregation of duties).
    controls: Problems = _no_problems
    sandbox: Sandbox | None = None
    regulatory_basis: str = ""
    # The content's references to other records that must exist when it is drafted, tested
    # and approved (a workflow step given to a site role another key defines): the reasons.
    references: Callable[[Session, Any], list[str]] | None = None
    # How the pages show a version's content beside its JSON (None: as JSON only).
    reading: Callable[[Any], Reading] | None = None
    # The content a new draft starts from, given the version in force (None: as it is).
    draft_from: Callable[[Any], Any] | None = None


_KINDS: dict[str, ConfigKind] = {}


def read(config_kind: ConfigKind, content: Any) -> Reading | None:
    """The version's reading, or None: the key has none, or the content (a stored version,
    validated when it was drafted, but perhaps by older code) does not read — then the pages
    show its JSON alone rather than fail."""
    if config_kind.reading is None:
        return None
    try:
        return config_kind.reading(content)
    except (KeyError, TypeError, ValueError, LookupError, QMSError):
        return None


def draft_from(config_kind: ConfigKind, content: Any) -> Any:
    """What a new draft of the key starts from, given the content in force."""
    return config_kind.draft_from(content) if config_kind.draft_from is not None else content


def register_kind(kind: ConfigKind) -> ConfigKind:
    _KINDS[kind.key] = kind
    return kind


def is_registered(key: str) -> bool:
    return key in _KINDS


def kinds() -> list[ConfigKind]:
    return [_KINDS[key] for key in sorted(_KINDS)]


def kind(key: str) -> ConfigKind:
    try:
        return _KINDS[key]
    except KeyError:
        raise InvalidInput(
            f"unknown configuration key {key!r}; known keys are listed on the configuration "
            "page (e.g. quality.deviation_due_days)",
            field="key",
        ) from None


def content_sha256(content: Any) -> str:
    return content_hash(plain(content))


@dataclass(frozen=True)
class InForce:
    """A configuration version as it applied: what a rule read and an action records."""

    key: str
    version_no: int
    content: Any
    content_sha256: str
    effective_from: datetime
    number: str | None  # None: the built-in version, not yet stored

    @property
    def label(self) -> str:
        return f"{self.key} v{self.version_no}"


def _builtin(config_kind: ConfigKind) -> InForce:
    content = plain(config_kind.builtin())
    return InForce(config_kind.key, 1, content, content_sha256(content), BUILT_IN_FROM, number=None)


def as_in_force(row: ConfigVersion) -> InForce:
    return InForce(
        row.key, row.version_no, row.content, row.content_sha256, row.effective_from, row.number
    )


# The version in force is read on every request (the permissions) and every transition (its
# rules): one statement built once, and the content read as its stored text and parsed, not
# loaded as an ORM object (about a millisecond less a read, bench/profile_create.py).
_IN_FORCE = (
    select(
        ConfigVersion.version_no,
        ConfigVersion.content_sha256,
        ConfigVersion.effective_from,
        ConfigVersion.number,
        type_coerce(ConfigVersion.content, Text),
    )
    .where(
        ConfigVersion.key == bindparam("key"),
        ConfigVersion.status == ConfigStatus.APPROVED.value,
        ConfigVersion.effective_from <= bindparam("moment"),
    )
    .order_by(ConfigVersion.effective_from.desc(), ConfigVersion.version_no.desc())
    .limit(1)
)


_REHEARSAL = "pharmaqms.config_rehearsal"


@contextmanager
def rehearsing(session: Session, key: str, content: Any) -> Iterator[None]:
    """Within the block, ``in_force(session, key)`` for now answers ``content`` (a draft),
    as version 0: the sandbox runs the real rules with the draft in force over the live
    records, and writes nothing. Other sessions, and past moments, are not affected."""
    overrides = session.info.setdefault(_REHEARSAL, {})
    content = plain(content)
    overrides[key] = InForce(key, 0, content, content_sha256(content), clock.now(), None)
    try:
        yield
    finally:
        overrides.pop(key, None)


def in_force(session: Session, key: str, at: datetime | None = None) -> InForce:
    """The version of ``key`` that applied at ``at`` (now by default): the approved version
    with the latest effective date not after it. Approval is never back-dated (a version's
    effective date is not before its approval), so this is what applied then, not what
    someone later decided should have."""
    if at is None and (rehearsed := session.info.get(_REHEARSAL, {}).get(key)) is not None:
        return rehearsed  # type: ignore[no-any-return]
    config_kind = kind(key)
    moment = at or clock.now()
    copy = sandbox.mark(session)
    if copy is not None and copy.key == key and moment >= copy.made_at:
        # A sandbox copy: the draft it was made for applies here from the copy's making.
        return InForce(
            key,
            copy.version_no,
            copy.content,
            copy.content_sha256,
            copy.made_at,
            copy.config_number,
        )
    row = session.execute(_IN_FORCE, {"key": key, "moment": moment}).first()
    if row is None:
        return _builtin(config_kind)
    version_no, sha256, effective_from, number, stored = row
    return InForce(key, version_no, json.loads(stored), sha256, effective_from, number)


def versions(session: Session, key: str) -> list[ConfigVersion]:
    kind(key)
    return list(
        session.scalars(
            select(ConfigVersion)
            .where(ConfigVersion.key == key)
            .order_by(ConfigVersion.version_no.desc())
        )
    )


def record_use(
    session: Session, record: Audited, used: InForce, purpose: str, *, actor: Actor
) -> ConfigUse:
    """Note on ``record`` that an action ran under ``used`` (sealed into the audit chain)."""
    session.flush()  # the record's id
    row = ConfigUse(
        record_type=record.__audit_type__,
        record_id=record.id,  # type: ignore[attr-defined]
        key=used.key,
        version_no=used.version_no,
        content_sha256=used.content_sha256,
        purpose=purpose,
        used_at=clock.now(),
    )
    with audit.changes(session, actor=actor, reason=f"{purpose} under {used.label}"):
        session.add(row)
    return row


def uses_of(session: Session, record_type: str, record_id: int) -> list[ConfigUse]:
    return list(
        session.scalars(
            select(ConfigUse)
            .where(ConfigUse.record_type == record_type, ConfigUse.record_id == record_id)
            .order_by(ConfigUse.id)
        )
    )


def seed_builtins(session: Session, *, actor: Actor) -> list[str]:
    """Store the code's built-in definition as version 1 of every key that has no version yet.
    Returns the keys seeded. Idempotent."""
    stored = set(session.scalars(select(ConfigVersion.key).distinct()))
    seeded = []
    for config_kind in kinds():
        if config_kind.key in stored:
            continue
        builtin = _builtin(config_kind)
        problems = config_kind.validate(builtin.content) + config_kind.controls(builtin.content)
        if problems:  # a broken environment setting: refuse to install it as a rule
            raise InvalidInput(
                f"the built-in {config_kind.key} is not valid: " + "; ".join(problems),
                field=config_kind.key,
            )
        with audit.changes(session, actor=actor, reason=BUILT_IN_RATIONALE):
            session.add(
                ConfigVersion(
                    status=ConfigStatus.APPROVED.value,
                    key=config_kind.key,
                    version_no=1,
                    content=builtin.content,
                    content_sha256=builtin.content_sha256,
                    effective_from=BUILT_IN_FROM,
                    change_id=None,
                    change_number="",
                    rationale=BUILT_IN_RATIONALE,
                    test_summary=[],
                )
            )
        seeded.append(config_kind.key)
    return seeded


def version(session: Session, key: str, version_no: int) -> InForce:
    """A version of ``key`` by number (version 1 is the built-in one, stored or not)."""
    config_kind = kind(key)
    row = session.scalars(
        select(ConfigVersion).where(
            ConfigVersion.key == key, ConfigVersion.version_no == version_no
        )
    ).first()
    if row is not None:
        return as_in_force(row)
    if version_no == 1:
        return _builtin(config_kind)
    raise InvalidInput(f"{key} has no version {version_no}", field="version_no")


def used_on(session: Session, record: Audited, key: str) -> InForce | None:
    """The version of ``key`` the latest action on ``record`` ran under, if one did: a record
    keeps being judged by the rule it was made under (its risk matrix, its due days)."""
    use = session.scalars(
        select(ConfigUse)
        .where(
            ConfigUse.record_type == record.__audit_type__,
            ConfigUse.record_id == record.id,  # type: ignore[attr-defined]
            ConfigUse.key == key,
        )
        .order_by(ConfigUse.id.desc())
        .limit(1)
    ).first()
    return version(session, key, use.version_no) if use is not None else None
