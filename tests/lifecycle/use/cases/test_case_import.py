"""``pharmaqms ingest e2b FILE.xml`` and ``pharmaqms ingest faers FILE.json``: each report a
case, its number printed (``created PV-…`` / ``updated PV-…``); a message that can't be taken
is refused alone with its reason; a file that can't be read at all exits 2 and changes
nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.kernel.cli import run_cli
from tests.lifecycle.use.cases.pv_steps import counts
from tests.platform.company import SAMPLES as PLATFORM_SAMPLES
from tests.platform.company import set_up_company
from tests.support import browser_login

from pharmaqms.kernel import clock
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.use.cases import facts
from pharmaqms.lifecycle.use.cases.models import PVCase, PVCaseVersion
from pharmaqms.platform.ingest import service as ingest

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


@pytest.fixture(autouse=True)
def _clock_stops_after_the_database_is_made(db: Any, frozen_clock: clock.FrozenClock) -> None:
    """The template database is made on real time; the tests then run on 2 March 2026."""


@pytest.mark.postgres
def test_an_e2b_batch_creates_a_case_and_a_second_delivery_updates_it(db: Any) -> None:
    first = run_cli(db, "ingest", "e2b", str(SAMPLES / "serious_hospitalisation.xml"))
    again = run_cli(db, "ingest", "e2b", str(SAMPLES / "serious_hospitalisation.xml"))

    assert (first.exit_code, first.stdout) == (0, "created PV-2026-0001\n")
    assert (again.exit_code, again.stdout) == (0, "updated PV-2026-0001\n")
    with unit_of_work(db, write=False) as session:
        case = session.scalars(select(PVCase)).one()
        found = facts.of_case(session, case)
        assert (case.source, case.status, case.case_version) == ("e2b", "received", 2)
        assert found.serious and found.suspects
        versions = session.scalars(
            select(PVCaseVersion.changes).order_by(PVCaseVersion.case_version)
        ).all()
        assert versions == [{"initial": True}, {}]  # the same report again changes nothing


def test_a_negative_age_in_an_e2b_message_is_a_finding_not_a_value(db: Any) -> None:
    taken = run_cli(db, "ingest", "e2b", str(SAMPLES / "negative_age.xml"))

    assert taken.exit_code == 0, taken.output
    with unit_of_work(db, write=False) as session:
        case = session.scalars(select(PVCase)).one()
        assert case.patient_age_years is None
        assert [f["field"] for f in case.findings] == ["patient_age"]
        assert case.findings[0]["value"].startswith("-")


@pytest.mark.parametrize(
    "weight",
    ["680", "7000", "0"],
    ids=["above the case's 650 kg", "above the reader's own 700 kg", "zero"],
)
def test_an_impossible_weight_in_an_e2b_message_is_a_finding_not_a_value(
    db: Any, people: Any, app: Any, tmp_path: Path, weight: str
) -> None:
    # Before, a weight above 650 kg refused the whole message ("a weight of 680 kg is not
    # possible"): now it is treated as an impossible age is. Above 700 kg (or at 0) the E2B
    # reader notes the value too; the case holds one finding for it, not two.
    sample = (SAMPLES / "serious_hospitalisation.xml").read_text(encoding="utf-8")
    assert sample.count('value="61.5" unit="kg"') == 1
    heavy = tmp_path / "heavy.xml"
    heavy.write_text(
        sample.replace('value="61.5" unit="kg"', f'value="{weight}" unit="kg"'), encoding="utf-8"
    )

    taken = run_cli(db, "ingest", "e2b", str(heavy))

    assert (taken.exit_code, taken.stdout) == (0, "created PV-2026-0001\n"), taken.output
    with unit_of_work(db, write=False) as session:
        case = session.scalars(select(PVCase)).one()
        found = facts.of_case(session, case)
        assert case.patient_weight_kg is None
        weight_findings = [
            f for f in case.findings if "weight" in f["field"] or "D.3" in f["field"]
        ]
        assert weight_findings == [
            {
                "field": "patient_weight",
                "value": weight,
                "message": f"a weight of {weight} kg is not possible: it must be above 0 and at "
                "most 650 kg: not taken",
            }
        ]
        # The rest of the case is kept: the patient's age, the suspect drug with its lot, the
        # serious reaction.
        assert case.patient_age_years == 67
        assert found.serious
        assert [p.lot_number for p in found.suspects] == ["LOT-0424-B17"]
        case_id = case.id
    # The finding is visible on the case's page, as the age finding is.
    client = TestClient(app)
    assert browser_login(client, "pv").status_code == 303
    page = client.get(f"/pv/cases/{case_id}")
    assert page.status_code == 200
    assert (
        f'<li class="pv-finding">patient_weight: “{weight}” — a weight of {weight} kg is not '
        "possible" in page.text
    )


def test_a_malformed_message_is_refused_alone(db: Any) -> None:
    taken = run_cli(db, "ingest", "e2b", str(SAMPLES / "batch_of_three_middle_malformed.xml"))

    assert taken.exit_code == 0, taken.output
    lines = taken.stdout.splitlines()
    assert lines[:2] == ["created PV-2026-0001", "created PV-2026-0002"]
    assert len(lines) == 3 and lines[2].startswith("refused message 2: ")


def test_an_e2b_file_with_a_doctype_exits_2_and_changes_nothing(db: Any) -> None:
    before = counts(db)

    refused = run_cli(db, "ingest", "e2b", str(SAMPLES / "doctype_entity.xml"))

    assert refused.exit_code == 2
    assert refused.stdout == ""
    assert "DOCTYPE" in refused.stderr or "doctype" in refused.stderr
    assert counts(db) == before


def test_faers_reports_taken_by_the_platform_become_cases(db: Any, people: Any) -> None:
    set_up_company(db, people, batches=("T26-0101",))

    taken = run_cli(db, "ingest", "faers", str(PLATFORM_SAMPLES / "faers_drug_events.json"))
    again = run_cli(db, "ingest", "faers", str(PLATFORM_SAMPLES / "faers_drug_events.json"))

    assert taken.exit_code == 0, taken.output
    created = [line for line in taken.stdout.splitlines() if line.startswith("created ")]
    assert created == ["created PV-2026-0001", "created PV-2026-0002", "created PV-2026-0003"], (
        taken.stdout
    )
    # A re-delivery is a duplicate for the platform: no report, so no case, is taken twice.
    assert "created PV" not in again.stdout
    with unit_of_work(db, write=False) as session:
        cases = session.scalars(select(PVCase).order_by(PVCase.id)).all()
        # The delivery listener, after commit, finds the command's cases taken already.
        assert [c.number for c in cases] == ["PV-2026-0001", "PV-2026-0002", "PV-2026-0003"]
        assert {(c.source, c.case_version) for c in cases} == {("faers", 1)}
        linked = [
            p.lot_id
            for c in cases
            for p in facts.products_of(session, c)
            if p.lot_number == "T26-0101"
        ]
        assert linked and all(lot_id is not None for lot_id in linked)


def test_a_faers_delivery_from_any_entry_point_becomes_cases_after_commit(
    db: Any, people: Any
) -> None:
    set_up_company(db, people, batches=("T26-0101",))
    content = (PLATFORM_SAMPLES / "faers_drug_events.json").read_bytes()

    with unit_of_work(db) as session:  # as the upload page and the API deliver
        ingest.ingest(session, actor=people.pv, kind="faers", content=content)

    with unit_of_work(db, write=False) as session:
        cases = session.scalars(select(PVCase).order_by(PVCase.id)).all()
        assert [(c.source, c.source_reference) for c in cases] == [
            ("faers", "26104417"),
            ("faers", "26104418"),
            ("faers", "26104419"),
        ]
        versions = session.scalars(select(PVCaseVersion.source_reference)).all()
        assert sorted(versions) == ["26104417 v1", "26104418 v2", "26104419 v1"]
