"""The registers on the demo database: sorted by each column (the order checked against the
database), filtered and paged, exported to CSV and XLSX with the filters applied (read back, the
export audited), bad sort and paging refused with 400 and nothing changed; the global search by
number and by word, limited to what the person may read; the audit trail by record number."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select
from tests.demo_support import demo_instance, demo_template
from tests.support import app_for
from tests.web.conftest import UiClient

from pharmaqms.cli.demo import DEMO_PASSWORD
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.http.registers import EXPORT_RECORD_TYPE, to_csv
from pharmaqms.kernel.models import AuditEntry, User
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.rnd.eln.models import Experiment
from pharmaqms.quality.capa.models import Capa
from pharmaqms.quality.deviations.models import Deviation

DEVIATION_LINK = re.compile(r'<a href="/deviations/(\d+)">')
CAPA_LINK = re.compile(r'<td class="nowrap"><a href="/capas/(\d+)">')


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


def audit_rows(database: Database) -> int:
    with unit_of_work(database) as session:
        return int(session.scalar(select(func.count()).select_from(AuditEntry)) or 0)


def exports(database: Database) -> list[AuditEntry]:
    with unit_of_work(database) as session:
        found = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "export", AuditEntry.record_type == EXPORT_RECORD_TYPE)
            .order_by(AuditEntry.seq)
        )
        rows = list(found)
        session.expunge_all()
        return rows


def _key(value: Any) -> tuple[bool, Any]:
    """Nulls first ascending, as both databases' ORDER BY put them here (SQLite; PostgreSQL
    would put them last: the demo's sorted columns hold no nulls where it matters)."""
    return (value is not None, value)


DEVIATION_COLUMNS = {
    "number": lambda d: d.number,
    "title": lambda d: d.title,
    "classification": lambda d: d.classification,
    "area": lambda d: d.area,
    "discovered": lambda d: d.discovered_at,
    "due": lambda d: d.due_at,
    "status": lambda d: d.status,
}


@pytest.mark.parametrize("column", sorted(DEVIATION_COLUMNS))
@pytest.mark.parametrize("descending", [False, True])
def test_the_deviation_register_sorts_by_each_column(
    demo_db: Database, column: str, descending: bool
) -> None:
    qa = client(demo_db, "quinn.qa")
    value = DEVIATION_COLUMNS[column]
    with unit_of_work(demo_db) as session:
        rows = list(session.scalars(select(Deviation)))
        assert len(rows) > 5
        expected = [
            d.id
            for d in sorted(
                sorted(rows, key=lambda d: d.id, reverse=descending),
                key=lambda d: _key(value(d)),
                reverse=descending,
            )
        ]

    sort = ("-" if descending else "") + column
    page = qa.get(f"/deviations?sort={sort}")

    assert page.status_code == 200
    shown = [int(i) for i in DEVIATION_LINK.findall(page.text)]
    assert shown == expected[: len(shown)] and len(shown) == min(50, len(expected))
    assert f'aria-sort="{"descending" if descending else "ascending"}"' in page.text


CAPA_COLUMNS = {
    "number": lambda c, names: c.number,
    "title": lambda c, names: c.title,
    "owner": lambda c, names: names[c.owner_id],
    "due": lambda c, names: c.due_at,
    "status": lambda c, names: c.status,
}


@pytest.mark.parametrize("column", sorted(CAPA_COLUMNS))
def test_the_capa_register_sorts_by_each_column_including_the_owner_s_name(
    demo_db: Database, column: str
) -> None:
    qa = client(demo_db, "quinn.qa")
    with unit_of_work(demo_db) as session:
        names = {u.id: u.full_name for u in session.scalars(select(User))}
        rows = list(session.scalars(select(Capa)))
        assert len(rows) > 2
        expected = [
            c.id
            for c in sorted(
                sorted(rows, key=lambda c: c.id, reverse=True),
                key=lambda c: CAPA_COLUMNS[column](c, names),
                reverse=True,
            )
        ]

    page = qa.get(f"/capas?sort=-{column}").text
    register = page[page.index('data-testid="capa-register"') : page.index('id="overdue-actions"')]

    shown = [int(i) for i in CAPA_LINK.findall(register)]
    assert shown == expected[: len(shown)] and shown


def test_a_filter_and_the_pages_after_it_keep_the_filter_and_the_order(
    demo_db: Database,
) -> None:
    qa = client(demo_db, "quinn.qa")
    with unit_of_work(demo_db) as session:
        closed = list(
            session.scalars(
                select(Deviation.id)
                .where(Deviation.status == "closed")
                .order_by(Deviation.number, Deviation.id)
            )
        )
    assert len(closed) > 3, "the demo has closed deviations"

    first = qa.get("/deviations?status=closed&sort=number&offset=0").text
    second = qa.get(f"/deviations?status=closed&sort=number&offset={len(closed) - 2}").text

    assert [int(i) for i in DEVIATION_LINK.findall(first)] == closed[:50]
    assert [int(i) for i in DEVIATION_LINK.findall(second)] == closed[-2:]
    assert f"of {len(closed)}" in first
    # The sort heading's link keeps the filter and starts again at the first page.
    assert "status=closed" in re.search(r'href="([^"]*sort=-number[^"]*)"', first).group(1)


