"""Duplicate detection: an explained score, precision and recall on a generated case base with
planted duplicates, and the merge that keeps both originals (refusals change nothing)."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from tests.lifecycle.use.cases.pv_steps import counts, staff_report

from pharmaqms.kernel import clock
from pharmaqms.kernel.errors import InvalidInput
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.use.cases import merging, service
from pharmaqms.lifecycle.use.cases.duplicates import LIKELY, Profile, candidates, score
from pharmaqms.lifecycle.use.cases.intake import EventReport
from pharmaqms.lifecycle.use.cases.models import PVCaseVersion

PRODUCTS = ["paracetamol", "ibuprofen", "atorvastatin", "metformin", "amoxicillin"]
# Reported terms follow a long tail, as MedDRA preferred terms do in FAERS: a few common ones
# (nausea, headache), most rare.
EVENTS = [f"term {k}" for k in range(300)]
EVENT_WEIGHTS = [1 / (k + 1) for k in range(300)]
COUNTRIES = ["DE", "FR", "NL", "US", "CN", "IT"]


def profile(i: int, **values: Any) -> Profile:
    base: dict[str, Any] = {
        "case_id": i,
        "number": f"PV-2026-{i:04d}",
        "age_years": Decimal(54),
        "sex": "female",
        "products": frozenset({"paracetamol"}),
        "events": frozenset({"rash"}),
        "onset": date(2026, 2, 27),
        "received": date(2026, 3, 1),
        "reporter_type": "hcp",
        "country": "DE",
    }
    return Profile(**{**base, **values})


def test_two_reports_of_one_case_score_as_likely_and_say_why() -> None:
    doctor = profile(1)
    pharmacist = profile(2, age_years=Decimal(55), reporter_type="patient", onset=date(2026, 2, 28))

    found = score(doctor, pharmacist)

    assert found.verdict == "likely duplicate"
    assert [(p.field, p.agrees) for p in found.parts] == [
        ("age within 1 year", True),
        ("same sex", True),
        ("a suspect product in common", True),
        ("an event in common", True),
        ("onset within 3 days", True),
        ("received within 30 days", True),
        ("same kind of reporter", False),
        ("same country", True),
    ]
    assert found.explanation().startswith(f"{found.total:+.1f} bits, likely duplicate: age")


def test_a_different_patient_with_the_same_reaction_is_not_a_duplicate() -> None:
    other = profile(2, age_years=Decimal(23), sex="male", onset=date(2026, 1, 2), country="FR")
    assert score(profile(1), other).verdict == "different cases"


def test_a_missing_field_is_no_evidence_either_way() -> None:
    found = score(profile(1, sex=None), profile(2))
    assert next(p for p in found.parts if p.field == "same sex").weight == 0.0


def _generated(
    rng: random.Random, n: int, planted: int
) -> tuple[list[Profile], set[tuple[int, int]]]:
    cases = []
    for i in range(n):
        cases.append(
            profile(
                i,
                age_years=Decimal(rng.randint(1, 95)),
                sex=rng.choice(["male", "female"]),
                products=frozenset({rng.choice(PRODUCTS)}),
                events=frozenset(rng.choices(EVENTS, EVENT_WEIGHTS, k=rng.randint(1, 2))),
                onset=date(2025, 1, 1) + timedelta(days=rng.randint(0, 700)),
                received=date(2025, 1, 1) + timedelta(days=rng.randint(0, 730)),
                reporter_type=rng.choice(["hcp", "patient"]),
                country=rng.choice(COUNTRIES),
            )
        )
    # Every pair of reports of one case is a duplicate pair (an original drawn twice gives
    # two copies that duplicate each other too).
    truth: set[tuple[int, int]] = set()
    clusters: dict[int, list[int]] = {}
    for k in range(planted):
        original = cases[rng.randrange(n)]
        assert original.onset is not None and original.age_years is not None
        # A second report of the same case: another reporter, a little noise, a field lost.
        copy = profile(
            n + k,
            age_years=original.age_years + rng.choice([0, 0, 1]) if rng.random() > 0.2 else None,
            sex=original.sex,
            products=original.products,
            events=original.events
            | (set(rng.choices(EVENTS, EVENT_WEIGHTS)) if rng.random() < 0.3 else set()),
            onset=original.onset + timedelta(days=rng.randint(-2, 2)),
            received=original.received + timedelta(days=rng.randint(0, 20)),
            reporter_type=rng.choice(["hcp", "patient"]),
            country=original.country if rng.random() > 0.05 else None,
        )
        cases.append(copy)
        cluster = clusters.setdefault(original.case_id, [original.case_id])
        truth.update((a, copy.case_id) for a in cluster)
        cluster.append(copy.case_id)
    return cases, truth


def test_precision_and_recall_on_planted_duplicates() -> None:
    cases, truth = _generated(random.Random(11), n=600, planted=40)
    by_product: dict[frozenset[str], list[Profile]] = {}
    for c in cases:
        by_product.setdefault(c.products, []).append(c)
    flagged = set()
    for c in cases:  # blocking on the product, as the service does
        for s in candidates(c, by_product[c.products], threshold=LIKELY):
            flagged.add(tuple(sorted((c.case_id, s.other.case_id))))
    hits = flagged & truth
    precision, recall = len(hits) / len(flagged), len(hits) / len(truth)
    assert precision >= 0.9, (precision, recall)
    assert recall >= 0.9, (precision, recall)


@pytest.fixture
def _frozen(db: Any, frozen_clock: clock.FrozenClock) -> None:
    """The template database is made on real time; the tests then run on 2 March 2026."""


@pytest.mark.postgres
@pytest.mark.usefixtures("_frozen")
def test_a_merge_keeps_both_originals(db: Any, people: Any) -> None:
    with unit_of_work(db) as session:
        kept = service.record_case(session, actor=people.pv, report=staff_report()).id
        second = service.record_case(
            session,
            actor=people.pv,
            report=staff_report(
                source="e2b",
                source_reference="DE-BFARM-26-0001",
                reporter_type="patient",
                events=(EventReport("Skin rash!", onset=date(2026, 2, 28)),),
            ),
        ).id
    with unit_of_work(db) as session:
        [candidate] = merging.find_duplicates(session, service.get_case(session, second))
        assert (candidate.other.number, candidate.verdict) == ("PV-2026-0001", "likely duplicate")
        merging.merge_into(
            session,
            actor=people.pv,
            case_id=second,
            into_id=kept,
            reason="same patient, GP's report",
        )
    with unit_of_work(db, write=False) as session:
        duplicate, original = service.get_case(session, second), service.get_case(session, kept)
        assert (duplicate.status, duplicate.duplicate_of_id) == ("duplicate", kept)
        assert original.status == "received" and original.case_version == 2
        merged = session.scalars(
            select(PVCaseVersion).where(
                PVCaseVersion.case_id == kept, PVCaseVersion.case_version == 2
            )
        ).one()
        assert merged.changes["merged_from"] == "PV-2026-0002"
        assert merged.snapshot["events"][0]["verbatim"] == "Skin rash!"
        assert merged.source_reference == "DE-BFARM-26-0001"
        # The duplicate's own products and events stay as they were received.
        assert [e.verbatim for e in service.facts.events_of(session, duplicate)] == ["Skin rash!"]


@pytest.mark.usefixtures("_frozen")
def test_a_merge_into_itself_or_without_a_reason_changes_nothing(db: Any, people: Any) -> None:
    with unit_of_work(db) as session:
        case_id = service.record_case(session, actor=people.pv, report=staff_report()).id
    before = counts(db)
    for into, reason in ((case_id, "same"), (case_id, " ")):
        with pytest.raises(InvalidInput), unit_of_work(db) as session:
            merging.merge_into(
                session, actor=people.pv, case_id=case_id, into_id=into, reason=reason
            )
    assert counts(db) == before


def test_the_api_lists_candidates_with_their_explanation(api: Any, db: Any) -> None:
    pv = api("pv")
    body = {
        "received_at": "2026-03-01T14:00:00+00:00",
        "patient_age": "54",
        "patient_sex": "female",
        "reporter_type": "hcp",
        "reporter_country": "DE",
        "products": [{"product": "Paracetamol 500 mg tablets"}],
        "events": [{"verbatim": "skin rash", "onset": "2026-02-27"}],
    }
    first = pv.post("/api/v1/pv/cases", json=body).json()
    second = pv.post("/api/v1/pv/cases", json=body).json()

    [found] = pv.get(f"/api/v1/pv/cases/{second['id']}/duplicates").json()

    assert (found["number"], found["verdict"]) == (first["number"], "likely duplicate")
    assert "same country: DE vs DE" in found["explanation"]
