from __future__ import annotations

import pytest
from sqlalchemy import func, select

from pharmaqms.kernel.db import Database
from pharmaqms.kernel.models import AuditEntry, User
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.kernel.verify import verify


@pytest.mark.postgres
def test_a_fresh_database_is_seeded_and_its_trail_verifies(db: Database) -> None:
    with unit_of_work(db, write=False) as session:
        users = session.scalar(select(func.count()).select_from(User))
        entries = session.scalar(select(func.count()).select_from(AuditEntry))
        report = verify(session)
    assert users == 12  # the system account, the administrator and ten test people
    assert entries is not None and entries > 12
    assert report.intact, report.findings
