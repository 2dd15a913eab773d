"""API shapes of configuration keys, versions and the versions a record's actions ran under."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, JsonValue

from pharmaqms.kernel.configuration.models import ConfigUse, ConfigVersion
from pharmaqms.kernel.configuration.store import ConfigKind, InForce
from pharmaqms.kernel.schemas import Strict


class DraftIn(Strict):
    content: JsonValue = Field(description="the new definition, in the key's form")
    effective_from: datetime = Field(description="in force from (not in the past)")
    change_id: int = Field(description="the open change control it is made under")
    rationale: str = Field(min_length=1, max_length=20_000)


class TestIn(Strict):
    expected_version: int | None = None


class InForceOut(BaseModel):
    key: str
    version_no: int
    number: str | None = Field(description="null: the built-in version, not yet stored")
    effective_from: datetime
    content_sha256: str
    content: Any


class KindOut(BaseModel):
    key: str
    title: str
    module: str
    description: str
    regulatory_basis: str
    in_force: InForceOut


class VersionOut(BaseModel):
    id: int
    number: str
    key: str
    version_no: int
    status: str
    state: str
    effective_from: datetime
    change_id: int | None
    change_number: str
    rationale: str
    content: Any
    content_sha256: str
    test_summary: list[str]
    tested_at: datetime | None
    version: int


class KeyOut(KindOut):
    at: datetime | None
    in_force_at: InForceOut | None
    versions: list[VersionOut]


class UseOut(BaseModel):
    key: str
    version_no: int
    content_sha256: str
    purpose: str
    used_at: datetime


def in_force_out(value: InForce) -> InForceOut:
    return InForceOut(
        key=value.key,
        version_no=value.version_no,
        number=value.number,
        effective_from=value.effective_from,
        content_sha256=value.content_sha256,
        content=value.content,
    )


def kind_out(kind: ConfigKind, in_force: InForce) -> KindOut:
    return KindOut(
        key=kind.key,
        title=kind.title,
        module=kind.module,
        description=kind.description,
        regulatory_basis=kind.regulatory_basis,
        in_force=in_force_out(in_force),
    )


def version_out(row: ConfigVersion, state: str) -> VersionOut:
    return VersionOut(
        id=row.id,
        number=row.number,
        key=row.key,
        version_no=row.version_no,
        status=row.status,
        state=state,
        effective_from=row.effective_from,
        change_id=row.change_id,
        change_number=row.change_number,
        rationale=row.rationale,
        content=row.content,
        content_sha256=row.content_sha256,
        test_summary=list(row.test_summary),
        tested_at=row.tested_at,
        version=row.version,
    )


def use_out(row: ConfigUse) -> UseOut:
    return UseOut(
        key=row.key,
        version_no=row.version_no,
        content_sha256=row.content_sha256,
        purpose=row.purpose,
        used_at=row.used_at,
    )
