"""Roles and their permissions. The defaults below are seeded by ``pharmaqms init``; modules add
their permissions with ``grant`` at import time so that each module owns its own vocabulary."""

from __future__ import annotations

DEFAULT_ROLES: dict[str, tuple[str, set[str]]] = {
    "admin": ("System administrator: users, roles, configuration", {"*"}),
    "qa": ("Quality assurance", {"records.read", "audit.read", "audit.export", "users.read"}),
    "qc_analyst": ("Quality control analyst", {"records.read"}),
    "production_operator": ("Production operator", {"records.read"}),
    "production_supervisor": ("Production supervisor", {"records.read"}),
    "qualified_person": ("Qualified person (batch certification)", {"records.read"}),
    "pv_officer": ("Pharmacovigilance officer", {"records.read"}),
    "rd_scientist": ("Research and development scientist", {"records.read"}),
    "logistics": ("Logistics and distribution", {"records.read"}),
    "auditor": (
        "Auditor or inspector: reads everything, changes nothing",
        {"records.read", "audit.read", "audit.export", "users.read"},
    ),
    "integration": ("Integration service account (machine to machine)", {"records.read"}),
}

READ_ONLY_ROLES = frozenset({"auditor"})


def grant(permission: str, *roles: str) -> None:
    """Give a permission to roles by default (called by modules when they are imported)."""
    for role in roles:
        if role in READ_ONLY_ROLES:
            raise ValueError(f"{role} is read-only and can't be granted {permission}")
        DEFAULT_ROLES[role][1].add(permission)


# Reading accounts, role assignments and security alerts (an inspector reviews who may do
# what, Part 11 §11.10(d), (g)); changing them is users.manage.
grant("users.read", "admin")
grant("users.manage", "admin")
# ``/metrics``: Prometheus scrapes with the bearer token of a service account of the
# integration role (an administrator has every permission anyway).
grant("metrics.read", "integration")