def test_the_exports_hold_every_filtered_row_in_csv_and_xlsx_and_are_audited(
    demo_db: Database,
) -> None:
    qa = client(demo_db, "quinn.qa")
    with unit_of_work(demo_db) as session:
        area = session.scalars(select(Deviation.area).order_by(Deviation.id)).first()
        wanted = list(
            session.scalars(
                select(Deviation.number)
                .where(Deviation.area == area)
                .order_by(Deviation.number.desc(), Deviation.id.desc())
            )
        )
        every = int(session.scalar(select(func.count()).select_from(Deviation)) or 0)
    assert 0 < len(wanted) < every
    before = len(exports(demo_db))

    as_csv = qa.get(f"/deviations?area={area}&sort=-number&offset=50&export=csv")
    as_xlsx = qa.get(f"/deviations?area={area}&sort=-number&export=xlsx")

    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    assert "attachment" in as_csv.headers["content-disposition"]
    assert as_csv.content.startswith(b"\xef\xbb\xbf")  # the BOM Excel reads UTF-8 by
    table = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert table[0] == ["Number", "Title", "Class", "Area", "Discovered", "Due", "Status"]
    # all pages (the offset is a page's, not the export's), the filter and the order applied
    assert [r[0] for r in table[1:]] == wanted
    assert {r[3] for r in table[1:]} == {area}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", table[1][4])

    book = load_workbook(io.BytesIO(as_xlsx.content), read_only=True)
    sheet = list(book.active.iter_rows(values_only=True))
    assert sheet[0] == ("Number", "Title", "Class", "Area", "Discovered", "Due", "Status")
    assert [r[0] for r in sheet[1:]] == wanted
    assert isinstance(sheet[1][4], datetime)

    audited = exports(demo_db)[before:]
    assert [e.actor_username for e in audited] == ["quinn.qa", "quinn.qa"]
    assert [e.record_label for e in audited] == ["Deviations register"] * 2
    assert '"format":"csv"' in audited[0].changes and '"format":"xlsx"' in audited[1].changes
    assert f'"rows":{len(wanted)}' in audited[0].changes
    assert f'"area":"{area}"' in audited[0].changes


def test_an_export_needs_what_the_page_needs(demo_db: Database) -> None:
    operator = client(demo_db, "oscar.operator")
    before = audit_rows(demo_db)

    refused = operator.get("/admin/users?export=csv")

    assert refused.status_code == 403
    assert audit_rows(demo_db) == before


def test_a_cell_that_a_spreadsheet_would_run_as_a_formula_is_quoted() -> None:
    content = to_csv(["Title"], [['=HYPERLINK("http://x")'], ["+1"], ["-2"], ["@A1"], ["ok"]])
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == ['\'=HYPERLINK("http://x")', "'+1", "'-2", "'@A1", "ok"]


@pytest.mark.parametrize(
    ("url", "named"),
    [
        ("/deviations?sort=password", "sortable columns: number, title"),
        ("/deviations?sort=-id;DROP TABLE deviations", "cannot be sorted by"),
        ("/capas?offset=-50", "is not a whole number"),
        ("/documents?offset=abc", "is not a whole number"),
        ("/deviations?export=pdf", "not a format offered: csv, xlsx"),
        ("/admin/users?sort=password_hash&export=csv", "cannot be sorted by"),
    ],
)
def test_an_unknown_sort_column_or_a_bad_page_is_refused_and_changes_nothing(
    demo_db: Database, url: str, named: str
) -> None:
    admin = client(demo_db, "amelia.admin")
    before = audit_rows(demo_db)

    response = admin.get(url)

    assert response.status_code == 400
    assert named in response.text
    assert audit_rows(demo_db) == before


TOTAL = re.compile(r'class="pagination-summary">[^<]* of (\d+)</span>')


