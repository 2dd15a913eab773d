"""QA's review by exception (accept, or refer to a deviation raised from the exception in one
step), the refusals around it, the QP-only decision, a rejection, and the release certificate
PDF with every rule, its evidence and the QP's signature manifestation."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select
from tests.lifecycle.production.ebr_setup import (
    Plant,
    build_plant,
    make_batch,
    pass_qc,
    plant_database,
)
from tests.lifecycle.production.setup import lot_status, trail_counts
from tests.support import PASSWORD

from pharmaqms.kernel.db import Database
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.production.release.models import BatchRelease
from pharmaqms.lifecycle.production.release.rules import RULES


@pytest.fixture(scope="module")
def built(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, Plant]]:
    yield from build_plant(sqlite_template, tmp_path_factory.mktemp("plant"))


@pytest.fixture
def db(built: tuple[Path, Plant], tmp_path: Path) -> Iterator[Database]:
    yield from plant_database(built, tmp_path)


@pytest.fixture
def p(built: tuple[Path, Plant], db: Database, people: Any, api: Any, frozen_clock: Any) -> Plant:
    return built[1].rebind(db, people, api)


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def releases(db: Database) -> int:
    with unit_of_work(db, write=False) as s:
        return int(s.scalar(select(func.count()).select_from(BatchRelease)) or 0)


def test_qa_accepts_an_exception_and_refers_another_to_a_deviation(p: Plant, api: Any) -> None:
    record_id, lot_id, _ = make_batch(p, "B5001", verify=False, impeller_speed=160)
    qa, operator = api("qa"), api("operator")
    found = qa.get(f"/api/v1/production/batch-records/{record_id}/exceptions").json()
    assert [(e["number"], e["kind"]) for e in found] == [
        ("BRX-2026-0001", "missing_verification"),
        ("BRX-2026-0002", "out_of_limit"),
    ]
    missing, out_of_limit = found

    # The operator may not review, nor may QA refer before a deviation is linked
    before = trail_counts(p.db)
    by_operator = operator.post(
        f"/api/v1/production/batch-record-exceptions/{missing['id']}/review",
        json={"decision": "accept", "reason": "fine", "password": PASSWORD},
    )
    assert (by_operator.status_code, by_operator.json()["code"]) == (403, "permission_denied")
    early = qa.post(
        f"/api/v1/production/batch-record-exceptions/{out_of_limit['id']}/review",
        json={"decision": "refer", "reason": "investigate", "password": PASSWORD},
    )
    assert (early.status_code, early.json()["reasons"]) == (
        409,
        ["no deviation is linked: raise one from the exception first"],
    )
    assert trail_counts(p.db) == before

    accepted = qa.post(
        f"/api/v1/production/batch-record-exceptions/{missing['id']}/review",
        json={
            "decision": "accept",
            "reason": "weighing re-checked against the balance printout",
            "password": PASSWORD,
        },
    )
    assert accepted.status_code == 200, accepted.text
    deviation = qa.post(
        f"/api/v1/production/batch-record-exceptions/{out_of_limit['id']}/deviation",
        json={
            "title": "Impeller speed 160 rpm during wet massing",
            "description": "Speed above the validated range for the whole massing time.",
        },
    )
    assert deviation.status_code == 201, deviation.text
    referred = qa.post(
        f"/api/v1/production/batch-record-exceptions/{out_of_limit['id']}/review",
        json={"decision": "refer", "reason": "investigated in the deviation", "password": PASSWORD},
    )
    assert referred.status_code == 200, referred.text
    assert (referred.json()["status"], referred.json()["deviation_id"]) == (
        "referred",
        deviation.json()["id"],
    )

    # Then the exceptions are reviewed, but the signature and the deviation still block
    pass_qc(p, lot_id)
    checklist = api("qp").get(f"/api/v1/production/batches/{lot_id}/release").json()
    assert checklist["failing_rules"] == ["batch_record_complete", "deviations_closed"]
    rules = {r["code"]: r for r in checklist["rules"]}
    assert rules["batch_record_complete"]["findings"] == [
        "step 1 (Weigh the paracetamol): the second-person verification is missing"
    ]
    assert rules["deviations_closed"]["findings"] == [
        "DEV-2026-0001 (unclassified, reported) is open and its impact on the batch is not "
        "assessed: Impeller speed 160 rpm during wet massing"
    ]
    # The deviation holds the batch; the deviation rule, not the lot rule, judges it
    assert lot_status(p.db, lot_id) == "on_hold"
    assert rules["lot_awaits_release"]["evidence"] == [
        "batch P-PARA500/B5001 is on hold",
        "held by DEV-2026-0001; quarantine before the hold",
        "DEV-2026-0001 is judged by the rule deviations_closed; the release lifts its hold",
    ]


@pytest.mark.clause("annex11:15")
def test_only_a_qualified_person_decides(p: Plant, api: Any) -> None:
    _, lot_id, _ = make_batch(p, "B5002")
    pass_qc(p, lot_id)
    supervisor, qa = api("supervisor"), api("qa")
    before = (trail_counts(p.db), releases(p.db), lot_status(p.db, lot_id))
    for client in (supervisor, qa):
        tried = client.post(
            f"/api/v1/production/batches/{lot_id}/release", json={"password": PASSWORD}
        )
        assert (tried.status_code, tried.json()["code"]) == (403, "permission_denied")
        assert tried.json()["detail"].endswith(
            "may not release batches: the permission 'release.decide' is not in any of their "
            f"roles ({'production_supervisor' if client is supervisor else 'qa'})"
        )
    assert (trail_counts(p.db), releases(p.db), lot_status(p.db, lot_id)) == before


def test_a_checklist_that_changed_since_it_was_shown_is_not_signed(p: Plant, api: Any) -> None:
    _, lot_id, _ = make_batch(p, "B5003")
    qp = api("qp")
    shown = qp.get(f"/api/v1/production/batches/{lot_id}/release").json()
    pass_qc(p, lot_id)
    before = (trail_counts(p.db), releases(p.db))
    stale = qp.post(
        f"/api/v1/production/batches/{lot_id}/release",
        json={"password": PASSWORD, "evaluation_hash": shown["evaluation_hash"]},
    )
    assert (stale.status_code, stale.json()["code"]) == (409, "stale_record")
    assert (trail_counts(p.db), releases(p.db)) == before


def test_the_qp_rejects_a_batch_with_a_reason(p: Plant, api: Any) -> None:
    _, lot_id, _ = make_batch(p, "B5004")
    qp = api("qp")
    no_reason = qp.post(
        f"/api/v1/production/batches/{lot_id}/reject", json={"password": PASSWORD, "reason": " "}
    )
    assert no_reason.status_code == 422
    rejected = qp.post(
        f"/api/v1/production/batches/{lot_id}/reject",
        json={"password": PASSWORD, "reason": "granulate contaminated with lubricant"},
    )
    assert rejected.status_code == 200, rejected.text
    body = rejected.json()
    assert (body["lot_status"], body["decision"]["status"], body["decision"]["decision"]) == (
        "rejected",
        "rejected",
        "reject",
    )
    assert [s["meaning"] for s in body["decision"]["signatures"]] == ["Rejected"]
    again = qp.post(f"/api/v1/production/batches/{lot_id}/release", json={"password": PASSWORD})
    assert again.status_code == 409


@pytest.mark.clause("annex11:15")
def test_the_release_certificate_shows_every_rule_and_the_qp_signature(
    p: Plant, api: Any, frozen_clock: Any
) -> None:
    _, lot_id, _ = make_batch(p, "B5005")
    qp = api("qp")
    preview = qp.get(f"/api/v1/production/batches/{lot_id}/release-certificate.pdf")
    assert preview.status_code == 200
    preview_text = text_of(preview.content)
    assert "NOT RELEASED - CHECKLIST PREVIEW" in preview_text
    assert "Not signed: no decision yet." in preview_text
    assert "10 of 11 rules pass." in preview_text
    assert "no approved certificate of analysis" in preview_text

    pass_qc(p, lot_id)
    frozen_clock.advance(hours=3)
    released = qp.post(
        f"/api/v1/production/batches/{lot_id}/release",
        json={"password": PASSWORD, "comment": "certified for the EU market"},
    )
    assert released.status_code == 200, released.text
    pdf = qp.get(f"/api/v1/production/batches/{lot_id}/release-certificate.pdf")
    assert pdf.headers["content-disposition"] == 'inline; filename="release-P-PARA500-B5005.pdf"'
    text = text_of(pdf.content)
    assert "Batch release certificate" in text
    assert "REL-2026-0001" in text
    assert "EBR-2026-0001 (master MBR-2026-0001 v1.0)" in text
    assert "3.0 h from end of manufacture" in text
    for rule in RULES:
        assert rule.title in text.replace("\n", " "), rule.title
    assert text.count("PASS") == 11
    assert "FAIL" not in text
    assert "11 of 11 rules pass." in text
    assert "I certify that this batch has been manufactured" in text
    assert (
        "Released by Petra Qualified (qp) on 2026-03-02 12:00:00 UTC (+00:00) "
        "(valid for this content)" in text
    )
    assert "Comment: certified for the EU market" in text
    assert "NOT RELEASED" not in text
    assert released.json()["decision"]["evaluation_hash"] in text.replace("\n", "")
