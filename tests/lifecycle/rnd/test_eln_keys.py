"""Encryption at rest as an inspector of the storage would check it: no plaintext of an
encrypted field in the database file or in a backup (searched for known text, byte for byte),
a backup restored elsewhere reads back with the key file, and a rotation of the master key
that re-wraps the data keys without touching the encrypted data."""

from __future__ import annotations

import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from tests.lifecycle.rnd.eln_steps import MARKER, RAW, notebook, signed_entry

from pharmaqms.kernel.backup import backup, restore
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.errors import QMSError
from pharmaqms.kernel.keys import (
    RND_MASTER,
    forget_loaded_keys,
    key_file_path,
    load_keyring,
    retire_key,
)
from pharmaqms.kernel.settings import reset_settings_cache
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.rnd.eln import reading, service, vault
from pharmaqms.lifecycle.rnd.eln.models import (
    Experiment,
    ExperimentEntry,
    RawDataBlob,
    RawDataFile,
    RndDataKey,
)
from pharmaqms.lifecycle.rnd.eln.uploads import Upload

FILE_NAME = "MARKER-NAME-5519-crystal.csv"
PROTOCOL = "PROTOCOL-MARKER-2207 slurry ripening"


def _forms(text: str | bytes) -> list[bytes]:
    """The ways a value could sit in a file: its bytes, and the hex a backup writes bytes as."""
    raw = text.encode() if isinstance(text, str) else text
    return [raw, raw.hex().encode(), raw.hex().upper().encode()]


def _secrets() -> list[bytes]:
    found: list[bytes] = []
    for value in (MARKER, FILE_NAME, PROTOCOL, RAW[:40], "Q30 = 87 %"):
        found.extend(_forms(value))
    return found


def _written(db: Database, people: Any) -> int:
    book = notebook(db, people)
    with unit_of_work(db) as s:
        service.start_experiment(
            s,
            actor=people.rd,
            project_id=book.project_id,
            title="Slurry experiment",
            protocol=PROTOCOL,
        )
    return signed_entry(db, people, book, files=(Upload(FILE_NAME, RAW),))


def test_the_sqlite_file_holds_no_plaintext_of_an_encrypted_field(
    db: Database, people: Any
) -> None:
    _written(db, people)
    path = Path(db.url.removeprefix("sqlite:///"))
    db.dispose()  # everything on disk, WAL included, as a thief of the files would find it

    found = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))

    assert len(found) > 100_000
    assert [s for s in _secrets() if s in found] == []
    # while what is meant to be in clear is there: the check searches the right bytes
    assert b"Dissolution of trial blend 3" in found


@pytest.mark.postgres
def test_a_backup_holds_no_plaintext_and_restores_readable_with_the_key_file(
    db: Database, people: Any, tmp_path: Path
) -> None:
    entry_id = _written(db, people)
    archive = tmp_path / "backup.zip"

    backup(db.engine, archive)

    raw = archive.read_bytes()
    with zipfile.ZipFile(archive) as zipped:
        members = b"".join(zipped.read(name) for name in zipped.namelist())
    assert [s for s in _secrets() if s in raw or s in members] == []
    assert b"Dissolution of trial blend 3" in members
    # and the backup is the notebook: restored into a new database, the entry reads and checks
    restored = Database(f"sqlite:///{tmp_path / 'restored.db'}")
    restore(restored.engine, archive)
    with unit_of_work(restored, write=False) as s:
        entry = service.get_entry(s, entry_id)
        assert reading.plaintext_of(s, entry).content == MARKER
        assert reading.check_entry(s, entry).intact
    restored.dispose()