@pytest.mark.parametrize(
    "url",
    [
        "/changes?sort=-requested",
        "/complaints?sort=product",
        "/documents?sort=-status",
        "/admin/users?sort=-password_age&status=active",
        "/production/batch-records?sort=-exceptions",
        "/production/equipment?sort=-name",
        "/production/release?sort=cycle_time",
        "/production/monitoring/alerts?status=&sort=-value",
        "/production/qc?sort=item&offset=50",
        "/audit?sort=record&record_type=deviation",
    ],
)
def test_each_register_sorts_and_exports_every_filtered_row(demo_db: Database, url: str) -> None:
    admin = client(demo_db, "amelia.admin")

    page = admin.get(url)
    exported = admin.get(url + "&export=xlsx")

    assert page.status_code == 200, page.text
    assert 'aria-sort="' in page.text and 'data-testid="register-export"' in page.text
    total = TOTAL.search(page.text)
    assert total is not None, "the demo has rows in every register"
    assert exported.status_code == 200
    rows = list(load_workbook(io.BytesIO(exported.content)).active.iter_rows(values_only=True))
    assert len(rows) - 1 == int(total.group(1))


def test_the_audit_trail_sorts_oldest_first_when_asked(demo_db: Database) -> None:
    auditor = client(demo_db, "ian.auditor")

    page = auditor.get("/audit?sort=seq&record_type=deviation").text

    seqs = [int(s) for s in re.findall(r'data-seq="(\d+)"', page)]
    assert len(seqs) > 1 and seqs == sorted(seqs)


def test_the_training_matrix_exports_with_its_job_role_filter_and_is_audited(
    demo_db: Database,
) -> None:
    qa = client(demo_db, "quinn.qa")
    before = len(exports(demo_db))

    sheet = qa.get("/training/matrix?export=xlsx")
    bad = qa.get("/training/matrix?export=docx")

    rows = list(load_workbook(io.BytesIO(sheet.content)).active.iter_rows(values_only=True))
    assert rows[0][:3] == ("Person", "Username", "Job roles") and len(rows) > 1
    assert bad.status_code == 400
    audited = exports(demo_db)[before:]
    assert [e.record_label for e in audited] == ["Training matrix register"]


def results(page: str) -> str:
    """The search's result table (empty when nothing was found)."""
    start = page.find('data-testid="search-results"')
    return "" if start < 0 else page[start : page.index("</table>", start)]


def test_the_search_finds_a_record_by_its_number_first(demo_db: Database) -> None:
    qa = client(demo_db, "quinn.qa")
    with unit_of_work(demo_db) as session:
        deviation = session.scalars(select(Deviation).order_by(Deviation.id)).first()
        assert deviation is not None
        number, title, dev_id = deviation.number, deviation.title, deviation.id

    found = qa.get(f"/search?q={number.lower()}").text

    first = re.search(r"<tbody>\s*<tr([^>]*)>\s*<td[^>]*><a href=\"([^\"]+)\">([^<]+)</a>", found)
    assert first is not None
    assert 'data-exact="1"' in first.group(1)
    assert first.group(2) == f"/deviations/{dev_id}" and first.group(3) == number
    assert title in found


def test_the_search_finds_records_by_words_of_their_title(demo_db: Database) -> None:
    qa = client(demo_db, "quinn.qa")
    with unit_of_work(demo_db) as session:
        deviation = session.scalars(select(Deviation).order_by(Deviation.id.desc())).first()
        assert deviation is not None
        words = [w for w in deviation.title.split() if len(w) > 3][:2]
        number = deviation.number

    found = qa.get("/search", params={"q": " ".join(w.upper() for w in words)}).text

    assert number in results(found)


def test_the_search_leaves_out_the_types_a_person_may_not_read(demo_db: Database) -> None:
    with unit_of_work(demo_db) as session:
        experiment = session.scalars(select(Experiment).order_by(Experiment.id)).first()
        assert experiment is not None
        number, title = experiment.number, experiment.title

    by_scientist = client(demo_db, "rahul.rd").get(f"/search?q={number}").text
    by_auditor = client(demo_db, "ian.auditor").get(f"/search?q={number}").text
    by_auditor_words = client(demo_db, "ian.auditor").get("/search", params={"q": title}).text

    assert number in results(by_scientist)
    assert results(by_auditor) == "" and "Nothing you may read matches" in by_auditor
    assert number not in results(by_auditor_words)


def test_the_header_holds_the_search_box(demo_db: Database) -> None:
    page = client(demo_db, "quinn.qa").get("/deviations").text
    assert 'data-testid="global-search"' in page and 'action="/search"' in page


def test_the_audit_trail_takes_a_deviation_s_number_as_its_record_id(demo_db: Database) -> None:
    auditor = client(demo_db, "ian.auditor")
    with unit_of_work(demo_db) as session:
        deviation = session.scalars(select(Deviation).order_by(Deviation.id)).first()
        assert deviation is not None
        number, dev_id = deviation.number, deviation.id

    by_number = auditor.get(f"/audit?record_id={number}")
    by_id = auditor.get(f"/audit?record_type=deviation&record_id={dev_id}")

    seqs = re.compile(r'data-seq="(\d+)"')
    assert by_number.status_code == 200
    assert seqs.findall(by_number.text) == seqs.findall(by_id.text) != []
