"""The audit trail viewer and its CSV export, as an inspector uses them."""

from __future__ import annotations

import csv
import html
import io
import re
from typing import Any

import pytest
from tests.conftest import People
from tests.web.support import make_sop

from pharmaqms.kernel.audit_query import CSV_COLUMNS
from pharmaqms.kernel.db import Database

ROW_SEQ = re.compile(r'<tbody class="audit-entry" data-seq="(\d+)">')


def csv_link(page: str) -> str:
    found = re.search(r'<a class="btn" href="([^"]+)" data-testid="audit-csv">', page)
    assert found, "no CSV link"
    return html.unescape(found.group(1))


@pytest.mark.clause("annex11:9", "alcoa:legible")
def test_the_auditor_filters_the_trail_to_one_record(ui: Any, db: Database, people: People) -> None:
    _, vid, number = make_sop(db, people.qc, state="approved", approver=people.qa)
    make_sop(db, people.qc, title="Another SOP")

    page = ui("auditor").get(f"/audit?record_type=document_version&record_id={vid}").text

    labels = set(re.findall(r'href="/records/document_version/\d+">([^<]+)</a>', page))
    assert labels == {number}
    assert "<code>create</code>" in page
    assert "<code>sign</code>" in page
    assert "<code>transition:approve</code>" in page
    assert 'Chloe Chemist <span class="username">(qc)</span>' in page
    assert 'Quentin Quality <span class="username">(qa)</span>' in page
    # Newest first.
    seqs = [int(s) for s in ROW_SEQ.findall(page)]
    assert seqs == sorted(seqs, reverse=True) and len(seqs) == 4


def test_a_record_number_finds_that_record_s_trail(ui: Any, db: Database, people: People) -> None:
    _, vid, number = make_sop(db, people.qc, state="approved", approver=people.qa)
    make_sop(db, people.qc, title="Another SOP")

    by_number = ui("auditor").get(f"/audit?record_id={number}").text
    by_id = ui("auditor").get(f"/audit?record_type=document_version&record_id={vid}").text

    assert ROW_SEQ.findall(by_number) == ROW_SEQ.findall(by_id) != []
    # whoever may read the record may read its trail, by number too
    assert ui("qc").get(f"/audit?record_id={number}").status_code == 200


@pytest.mark.clause("annex11:9", "alcoa:legible")
def test_the_filters_by_user_action_and_text_narrow_the_trail(
    ui: Any, db: Database, people: People
) -> None:
    make_sop(db, people.qc, state="approved", approver=people.qa)
    client = ui("auditor")

    by_user = client.get("/audit?user=qa&action=sign").text
    by_text = client.get("/audit?q=Cleaning+of+the+tablet&record_type=document").text

    assert len(ROW_SEQ.findall(by_user)) == 1
    assert "<code>sign</code>" in by_user
    assert len(ROW_SEQ.findall(by_text)) == 1
    assert "<code>create</code>" in by_text


def test_a_date_range_outside_the_entries_finds_nothing_and_bad_input_is_named(
    ui: Any, people: People
) -> None:
    client = ui("auditor")

    empty = client.get("/audit?since=2000-01-01&until=2000-01-31").text
    bad = client.get("/audit?record_id=abc&since=yesterday").text

    assert ROW_SEQ.findall(empty) == []
    assert "No audit entries." in empty
    assert "no record is numbered &#39;abc&#39;: ignored" in bad
    assert "the from date &#39;yesterday&#39; is not a date (YYYY-MM-DD): ignored" in bad


def test_the_viewer_pages_through_the_trail(ui: Any, db: Database, people: People) -> None:
    for n in range(8):
        make_sop(db, people.qc, title=f"SOP {n}", state="approved", approver=people.qa)
    client = ui("auditor")

    first = client.get("/audit").text
    second = client.get("/audit?offset=50").text

    first_seqs = [int(s) for s in ROW_SEQ.findall(first)]
    second_seqs = [int(s) for s in ROW_SEQ.findall(second)]
    assert len(first_seqs) == 50
    assert len(second_seqs) > 0
    assert max(second_seqs) == min(first_seqs) - 1
    assert 'href="http://testserver/audit?offset=50" rel="next"' in first


@pytest.mark.clause("part11:11.10(b)", "annex11:9", "alcoa:legible", "alcoa:available")
def test_the_csv_export_of_the_filtered_set_opens_with_the_session_cookie(
    ui: Any, db: Database, people: People
) -> None:
    _, vid, number = make_sop(db, people.qc, state="approved", approver=people.qa)
    client = ui("auditor")
    page = client.get(f"/audit?record_type=document_version&record_id={vid}&user=qa").text

    response = client.get(csv_link(page))

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert tuple(rows[0].keys()) == CSV_COLUMNS
    assert {row["record"] for row in rows} == {number}
    assert {row["user"] for row in rows} == {"qa"}
    assert {row["action"] for row in rows} == {"sign", "transition:approve"}


@pytest.mark.clause("part11:11.10(b)", "alcoa:legible")
def test_the_csv_of_one_record_from_its_page(ui: Any, db: Database, people: People) -> None:
    _, vid, number = make_sop(db, people.qc, state="in_review")
    client = ui("auditor")

    response = client.get(f"/api/v1/records/document_version/{vid}/audit?format=csv")

    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert {row["record"] for row in rows} == {number}
    assert [r["new_value"] for r in rows if r["field"] == "status"] == ["draft", "in_review"]


def test_a_role_without_audit_read_is_refused_the_viewer(ui: Any, people: People) -> None:
    client = ui("qc")

    response = client.get("/audit")

    assert response.status_code == 403
    assert (
        "qc may not read the audit trail: the permission &#39;audit.read&#39; is not in any of "
        "their roles (qc_analyst)"
    ) in response.text
    assert 'href="/audit"' not in client.get("/").text  # and no menu entry for it


def test_whoever_may_read_a_record_may_read_its_own_trail(
    ui: Any, db: Database, people: People
) -> None:
    _, vid, number = make_sop(db, people.qc, state="approved", approver=people.qa)
    client = ui("qc")  # no audit.read: not the whole trail, but this record's

    page = client.get(f"/audit?record_type=document_version&record_id={vid}")

    assert page.status_code == 200, page.text
    assert set(re.findall(r'href="/records/document_version/\d+">([^<]+)</a>', page.text)) == {
        number
    }
    assert client.get("/audit?record_type=document_version").status_code == 403
    exported = client.get(csv_link(page.text))
    assert exported.status_code == 200, exported.text
    assert {row["record"] for row in csv.DictReader(io.StringIO(exported.text))} == {number}
