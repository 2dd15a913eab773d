"""Electronic signatures (Part 11 §11.50, §11.70, §11.100–11.300; Annex 11 §14)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, clock, role_permissions
from pharmaqms.kernel.auth import verify_signer
from pharmaqms.kernel.canonical import content_hash
from pharmaqms.kernel.configuration import store as config_store
from pharmaqms.kernel.errors import InvalidInput
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.models import ElectronicSignature
from pharmaqms.kernel.records import GxPRecord
from pharmaqms.kernel.reports.text import format_time

MEANINGS = (
    "Authored",
    "Reviewed",
    "Approved",
    "Verified",
    "Released",
    "Rejected",
    "Read and understood",
    "Performed",
    "Closed",
    "Retired",
    "Acknowledged",
)


def meaning_problem(where: str, meaning: Any) -> str | None:
    """Why ``meaning`` can't be a signature's meaning, or None."""
    if not isinstance(meaning, str) or not meaning.strip():
        return f"{where}: a signature without a meaning is not a signature (Part 11 §11.50)"
    if meaning not in MEANINGS:
        return f"{where}: unknown signature meaning {meaning!r}; one of: {', '.join(MEANINGS)}"
    return None


# The action of the audit entry each signing writes. ``audit verify`` matches every row of the
# signature table to its entry, so a signature inserted, moved or re-dated behind the
# application's back is found even when its own (unkeyed) hash was recomputed.
SIGN_ACTION = "sign"


def signature_hash(signature: ElectronicSignature) -> str:
    return content_hash(signature.hashed_fields())


def signing_details(signature: ElectronicSignature) -> dict[str, Any]:
    """What the signing entry records of a signature, besides the record (the entry's own
    record columns), the signer's id and username (its actor) and the comment (its reason)."""
    return {
        "meaning": signature.meaning,
        "signer": f"{signature.signer_name} ({signature.signer_username})",
        "content_hash": signature.content_hash,
        "signature_id": signature.id,
        "transition": signature.transition,
        "signed_at": signature.signed_at,
        "record_version": signature.record_version,
    }


def sign(
    session: Session,
    record: GxPRecord,
    *,
    actor: Actor,
    password: str,
    meaning: str,
    transition: str | None = None,
    comment: str | None = None,
) -> ElectronicSignature:
    """Sign the record's current content. The password is checked here, at the moment of
    signing, with the same lockout counter as login."""
    if meaning not in MEANINGS:
        raise InvalidInput(
            f"unknown signature meaning {meaning!r}; one of: {', '.join(MEANINGS)}",
            field="meaning",
        )
    signer = verify_signer(session, actor=actor, password=password, meaning=meaning)
    session.flush()
    signature = ElectronicSignature(
        record_type=record.__audit_type__,
        record_id=record.id,
        record_label=record.audit_label(),
        signer_id=signer.id,
        signer_username=signer.username,
        signer_name=signer.full_name,
        meaning=meaning,
        signed_at=clock.now(),
        content_hash=record.content_hash(),
        record_version=record.version,
        transition=transition,
        comment=(comment or "").strip() or None,
    )
    signature.signature_hash = signature_hash(signature)
    session.add(signature)
    session.flush()
    audit.record_event(
        session,
        actor=actor,
        action=SIGN_ACTION,
        record=record,
        details=signing_details(signature),
        reason=signature.comment,
    )
    if actor.permissions_version is not None:
        # The permissions the signer acted with came from this version of the roles
        # configuration: it stays with the record among the rules it ran under.
        used = config_store.version(session, role_permissions.KEY, actor.permissions_version)
        config_store.record_use(
            session, record, used, f"permissions of the signer ({meaning})", actor=actor
        )
    return signature


@dataclass(frozen=True)
class SignatureView:
    """A signature as shown beside its record: §11.50's name, date and time, and meaning, plus
    whether it still covers the record's current content."""

    id: int
    signer_name: str
    signer_username: str
    meaning: str
    signed_at: datetime
    transition: str | None
    comment: str | None
    content_hash: str
    valid_for_current_content: bool

    @property
    def manifestation(self) -> str:
        stamp = format_time(self.signed_at, seconds=True)
        line = f"{self.meaning} by {self.signer_name} ({self.signer_username}) on {stamp}"
        if not self.valid_for_current_content:
            line += " — NO LONGER VALID: the record changed after signing"
        return line


def signatures_of(session: Session, record: GxPRecord) -> list[SignatureView]:
    # A signature given before a later migration added columns covers the content as it was
    # hashed then: the same content, when the new columns hold what the migration gave them.
    current = {record.content_hash(), *record.earlier_content_hashes()}
    rows = session.scalars(
        select(ElectronicSignature)
        .where(
            ElectronicSignature.record_type == record.__audit_type__,
            ElectronicSignature.record_id == record.id,
        )
        .order_by(ElectronicSignature.signed_at, ElectronicSignature.id)
    )
    return [
        SignatureView(
            id=row.id,
            signer_name=row.signer_name,
            signer_username=row.signer_username,
            meaning=row.meaning,
            signed_at=row.signed_at,
            transition=row.transition,
            comment=row.comment,
            content_hash=row.content_hash,
            valid_for_current_content=(
                row.content_hash in current and row.signature_hash == signature_hash(row)
            ),
        )
        for row in rows
    ]
