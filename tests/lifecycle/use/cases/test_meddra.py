"""MedDRA when licensed, on a hand-made FAKE release (tests/…/fake_meddra: invented codes and
terms in MedAscii's layout, never real MedDRA): both hierarchy layouts read the same, the
release is recorded with its version, events are coded LLT → PT with the primary SOC, the
periodic summary groups by SOC and PT; bad files and repeated loads are refused and change
nothing; without a release, cases keep verbatim terms as before."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from tests.kernel.cli import run_cli
from tests.lifecycle.use.cases.pv_steps import counts, staff_report

from pharmaqms.kernel import clock
from pharmaqms.kernel.errors import Conflict, InvalidInput, PermissionDenied
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.use.cases import facts, meddra, service
from pharmaqms.lifecycle.use.cases.intake import EventReport, ProductReport
from pharmaqms.lifecycle.use.cases.models import (
    MedDRALowLevelTerm,
    MedDRAPreferredTerm,
    MedDRARelease,
)
from pharmaqms.lifecycle.use.psur import service as psur

pytestmark = pytest.mark.postgres
FAKE = Path(__file__).resolve().parent / "fake_meddra"
PRODUCT = "Paracetamol 500 mg tablets"


@pytest.fixture(autouse=True)
def _clock(db: Any, frozen_clock: clock.FrozenClock) -> None:
    """Cases are received on 1 March 2026, the tests run on 2 March."""


def terminology(db: Any) -> dict[str, int]:
    with unit_of_work(db, write=False) as session:
        return {
            model.__tablename__: int(session.scalar(select(func.count()).select_from(model)) or 0)
            for model in (MedDRARelease, MedDRALowLevelTerm, MedDRAPreferredTerm)
        }


def load(db: Any, people: Any, directory: Path = FAKE / "hier", version: str | None = None) -> None:
    with unit_of_work(db) as session:
        meddra.load_release(session, actor=people.pv, directory=directory, version=version)


def test_both_hierarchy_layouts_give_each_pt_its_primary_soc() -> None:
    hier = meddra.parse_release(FAKE / "hier")
    chain = meddra.parse_release(FAKE / "chain", "99.9")

    assert hier.version == "99.9" and hier.language == "FAKE-English"
    expected = [
        ("99400001", "FAKE Zorblic rash", "99100001", "FAKE Skin organ class"),
        ("99400002", "FAKE Quentic liver injury", "99100002", "FAKE Liver organ class"),
        # under both SOCs in the hierarchy; its primary SOC is skin
        ("99400003", "FAKE Blorp itch", "99100001", "FAKE Skin organ class"),
    ]
    for parsed in (hier, chain):
        assert [(p.code, p.name, p.soc_code, p.soc_name) for p in parsed.pts] == expected
        assert [(t.code, t.pt_code, t.current) for t in parsed.llts] == [
            ("99400001", "99400001", True),
            ("99500001", "99400001", True),
            ("99400002", "99400002", True),
            ("99500002", "99400002", False),
            ("99400003", "99400003", True),
        ]


def test_a_loaded_release_codes_events_to_llt_and_pt(db: Any, people: Any) -> None:
    load(db, people)
    report = staff_report(
        events=(
            EventReport("itchy red skin", "99500001", date(2026, 2, 27)),  # an LLT code
            EventReport("Fake  Quentic LIVER injury"),  # the words of a current LLT
            EventReport("FAKE liver wobble"),  # a non-current LLT: not coded by its words
            EventReport("headache", "12345678"),  # a code this release does not hold
        )
    )
    with unit_of_work(db) as session:
        case = service.record_case(session, actor=people.pv, report=report)
        session.flush()
        events = facts.events_of(session, case)
        assert [(e.meddra_code, e.meddra_pt_code, e.meddra_version) for e in events] == [
            ("99500001", "99400001", "99.9"),
            ("99400002", "99400002", "99.9"),
            ("", "", ""),
            ("12345678", "", ""),
        ]
        assert case.findings == [
            {
                "field": "events[4].meddra_code",
                "value": "12345678",
                "message": "not an LLT of MedDRA 99.9: kept, not coded",
            }
        ]
        release = session.scalars(select(MedDRARelease)).one()
        assert (release.version, release.llt_count, release.pt_count) == ("99.9", 5, 3)
        assert sorted(release.files) == ["llt.asc", "mdhier.asc", "meddra_release.asc", "pt.asc"]


def test_without_meddra_events_keep_their_verbatim_terms(db: Any, people: Any) -> None:
    with unit_of_work(db) as session:
        case = service.record_case(
            session,
            actor=people.pv,
            report=staff_report(events=(EventReport("FAKE Zorblic rash", "99500001"),)),
        )
        session.flush()
        [event] = facts.events_of(session, case)
        assert (event.verbatim, event.meddra_code, event.meddra_pt_code) == (
            "FAKE Zorblic rash",
            "99500001",
            "",
        )
        assert case.findings == []


def test_the_periodic_summary_groups_coded_terms_by_soc_and_pt(db: Any, people: Any) -> None:
    load(db, people)
    reports = [
        (EventReport("rash", "99500001", seriousness=("hospitalisation",)),),
        (EventReport("rash on arms", "99400001"), EventReport("itch", "99400003")),
        (EventReport("liver", "99400002"),),
        (EventReport("Dizziness"),),
    ]
    with unit_of_work(db) as session:
        for events in reports:
            service.record_case(
                session,
                actor=people.pv,
                report=staff_report(products=(ProductReport(PRODUCT),), events=events),
            )
    with unit_of_work(db, write=False) as session:
        figures = psur.summary(session, PRODUCT, date(2026, 1, 1), date(2026, 3, 1)).figures

    assert [(t["soc"], t["label"], t["cumulative"]["cases"]) for t in figures["terms"]] == [
        ("FAKE Liver organ class", "FAKE Quentic liver injury", 1),
        ("FAKE Skin organ class", "FAKE Zorblic rash", 2),  # two LLTs, one PT
        ("FAKE Skin organ class", "FAKE Blorp itch", 1),
        ("", "dizziness", 1),
    ]
    assert figures["terms"][1]["cumulative"]["serious"] == 1


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        (("llt.asc", "99500001$fake$99499999$$$$$$$Y$$\n"), "points to PT 99499999"),
        (("llt.asc", "9950$short code$99400001$$$$$$$Y$$\n"), "'9950' is not an 8-digit"),
        (("llt.asc", "99500001$too few$\n"), "llt.asc line 1: 3 fields"),
        (("mdhier.asc", None), "the hierarchy is missing"),
        (("meddra_release.asc", None), "the MedDRA version (e.g. 27.0) is needed"),
    ],
)
def test_a_bad_release_is_refused_naming_the_file_and_nothing_is_loaded(
    db: Any, people: Any, tmp_path: Path, breakage: tuple[str, str | None], message: str
) -> None:
    directory = tmp_path / "release"
    shutil.copytree(FAKE / "hier", directory)
    name, content = breakage
    if content is None:
        (directory / name).unlink()
    else:
        (directory / name).write_text(content)
    before = counts(db), terminology(db)

    with pytest.raises(InvalidInput, match=message.replace("(", r"\(").replace(")", r"\)")):
        load(db, people, directory)

    assert (counts(db), terminology(db)) == before


def test_a_release_loaded_twice_or_by_someone_outside_pv_is_refused(db: Any, people: Any) -> None:
    load(db, people)
    before = counts(db), terminology(db)

    with pytest.raises(Conflict, match=r"MedDRA 99\.9 is loaded already"):
        load(db, people)
    with (
        pytest.raises(PermissionDenied, match="may not load MedDRA releases"),
        unit_of_work(db) as session,
    ):
        meddra.load_release(session, actor=people.qc, directory=FAKE / "chain", version="99.8")

    assert (counts(db), terminology(db)) == before


def test_the_command_loads_the_chain_layout_with_its_version(db: Any, people: Any) -> None:
    result = run_cli(db, "pv", "load-meddra", str(FAKE / "chain"), "--version", "99.8")

    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "MedDRA 99.8 loaded: 5 LLTs, 3 PTs"
    assert terminology(db) == {"pv_meddra_releases": 1, "pv_meddra_llts": 5, "pv_meddra_pts": 3}
