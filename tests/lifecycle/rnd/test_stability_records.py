"""Stability studies through the services: the protocol and its approval (pulls become tasks),
results entered or taken over from the LIMS, quarantine of results that don't fit the
protocol, OOS/OOT judgement, and refusals that change nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select
from tests.lifecycle.rnd.stability_steps import (
    ATTRIBUTES,
    BATCHES,
    CONDITIONS,
    PRODUCT,
    approved_study,
    assay_results,
    counts,
    ensure_product,
    record,
    write_protocol,
)
from tests.support import PASSWORD

from pharmaqms.kernel.db import Database
from pharmaqms.kernel.errors import (
    Conflict,
    InvalidInput,
    PermissionDenied,
    QMSError,
    SegregationOfDuties,
)
from pharmaqms.kernel.models import Task
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.rnd.stability import evaluation, service
from pharmaqms.lifecycle.rnd.stability.lims import take_over_lims_results
from pharmaqms.lifecycle.rnd.stability.models import PullStatus
from pharmaqms.platform.ingest import service as ingest
from pharmaqms.platform.masterdata import service as masterdata


def _tasks(db: Database, kind: str) -> list[tuple[str, str | None, datetime | None, str]]:
    with unit_of_work(db, write=False) as s:
        rows = s.scalars(select(Task).where(Task.kind == kind).order_by(Task.id))
        return [(t.title, t.assignee_role, t.due_at, t.status) for t in rows]


@pytest.mark.postgres
def test_an_approved_protocol_schedules_its_pulls_as_tasks_for_the_lab(
    db: Database, people: Any
) -> None:
    # Given a protocol written by the scientist
    study_id = write_protocol(db, people)
    assert _tasks(db, "stability_pull") == []
    # When QA approves it with a signature
    with unit_of_work(db) as s:
        study = service.approve_study(s, actor=people.qa, study_id=study_id, password=PASSWORD)
        number = study.number
    # Then each condition's time point is a pull, due on its calendar date, a task for QC
    with unit_of_work(db, write=False) as s:
        pulls = [(p.condition, p.months, p.due_on) for p in service.pulls_of(s, study_id)]
    assert len(pulls) == 7 + 3
    assert ("25C60RH", 6.0, date(2026, 7, 15)) in pulls
    assert ("40C75RH", 3.0, date(2026, 4, 15)) in pulls
    tasks = _tasks(db, "stability_pull")
    assert len(tasks) == 10 and {t[1] for t in tasks} == {"qc_analyst"}
    assert (
        f"Pull {number} at 25 °C ± 2 °C / 60 % RH ± 5 % RH, 24 months (3 batches)",
        "qc_analyst",
        datetime(2028, 1, 15, tzinfo=UTC),
        "open",
    ) in tasks


def test_the_protocols_author_may_not_approve_it_and_nothing_changes(
    db: Database, people: Any
) -> None:
    study_id = write_protocol(db, people, author="qa")
    before = counts(db)
    with pytest.raises(SegregationOfDuties), unit_of_work(db) as s:
        service.approve_study(s, actor=people.qa, study_id=study_id, password=PASSWORD)
    assert counts(db) == before


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"conditions": [{"code": "37C", "role": "long_term", "time_points": [0, 3]}]}, "37C"),
        (
            {"conditions": [{"code": "40C75RH", "role": "accelerated", "time_points": [0, 6]}]},
            "long-term condition",
        ),
        ({"attributes": [{"code": "ASSAY", "name": "Assay"}]}, "no specification limit"),
        ({"attributes": [{"code": "PH", "lower": 7, "upper": 5}]}, "not below"),
        ({"batches": ["S1", "S1"]}, "listed twice"),
        ({"title": " "}, "title"),
        ({"product_code": "NO-SUCH-PRODUCT"}, "no product with code 'NO-SUCH-PRODUCT'"),
    ],
)
def test_a_protocol_that_is_not_one_is_refused_and_nothing_changes(
    db: Database, people: Any, changes: dict[str, Any], message: str
) -> None:
    ensure_product(db, people)
    before = counts(db)
    with pytest.raises(InvalidInput, match=message):
        write_protocol(db, people, **changes)
    assert counts(db) == before


def test_results_are_stored_and_results_that_do_not_fit_the_protocol_are_quarantined(
    db: Database, people: Any
) -> None:
    study_id = approved_study(db, people)
    results = [
        service.ResultIn("S2601", "25C60RH", 0, "ASSAY", 100.4, "%"),
        service.ResultIn("S9999", "25C60RH", 0, "ASSAY", 99.0, "%"),  # not on the study
        service.ResultIn("S2601", "25C60RH", 4, "ASSAY", 99.0, "%"),  # no pull at 4 months
        service.ResultIn("S2601", "30C65RH", 3, "ASSAY", 99.0, "%"),  # condition not in it
        service.ResultIn("S2601", "25C60RH", 3, "WATER", 2.1, "%"),  # attribute not tested
    ]
    stored, quarantined = record(db, people, study_id, results)
    assert stored == [("S2601", "ASSAY", 100.4, False, None)]
    assert quarantined == [
        "batch 'S9999' is not on STB-2026-0001 (S2601, S2602, S2603)",
        "storage condition '30C65RH' is not in STB-2026-0001's protocol",
        "attribute 'WATER' is not tested in STB-2026-0001's protocol",
        "time point 4 months is not scheduled at 25C60RH (protocol: 0, 3, 6, 9, 12, 18, 24)",
    ]
    with unit_of_work(db, write=False) as s:
        held = service.quarantine_of(s, study_id)
        assert [q.received["batch"] for q in held] == ["S9999", "S2601", "S2601", "S2601"]
        # The pull of the stored result counts as pulled and its task is done
        pull = next(p for p in service.pulls_of(s, study_id) if p.months == 0)
        assert pull.status == PullStatus.PULLED.value and pull.pulled_by_id is not None
    done = [t for t in _tasks(db, "stability_pull") if t[3] == "done"]
    assert len(done) == 1 and "0 months" in done[0][0]
    # A second result for the same batch, attribute and pull is not a silent retest
    _, again = record(
        db, people, study_id, [service.ResultIn("S2601", "25C60RH", 0, "ASSAY", 98.0, "%")]
    )
    assert again == [
        "S2601 ASSAY at 25C60RH, 0 months has a result already: a retest is decided by an "
        "investigation, not added"
    ]


@pytest.mark.parametrize(
    ("who", "study", "results", "error"),
    [
        ("qc", "draft", [service.ResultIn("S2601", "25C60RH", 0, "ASSAY", 100, "%")], Conflict),
        ("qc", "approved", [], InvalidInput),
        (
            "qc",
            "approved",
            [
                service.ResultIn("S2601", "25C60RH", 0, "ASSAY", 100, "%"),
                service.ResultIn("S2602", "25C60RH", 0, "ASSAY", float("nan"), "%"),
            ],
            InvalidInput,
        ),
        ("pv", "approved", [service.ResultIn("S2601", "25C60RH", 0, "ASSAY", 100)], None),
    ],
)
def test_refused_results_change_nothing(
    db: Database,
    people: Any,
    who: str,
    study: str,
    results: list[service.ResultIn],
    error: type[QMSError] | None,
) -> None:
    study_id = approved_study(db, people) if study == "approved" else write_protocol(db, people)
    before = counts(db)
    with pytest.raises(error or PermissionDenied), unit_of_work(db) as s:
        service.record_results(s, actor=getattr(people, who), study_id=study_id, results=results)
    assert counts(db) == before


def test_out_of_trend_and_out_of_specification_results_give_qa_a_task(
    db: Database, people: Any
) -> None:
    study_id = approved_study(db, people)
    record(db, people, study_id, assay_results(upto=4))  # 0-9 months, on trend
    assert _tasks(db, "stability_oot") == []
    # A 12-month result 2 % below the batch's trend, still within 95-105 %
    stored, _ = record(
        db, people, study_id, [service.ResultIn("S2601", "25C60RH", 12, "ASSAY", 96.6, "%")]
    )
    [(_, _, _, oos, oot)] = stored
    assert oos is False and oot is not None and "99% prediction interval" in oot
    [(title, role, _, status)] = _tasks(db, "stability_oot")
    assert (role, status) == ("qa", "open")
    assert title == "Assess out-of-trend stability result: S2601 Assay at 25C60RH, 12 months"
    # Impurity A above its 0.5 % limit is out of specification
    stored, _ = record(
        db, people, study_id, [service.ResultIn("S2602", "40C75RH", 6, "IMP-A", 0.62, "%")]
    )
    assert stored[0][3] is True
    [(title, role, _, _)] = _tasks(db, "stability_oos")
    assert title.endswith("S2602 Impurity A at 40C75RH, 6 months") and role == "qa"


def test_the_shelf_life_of_the_study_is_its_q1e_estimate(db: Database, people: Any) -> None:
    study_id = approved_study(db, people)
    record(db, people, study_id, assay_results())
    with unit_of_work(db, write=False) as s:
        study = service.get_study(s, study_id)
        found = {(e.attribute, e.condition): e for e in evaluation.evaluations(s, study)}
    # Long-term only: assay and impurity at 25/60
    assert set(found) == {("ASSAY", "25C60RH"), ("IMP-A", "25C60RH")}
    assay = found[("ASSAY", "25C60RH")]
    assert assay.result is not None and assay.refused is None
    assert assay.result.sided == "two-sided"  # 95.0-105.0
    assert len(assay.observations) == 21
    assert assay.svg.startswith("<svg") and assay.svg.rstrip().endswith("</svg>")
    # No impurity results yet: the reason, not an estimate
    impurity = found[("IMP-A", "25C60RH")]
    assert impurity.result is None and impurity.refused == "no results to evaluate"


@pytest.mark.postgres
def test_lims_results_are_taken_over_once_and_misfits_quarantined(
    db: Database, people: Any
) -> None:
    study_id = approved_study(db, people)
    with unit_of_work(db) as s:
        for batch in BATCHES:
            masterdata.add_lot(
                s, actor=people.admin, kind="finished", item_code=PRODUCT, lot_number=batch
            )
    csv = (
        "item_code,lot_number,sample_id,test_code,value,unit,analyst,tested_at\n"
        f"{PRODUCT},S2601,STB-2026-0001/25C60RH/T3/S2601,ASSAY,99.9,%,chen,2026-04-16T09:30:00Z\n"
        f"{PRODUCT},S2602,STB-2026-0001/25C60RH/T3/S2602,ASSAY,99.8,%,chen,2026-04-16T09:40:00Z\n"
        f"{PRODUCT},S2603,STB-2026-0001/25C60RH/T5/S2603,ASSAY,99.7,%,chen,2026-04-16T09:50:00Z\n"
        f"{PRODUCT},S2603,STB-2026-0099/25C60RH/T3/S2603,ASSAY,99.6,%,chen,2026-04-16T09:55:00Z\n"
    ).encode()
    # When the LIMS delivery is ingested by the platform (its listener takes them over)
    with unit_of_work(db) as s:
        run = ingest.ingest(s, actor=people.qc, kind="lims", content=csv, filename="lims.csv")
        assert run.rows_accepted == 4
    with unit_of_work(db, write=False) as s:
        stored = [(r.batch, r.value, r.source) for r, _ in service.results_of(s, study_id)]
        held = [q.reason for q in service.quarantine_of(s, study_id)]
    assert stored == [("S2601", 99.9, "lims"), ("S2602", 99.8, "lims")]
    assert held == [
        "time point 5 months is not scheduled at 25C60RH (protocol: 0, 3, 6, 9, 12, 18, 24)"
    ]
    # The sample naming no study is kept too, without a study
    before = counts(db)
    assert before["quarantine"] == 2
    # Taking over again finds nothing new and changes nothing
    with unit_of_work(db) as s:
        again = take_over_lims_results(s, actor=people.qc)
    assert (again.stored, again.quarantined) == (0, 0)
    assert counts(db) == before


def test_completing_the_study_ends_its_results(db: Database, people: Any) -> None:
    study_id = approved_study(db, people)
    with unit_of_work(db) as s:
        service.complete_study(s, actor=people.rd, study_id=study_id, reason="24 months done")
    # The pulls never taken leave the lab's inbox
    assert {t[3] for t in _tasks(db, "stability_pull")} == {"done"}
    before = counts(db)
    with pytest.raises(Conflict, match="completed"), unit_of_work(db) as s:
        service.record_results(s, actor=people.qc, study_id=study_id, results=assay_results(1))
    assert counts(db) == before


def test_the_protocol_is_kept_as_approved(db: Database, people: Any) -> None:
    study_id = approved_study(db, people)
    with unit_of_work(db, write=False) as s:
        study = service.get_study(s, study_id)
        assert study.conditions[0] == {
            "code": "25C60RH",
            "role": "long_term",
            "time_points": [0.0, 3.0, 6.0, 9.0, 12.0, 18.0, 24.0],
        }
        assert [a["code"] for a in study.attributes] == [a["code"] for a in ATTRIBUTES]
        assert [c["code"] for c in study.conditions] == [c["code"] for c in CONDITIONS]


def test_the_daily_job_takes_over_what_the_delivery_listener_missed(
    db: Database, people: Any
) -> None:
    from typer.testing import CliRunner

    from pharmaqms.cli.jobs import app as jobs_cli
    from pharmaqms.lifecycle.rnd.stability import lims
    from pharmaqms.platform.ingest.deliveries import (
        add_delivery_listener,
        remove_delivery_listener,
    )

    study_id = approved_study(db, people)
    with unit_of_work(db) as s:
        masterdata.add_lot(
            s, actor=people.admin, kind="finished", item_code=PRODUCT, lot_number="S2601"
        )
    csv = (
        "item_code,lot_number,sample_id,test_code,value,unit,analyst,tested_at\n"
        f"{PRODUCT},S2601,STB-2026-0001/25C60RH/T0/S2601,ASSAY,100.1,%,chen,2026-01-16T09:00:00Z\n"
    ).encode()
    remove_delivery_listener("lims", lims.take_over_after_delivery)
    try:
        with unit_of_work(db) as s:
            ingest.ingest(s, actor=people.qc, kind="lims", content=csv, filename="lims.csv")
    finally:
        add_delivery_listener("lims", lims.take_over_after_delivery)
    assert counts(db)["results"] == 0
    result = CliRunner().invoke(jobs_cli, ["run-daily"])
    assert result.exit_code == 0, result.output
    assert "stability results taken over: 1, quarantined: 0" in result.output
    with unit_of_work(db, write=False) as s:
        assert [(r.batch, r.value) for r, _ in service.results_of(s, study_id)] == [
            ("S2601", 100.1)
        ]
