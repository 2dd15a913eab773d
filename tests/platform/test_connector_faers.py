from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import select
from tests.platform.company import count, sample, set_up_company

from pharmaqms.kernel.models import AuditEntry
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.platform.ingest import service as ingest
from pharmaqms.platform.ingest.models import QuarantinedRow
from pharmaqms.platform.masterdata import service as masterdata
from pharmaqms.platform.masterdata.models import Lot
from pharmaqms.platform.traceability.adverse_event_lots import relink_adverse_event_lots
from pharmaqms.platform.traceability.models import AdverseEventLot, AdverseEventReport


def _ingest(db, people, content: bytes, kind: str = "faers") -> tuple[int, ...]:  # type: ignore[no-untyped-def]
    with unit_of_work(db) as s:
        run = ingest.ingest(s, actor=people.pv, kind=kind, content=content)
        return (
            run.rows_total,
            run.rows_accepted,
            run.rows_corrected,
            run.rows_duplicate,
            run.rows_quarantined,
        )


def _links(db) -> list[tuple[str, str, str, str | None]]:  # type: ignore[no-untyped-def]
    with unit_of_work(db, write=False) as s:
        rows = s.execute(
            select(
                AdverseEventReport.safety_report_id,
                AdverseEventLot.lot_number,
                AdverseEventLot.medicinal_product,
                Lot.lot_number,
            )
            .join(AdverseEventReport, AdverseEventReport.id == AdverseEventLot.report_id)
            .outerjoin(Lot, Lot.id == AdverseEventLot.lot_id)
            .order_by(AdverseEventLot.id)
        ).all()
        return [tuple(row) for row in rows]  # type: ignore[misc]


@pytest.mark.postgres
def test_faers_reports_are_taken_and_their_batch_numbers_linked_to_our_lots(
    db, people, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    set_up_company(db, people, batches=("T26-0101",))

    assert _ingest(db, people, sample("faers_drug_events.json")) == (6, 3, 0, 0, 3)

    with unit_of_work(db, write=False) as s:
        reasons = {
            q.position: [(r["code"], r["message"]) for r in q.reasons]
            for q in s.scalars(select(QuarantinedRow))
        }
        first = s.scalars(
            select(AdverseEventReport).where(AdverseEventReport.safety_report_id == "26104417")
        ).one()
        shown = (
            first.report_version,
            first.received_on,
            first.serious,
            first.seriousness,
            first.country,
            first.reactions,
            [
                (d["characterisation"], d["medicinal_product"], d["batch_number"])
                for d in first.drugs
            ],
            first.document["receivedate"],
            first.document["primarysource"],
        )
    assert reasons == {
        "record 3": [("bad_date", "receivedate: '20260231' is not a date (YYYY-MM-DD)")],
        "record 4": [
            (
                "inconsistent_seriousness",
                "serious is 2 (not serious) but the report meets death",
            )
        ],
        "record 5": [
            (
                "not_allowed",
                "patient.drug[0].drugcharacterization: '7' is not 1 (suspect), 2 (concomitant) "
                "or 3 (interacting)",
            )
        ],
    }
    assert shown == (
        1,
        date(2026, 2, 12),
        True,
        ["hospitalisation"],
        "NL",
        [
            {"meddra_pt": "Hepatotoxicity", "meddra_version": "26.1", "outcome": "2"},
            {"meddra_pt": "Nausea", "meddra_version": "26.1", "outcome": "1"},
        ],
        [("1", "PARACETAMOL 500 MG TABLETS", "T26-0101"), ("2", "ATORVASTATIN", None)],
        "20260212",
        {"qualification": "2", "reportercountry": "NL"},
    )
    assert _links(db) == [
        ("26104417", "T26-0101", "PARACETAMOL 500 MG TABLETS", "T26-0101"),
        ("26104418", "Lot: 25v-014", "FLU VACCINE QUADRIVALENT", "25V-014"),
        ("26104419", "T26-0777", "PARACETAMOL", None),
    ]


def test_re_importing_the_feed_changes_nothing(db, people, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    set_up_company(db, people, batches=("T26-0101",))
    _ingest(db, people, sample("faers_drug_events.json"))

    quarantined = count(db, QuarantinedRow)
    # Rows already stored and rows already waiting in the quarantine are both duplicates.
    assert _ingest(db, people, sample("faers_drug_events.json")) == (6, 0, 0, 6, 0)
    assert (count(db, AdverseEventReport), count(db, AdverseEventLot)) == (3, 3)
    assert count(db, QuarantinedRow) == quarantined == 3


def test_a_batch_number_unknown_at_first_is_linked_by_relinking_once_the_lot_exists(
    db, people, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    set_up_company(db, people, batches=("T26-0101",))
    _ingest(db, people, sample("faers_drug_events.json"))
    with unit_of_work(db) as s:
        masterdata.add_lot(
            s, actor=people.qc, kind="finished", item_code="PARA500", lot_number="T26-0777"
        )

    with unit_of_work(db) as s:
        made = relink_adverse_event_lots(s, actor=people.pv)

    assert made == 1
    assert _links(db)[2] == ("26104419", "T26-0777", "PARACETAMOL", "T26-0777")
    with unit_of_work(db, write=False) as s:
        entry = s.scalars(
            select(AdverseEventLot.id).where(AdverseEventLot.lot_number == "T26-0777")
        ).one()
        event = s.scalars(
            select(AuditEntry).where(AuditEntry.action == "adverse_event_lots_linked")
        ).one()
        assert (event.actor_username, json.loads(event.changes)) == (
            "pv",
            {"links": [{"link": entry, "lot": "batch PARA500/T26-0777", "report": "26104419"}]},
        )


def test_a_replayed_report_cites_a_batch_that_the_mes_registers_later_and_is_then_linked(
    db, people, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    set_up_company(db, people)
    _ingest(db, people, sample("faers_drug_events.json"))
    with unit_of_work(db, write=False) as s:
        row = s.scalars(select(QuarantinedRow).where(QuarantinedRow.position == "record 5")).one()
        row_id, raw = row.id, dict(row.raw)
    patient = json.loads(raw["patient"])
    patient["drug"][0]["drugcharacterization"] = "1"
    with unit_of_work(db) as s:
        ingest.replay(
            s,
            actor=people.pv,
            row_id=row_id,
            corrected={**raw, "patient": json.dumps(patient)},
            reason="E2B code 7 does not exist; the source form says suspect",
        )
    assert _links(db)[-1] == ("26104422", "26V-003", "FLUVAXIN", None)

    _ingest(db, people, sample("mes_lyophilisation.json"), kind="mes")

    assert _links(db)[-1] == ("26104422", "26V-003", "FLUVAXIN", "26V-003")


def test_a_feed_without_a_results_list_is_refused(db, people) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(db) as s:
        run = ingest.ingest(
            s, actor=people.pv, kind="faers", content=b'{"meta": {}, "error": "rate limit"}'
        )
        assert (run.status, run.refused_reason) == (
            "refused",
            "the JSON document holds no list of records",
        )
    assert count(db, AdverseEventReport) == 0
