"""The project data keys: created with the project, unwrapped for a read or a write, re-wrapped
when the master key rotates.

The master key is read from the key file of the installation whose database the session
writes (kernel/keys.py): a copy of the database without the key file holds no readable
notebook."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, clock
from pharmaqms.kernel.errors import NotFound
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.keys import (
    RND_MASTER,
    Key,
    KeyFileError,
    Keyring,
    add_key,
    forget_loaded_keys,
    keyring_for,
)
from pharmaqms.lifecycle.rnd.eln.crypto import new_data_key, unwrap_data_key, wrap_data_key
from pharmaqms.lifecycle.rnd.eln.models import RndDataKey


def keyring_of(session: Session) -> Keyring:
    return keyring_for(str(session.get_bind().engine.url))


def create_data_key(session: Session, project_id: int) -> bytes:
    """A new project's data key, stored wrapped by the newest master key. Called inside the
    project's creation (its change context)."""
    # Read the key file afresh: another process may have rotated the master key (and retired
    # the one this process has cached); a data key wrapped by a retired key would be lost.
    forget_loaded_keys()
    master = keyring_of(session).newest(RND_MASTER)
    data_key = new_data_key()
    now = clock.now()
    session.add(
        RndDataKey(
            project_id=project_id,
            master_key_id=master.id,
            wrapped=wrap_data_key(master, data_key, project_id),
            created_at=now,
            wrapped_at=now,
        )
    )
    return data_key


def data_key(session: Session, project_id: int) -> bytes:
    row = session.scalar(select(RndDataKey).where(RndDataKey.project_id == project_id))
    if row is None:
        raise NotFound(f"R&D project #{project_id} has no data key")
    return unwrap_data_key(_master(session, row.master_key_id), row.wrapped, project_id)


def _master(session: Session, key_id: str) -> Key:
    try:
        return keyring_of(session).key(RND_MASTER, key_id)
    except KeyFileError:
        # Rotated by another process since this one read the key file: read it again, once.
        forget_loaded_keys()
        return keyring_of(session).key(RND_MASTER, key_id)


@dataclass(frozen=True)
class Rotation:
    new_key_id: str
    previous_key_ids: tuple[str, ...]
    rewrapped: int


def rotate_master_key(session: Session, *, actor: Actor) -> Rotation:
    """Add a new master key to the key file and re-wrap every project's data key with it. The
    encrypted fields are not touched: they stay under their data keys. The old master key stays
    in the key file (until ``keys.retire_key``) so a rollback of this transaction, or a backup
    taken before it, still opens."""
    actor.require("*", "rotate the R&D master key")
    forget_loaded_keys()  # rotate what the key file holds now, not what this process cached
    keyring = keyring_of(session)
    rows = list(session.scalars(select(RndDataKey).order_by(RndDataKey.id)))
    # Unwrap everything first: a data key the current file can't open stops the rotation
    # before the key file changes.
    plain = [
        (
            row,
            unwrap_data_key(_master(session, row.master_key_id), row.wrapped, row.project_id),
        )
        for row in rows
    ]
    previous = tuple(sorted({row.master_key_id for row in rows}))
    new_key = add_key(keyring.path, RND_MASTER)
    now = clock.now()
    with audit.changes(session, actor=actor, reason=f"R&D master key rotated to {new_key.id}"):
        for row, key in plain:
            row.wrapped = wrap_data_key(new_key, key, row.project_id)
            row.master_key_id = new_key.id
            row.wrapped_at = now
    return Rotation(new_key.id, previous, len(rows))


def keys_in_use(session: Session) -> set[str]:
    """The master key ids some data key is still wrapped by (retire only the others)."""
    return set(session.scalars(select(RndDataKey.master_key_id).distinct()))
