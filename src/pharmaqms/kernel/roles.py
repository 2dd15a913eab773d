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
# Roles held by machines (a token, never a person with a password): they never sign, since a
# signature is a person's act (Part 11 §11.100(a), §11.200(a)).
SERVICE_ACCOUNT_ROLES = frozenset({"integration"})
# What a read-only role may hold: reading and exporting, nothing that changes a record.
READ_PERMISSION_SUFFIXES = (".read", ".export")
# A permission that signs outside a workflow (see ``role_grants``); ``*`` signs too.
SIGNING_PERMISSION_SUFFIXES = (".approve", ".release", ".sign")


def reads_only(permission: str) -> bool:
    return permission.endswith(READ_PERMISSION_SUFFIXES)


def signs(permission: str) -> bool:
    return permission == "*" or permission.endswith(SIGNING_PERMISSION_SUFFIXES)


def grant(permission: str, *roles: str) -> None:
    """Give a permission to roles by default (called by modules when they are imported)."""
    for role in roles:
        if role in READ_ONLY_ROLES:
            raise ValueError(f"{role} is read-only and can't be granted {permission}")
        if role in SERVICE_ACCOUNT_ROLES and signs(permission):
            raise ValueError(f"{role} is a service account role and can't sign ({permission})")
        DEFAULT_ROLES[role][1].add(permission)


# Reading accounts, role assignments and security alerts (an inspector reviews who may do
# what, Part 11 §11.10(d), (g)); changing them is users.manage.
grant("users.read", "admin")
grant("users.manage", "admin")
# ``/metrics``: Prometheus scrapes with the bearer token of a service account of the
# integration role (an administrator has every permission anyway).
grant("metrics.read", "integration")
