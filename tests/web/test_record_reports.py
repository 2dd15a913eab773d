"""Record reports for inspectors, on the demo database: a deviation, CAPA, change, complaint,
OOS investigation, nonconformance and batch record each print as a PDF with the record's
number and title, every signature's manifestation (printed name, meaning, date and time), a
linked record's number and the audit trail in human terms; the download is recorded as an
export; who may not read records gets no file. The record page's trail on screen reads the same
way, and a browser's print of a record page drops the menu and the buttons."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests.demo_support import demo_instance, demo_template
from tests.live_server import served
from tests.support import app_for
from tests.web.conftest import UiClient

from pharmaqms.cli.demo import DEMO_PASSWORD, DEMO_TIME_ZONES
from pharmaqms.kernel import auth
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.identity import Channel
from pharmaqms.kernel.models import AuditEntry, ElectronicSignature, User
from pharmaqms.kernel.registry import RECORD_TYPES
from pharmaqms.kernel.reports.record import EXPORT_ACTION
from pharmaqms.kernel.reports.text import format_time
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.production.batchrecords.models import BatchRecordException
from pharmaqms.lifecycle.production.nonconforming.models import NonconformingProduct
from pharmaqms.lifecycle.production.qc.models import OosInvestigation
from pharmaqms.quality.deviations.models import Deviation
from pharmaqms.quality.links import QualityLink, links_of

RAW_ID = re.compile(r"\b[a-z]+(?:_[a-z]+)*_id\b")
MICROSECONDS = re.compile(r"\d\d:\d\d:\d\d[.,]\d")
ISO_STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d")
QUALITY_TYPES = ("deviation", "capa", "change_request", "complaint")


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_template(tmp_path_factory)


@pytest.fixture
def demo_db(template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    yield from demo_instance(template, tmp_path / "demo.db", monkeypatch)


def client(database: Database, username: str) -> UiClient:

    ui = UiClient(app_for(database))
    response = ui.login(username, DEMO_PASSWORD)
    assert response.status_code == 303, response.text
    return ui


AUDITOR_ZONE = ZoneInfo(DEMO_TIME_ZONES["ian.auditor"])


def pdf_text(content: bytes) -> str:
    """The report's text with line breaks of wrapped cells read as spaces."""
    pages = PdfReader(io.BytesIO(content)).pages
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in pages))


def signed_ids(session: Session, record_type: str) -> set[int]:
    return set(
        session.scalars(
            select(ElectronicSignature.record_id).where(
                ElectronicSignature.record_type == record_type
            )
        )
    )


def pick(session: Session, record_type: str) -> tuple[int, str]:
    """A signed record of the type that has a linked record, and that record's number."""
    signed = signed_ids(session, record_type)
    if record_type in QUALITY_TYPES:
        linked = set(
            session.scalars(
                select(QualityLink.source_id).where(QualityLink.source_type == record_type)
            )
        ) | set(
            session.scalars(
                select(QualityLink.target_id).where(QualityLink.target_type == record_type)
            )
        )
        record_id = min(signed & linked)
        links = links_of(session, record_type, record_id)
        return record_id, (links.raised_from + links.led_to)[0].label
    if record_type == "oos_investigation":
        oos = session.scalars(
            select(OosInvestigation)
            .where(OosInvestigation.nonconformance_id.is_not(None))
            .where(OosInvestigation.id.in_(signed))
        ).first()
        assert oos is not None and oos.nonconformance_id is not None
        nc = session.get(NonconformingProduct, oos.nonconformance_id)
        assert nc is not None
        return oos.id, nc.number
    if record_type == "nonconforming_product":
        found = session.scalars(
            select(NonconformingProduct)
            .where(NonconformingProduct.source_type == "oos_investigation")
            .where(NonconformingProduct.id.in_(signed))
        ).first()
        assert found is not None
        return found.id, found.source_label
    exception = session.scalars(
        select(BatchRecordException)
        .where(BatchRecordException.deviation_id.is_not(None))
        .where(BatchRecordException.batch_record_id.in_(signed))
    ).first()
    assert exception is not None and exception.deviation_id is not None
    deviation = session.get(Deviation, exception.deviation_id)
    assert deviation is not None
    return exception.batch_record_id, deviation.number


def exports_of(database: Database, record_type: str, record_id: int) -> int:
    with unit_of_work(database, write=False) as session:
        return int(
            session.scalar(
                select(func.count()).where(
                    AuditEntry.record_type == record_type,
                    AuditEntry.record_id == record_id,
                    AuditEntry.action == EXPORT_ACTION,
                )
            )
            or 0
        )


