"""Constants and helpers shared by the tests."""

from __future__ import annotations

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
