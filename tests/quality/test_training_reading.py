"""Read and understood is signed on the text, not blind: the trainee opens the document's
text (recorded once), and the signature is refused before it, by every path. Refusals change
nothing."""

from __future__ import annotations

from typing import Any

from tests.quality.document_steps import SOP_BODY, counts, effective_document
from tests.support import PASSWORD, reviewed_version

from pharmaqms.kernel.db import Database


def assigned(api: Any) -> tuple[dict[str, Any], Any, Any]:
    qa, operator = api("qa"), api("operator")
    sop = effective_document(api("qc"), qa, "Cleaning of the tablet press")
    users = {u["username"]: u["id"] for u in api("admin").get("/api/v1/users").json()}
    requirement = qa.post(
        "/api/v1/training/requirements",
        json={"user_id": users["operator"], "document_id": sop["id"], "reason": "new starter"},
    )
    assert requirement.status_code == 201, requirement.text
    return requirement.json(), qa, operator


def test_signing_before_opening_the_text_is_refused_and_changes_nothing(
    frozen_clock: Any, db: Database, api: Any
) -> None:
    requirement, qa, operator = assigned(api)
    rid = requirement["id"]
    generic = f"/api/v1/records/training_requirement/{rid}/transitions/complete"
    expected = reviewed_version(operator, "training_requirement", rid)
    before = counts(db)

    blind = operator.post(
        f"/api/v1/training/requirements/{rid}/complete", json={"password": PASSWORD}
    )
    blind_generic = operator.post(
        generic, json={"password": PASSWORD, "expected_version": expected}
    )
    by_someone_else = qa.post(f"/api/v1/training/requirements/{rid}/open")

    assert blind.status_code == 409
    assert "has not been opened" in blind.json()["detail"]
    assert blind_generic.status_code == 409
    assert "open " in blind_generic.text and "read it first" in blind_generic.text
    assert by_someone_else.status_code == 403
    assert counts(db) == before
    assert operator.get(f"/api/v1/training/requirements/{rid}").json()["opened_at"] is None


def test_the_opened_text_is_what_the_signature_binds_and_opening_is_recorded_once(
    frozen_clock: Any, db: Database, api: Any
) -> None:
    requirement, _qa, operator = assigned(api)
    rid = requirement["id"]

    opened = operator.post(f"/api/v1/training/requirements/{rid}/open")
    assert opened.status_code == 200, opened.text
    reading = opened.json()
    assert reading["body"] == SOP_BODY
    assert reading["content_hash"] == requirement["read_content_hash"]
    first_opened = reading["opened_at"]

    frozen_clock.advance(minutes=10)
    again = operator.post(f"/api/v1/training/requirements/{rid}/open").json()
    assert again["opened_at"] == first_opened  # the first opening stands
    signed = operator.post(
        f"/api/v1/training/requirements/{rid}/complete", json={"password": PASSWORD}
    )
    assert signed.status_code == 200, signed.text
    assert signed.json()["status"] == "completed"
    # A completed training is not opened again as something to sign.
    assert operator.post(f"/api/v1/training/requirements/{rid}/open").status_code == 409