@pytest.mark.parametrize(
    "record_type",
    [
        "deviation",
        "capa",
        "change_request",
        "complaint",
        "oos_investigation",
        "nonconforming_product",
        "batch_record",
    ],
)
def test_a_record_prints_with_its_signatures_links_and_trail_in_human_terms(
    demo_db: Database, record_type: str
) -> None:
    rt = RECORD_TYPES[record_type]
    with unit_of_work(demo_db, write=False) as session:
        record_id, linked = pick(session, record_type)
        record = session.get(rt.model, record_id)
        assert record is not None
        number = record.number
        headline = getattr(record, "title", None) or getattr(record, "summary", None)
        signatures = [
            (s.signer_name, s.signer_username, s.meaning, s.signed_at)
            for s in session.scalars(
                select(ElectronicSignature).where(
                    ElectronicSignature.record_type == record_type,
                    ElectronicSignature.record_id == record_id,
                )
            )
        ]
    assert signatures
    before = exports_of(demo_db, record_type, record_id)

    response = client(demo_db, "ian.auditor").get(f"/records/{record_type}/{record_id}/report.pdf")

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    text = pdf_text(response.content)
    assert f"{rt.label} {number}" in text
    if headline:
        assert headline.split()[0] in text and " ".join(headline.split()[:3]) in text
    for name, username, meaning, signed_at in signatures:
        # In the reader's time zone (the demo's auditor works in London).
        when = format_time(signed_at, seconds=True, zone=AUDITOR_ZONE)
        row = f"{meaning} {name} ({username}) {when}"
        assert row in text, row
    assert linked in text
    # The trail in human terms: action and field labels, names, no ids, no microseconds.
    assert "Audit trail" in text and "Created" in text
    assert "Status" in text
    assert RAW_ID.findall(text) == []
    assert MICROSECONDS.findall(text) == []
    assert ISO_STAMP.findall(text) == []
    assert "printed" in text and "by Ian Clarke (ian.auditor)" in text
    # The hand-out is itself on the record's trail.
    assert exports_of(demo_db, record_type, record_id) == before + 1


def test_the_report_s_trail_names_people_instead_of_user_ids(demo_db: Database) -> None:
    with unit_of_work(demo_db, write=False) as session:
        deviation = session.scalars(
            select(Deviation).where(Deviation.investigator_id.is_not(None)).order_by(Deviation.id)
        ).first()
        assert deviation is not None
        investigator = session.get(User, deviation.investigator_id)
        assert investigator is not None
        name = f"{investigator.full_name} ({investigator.username})"
        deviation_id = deviation.id

    text = pdf_text(
        client(demo_db, "ian.auditor").get(f"/records/deviation/{deviation_id}/report.pdf").content
    )

    assert f"Investigator — → {name}" in text


def test_who_may_not_read_records_gets_no_report_and_nothing_is_recorded(
    demo_db: Database,
) -> None:
    with unit_of_work(demo_db) as session:
        auth.add_user(
            session,
            actor=auth.system_actor(session, Channel.CLI),
            username="visitor",
            full_name="Vera Visitor",
            roles=[],
            password=DEMO_PASSWORD,
            must_change_password=False,
        )
        record_id = min(signed_ids(session, "deviation"))
    before = exports_of(demo_db, "deviation", record_id)
    visitor = client(demo_db, "visitor")

    page = visitor.get(f"/records/deviation/{record_id}/report.pdf")
    api = visitor.client.get(f"/api/v1/records/deviation/{record_id}/report.pdf")

    assert page.status_code == 403 and not page.content.startswith(b"%PDF")
    assert api.status_code == 403 and not api.content.startswith(b"%PDF")
    assert exports_of(demo_db, "deviation", record_id) == before


def test_the_api_hands_out_the_same_report_and_refuses_an_unknown_record(
    demo_db: Database,
) -> None:
    with unit_of_work(demo_db, write=False) as session:
        record_id = min(signed_ids(session, "capa"))
        number = session.get(RECORD_TYPES["capa"].model, record_id).number  # type: ignore[union-attr]
    auditor = client(demo_db, "ian.auditor")

    found = auditor.client.get(f"/api/v1/records/capa/{record_id}/report.pdf")
    missing = auditor.get("/records/deviation/999999/report.pdf")
    missing_api = auditor.client.get("/api/v1/records/deviation/999999/report.pdf")
    unknown_type = auditor.get("/records/no_such_type/1/report.pdf")

    assert found.status_code == 200 and f"CAPA {number}" in pdf_text(found.content)
    assert f"{number}-report.pdf" in found.headers["content-disposition"]
    for refused in (missing, missing_api, unknown_type):
        assert refused.status_code == 404 and not refused.content.startswith(b"%PDF")


