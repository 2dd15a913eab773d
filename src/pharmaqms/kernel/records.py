"""Mixins every audited table and every GxP record is built from.

``Audited``: the kernel captures every insert and change of the row into the hash-chained audit
trail, refuses deletes, and can recompute the row's state hash. ``GxPRecord`` adds what a
quality record carries: a human-readable number, a status driven by a workflow, an optimistic
lock version, who created and last changed it, and retirement instead of deletion.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import ForeignKey, Integer, String, inspect
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from pharmaqms.kernel.canonical import canonical_json, content_hash

AUDITED_TYPES: dict[str, type[Audited]] = {}
SEALED_MODELS: dict[str, type[SealedData]] = {}
# Tables that hold no GxP data, each with the reason: the one list an inspector reads to see
# what the audit trail does not cover (tests/kernel/test_coverage.py keeps it complete).
NOT_GXP: dict[str, str] = {}

# Bookkeeping columns: part of the state hash, but not shown as field-level changes, and not
# part of what a signature covers.
BOOKKEEPING = frozenset(
    {"version", "updated_at", "updated_by_id", "created_at", "created_by_id", "status"}
)


@dataclass(frozen=True)
class AddedLater:
    """Columns a migration added to a table that already held rows, with the value the
    migration gave those rows (its server default, or NULL)."""

    revision: str
    filled: Mapping[str, Any]


def earlier_forms(content: dict[str, Any], added: tuple[AddedLater, ...]) -> list[dict[str, Any]]:
    """``content`` as it was hashed before each later migration added its columns, the most
    recent migration first, while those columns still hold what the migration gave the rows
    it found. A column set since (a value, or emptied behind the application's back) ends the
    list there: that content has no earlier form. The key sets differ from the current form,
    so no hash of current content can pass for an earlier one."""
    forms: list[dict[str, Any]] = []
    earlier = dict(content)
    for migration in reversed(added):
        for column, filled in migration.filled.items():
            if column in earlier and canonical_json(earlier.pop(column)) != canonical_json(filled):
                return forms
        forms.append(dict(earlier))
    return forms


class Audited:
    __audit_type__: ClassVar[str]
    __audit_masked__: ClassVar[frozenset[str]] = frozenset()
    # Operational fields (last login, last token use) that are neither audited nor hashed:
    # an entry per login would bury the changes an inspector looks for.
    __audit_excluded__: ClassVar[frozenset[str]] = frozenset()
    # Columns later migrations added to the table, oldest first: a row last audited before a
    # migration was hashed without its columns (``earlier_state_hashes``).
    __audit_added_later__: ClassVar[tuple[AddedLater, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        audit_type = cls.__dict__.get("__audit_type__")
        if audit_type:
            if audit_type in AUDITED_TYPES and AUDITED_TYPES[audit_type] is not cls:
                raise RuntimeError(f"audit type {audit_type!r} registered twice")
            AUDITED_TYPES[audit_type] = cls

    def audit_state(self) -> dict[str, Any]:
        """Every column of the row: what the state hash covers."""
        mapper = inspect(type(self))
        excluded = self.__audit_excluded__
        return {
            attr.key: getattr(self, attr.key)
            for attr in mapper.column_attrs
            if attr.key not in excluded
        }

    def state_hash(self) -> str:
        return content_hash(self.audit_state())

    def earlier_state_hashes(self) -> list[str]:
        """The state hashes the row had under the schemas before later migrations added
        columns to its table: what the last audit entry of a row written then and not
        changed since carries (``audit verify`` accepts them, and only them)."""
        return [
            content_hash(f) for f in earlier_forms(self.audit_state(), self.__audit_added_later__)
        ]

    def audit_label(self) -> str:
        number = getattr(self, "number", None)
        return str(number) if number else f"{self.__audit_type__}#{getattr(self, 'id', '?')}"

    def reason_required_for(self, changed: set[str], previous_status: str | None) -> bool:
        """Whether a change of these fields needs a documented reason (Annex 11 §9)."""
        return False


class SealedData:
    """A GxP data row that is recorded once and never changed: a measured value, a result, a
    scan, an event received. Not audited field by field — there is nothing to change — but
    append-only by trigger, and every transaction that inserts such rows seals them into the
    audit chain: one keyed entry per table naming the rows' ids and a digest of their content
    (kernel/sealing.py). ``audit verify`` recomputes the digests, so a row changed, removed or
    slipped in behind the application's back is found (ALCOA+ original, enduring)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        table = cls.__dict__.get("__tablename__")
        if table:
            if table in SEALED_MODELS and SEALED_MODELS[table] is not cls:
                raise RuntimeError(f"sealed table {table!r} declared twice")
            SEALED_MODELS[table] = cls


def not_gxp(table: str, reason: str) -> None:
    """Declare that ``table`` holds no GxP data, and why."""
    NOT_GXP[table] = reason


class Versioned:
    """An optimistic lock: every UPDATE checks the version it read. The audit hook, not the
    ORM, moves the version on, and only when an audited column changes: a change of an
    operational field (``__audit_excluded__``, such as the last login) writes no audit entry,
    so it must leave the state hash, version included, as the last entry recorded it."""

    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {
            "version_id_col": cls.__table__.c.version,  # type: ignore[attr-defined]
            "version_id_generator": False,
        }


class GxPRecord(Audited, Versioned):
    """A quality record. Subclasses set ``__audit_type__``, ``__number_prefix__`` and
    ``__draft_states__``; a record's number is allocated on its first flush."""

    __number_prefix__: ClassVar[str | None] = None
    __draft_states__: ClassVar[frozenset[str]] = frozenset({"draft"})
    # Fields a signature covers; empty means every column that is not bookkeeping.
    __signed_fields__: ClassVar[tuple[str, ...]] = ()
    # Signed fields that the reviewer fills in as part of the review (the deviation QA raises
    # from a batch record exception): changing them does not make the reviewer an author.
    __review_fields__: ClassVar[frozenset[str]] = frozenset()

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(60), unique=True, nullable=False)
    status: Mapped[str] = mapped_column(String(40), nullable=False)
    created_at: Mapped[datetime] = mapped_column(nullable=False)
    updated_at: Mapped[datetime] = mapped_column(nullable=False)
    retired_at: Mapped[datetime | None] = mapped_column(nullable=True)

    @declared_attr
    def created_by_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("users.id"), nullable=False)

    @declared_attr
    def updated_by_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("users.id"), nullable=False)

    @property
    def author_id(self) -> int:
        return self.created_by_id

    def signed_content(self) -> dict[str, Any]:
        fields = self.__signed_fields__
        if not fields:
            fields = tuple(k for k in self.audit_state() if k not in BOOKKEEPING)
        return {"record_type": self.__audit_type__, **{f: getattr(self, f) for f in fields}}

    def content_hash(self) -> str:
        return content_hash(self.signed_content())

    def earlier_content_hashes(self) -> list[str]:
        """What a signature given before later migrations added columns covers of the same
        content (``earlier_state_hashes`` for the signed fields)."""
        return [
            content_hash(f)
            for f in earlier_forms(self.signed_content(), self.__audit_added_later__)
        ]

    def reason_required_for(self, changed: set[str], previous_status: str | None) -> bool:
        return previous_status is not None and previous_status not in self.__draft_states__
