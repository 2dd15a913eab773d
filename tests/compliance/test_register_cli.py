"""``pharmaqms compliance seed / import / export`` and the register loaded by ``init``."""

from __future__ import annotations

from typing import Any

from tests.compliance.steps import register_file, regulation, snapshot
from tests.kernel.cli import run_cli

from pharmaqms.compliance import fileformat


def test_seed_export_import_from_the_command_line(db: Any, tmp_path: Any) -> None:
    seeded = run_cli(db, "compliance", "seed")
    assert seeded.exit_code == 0, seeded.output
    assert f"added {len(fileformat.shipped_register())}" in seeded.output
    again = run_cli(db, "compliance", "seed")
    assert "added 0, superseded 0" in again.output
    out = tmp_path / "register.json"
    exported = run_cli(db, "compliance", "export", "--out", str(out))
    assert exported.exit_code == 0, exported.output
    before = snapshot(db)
    back = run_cli(db, "compliance", "import", str(out))
    assert back.exit_code == 0 and "added 0, superseded 0" in back.output
    assert snapshot(db) == before
    bad = tmp_path / "bad.json"
    bad.write_text(register_file(regulation(), regulation(code="X", edition="")))
    refused = run_cli(db, "compliance", "import", str(bad))
    assert refused.exit_code == 2
    assert "[regulations[1].edition]" in refused.output
    assert snapshot(db) == before


def test_init_loads_the_shipped_register_once(tmp_path: Any) -> None:
    from sqlalchemy import func, select

    from pharmaqms.cli.demo import foreign_record
    from pharmaqms.compliance.models import Regulation
    from pharmaqms.kernel.db import Database
    from pharmaqms.kernel.uow import unit_of_work

    database = Database(f"sqlite:///{tmp_path / 'site.db'}")
    try:
        env = {"PHARMAQMS_ADMIN_PASSWORD": "Correct-Horse-9!"}
        first = run_cli(database, "init", env=env)
        assert first.exit_code == 0, first.output
        assert "Regulations register:" in first.output
        again = run_cli(database, "init", env=env)
        assert again.exit_code == 0 and "Regulations register:" not in again.output
        with unit_of_work(database, write=False) as s:
            count = s.scalar(select(func.count()).select_from(Regulation))
        assert count == len(fileformat.shipped_register())
        with unit_of_work(database, write=False) as s:
            # What init loaded is installation: the demo may still load into this database.
            assert foreign_record(s) is None
    finally:
        database.dispose()
