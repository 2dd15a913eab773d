"""What the production routers share: the actor dependency and the signature list of a
record in API form."""

from __future__ import annotations

from sqlalchemy.orm import Session

from pharmaqms.kernel.records import GxPRecord
from pharmaqms.kernel.schemas import SignatureOut
from pharmaqms.kernel.signatures import signatures_of

PREFIX = "/api/v1/production"


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
