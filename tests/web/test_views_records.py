"""The generic record pages: list, detail with signatures and workflow buttons, and the UI
route that takes a transition — including every way a transition is refused."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from tests.conftest import People
from tests.support import PASSWORD
from tests.web.support import counts, flash_of, last_audit_action, make_sop, version_status

from pharmaqms.kernel.db import Database
from pharmaqms.kernel.registry import RECORD_TYPES

GENERIC = "/records/document_version"


def transition_url(vid: int, name: str) -> str:
    return f"{GENERIC}/{vid}/transitions/{name}"


@pytest.mark.parametrize("type_name", sorted(RECORD_TYPES))
def test_every_registered_record_type_has_a_list_page(
    type_name: str, ui: Any, people: People
) -> None:
    page = ui("qa").get(f"/records/{type_name}")

    assert page.status_code == 200
    # the heading as the page writes it (HTML-escaped: "R&amp;D projects")
    assert f"<h1>{html.escape(RECORD_TYPES[type_name].plural)}</h1>" in page.text


def test_the_list_filters_by_status_and_searches_the_searchable_fields(
    ui: Any, db: Database, people: People
) -> None:
    make_sop(db, people.qc, title="Cleaning of the tablet press")
    _, _, reviewed = make_sop(db, people.qc, title="Line clearance", state="in_review")

    client = ui("qa")
    in_review = client.get(f"{GENERIC}?status=in_review")
    searched = client.get(f"{GENERIC}?q=tablet")

    assert reviewed in in_review.text
    assert "Cleaning of the tablet press" not in in_review.text
    assert "Cleaning of the tablet press" in searched.text
    assert "Line clearance" not in searched.text


def test_the_detail_page_shows_fields_signature_manifestation_buttons_and_audit_trail(
    ui: Any, db: Database, people: People
) -> None:
    _, vid, number = make_sop(db, people.qc, state="approved", approver=people.qa)

    page = ui("qa").get(f"{GENERIC}/{vid}").text

    assert f"<h1>{number}</h1>" in page
    assert re.search(
        r"Approved by Quentin Quality \(qa\) on \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", page
    )
    assert "Covers the current content" in page
    assert f'action="{transition_url(vid, "make_effective")}"' in page
    assert 'data-open-dialog="dialog-return_to_draft"' in page
    assert "/audit?record_type=document_version&amp;record_id=" in page
    assert f"/api/v1/records/document_version/{vid}/audit?format=csv" in page
    assert "<code>transition:approve</code>" in page
    assert f'href="/documents/1?version={vid}"' in page  # the documents module's own page


def test_a_blocked_transition_is_shown_disabled_with_its_reason(
    ui: Any, db: Database, people: People
) -> None:
    _, vid, _ = make_sop(db, people.qc, state="in_review")

    page = ui("qc").get(f"{GENERIC}/{vid}").text

    assert '<button type="button" class="btn" disabled data-transition="approve">' in page
    assert "<li>&#39;Approve&#39; needs one of the roles qa, qualified_person</li>" in page
    assert 'data-open-dialog="dialog-approve"' not in page


def test_approving_through_the_signature_dialog_signs_and_moves_the_version(
    ui: Any, db: Database, people: People
) -> None:
    _, vid, number = make_sop(db, people.qc, state="in_review")
    client = ui("qa")
    client.get(f"{GENERIC}/{vid}")
    before = counts(db)

    response = client.post(
        transition_url(vid, "approve"),
        {"expected_version": 2, "password": PASSWORD, "comment": "checked"},
    )

    assert response.headers["location"] == f"/documents/1?version={vid}"
    assert flash_of(client.follow(response).text) == (
        f"{number}: Approve done, signed “Approved”; status now approved."
    )
    assert version_status(db, vid) == "approved"
    assert counts(db)[1] == before[1] + 1


def test_a_form_without_csrf_token_is_refused_and_changes_nothing(
    ui: Any, db: Database, people: People
) -> None:
    _, vid, _ = make_sop(db, people.qc)
    client = ui("qc")
    before = counts(db)

    response = client.post(transition_url(vid, "submit"), {"expected_version": 1}, csrf=False)

    assert response.status_code == 303
    assert flash_of(client.follow(response).text) == (
        "the form's CSRF token is missing or wrong: reload the page and retry"
    )
    assert version_status(db, vid) == "draft"
    assert counts(db) == before


def test_a_form_with_another_sessions_csrf_token_is_refused(
    ui: Any, db: Database, people: People
) -> None:
    _, vid, _ = make_sop(db, people.qc)
    other = ui("qa")
    client = ui("qc")
    before = counts(db)

    client.post(transition_url(vid, "submit"), {"csrf_token": other.csrf_token})

    assert version_status(db, vid) == "draft"
    assert counts(db) == before


def test_a_refused_transition_shows_its_reason_and_changes_nothing(
    ui: Any, db: Database, people: People
) -> None:
    _, vid, number = make_sop(db, people.qa, state="in_review")
    client = ui("qa")
    page = f"{GENERIC}/{vid}"
    client.get(page)
    before = counts(db)

    response = client.post(
        transition_url(vid, "approve"),
        {"expected_version": 2, "password": PASSWORD},
        referer=page,
    )

    assert response.headers["location"] == f"http://testserver{page}"
    assert flash_of(client.follow(response).text) == (
        f"the author of {number} may not 'Approve' it"
    )
    assert version_status(db, vid) == "in_review"
    assert counts(db) == before


def test_a_transition_that_needs_a_reason_is_refused_without_one(
    ui: Any, db: Database, people: People
) -> None:
    _, vid, _ = make_sop(db, people.qc)
    client = ui("qc")
    client.get(f"{GENERIC}/{vid}")
    before = counts(db)

    response = client.post(transition_url(vid, "withdraw"), {"reason": "  "})

    assert flash_of(client.follow(response).text) == "'Withdraw draft' needs a reason"
    assert version_status(db, vid) == "draft"
    assert counts(db) == before


def test_a_wrong_signature_password_signs_nothing_but_the_attempt_is_recorded(
    ui: Any, db: Database, people: People
) -> None:
    _, vid, _ = make_sop(db, people.qc, state="in_review")
    client = ui("qa")
    client.get(f"{GENERIC}/{vid}")
    audit_before, signatures_before = counts(db)

    response = client.post(
        transition_url(vid, "approve"), {"expected_version": 2, "password": "not-my-password"}
    )

    assert flash_of(client.follow(response).text) == (
        "signature (Approved) refused: the password is wrong; the attempt is recorded"
    )
    assert version_status(db, vid) == "in_review"
    assert counts(db) == (audit_before + 1, signatures_before)
    assert last_audit_action(db) == "signature_failed"


def test_a_transition_from_a_stale_page_is_refused(ui: Any, db: Database, people: People) -> None:
    _, vid, number = make_sop(db, people.qc)
    client = ui("qc")
    client.get(f"{GENERIC}/{vid}")
    before = counts(db)

    response = client.post(transition_url(vid, "submit"), {"expected_version": 0})

    assert flash_of(client.follow(response).text) == (
        f"{number} is at version 1, not 0: someone changed it meanwhile; reload and try again"
    )
    assert version_status(db, vid) == "draft"
    assert counts(db) == before


def test_the_auditor_reads_the_record_but_gets_no_button_that_changes_it(
    ui: Any, db: Database, people: People
) -> None:
    _, vid, _ = make_sop(db, people.qc, state="in_review")

    page = ui("auditor").get(f"{GENERIC}/{vid}").text

    assert "Read-only access: you can look at this record but not change it." in page
    assert "/transitions/" not in page
    assert "data-open-dialog" not in page
    assert "data-transition" not in page
    assert "<dialog" not in page


def test_a_signature_form_without_the_reviewed_version_signs_nothing(
    ui: Any, db: Database, people: People
) -> None:
    _, vid, _ = make_sop(db, people.qc, state="in_review")
    client = ui("qa")
    client.get(f"{GENERIC}/{vid}")
    before = counts(db)

    response = client.post(transition_url(vid, "approve"), {"password": PASSWORD})

    assert flash_of(client.follow(response).text) == (
        "'Approve' is signed (Approved): send expected_version, "
        "the version of the record you reviewed"
    )
    assert version_status(db, vid) == "in_review"
    assert counts(db) == before


def test_a_sign_off_in_force_shows_as_a_signed_step_and_its_dialog_signs_it(
    ui: Any, db: Database, people: People
) -> None:
    from datetime import UTC, datetime, timedelta

    from tests.compliance.configuration_steps import (
        approved_change_from_a_new_edition,
        put_in_force,
    )

    from pharmaqms.compliance.configuration.demo import CONCURRENCE
    from pharmaqms.kernel import clock

    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    with clock.frozen_at(start) as frozen:
        _, vid, number = make_sop(db, people.qc, state="in_review")
        change = approved_change_from_a_new_edition(db, people)
        put_in_force(
            db,
            people,
            "workflow.document_version.sign_offs",
            CONCURRENCE,
            effective_from=start + timedelta(hours=1),
            change_id=change,
        )
        frozen.advance(hours=2)
        step = "sign_off.production_concurrence"
        # QA sees the approval held, with the reason
        page = ui("qa").get(f"{GENERIC}/{vid}").text
        assert '<button type="button" class="btn" disabled data-transition="approve">' in page
        assert "waits for the sign-off &#39;Production concurs&#39;" in page
        # production sees the sign-off as a signed step with its Part 11 statement
        client = ui("supervisor")
        page = client.get(f"{GENERIC}/{vid}").text
        assert f'data-open-dialog="dialog-{step}"' in page
        assert f'action="{transition_url(vid, step)}"' in page
        assert "Signature meaning: <strong>Reviewed</strong>" in page
        response = client.post(
            transition_url(vid, step), {"expected_version": 2, "password": PASSWORD}
        )
        assert flash_of(client.follow(response).text) == (
            f"{number}: Sign off: Production concurs done, signed “Reviewed”; status now in "
            "review. 'Approve' no longer waits for a sign-off."
        )
        assert version_status(db, vid) == "in_review"
        page = ui("qa").get(f"{GENERIC}/{vid}").text
        assert 'data-open-dialog="dialog-approve"' in page