@pytest.fixture
def own_key_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of the test key file for this test alone: the rotation writes to it."""
    copy = tmp_path / "rotating.key"
    shutil.copyfile(key_file_path(), copy)
    copy.chmod(0o600)
    monkeypatch.setenv("PHARMAQMS_KEY_FILE", str(copy))
    reset_settings_cache()
    forget_loaded_keys()
    yield copy
    reset_settings_cache()
    forget_loaded_keys()


def _ciphertexts(db: Database) -> list[bytes]:
    with db.engine.connect() as conn:
        found: list[bytes] = []
        for column in (
            Experiment.protocol_ct,
            ExperimentEntry.content_ct,
            ExperimentEntry.results_ct,
            RawDataFile.name_ct,
            RawDataBlob.content_ct,
        ):
            found.extend(conn.execute(select(column).order_by(column.table.c.id)).scalars())
        return found


@pytest.mark.postgres
def test_rotating_the_master_key_rewraps_the_data_keys_and_leaves_the_data_as_it_was(
    db: Database, people: Any, own_key_file: Path
) -> None:
    entry_id = _written(db, people)
    old_master = load_keyring(own_key_file).newest(RND_MASTER).id
    data_before = _ciphertexts(db)
    with db.engine.connect() as conn:
        wrapped_before = conn.execute(select(RndDataKey.wrapped)).scalars().all()

    with unit_of_work(db) as s:
        rotation = vault.rotate_master_key(s, actor=people.admin)

    assert rotation.rewrapped == 1 and rotation.previous_key_ids == (old_master,)
    assert _ciphertexts(db) == data_before
    with db.engine.connect() as conn:
        rows = conn.execute(select(RndDataKey.master_key_id, RndDataKey.wrapped)).all()
    assert [r.master_key_id for r in rows] == [rotation.new_key_id]
    assert [r.wrapped for r in rows] != wrapped_before
    # the old master key retired from the key file: everything still reads and verifies
    retire_key(own_key_file, RND_MASTER, old_master)
    assert [k.id for k in load_keyring(own_key_file).keys[RND_MASTER]] == [rotation.new_key_id]
    with unit_of_work(db, write=False) as s:
        entry = service.get_entry(s, entry_id)
        assert reading.plaintext_of(s, entry).content == MARKER
        assert reading.check_entry(s, entry).intact
        assert vault.keys_in_use(s) == {rotation.new_key_id}
    # and the new master key can not be retired: data is wrapped by it
    with pytest.raises(QMSError, match="in use"):
        retire_key(own_key_file, RND_MASTER, rotation.new_key_id)


def test_without_the_master_key_nothing_decrypts(
    db: Database, people: Any, own_key_file: Path
) -> None:
    entry_id = _written(db, people)
    with unit_of_work(db) as s:
        vault.rotate_master_key(s, actor=people.admin)
    keyring = load_keyring(own_key_file)
    newest = keyring.newest(RND_MASTER).id
    # a key file that lost the master key the data keys are wrapped by: add one, retire the other
    from pharmaqms.kernel.keys import add_key

    add_key(own_key_file, RND_MASTER)
    retire_key(own_key_file, RND_MASTER, newest)

    with unit_of_work(db, write=False) as s, pytest.raises(QMSError, match="restore the key file"):
        reading.plaintext_of(s, service.get_entry(s, entry_id))


def test_only_an_administrator_rotates_the_master_key(
    db: Database, people: Any, own_key_file: Path
) -> None:
    _written(db, people)
    before = own_key_file.read_bytes()
    with unit_of_work(db) as s, pytest.raises(QMSError, match="may not rotate"):
        vault.rotate_master_key(s, actor=people.qa)
    assert own_key_file.read_bytes() == before


def test_a_process_that_read_the_key_file_before_a_rotation_still_reads_and_wraps_with_the_new_key(
    db: Database, people: Any, own_key_file: Path
) -> None:
    from pharmaqms.kernel import keys

    entry_id = _written(db, people)
    keys.keyring_for(db.url)  # this process (a web worker) has the key file cached
    stale = (dict(keys._LOADED), dict(keys._BY_URL))
    old_master = load_keyring(own_key_file).newest(RND_MASTER).id
    # another process (the operator's command) rotates and retires the old master key
    with unit_of_work(db) as s:
        rotation = vault.rotate_master_key(s, actor=people.admin)
    retire_key(own_key_file, RND_MASTER, old_master)
    keys._LOADED.update(stale[0])
    keys._BY_URL.update(stale[1])

    with unit_of_work(db, write=False) as s:
        assert reading.plaintext_of(s, service.get_entry(s, entry_id)).content == MARKER
    keys._LOADED.update(stale[0])
    keys._BY_URL.update(stale[1])
    with unit_of_work(db) as s:
        project = service.create_project(s, actor=people.rd, code="LATE-1", title="after rotation")
        s.flush()
        project_id = project.id
    with db.engine.connect() as conn:
        wrapped_by = conn.execute(
            select(RndDataKey.master_key_id).where(RndDataKey.project_id == project_id)
        ).scalar_one()
    assert wrapped_by == rotation.new_key_id


def test_the_rotation_command_rotates_and_retires_the_keys_no_data_needs(
    db: Database, people: Any, own_key_file: Path
) -> None:
    from tests.kernel.cli import run_cli

    entry_id = _written(db, people)
    old_master = load_keyring(own_key_file).newest(RND_MASTER).id

    result = run_cli(db, "rnd", "rotate-master-key", "--retire-old")

    assert result.exit_code == 0, result.output
    assert (
        "1 data keys re-wrapped" in result.stdout
        and f"retired master key {old_master}" in result.stdout
    )
    forget_loaded_keys()
    assert old_master not in [k.id for k in load_keyring(own_key_file).keys[RND_MASTER]]
    with unit_of_work(db, write=False) as s:
        assert reading.check_entry(s, service.get_entry(s, entry_id)).intact
