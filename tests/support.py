"""Constants and helpers shared by the tests."""

from __future__ import annotations

from typing import Any

PASSWORD = "Correct-Horse-9!"

# username: (full name, roles)
PEOPLE: dict[str, tuple[str, list[str]]] = {
    "admin": ("Ada Administrator", ["admin"]),
    "qa": ("Quentin Quality", ["qa"]),
    "qa2": ("Rosa Reviewer", ["qa"]),
    "qc": ("Chloe Chemist", ["qc_analyst"]),
    "operator": ("Otto Operator", ["production_operator"]),
    "supervisor": ("Sam Supervisor", ["production_supervisor"]),
    "qp": ("Petra Qualified", ["qualified_person"]),
    "pv": ("Victor Vigilance", ["pv_officer"]),
    "rd": ("Rita Research", ["rd_scientist"]),
    "logistics": ("Lars Logistics", ["logistics"]),
    "auditor": ("Ines Inspector", ["auditor"]),
}


def reviewed_version(client: Any, record_type: str, record_id: int) -> int:
    """The version of a record a signer reviewed: read as a client reads it before signing."""
    response = client.get(f"/api/v1/records/{record_type}/{record_id}")
    assert response.status_code == 200, response.text
    return int(response.json()["version"])
