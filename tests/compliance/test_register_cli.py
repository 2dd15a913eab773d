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
