"""API input and output of the notebook. Output carries plaintext only on the reads that
decrypt (``rnd.read``); the hashes and signatures are always there."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from pharmaqms.kernel.schemas import Strict

Text = Field(default="", max_length=100_000)


class ProjectIn(Strict):
    code: str = Field(min_length=2, max_length=40)
    title: str = Field(min_length=1, max_length=200)
    lead_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    description: str = Field(default="", max_length=4000)


class TemplateFieldIn(Strict):
    name: str = Field(min_length=1, max_length=60)
    label: str = Field(default="", max_length=200)
    kind: str = Field(default="text", max_length=10)


class TemplateSectionIn(Strict):
    title: str = Field(min_length=1, max_length=200)
    fields: list[TemplateFieldIn] = Field(default_factory=list, max_length=100)


class TemplateIn(Strict):
    experiment_type: str = Field(min_length=1, max_length=80)
    name: str = Field(min_length=1, max_length=200)
    sections: list[TemplateSectionIn] = Field(min_length=1, max_length=50)


class ExperimentIn(Strict):
    project_id: int = Field(ge=1, le=2**31 - 1)
    title: str = Field(min_length=1, max_length=200)
    protocol: str = Field(min_length=1, max_length=100_000)
    template_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    materials: list[str] = Field(default_factory=list, max_length=100)
    equipment: list[str] = Field(default_factory=list, max_length=100)


class EntryIn(Strict):
    content: str = Field(min_length=1, max_length=100_000)
    results: str = Text
    conclusions: str = Text
    fields: dict[str, str] = Field(default_factory=dict, max_length=200)
    amends_id: int | None = Field(default=None, ge=1, le=2**31 - 1)


class EntryEditIn(Strict):
    content: str = Field(min_length=1, max_length=100_000)
    results: str = Text
    conclusions: str = Text
    fields: dict[str, str] = Field(default_factory=dict, max_length=200)


class SignIn(Strict):
    password: str = Field(min_length=1, max_length=256)
    expected_version: int = Field(ge=1, le=2**31 - 1)
    comment: str | None = Field(default=None, max_length=2000)


class DisclosureIn(Strict):
    entries: list[int] = Field(min_length=1, max_length=1000)


class ProjectOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    number: str
    code: str
    title: str
    lead_id: int
    description: str
    status: str
    created_at: datetime


class TemplateOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    number: str
    experiment_type: str
    name: str
    sections: list[dict[str, Any]]
    status: str


class FileOut(BaseModel):
    id: int
    name: str
    size: int
    sha256: str
    media_type: str


class SignatureOut(BaseModel):
    meaning: str
    signer_name: str
    signer_username: str
    signed_at: datetime
    valid_for_current_content: bool


class CheckOut(BaseModel):
    signed: bool
    signature_valid: bool
    key_known: bool
    content_matches: bool
    intact: bool
    problems: list[str]


class EntryOut(BaseModel):
    id: int
    number: str
    seq: int
    status: str
    version: int
    author: str
    amends_id: int | None
    amended_by: list[str]
    created_at: datetime
    entry_hash: str | None
    ed25519_signature: str | None
    signing_key_id: str | None
    signing_public_key: str | None
    signed_at: datetime | None
    content: str | None
    fields: dict[str, str] | None
    results: str | None
    conclusions: str | None
    files: list[FileOut]
    signatures: list[SignatureOut]
    check: CheckOut
    error: str | None


class ExperimentOut(BaseModel):
    id: int
    number: str
    project_id: int
    template_id: int | None
    title: str
    status: str
    protocol: str
    materials: list[str]
    equipment: list[str]
    entries: list[EntryOut] = Field(default_factory=list)


class ExperimentSummaryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    number: str
    title: str
    status: str
    created_at: datetime


class ProjectDetailOut(ProjectOut):
    experiments: list[ExperimentSummaryOut] = Field(default_factory=list)
