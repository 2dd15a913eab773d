"""API shapes shared by the quality modules: a source to raise a record from, the links of a
record, and the signatures shown beside it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from pharmaqms.kernel.records import GxPRecord
from pharmaqms.kernel.schemas import SignatureOut, Strict
from pharmaqms.kernel.signatures import signatures_of
from pharmaqms.quality.links import LinkedRecord, links_of


class SourceIn(Strict):
    """What a new quality record is raised from (an excursion, an OOS result, a deviation…)."""

    source_type: str = Field(min_length=2, max_length=60)
    source_id: int | None = None
    source_label: str = Field(default="", max_length=200)
    reason: str | None = Field(default=None, max_length=4000)


class RaisedRecordIn(Strict):
    """The body that creates a quality record, which may name what it is raised from: then the
    quality events API creates it and links it both ways, otherwise its service alone."""

    source: SourceIn | None = None

    def record_fields(self) -> dict[str, Any]:
        """The record's own fields, by the names its service and the events API take."""
        return {name: getattr(self, name) for name in type(self).model_fields if name != "source"}


class LinkOut(BaseModel):
    record_type: str
    record_id: int | None
    label: str
    type_label: str
    reason: str
    linked_at: datetime
    status: str | None
    url: str | None


class LinksOut(BaseModel):
    raised_from: list[LinkOut]
    led_to: list[LinkOut]


class LinkCreate(Strict):
    source_type: str = Field(min_length=2, max_length=60)
    source_id: int | None = None
    source_label: str = Field(default="", max_length=200)
    target_type: str = Field(min_length=2, max_length=60)
    target_id: int
    reason: str = Field(min_length=1, max_length=4000)


def _link_out(link: LinkedRecord) -> LinkOut:
    return LinkOut.model_validate(link.as_dict())


def links_out(session: Session, record: GxPRecord) -> LinksOut:
    found = links_of(session, record.__audit_type__, record.id)
    return LinksOut(
        raised_from=[_link_out(link) for link in found.raised_from],
        led_to=[_link_out(link) for link in found.led_to],
    )


def signatures_out(session: Session, record: GxPRecord) -> list[SignatureOut]:
    return [
        SignatureOut(
            id=s.id,
            signer_name=s.signer_name,
            signer_username=s.signer_username,
            meaning=s.meaning,
            signed_at=s.signed_at,
            content_hash=s.content_hash,
            valid_for_current_content=s.valid_for_current_content,
            manifestation=s.manifestation,
        )
        for s in signatures_of(session, record)
    ]
