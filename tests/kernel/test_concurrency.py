"""Concurrency: record numbers stay unique and gap-free when many create at once, and of two
writers on the same record one wins and the other is told, with nothing lost or overwritten."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from tests.conftest import People
from tests.kernel.helpers import SOP_BODY, entries, new_sop, row, snapshot

from pharmaqms.kernel import audit, clock
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.errors import StaleRecord
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.kernel.verify import verify
from pharmaqms.quality.documents import service
from pharmaqms.quality.documents.models import DocumentVersion

WRITERS = 8


def at_once(work: list[Callable[[], Any]]) -> list[Any]:
    """Run each callable in its own thread, released together; results or exceptions."""
    start = threading.Barrier(len(work))
    results: list[Any] = [None] * len(work)

    def run(i: int) -> None:
        start.wait()
        try:
            results[i] = work[i]()
        except Exception as err:  # the caller inspects what each writer got
            results[i] = err

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(work))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a writer hung"
    return results


@pytest.mark.clause("alcoa:consistent")
@pytest.mark.postgres
def test_record_numbers_are_unique_and_consecutive_when_many_create_at_once(
    db: Database, people: People
) -> None:
    # given eight people about to create an SOP each, at the same moment
    authors = [people.qc, people.qa, people.qa2, people.rd, people.supervisor] * 2
    year = clock.now().year

    def create(i: int) -> Callable[[], str]:
        def work() -> str:
            with unit_of_work(db) as s:
                version = service.create_document(
                    s, actor=authors[i], doc_type="sop", title=f"SOP {i}", body=SOP_BODY
                )
                return version.number

        return work

    # when they all save
    numbers = at_once([create(i) for i in range(WRITERS)])

    # then every one got its own number, and together they leave no gap
    assert all(isinstance(n, str) for n in numbers), numbers
    assert sorted(numbers) == [f"SOP-{year}-{i:04d} v1.0" for i in range(1, WRITERS + 1)]
    # and the audit chain written by the concurrent appends is intact
    with unit_of_work(db, write=False) as s:
        report = verify(s)
    assert report.intact, report.findings
    assert snapshot(db).versions == WRITERS


def test_of_two_editors_the_second_gets_a_409_and_the_first_keeps_their_text(
    api: Any, db: Database, people: People
) -> None:
    # given a draft that two authors open at version 1
    vid = new_sop(db, people.qc)
    alice, bob = api("qc"), api("qa")
    seen_by_alice = alice.get(f"/api/v1/document-versions/{vid}").json()
    seen_by_bob = bob.get(f"/api/v1/document-versions/{vid}").json()
    assert seen_by_alice["version"] == seen_by_bob["version"] == 1

    # when Alice saves first, then Bob saves his edit of the same version
    saved = alice.patch(
        f"/api/v1/document-versions/{vid}",
        json={"expected_version": 1, "body": SOP_BODY + " Alice's step 2.4."},
    )
    after_alice = snapshot(db)
    refused = bob.patch(
        f"/api/v1/document-versions/{vid}",
        json={"expected_version": 1, "body": SOP_BODY + " Bob's step 2.4."},
    )

    # then Alice's save stands, Bob is told why his was refused, and nothing of his is written
    assert saved.status_code == 200, saved.text
    assert saved.json()["version"] == 2
    assert refused.status_code == 409
    assert refused.headers["content-type"].startswith("application/problem+json")
    problem = refused.json()
    assert problem["code"] == "stale_record"
    assert problem["current_version"] == 2
    assert snapshot(db) == after_alice
    stored = row(db, DocumentVersion, vid)
    assert stored["body"] == SOP_BODY + " Alice's step 2.4."
    assert stored["version"] == 2
    [edit] = [e for e in entries(db, record_id=vid) if e.action == "update"]
    assert edit.actor_username == "qc"


@pytest.mark.clause("alcoa:consistent")
def test_a_transition_on_a_stale_version_is_a_409_and_changes_nothing(
    api: Any, db: Database, people: People
) -> None:
    vid = new_sop(db, people.qc)
    author = api("qc")
    edited = author.patch(
        f"/api/v1/document-versions/{vid}", json={"expected_version": 1, "body": SOP_BODY + "."}
    )
    assert edited.json()["version"] == 2
    before = snapshot(db)

    refused = author.post(
        f"/api/v1/records/document_version/{vid}/transitions/submit",
        json={"expected_version": 1},
    )

    assert refused.status_code == 409
    assert refused.json()["code"] == "stale_record"
    assert snapshot(db) == before
    assert row(db, DocumentVersion, vid)["status"] == "draft"


@pytest.mark.postgres
def test_two_writers_saving_the_same_version_at_once_one_wins(db: Database, people: People) -> None:
    # given a draft at version 1, and two authors saving their edit of it at the same moment
    vid = new_sop(db, people.qc)
    texts = {"qc": SOP_BODY + " by Chloe.", "rd": SOP_BODY + " by Rita."}

    def save(username: str) -> Callable[[], str]:
        actor = people.actor(username)

        def work() -> str:
            with unit_of_work(db) as s:
                service.edit_draft(
                    s, actor=actor, version_id=vid, expected_version=1, body=texts[username]
                )
            return username

        return work

    # when
    outcomes = at_once([save("qc"), save("rd")])

    # then exactly one saved and the other was told the record had changed
    winners = [o for o in outcomes if isinstance(o, str)]
    losers = [o for o in outcomes if isinstance(o, StaleRecord)]
    assert len(winners) == 1 and len(losers) == 1, outcomes
    [winner] = winners
    stored = row(db, DocumentVersion, vid)
    assert stored["body"] == texts[winner]
    assert stored["version"] == 2
    [edit] = [e for e in entries(db, record_id=vid) if e.action == "update"]
    assert edit.actor_username == winner
    with unit_of_work(db, write=False) as s:
        assert verify(s).intact


@pytest.mark.clause("alcoa:consistent")
@pytest.mark.postgres
def test_a_save_from_a_stale_session_is_refused_by_the_version_column(
    db: Database, people: People
) -> None:
    # given a draft, read by Bob in his own session
    vid = new_sop(db, people.qc)
    with pytest.raises(StaleRecord) as refused, unit_of_work(db) as bobs:
        bobs_copy = bobs.get(DocumentVersion, vid)
        assert bobs_copy is not None and bobs_copy.version == 1
        bobs.commit()  # his form stays open; his read is over

        # when Alice saves her edit meanwhile, through the service
        with unit_of_work(db) as alices:
            service.edit_draft(
                alices, actor=people.qc, version_id=vid, expected_version=1, body="A" * 30
            )
        after_alice = snapshot(db)

        # and Bob's session writes its copy, which still says version 1
        with audit.changes(bobs, actor=people.qa):
            bobs_copy.body = "B" * 30

    # then the ORM's version check refused it, and Alice's text is intact
    assert "changed by someone else" in refused.value.detail
    assert refused.value.status == 409
    assert snapshot(db) == after_alice
    stored = row(db, DocumentVersion, vid)
    assert (stored["body"], stored["version"]) == ("A" * 30, 2)
