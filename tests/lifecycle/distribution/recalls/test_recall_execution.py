"""Recall execution (pharmaqms.lifecycle.distribution.recalls) on a generated supply chain whose
answer is known: the scope with quantities per place, QA's signed approval recalling the lots
(verification then answers "recalled"), a mock recall that changes no lot, acknowledgements,
returns reconciled, effectiveness, and the refusals — each asserting that nothing changed."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from tests.lifecycle.distribution.recalls.chain import NOW, expected_places, load
from tests.support import PASSWORD

from pharmaqms.kernel import audit, clock
from pharmaqms.kernel.errors import (
    AuthenticationFailed,
    Conflict,
    InvalidInput,
    PermissionDenied,
    TransitionNotAllowed,
)
from pharmaqms.kernel.models import ElectronicSignature
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.distribution.recalls import service
from pharmaqms.lifecycle.distribution.recalls.models import Recall, RecallNotification
from pharmaqms.lifecycle.distribution.serials.service import verify_pack
from pharmaqms.platform.genealogy.generator import CUSTOMERS
from pharmaqms.platform.masterdata import service as masterdata
from pharmaqms.platform.masterdata.models import Location
from pharmaqms.platform.masterdata.service import find_lot
from pharmaqms.platform.traceability.models import InventoryMovement

pytestmark = pytest.mark.postgres  # every test here runs on SQLite and PostgreSQL


@dataclass(frozen=True)
class Row:
    id: int
    is_customer: bool
    quantity_shipped: int


def _open(db: Any, people: Any, subject: str, **given: Any) -> int:
    with clock.frozen_at(NOW), unit_of_work(db) as s:
        fields: dict[str, Any] = {
            "classification": "II",
            "depth": "pharmacy",
            "reason": "out-of-specification assay on stability",
            "target_pct": 100.0,
            **given,
        }
        return service.open_recall(s, actor=people.qa, subjects=[subject], **fields).id


def _status(db: Any, answer: Any) -> str:
    with unit_of_work(db, write=False) as s:
        return find_lot(s, answer.lot_number, answer.product).status


def _snapshot(db: Any) -> tuple[Any, ...]:
    """Everything a refused step could have changed."""
    with unit_of_work(db, write=False) as s:
        recalls = [(r.status, r.version, r.closure_justification) for r in service.recalls(s)]
        rows = [
            (r.acknowledged_at, r.acknowledged_by, r.quantity_returned, r.notified_at)
            for r in s.scalars(select(RecallNotification).order_by(RecallNotification.id))
        ]
        signatures = s.scalar(select(func.count()).select_from(ElectronicSignature))
        return recalls, rows, signatures


def test_the_scope_names_every_place_reached_with_the_quantity_shipped(db, people) -> None:  # type: ignore[no-untyped-def]
    chain = load(db, people)
    for answer in chain.truth.values():
        recall_id = _open(db, people, f"{answer.product}/{answer.lot_number}")
        with unit_of_work(db, write=False) as s:
            recall = s.get(Recall, recall_id)
            rows = service.notifications(s, recall_id)
            assert recall is not None and recall.status == "draft"
            assert recall.number.startswith(f"RCL-{NOW.year}-")
            assert json.loads(recall.lots) == [answer.lot_class]
            assert {r.place_code: r.quantity_shipped for r in rows} == expected_places(
                chain, answer
            ), answer.lot_number
            customers = {c.code for c in CUSTOMERS}
            assert {r.place_code for r in rows if r.is_customer} == {
                r.place_code for r in rows
            } & customers
            # Every pack the lot shipped to customers is in the customers' rows.
            assert recall.scope_events > 0 and recall.scope_seconds >= 0
            assert recall.scope_completed_at >= recall.scope_started_at


def test_signed_approval_recalls_the_lots_and_verification_answers_recalled(db, people) -> None:  # type: ignore[no-untyped-def]
    chain = load(db, people, lots=2)
    answer, other = list(chain.truth.values())
    recall_id = _open(db, people, f"{answer.product}/{answer.lot_number}", depth="patient")
    before = _snapshot(db)
    with clock.frozen_at(NOW), unit_of_work(db) as s, pytest.raises(InvalidInput):
        service.approve_recall(s, actor=people.qa, recall_id=recall_id, password="")
    with clock.frozen_at(NOW), unit_of_work(db) as s, pytest.raises(PermissionDenied):
        service.approve_recall(s, actor=people.logistics, recall_id=recall_id, password=PASSWORD)
    assert _snapshot(db) == before and _status(db, answer) == "released"
    with clock.frozen_at(NOW), unit_of_work(db) as s:
        service.approve_recall(s, actor=people.qa, recall_id=recall_id, password=PASSWORD)
    with unit_of_work(db, write=False) as s:
        recall = s.get(Recall, recall_id)
        assert recall is not None and recall.status == "approved"
        signature = s.scalars(
            select(ElectronicSignature).where(ElectronicSignature.record_type == "recall")
        ).one()
        assert signature.meaning == "Approved" and signature.record_id == recall_id
    assert _status(db, answer) == "recalled"
    assert _status(db, other) == "released"  # another lot is untouched
    pack = sorted(answer.packs)[0]
    gtin, serial = pack.split("/01/")[1].split("/21/")
    with clock.frozen_at(NOW), unit_of_work(db) as s:
        done = verify_pack(
            s, actor=people.logistics, gtin=gtin, lot_number=answer.lot_number, serial=serial
        )
        assert done.verdict.answer.value == "recalled"


def test_a_mock_recall_is_timed_and_changes_no_lot(db, people) -> None:  # type: ignore[no-untyped-def]
    chain = load(db, people, lots=2)
    answer = next(iter(chain.truth.values()))
    recall_id = _open(db, people, f"{answer.product}/{answer.lot_number}", mock=True)
    with clock.frozen_at(NOW), unit_of_work(db) as s:
        service.approve_recall(s, actor=people.qa, recall_id=recall_id, password=PASSWORD)
    with unit_of_work(db, write=False) as s:
        recall = s.get(Recall, recall_id)
        assert recall is not None and recall.mock and recall.status == "approved"
        assert recall.scope_seconds > 0
        assert len(service.notifications(s, recall_id)) >= 2
    assert {_status(db, a) for a in chain.truth.values()} == {"released"}


def test_acknowledgements_returns_and_effectiveness_govern_the_closure(db, people) -> None:  # type: ignore[no-untyped-def]
    chain = load(db, people, lots=3)
    answer = max(chain.truth.values(), key=lambda a: len(a.locations))
    recall_id = _open(db, people, f"{answer.product}/{answer.lot_number}", target_pct=90.0)
    with clock.frozen_at(NOW), unit_of_work(db) as s:
        service.approve_recall(s, actor=people.qa, recall_id=recall_id, password=PASSWORD)
    with unit_of_work(db, write=False) as s:
        rows = [
            Row(r.id, r.is_customer, r.quantity_shipped)
            for r in service.notifications(s, recall_id)
        ]
    customer = next(r for r in rows if r.is_customer)
    # Not yet in progress: nothing may be recorded.
    before = _snapshot(db)
    with clock.frozen_at(NOW), unit_of_work(db) as s, pytest.raises(Conflict):
        service.acknowledge(
            s, actor=people.logistics, notification_id=customer.id, acknowledged_by="A", how="email"
        )
    assert _snapshot(db) == before
    with clock.frozen_at(NOW), unit_of_work(db) as s:
        service.notify_customers(s, actor=people.logistics, recall_id=recall_id)
    later = NOW + timedelta(hours=3)
    with clock.frozen_at(later), unit_of_work(db) as s:
        service.acknowledge(
            s,
            actor=people.logistics,
            notification_id=customer.id,
            acknowledged_by="J. de Vries, pharmacist",
            how="phone",
        )
        service.record_return(s, actor=people.logistics, notification_id=customer.id, quantity=4)
    customers = [r for r in rows if r.is_customer]
    shipped = sum(r.quantity_shipped for r in customers)
    with unit_of_work(db, write=False) as s:
        recall = s.get(Recall, recall_id)
        assert recall is not None
        result = service.effectiveness(s, recall)
    assert (result.notified, result.acknowledged) == (len(customers), 1)
    assert (result.shipped, result.returned) == (shipped, 4)
    assert result.acknowledged_pct == round(100 / len(customers), 1)
    assert result.returned_pct == round(400 / shipped, 1)
    assert not result.met
    before = _snapshot(db)
    with clock.frozen_at(later), unit_of_work(db) as s, pytest.raises(Conflict, match="exceed"):
        service.record_return(
            s,
            actor=people.logistics,
            notification_id=customer.id,
            quantity=customer.quantity_shipped - 3,
        )
    with (
        clock.frozen_at(later),
        unit_of_work(db) as s,
        pytest.raises(Conflict, match="acknowledged already"),
    ):
        service.acknowledge(
            s, actor=people.logistics, notification_id=customer.id, acknowledged_by="B",
            how="email",
        )  # fmt: skip
    with clock.frozen_at(later), unit_of_work(db) as s, pytest.raises(InvalidInput, match="how"):
        service.acknowledge(
            s, actor=people.logistics, notification_id=customers[-1].id,
            acknowledged_by="B", how="pigeon",
        )  # fmt: skip
    with (
        clock.frozen_at(later),
        unit_of_work(db) as s,
        pytest.raises(Conflict, match="justification"),
    ):
        service.close_recall(s, actor=people.qa, recall_id=recall_id, password=PASSWORD)
    with clock.frozen_at(later), unit_of_work(db) as s, pytest.raises(PermissionDenied):
        service.close_recall(
            s, actor=people.logistics, recall_id=recall_id, password=PASSWORD, justification="x"
        )
    assert _snapshot(db) == before
    with clock.frozen_at(later), unit_of_work(db) as s:
        service.close_recall(
            s,
            actor=people.qa,
            recall_id=recall_id,
            password=PASSWORD,
            justification="the other pharmacies confirmed by letter that stock was dispensed",
        )
    with unit_of_work(db, write=False) as s:
        recall = s.get(Recall, recall_id)
        assert recall is not None and recall.status == "closed"
        assert recall.closure_justification is not None
        meanings = sorted(
            s.scalars(
                select(ElectronicSignature.meaning).where(
                    ElectronicSignature.record_type == "recall"
                )
            )
        )
        assert meanings == ["Approved", "Closed"]
    with clock.frozen_at(later), unit_of_work(db) as s, pytest.raises(TransitionNotAllowed):
        service.cancel_recall(s, actor=people.qa, recall_id=recall_id, reason="too late")


def test_bad_openings_are_refused_and_record_nothing(db, people) -> None:  # type: ignore[no-untyped-def]
    chain = load(db, people, lots=1)
    answer = next(iter(chain.truth.values()))
    lot = f"{answer.product}/{answer.lot_number}"
    for given, error in (
        ({"classification": "IV"}, InvalidInput),
        ({"depth": "everyone"}, InvalidInput),
        ({"reason": "  "}, InvalidInput),
        ({"target_pct": 120.0}, InvalidInput),
    ):
        with pytest.raises(error):
            _open(db, people, lot, **given)
    with clock.frozen_at(NOW), unit_of_work(db) as s, pytest.raises(PermissionDenied):
        service.open_recall(
            s, actor=people.operator, subjects=[lot], classification="I", depth="patient",
            reason="x",
        )  # fmt: skip
    with clock.frozen_at(NOW), unit_of_work(db) as s, pytest.raises(InvalidInput):
        service.open_recall(
            s, actor=people.qa, subjects=[" "], classification="I", depth="patient", reason="x"
        )
    assert _snapshot(db) == ([], [], 0)


def test_a_supplier_lot_recall_reaches_every_batch_made_from_it(db, people) -> None:  # type: ignore[no-untyped-def]
    chain = load(db, people, lots=4)
    material, numbers = max(chain.material_lots.items(), key=lambda kv: len(kv[1]))
    assert len(numbers) >= 2
    made = [chain.truth[n] for n in numbers]
    recall_id = _open(db, people, material)
    with unit_of_work(db, write=False) as s:
        recall = s.get(Recall, recall_id)
        assert recall is not None
        assert set(json.loads(recall.lots)) == {material} | {a.lot_class for a in made}
        shipped = {r.place_code: r.quantity_shipped for r in service.notifications(s, recall_id)}
    expected: dict[str, int] = {}
    for answer in made:
        for code, units in expected_places(chain, answer).items():
            expected[code] = expected.get(code, 0) + units
    assert shipped == expected
    with clock.frozen_at(NOW), unit_of_work(db) as s:
        service.approve_recall(s, actor=people.qa, recall_id=recall_id, password=PASSWORD)
    assert {a.lot_number: _status(db, a) for a in chain.truth.values()} == {
        n: ("recalled" if n in numbers else "released") for n in chain.truth
    }


def test_a_wrong_password_leaves_the_recall_open_and_unjustified(db, people) -> None:  # type: ignore[no-untyped-def]
    chain = load(db, people, lots=1)
    answer = next(iter(chain.truth.values()))
    recall_id = _open(db, people, f"{answer.product}/{answer.lot_number}")
    with clock.frozen_at(NOW), unit_of_work(db) as s:
        service.approve_recall(s, actor=people.qa, recall_id=recall_id, password=PASSWORD)
        service.notify_customers(s, actor=people.qa, recall_id=recall_id)
    before = _snapshot(db)
    with clock.frozen_at(NOW), unit_of_work(db) as s, pytest.raises(AuthenticationFailed):
        service.close_recall(
            s, actor=people.qa, recall_id=recall_id, password="wrong", justification="why"
        )
    assert _snapshot(db) == before


def test_inventory_movements_add_places_no_event_names_without_counting_twice(db, people) -> None:  # type: ignore[no-untyped-def]
    chain = load(db, people, lots=1)
    answer = next(iter(chain.truth.values()))
    epcis_only = expected_places(chain, answer)
    with clock.frozen_at(NOW), unit_of_work(db) as s:
        lot = find_lot(s, answer.lot_number, answer.product)
        walk_in = masterdata.add_location(
            s, actor=people.admin, code="CLINIC-WEST", name="West Clinic", kind="hospital",
            is_customer=True, country="NL",
        )  # fmt: skip
        known = s.scalars(select(Location).where(Location.code.in_(list(epcis_only)))).first()
        assert known is not None
        with audit.changes(s, actor=people.logistics, reason="WMS movements"):
            for place, quantity, ref in ((walk_in, 12, "M1"), (known, 999, "M2")):
                s.add(
                    InventoryMovement(
                        lot_id=lot.id, to_location_id=place.id, quantity=quantity, unit="EA",
                        moved_at=NOW - timedelta(days=1), reference=ref,
                    )
                )  # fmt: skip
    recall_id = _open(db, people, f"{answer.product}/{answer.lot_number}")
    with unit_of_work(db, write=False) as s:
        rows = {r.place_code: r for r in service.notifications(s, recall_id)}
        assert {code: r.quantity_shipped for code, r in rows.items()} == {
            **epcis_only,
            "CLINIC-WEST": 12,
        }
        assert rows["CLINIC-WEST"].is_customer
