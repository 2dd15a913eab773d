from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest
from sqlalchemy import select
from tests.platform.company import count, sample, set_up_company
from tests.web.conftest import UiClient

from pharmaqms.kernel.models import AuditEntry
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.platform.ingest import service as ingest
from pharmaqms.platform.ingest.models import ImportRun, QuarantinedRow
from pharmaqms.platform.timeseries.models import ProcessReading


@pytest.fixture
def ui(app: Any) -> Any:
    def make(username: str) -> UiClient:
        client = UiClient(app)
        assert client.login(username).status_code == 303
        return client

    return make


def _deliver(db, people) -> int:  # type: ignore[no-untyped-def]
    """The MES sample delivered; returns the id of the row quarantined for its time zone."""
    set_up_company(db, people)
    with unit_of_work(db) as s:
        ingest.ingest(
            s, actor=people.supervisor, kind="mes", content=sample("mes_batch_records.csv")
        )
    with unit_of_work(db, write=False) as s:
        return s.scalars(select(QuarantinedRow.id).where(QuarantinedRow.position == "line 9")).one()


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def test_the_source_page_shows_the_figures_the_deliveries_and_the_quarantine(
    ui, db, people, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    _deliver(db, people)

    page = ui("qa").get("/data/sources/mes-default")

    assert page.status_code == 200
    text = _text(page.text)
    assert "Quarantine: 6 rows waiting" in text
    assert "Validity 57.1 % 8 accepted, 6 quarantined" in text
    assert "Completeness 96.6 % required fields present of 58 expected" in text
    assert "Timeliness 20.1 days median delay" in text
    assert "no_time_zone measured_at: '2026-02-11 10:15:00' has no UTC offset" in text
    assert text.count("IMP-2026-0001") == 7  # the delivery, and each of its six waiting rows


def test_a_row_is_fixed_and_replayed_from_its_page_and_a_bad_fix_changes_nothing(
    ui, db, people, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    row_id = _deliver(db, people)
    supervisor = ui("supervisor")
    form = supervisor.get(f"/data/quarantine/{row_id}")
    assert 'name="f:measured_at" value="2026-02-11 10:15:00"' in form.text
    fields = dict(re.findall(r'name="f:([a-z_]+)" value="([^"]*)"', form.text))
    readings, entries = count(db, ProcessReading), count(db, AuditEntry)
    here = f"/data/quarantine/{row_id}"

    bad = supervisor.post(
        f"{here}/replay",
        {**{f"f:{k}": v for k, v in fields.items()}, "reason": "local time"},
        referer=here,
    )
    shown = supervisor.follow(bad)

    assert "has no UTC offset" in _text(shown.text)
    assert 'data-testid="flash"' in shown.text
    assert (count(db, ProcessReading), count(db, AuditEntry)) == (readings, entries)

    good = supervisor.post(
        f"{here}/replay",
        {
            **{f"f:{k}": v for k, v in fields.items()},
            "f:measured_at": "2026-02-11T10:15:00+01:00",
            "reason": "the press logs CET; checked against the paper batch record",
        },
        referer=here,
    )
    after = supervisor.follow(good)

    assert "Corrected and replayed as IMP-2026-0002." in after.text
    assert count(db, ProcessReading) == readings + 1
    with unit_of_work(db, write=False) as s:
        row = s.get(QuarantinedRow, row_id)
        assert row is not None
        assert (row.status, row.corrected["measured_at"]) == (
            "replayed",
            "2026-02-11T10:15:00+01:00",
        )
        entry = s.scalars(
            select(AuditEntry).where(
                AuditEntry.record_type == "quarantined_row", AuditEntry.action == "replay"
            )
        ).one()
        assert (entry.actor_username, entry.channel) == ("supervisor", "ui")


def test_an_auditor_reads_the_quarantine_but_is_offered_no_fix(
    ui, db, people, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    row_id = _deliver(db, people)

    page = ui("auditor").get(f"/data/quarantine/{row_id}")

    assert page.status_code == 200
    assert "has no UTC offset" in _text(page.text)
    assert 'data-testid="replay-form"' not in page.text
    assert 'data-testid="discard-form"' not in page.text


def test_a_file_uploaded_through_the_form_lands_on_its_delivery_page(
    ui, db, people, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    set_up_company(db, people, batches=("T26-0101", "T26-0102"))
    logistics = ui("logistics")
    logistics.get("/data/upload")

    response = logistics.client.post(
        "/data/upload",
        data={"kind": "gs1", "source_code": "", "csrf_token": logistics.csrf_token},
        files={"file": ("returns-hs07.txt", sample("gs1_scans.txt"), "text/plain")},
    )
    page = logistics.follow(response)

    assert response.headers["location"] == "/data/runs/1"
    text = _text(page.text)
    assert "IMP-2026-0001: the file was taken." in text
    assert 'data-count="accepted">5<' in page.text
    assert 'data-count="quarantined">6<' in page.text
    assert "bad_check_digit" in text
    assert count(db, ImportRun) == 1


def test_entity_pages_filter_and_offer_the_export(ui, db, people, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    _deliver(db, people)

    page = ui("qa").get("/data/browse/process-readings?lot_number=T26-0101&parameter=")

    assert page.status_code == 200
    text = _text(page.text)
    assert (text.count("PARA500"), text.count("T26-0102")) == (4, 0)  # one per reading
    assert "1–4 of 4" in text
    assert "/api/v1/data/process-readings?format=parquet&lot_number=T26-0101" in page.text
