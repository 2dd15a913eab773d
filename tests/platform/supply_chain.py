"""A generated supply chain, taken in through the EPCIS connector once per module and copied
for each test (the ingest of a few hundred events takes seconds)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pharmaqms.kernel import auth, clock
from pharmaqms.kernel.db import Database, set_database
from pharmaqms.kernel.identity import Channel
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.platform.genealogy.demo import load_chain
from pharmaqms.platform.genealogy.generator import Chain


@pytest.fixture(scope="session")
def chain_db(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, Chain]]:
    path = tmp_path_factory.mktemp("chain") / "chain.db"
    shutil.copyfile(sqlite_template, path)
    database = Database(f"sqlite:///{path}")
    with clock.frozen_at(datetime(2026, 3, 2, 9, 0, tzinfo=UTC)):
        with unit_of_work(database) as s:
            admin = auth.actor_for(s, auth.user_by_username(s, "admin"), Channel.CLI)  # type: ignore[arg-type]
            logistics = auth.actor_for(s, auth.user_by_username(s, "logistics"), Channel.CLI)  # type: ignore[arg-type]
        with unit_of_work(database) as s:
            chain = load_chain(s, admin=admin, logistics=logistics, lots=6, seed=11)
    with database.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    database.dispose()
    yield path, chain


@pytest.fixture
def chain(chain_db: tuple[Path, Chain], tmp_path: Path) -> Iterator[tuple[Database, Chain]]:
    path = tmp_path / "pharmaqms.db"
    shutil.copyfile(chain_db[0], path)
    database = Database(f"sqlite:///{path}")
    set_database(database)
    yield database, chain_db[1]
    set_database(None)
    database.dispose()
