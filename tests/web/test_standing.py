"""Where things stand, on the demo database: every figure equals the rows of the page it
links to (the register's CSV export, or the queue or board it opens); the CAPA ageing bands
split the open CAPAs without overlap or gap; a manager's home page opens with the figures and
an operator's does not; the team's training is the reader's area (everything for QA) and its
percentages equal the training matrix's cells."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from sqlalchemy import select
from tests.demo_support import demo_instance, demo_template
from tests.support import app_for
from tests.web.conftest import UiClient

from pharmaqms.cli.demo import DEMO_PASSWORD
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.distribution import board
from pharmaqms.lifecycle.production.release import service as release
from pharmaqms.quality.capa.models import OPEN_STATUSES, Capa
from pharmaqms.quality.training.status import Standing, training_matrix

FIGURE = re.compile(
    r'<a href="([^"]+)" data-testid="figure" data-label="([^"]+)">'
    r'(?:<span class="figure-value">)?(\d+)'
)
TRAINING = re.compile(
    r'<a href="/training/matrix\?job_role_id=(\d+)" data-testid="training-figure" '
    r'data-job-role="([^"]+)">(\d+) % current \((\d+)/(\d+)\)'
)


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


def figures(page: str) -> dict[str, tuple[str, int]]:
    found = {
        label: (url.replace("&amp;", "&"), int(value)) for url, label, value in FIGURE.findall(page)
    }
    assert found, "no figure on the page"
    return found


def csv_rows(ui: UiClient, url: str) -> int:
    joiner = "&" if "?" in url else "?"
    response = ui.get(f"{url}{joiner}export=csv")
    assert response.status_code == 200, (url, response.text[:300])
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    return len(rows) - 1  # the header


def test_every_figure_counts_the_rows_of_the_page_it_opens(demo_db: Database) -> None:
    ui = client(demo_db, "quinn.qa")
    page = ui.get("/standing")
    assert page.status_code == 200
    shown = figures(page.text)
    non_register = {"/production/release", "/distribution/alarms"}
    with unit_of_work(demo_db) as session:
        waiting = len(release.awaiting_release(session, limit=100_000))
        open_alarms = len(board.board(session, status="open", limit=100_000))
        raised = len(board.board(session, status="raised", limit=100_000))
    checked_registers = 0
    for label, (url, value) in shown.items():
        path = urlsplit(url).path
        if path == "/production/release":
            assert value == waiting, label
        elif path == "/distribution/alarms":
            status = dict(parse_qsl(urlsplit(url).query))["status"]
            assert value == {"open": open_alarms, "raised": raised}[status], label
        else:
            assert path not in non_register
            assert csv_rows(ui, url) == value, f"{label}: {url}"
            checked_registers += 1
    assert checked_registers >= 12
    # The demo is not empty where a manager looks first.
    assert shown["Deviations open"][1] > 0
    assert shown["CAPA open"][1] > 0


def test_capa_ageing_bands_split_the_open_capas(demo_db: Database) -> None:
    ui = client(demo_db, "quinn.qa")
    shown = figures(ui.get("/standing").text)
    bands = [v for label, (url, v) in shown.items() if "age=" in url]
    assert len(bands) == 4
    with unit_of_work(demo_db) as session:
        open_capas = len(
            session.scalars(
                select(Capa).where(Capa.status.in_([s.value for s in OPEN_STATUSES]))
            ).all()
        )
    assert sum(bands) == open_capas == shown["CAPA open"][1]


def test_a_managers_home_opens_with_the_figures_and_an_operators_does_not(
    demo_db: Database,
) -> None:
    assert 'data-testid="standing"' in client(demo_db, "quinn.qa").get("/").text
    assert 'data-testid="standing"' in client(demo_db, "sofia.supervisor").get("/").text
    operator_home = client(demo_db, "oscar.operator").get("/").text
    assert 'data-testid="standing"' not in operator_home
    # The page itself stays open to every reader of records.
    assert client(demo_db, "oscar.operator").get("/standing").status_code == 200


def test_team_training_is_the_readers_area_and_equals_the_matrix(demo_db: Database) -> None:
    qa_page = client(demo_db, "quinn.qa").get("/standing").text
    supervisor_page = client(demo_db, "sofia.supervisor").get("/standing").text
    qa_roles = {
        name: (int(rid), int(cur), int(req))
        for rid, name, _p, cur, req in TRAINING.findall(qa_page)
    }
    supervisor_roles = {name for _r, name, *_rest in TRAINING.findall(supervisor_page)}
    # QA manages training: every job role; the supervisor holds a production job role only.
    assert len(qa_roles) >= 4
    assert supervisor_roles == {"Tablet press operator"}
    with unit_of_work(demo_db) as session:
        for name, (role_id, current, required) in qa_roles.items():
            counts = training_matrix(session, job_role_id=role_id).counts()
            assert (current, required) == (counts[Standing.CURRENT.value], sum(counts.values())), (
                name
            )
    logistics_page = client(demo_db, "lena.logistics").get("/standing").text
    assert {name for _r, name, *_rest in TRAINING.findall(logistics_page)} == {
        "Warehouse and distribution operator"
    }
    # An R&D scientist holds no job role and does not manage training: no team.
    assert "there is no team to show" in client(demo_db, "rahul.rd").get("/standing").text
