"""A deviation's printed report through the API, on SQLite and PostgreSQL: the trail reads in
human terms at the frozen time, the hand-out is recorded as an export, and whoever may not read
records gets no file and leaves no trace."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import select
from tests.quality.quality_steps import add_person, classified_deviation, counts

from pharmaqms.kernel.db import Database
from pharmaqms.kernel.models import AuditEntry
from pharmaqms.kernel.uow import unit_of_work


def export_entries(db: Database, record_id: int) -> list[tuple[str, str]]:
    with unit_of_work(db, write=False) as session:
        rows = session.execute(
            select(AuditEntry.actor_username, AuditEntry.changes).where(
                AuditEntry.record_type == "deviation",
                AuditEntry.record_id == record_id,
                AuditEntry.action == "export",
            )
        )
        return [(r.actor_username, r.changes) for r in rows]


@pytest.mark.postgres
def test_the_report_reads_the_trail_in_human_terms_and_records_the_export(
    db: Database, api: Any, frozen_clock: Any
) -> None:
    deviation = classified_deviation(db, api("operator"), api("qa"), "qc")

    response = api("auditor").get(f"/api/v1/records/deviation/{deviation['id']}/report.pdf")

    assert response.status_code == 200, response.text
    pages = PdfReader(io.BytesIO(response.content)).pages
    text = re.sub(r"\s+", " ", " ".join(page.extract_text() for page in pages))
    assert f"Deviation {deviation['number']}" in text
    assert "Tablet press stopped: punch broken" in text
    # Reported and classified at the frozen time: seconds and offset, no microseconds.
    assert "2026-03-02 09:00:00 UTC (+00:00) Otto Operator (operator) Created" in text
    assert "Investigator — → Chloe Chemist (qc)" in text
    assert "Class — → major" in text
    assert "investigator_id" not in text
    assert "printed 2026-03-02 09:00 UTC (+00:00) by Ines Inspector (auditor)" in text
    [(who, details)] = export_entries(db, deviation["id"])
    assert who == "auditor" and '"format":"PDF record report"' in details


@pytest.mark.postgres
def test_who_may_not_read_records_gets_no_report_and_nothing_changes(
    db: Database, api: Any
) -> None:
    deviation = classified_deviation(db, api("operator"), api("qa"), "qc")
    add_person(db, "visitor", "Vera Visitor", [])
    visitor = api("visitor")  # logging in is audited: counted from here
    before = counts(db)

    response = visitor.get(f"/api/v1/records/deviation/{deviation['id']}/report.pdf")

    assert response.status_code == 403
    assert not response.content.startswith(b"%PDF")
    assert counts(db) == before
    assert export_entries(db, deviation["id"]) == []
