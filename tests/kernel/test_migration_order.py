"""The migrations run in one fixed order, whatever Python's string hashing: Alembic's own
order changed with ``PYTHONHASHSEED``, and with seed 19 a fresh database failed to migrate
(``KeyError: '0001_kernel'``) — ``pharmaqms init`` on about one machine in 25."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ORDER = """
import json, sys
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine
from pharmaqms.kernel.migrate import alembic_config, in_chain_order, upgrade
url = "sqlite:///" + sys.argv[1]
script = ScriptDirectory.from_config(alembic_config(url))
print(json.dumps([s.revision.revision for s in in_chain_order(script._upgrade_revs("heads", ()))]))
upgrade(create_engine(url))
"""


def _migrate(seed: int, path: Path) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", ORDER, str(path)],
        env={**os.environ, "PYTHONHASHSEED": str(seed)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    import json

    return list(json.loads(done.stdout.splitlines()[0]))


def test_a_fresh_database_migrates_in_the_same_order_whatever_the_hash_seed(
    tmp_path: Path,
) -> None:
    # 19 is a seed under which Alembic's own order failed; 1 is one under which it passed
    failed_before, passed_before = (
        _migrate(19, tmp_path / "seed19.db"),
        _migrate(1, tmp_path / "seed1.db"),
    )
    assert failed_before == passed_before
    # each revision comes after every revision it follows or depends on, and a branch is
    # continued before another starts from it: the kernel's own chain first
    assert failed_before[:5] == [
        "0001_kernel",
        "0002_kernel_keyed_chain",
        "0003_kernel_admin_accounts",
        "0004_kernel_notifications",
        "0005_kernel_time_zones",
    ]
