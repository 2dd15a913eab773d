"""A form or filter id typed with a character that Python calls a digit but int() refuses
("²") is refused or ignored like any other non-number — never a server error."""

from __future__ import annotations

from typing import Any


def test_a_superscript_digit_in_an_id_filter_is_not_a_server_error(ui: Any) -> None:
    client = ui("auditor")

    audit = client.get("/audit?record_type=document_version&record_id=%C2%B2")
    deviations = ui("qa").get("/deviations?investigator_id=%C2%B2")

    assert audit.status_code == 200
    assert "no record is numbered &#39;²&#39;: ignored" in audit.text
    assert deviations.status_code == 200
