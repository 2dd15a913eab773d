"""The installation's Ed25519 attestation of each electronic signature on a notebook entry.

Run as an effect of the entry's signed transitions, so it follows the signature whatever
route took it (the notebook's pages and API, or the generic record transition)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.keys import RND_SIGNING
from pharmaqms.kernel.models import ElectronicSignature
from pharmaqms.lifecycle.rnd.eln import vault
from pharmaqms.lifecycle.rnd.eln.integrity import attestation_statement, sign_bytes
from pharmaqms.lifecycle.rnd.eln.models import EntryAttestation, ExperimentEntry

Effect = Any  # kernel.workflow.Effect: (session, record, actor) -> None


def attest(session: Session, actor: Actor, entry: ExperimentEntry, meaning: str) -> None:
    signature = session.scalars(
        select(ElectronicSignature)
        .where(
            ElectronicSignature.record_type == ExperimentEntry.__audit_type__,
            ElectronicSignature.record_id == entry.id,
            ElectronicSignature.meaning == meaning,
            ElectronicSignature.signer_id == actor.user_id,
        )
        .order_by(ElectronicSignature.id.desc())
    ).first()
    if signature is None or not entry.entry_hash:
        raise RuntimeError(f"{entry.audit_label()}: no {meaning} signature to attest")
    key = vault.keyring_of(session).newest(RND_SIGNING)
    statement = attestation_statement(
        entry.entry_hash,
        signature.meaning,
        signature.signer_username,
        signature.signer_name,
        signature.signed_at,
    )
    with audit.changes(session, actor=actor, reason=f"{entry.number}: {signature.meaning}"):
        session.add(
            EntryAttestation(
                entry_id=entry.id,
                signature_id=signature.id,
                entry_hash=entry.entry_hash,
                meaning=signature.meaning,
                signer_username=signature.signer_username,
                signer_name=signature.signer_name,
                signed_at=signature.signed_at,
                ed25519_signature=sign_bytes(key, statement),
                signing_key_id=key.id,
            )
        )


def attesting(meaning: str) -> Effect:
    def effect(session: Session, entry: ExperimentEntry, actor: Actor) -> None:
        attest(session, actor, entry, meaning)

    return effect