def test_the_record_page_trail_reads_in_human_terms_and_links_the_report(
    demo_db: Database,
) -> None:
    with unit_of_work(demo_db, write=False) as session:
        deviation = session.scalars(
            select(Deviation).where(Deviation.investigator_id.is_not(None)).order_by(Deviation.id)
        ).first()
        assert deviation is not None
        investigator = session.get(User, deviation.investigator_id)
        assert investigator is not None
        deviation_id, name = deviation.id, f"{investigator.full_name} ({investigator.username})"
    auditor = client(demo_db, "ian.auditor")

    page = auditor.get(f"/records/deviation/{deviation_id}").text
    viewer = auditor.get(f"/audit?record_type=deviation&record_id={deviation_id}").text

    assert f'href="/records/deviation/{deviation_id}/report.pdf"' in page
    for html in (page, viewer):
        trail = html[html.index('class="data-table audit-table"') :]
        assert '<td class="field">Investigator</td>' in trail
        assert name in trail
        assert "investigator_id" not in trail
        assert MICROSECONDS.findall(trail) == [] and ISO_STAMP.findall(trail) == []
        assert re.search(
            r'class="when">\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (GMT \(\+00:00\)|BST \(\+01:00\))<', trail
        )


@pytest.mark.browser
def test_a_browser_print_of_a_record_page_drops_the_menu_and_buttons(
    chromium: Any, demo_db: Database
) -> None:

    with unit_of_work(demo_db, write=False) as session:
        record_id = min(signed_ids(session, "deviation"))
    with served(app_for(demo_db)) as base:
        context = chromium.new_context()
        page = context.new_page()
        page.goto(f"{base}/login")
        page.fill("input[name=username]", "ian.auditor")
        page.fill("input[name=password]", DEMO_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/")
        page.goto(f"{base}/deviations/{record_id}")
        assert page.locator("nav.main-menu").is_visible()
        assert page.locator("[data-testid=print-pdf]").is_visible()

        page.emulate_media(media="print")

        assert not page.locator("nav.main-menu").is_visible()
        assert not page.locator("[data-testid=print-pdf]").is_visible()
        assert not page.locator(".site-header").is_visible()
        assert page.locator("h1").first.is_visible()
        assert page.locator(".audit-table").first.is_visible()
        context.close()


def test_a_notebook_record_s_report_needs_the_notebook_s_read_permission(
    demo_db: Database,
) -> None:
    with unit_of_work(demo_db, write=False) as session:
        model = RECORD_TYPES["rnd_experiment"].model
        experiment_id = session.scalars(select(model.id).order_by(model.id)).first()
        assert experiment_id is not None
    before = exports_of(demo_db, "rnd_experiment", experiment_id)
    url = f"/records/rnd_experiment/{experiment_id}/report.pdf"

    # The auditor reads the notebook only through QA's selective disclosure; QA reads it.
    refused = client(demo_db, "ian.auditor").get(url)
    granted = client(demo_db, "quinn.qa").get(url)

    assert refused.status_code == 403 and not refused.content.startswith(b"%PDF")
    assert granted.status_code == 200 and granted.content.startswith(b"%PDF")
    assert exports_of(demo_db, "rnd_experiment", experiment_id) == before + 1


def test_a_notebook_record_is_not_opened_by_the_generic_pages_and_api_to_a_records_reader(
    demo_db: Database,
) -> None:
    """The generic record page, its trail (page, CSV, JSON), summary, signatures and
    transitions ask for the notebook's own read permission, as the notebook's pages do."""
    with unit_of_work(demo_db, write=False) as session:
        model = RECORD_TYPES["rnd_experiment"].model
        experiment_id = session.scalars(select(model.id).order_by(model.id)).first()
        assert experiment_id is not None
    urls = [
        "/records/rnd_experiment",
        f"/records/rnd_experiment/{experiment_id}",
        f"/api/v1/records/rnd_experiment/{experiment_id}",
        f"/api/v1/records/rnd_experiment/{experiment_id}/audit",
        f"/api/v1/records/rnd_experiment/{experiment_id}/audit?format=csv",
        f"/api/v1/records/rnd_experiment/{experiment_id}/signatures",
        f"/api/v1/records/rnd_experiment/{experiment_id}/transitions",
    ]
    auditor, qa = client(demo_db, "ian.auditor"), client(demo_db, "quinn.qa")
    for url in urls:
        refused, granted = auditor.get(url), qa.get(url)
        assert refused.status_code == 403, (url, refused.status_code)
        assert granted.status_code == 200, (url, granted.status_code, granted.text[:200])
