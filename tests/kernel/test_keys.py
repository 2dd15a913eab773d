"""The key file: created by init with mode 0600 beside the SQLite file, refused when missing
or readable by others, never replaced for a keyed trail; a trail written before keying is
keyed from its head on and still verifies."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from click.testing import Result
from sqlalchemy import insert, select
from tests.conftest import People
from tests.kernel.cli import run_cli
from tests.kernel.helpers import entries, head_seq, new_sop, raw

from pharmaqms.kernel import clock
from pharmaqms.kernel.audit import chain_hash
from pharmaqms.kernel.bootstrap import ensure_keyed
from pharmaqms.kernel.canonical import canonical_json
from pharmaqms.kernel.chain import GENESIS, AuditTrailAltered
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.keys import KeyFileError, forget_loaded_keys, load_keyring
from pharmaqms.kernel.migrate import upgrade
from pharmaqms.kernel.models import AuditChainHead, AuditEntry
from pharmaqms.kernel.settings import reset_settings_cache
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.kernel.verify import verify


@pytest.fixture
def own_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No PHARMAQMS_KEY_FILE: the key file goes beside the SQLite database."""
    monkeypatch.delenv("PHARMAQMS_KEY_FILE")
    reset_settings_cache()
    forget_loaded_keys()
    yield tmp_path / "site.key"
    reset_settings_cache()
    forget_loaded_keys()


def _init(database: Database) -> Result:
    return run_cli(database, "init", env={"PHARMAQMS_ADMIN_PASSWORD": "Correct-Horse-9!"})


def _fresh(tmp_path: Path) -> Database:
    return Database(f"sqlite:///{tmp_path / 'site.db'}")


def test_init_creates_the_key_file_beside_the_database_readable_by_its_owner_only(
    tmp_path: Path, own_key: Path
) -> None:
    database = _fresh(tmp_path)

    result = _init(database)

    assert result.exit_code == 0, result.output
    assert own_key.exists()
    assert stat.S_IMODE(own_key.stat().st_mode) == 0o600
    assert "Keep a copy in custody" in result.stdout
    with unit_of_work(database, write=False) as s:
        head = s.get(AuditChainHead, 1)
        assert head is not None
        assert (head.keyed_from, head.key_id) == (1, load_keyring(own_key).audit.id)
        assert verify(s).intact
    database.dispose()


def test_a_key_file_others_may_read_is_refused_at_start(tmp_path: Path, own_key: Path) -> None:
    database = _fresh(tmp_path)
    assert (
        run_cli(database, "init", env={"PHARMAQMS_ADMIN_PASSWORD": "Correct-Horse-9!"}).exit_code
        == 0
    )
    os.chmod(own_key, 0o644)
    forget_loaded_keys()

    from pharmaqms.web.app import create_app

    with pytest.raises(KeyFileError, match="chmod 600"):
        create_app(database)
    result = run_cli(database, "audit", "verify")
    assert result.exit_code == 2
    assert "readable by its owner only" in result.stderr
    database.dispose()


def test_a_missing_key_file_stops_writing_and_init_will_not_make_a_new_one(
    tmp_path: Path, own_key: Path
) -> None:
    database = _fresh(tmp_path)
    assert (
        run_cli(database, "init", env={"PHARMAQMS_ADMIN_PASSWORD": "Correct-Horse-9!"}).exit_code
        == 0
    )
    own_key.unlink()
    forget_loaded_keys()
    before = _entry_count(database)

    init_again = run_cli(database, "init")
    verify_now = run_cli(database, "audit", "verify")

    assert init_again.exit_code == 2
    assert "restore it from its custody copy" in init_again.stderr
    assert not own_key.exists()
    assert verify_now.exit_code == 2
    assert _entry_count(database) == before
    database.dispose()


def _entry_count(database: Database) -> int:
    with database.engine.connect() as conn:
        return len(conn.execute(select(AuditEntry.seq)).all())


def test_a_trail_written_before_keying_is_keyed_from_its_head_on_and_still_verifies(
    tmp_path: Path, own_key: Path
) -> None:
    # given a database whose trail was written unkeyed (as before this version): the schema,
    # and three entries with plain SHA-256 links
    database = _fresh(tmp_path)
    upgrade(database.engine)
    prev = GENESIS
    rows = []
    for seq in (1, 2, 3):
        entry = {
            "seq": seq,
            "occurred_at": clock.now(),
            "actor_id": None,
            "actor_username": "system",
            "actor_name": "pharmaqms (system)",
            "channel": "system",
            "request_id": None,
            "action": "legacy_event",
            "record_type": "system",
            "record_id": None,
            "record_label": f"event {seq}",
            "changes": canonical_json({}),
            "reason": None,
            "state_hash": None,
            "prev_hash": prev,
        }
        entry["entry_hash"] = prev = chain_hash(prev, entry)
        rows.append(entry)
    with database.engine.begin() as conn:
        conn.execute(insert(AuditEntry.__table__), rows)
        conn.execute(AuditChainHead.__table__.update().values(seq=3, entry_hash=prev, keyed_from=4))

    # when the installation is initialised with this version
    from pharmaqms.kernel.bootstrap import initialise

    initialise(database, admin_password="Correct-Horse-9!")

    # then keying starts after the legacy entries, says so in the trail, and all verifies
    with unit_of_work(database, write=False) as s:
        head = s.get(AuditChainHead, 1)
        assert head is not None and head.keyed_from == 4
        keyed = s.scalars(select(AuditEntry).where(AuditEntry.action == "audit_trail_keyed")).one()
        assert keyed.seq == 4
        report = verify(s)
    assert report.intact, report.findings
    database.dispose()


def test_clearing_the_heads_key_to_have_it_re_keyed_over_a_cut_is_refused(
    db: Database, people: People
) -> None:
    new_sop(db, people.qc, "Gowning")
    raw(db, "UPDATE audit_chain_head SET key_id = NULL, mac = NULL WHERE id = 1")
    before = head_seq(db)

    with pytest.raises(AuditTrailAltered, match="lost its key"):
        ensure_keyed(db)

    assert head_seq(db) == before
    assert entries(db, after=before) == []
