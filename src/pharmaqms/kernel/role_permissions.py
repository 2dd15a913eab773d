"""Roles and their permissions as controlled configuration (``roles.permissions``).

The code's grants (``roles.DEFAULT_ROLES`` after every module has added its own) are the first
version. A later version is drafted under a change control, run on the sandbox, signed by QA
and comes into force on its date like any other configuration key.

Why permissions are resolved from the version in force rather than copied into the ``roles``
table when a version comes into force: a version comes into force at a date, not at an event
the system could act on (nothing runs at midnight on the effective date), and ``in_force(at)``
answers "what could this person do at that moment" without a second history to keep in step.
The ``roles`` table stays the register of the roles themselves (name, description, read-only
flag) and of the code's grants as installed; authorisation reads the configuration.

A permission that no role of the version names (a module installed after the version was
written) follows the code's grant until a version names it; the administrator's entry may
list a permission beside ``*`` to name it without changing what anyone holds.

What a version may not do (Part 11 §11.10(d), (g); Annex 11 §12) is refused with the reason:
give the read-only role anything but reading and exporting; take ``*`` from the administrator
or give it to anyone else; leave no role able to manage users; give a service account role a
permission that signs (a signature is a person's act, §11.100(a)); name a role or a permission
the code does not know.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel.configuration import store
from pharmaqms.kernel.models import User
from pharmaqms.kernel.roles import (
    DEFAULT_ROLES,
    READ_ONLY_ROLES,
    SERVICE_ACCOUNT_ROLES,
    reads_only,
    signs,
)

KEY = "roles.permissions"
ADMINISTRATOR = "admin"
MANAGE_USERS = "users.manage"


def code_grants() -> dict[str, list[str]]:
    """The code's grants: every role with its permissions, the built-in first version."""
    return {role: sorted(permissions) for role, (_, permissions) in DEFAULT_ROLES.items()}


def vocabulary() -> frozenset[str]:
    """Every permission the code knows: those its modules grant, and ``*``."""
    return frozenset(p for _, permissions in DEFAULT_ROLES.values() for p in permissions)


def _problems(content: Any) -> list[str]:
    if not isinstance(content, dict):
        return ["give an object with one entry per role: its list of permissions"]
    problems = []
    roles = sorted(DEFAULT_ROLES)
    unknown_roles = sorted(set(content) - set(roles))
    if unknown_roles:
        problems.append(f"unknown roles {', '.join(unknown_roles)}; known: {', '.join(roles)}")
    missing = [role for role in roles if role not in content]
    if missing:
        problems.append(
            f"every role needs its list (an empty one to hold nothing); missing: "
            f"{', '.join(missing)}"
        )
    known = vocabulary()
    for role in sorted(set(content) & set(roles)):
        granted = content[role]
        if not isinstance(granted, list) or not all(isinstance(p, str) for p in granted):
            problems.append(f"{role}: give a list of permission names")
            continue
        unknown = sorted(set(granted) - known)
        if unknown:
            problems.append(
                f"{role}: unknown permissions {', '.join(unknown)} (the code's permissions are "
                "those its modules grant, listed on the roles page)"
            )
    return problems


def _control_problems(content: Any) -> list[str]:
    """What a version would break that Part 11 demands, with the reason."""
    if not isinstance(content, dict):
        return []
    granted = {
        role: set(perms)
        for role, perms in content.items()
        if role in DEFAULT_ROLES and isinstance(perms, list)
    }
    problems = []
    for role in sorted(READ_ONLY_ROLES & set(granted)):
        writes = sorted(p for p in granted[role] if not reads_only(p))
        if writes:
            problems.append(
                f"{role} is read-only (reads everything, changes nothing): it may not hold "
                f"{', '.join(writes)} (Part 11 §11.10(d), (g))"
            )
    if "*" not in granted.get(ADMINISTRATOR, {"*"}):
        problems.append(
            f"{ADMINISTRATOR} must keep * (every permission): someone must be able to manage "
            "accounts, roles and configuration"
        )
    others = sorted(
        role for role, perms in granted.items() if role != ADMINISTRATOR and "*" in perms
    )
    if others:
        problems.append(
            f"* (every permission) is the administrator's alone; not for {', '.join(others)}"
        )
    if not any(MANAGE_USERS in perms or "*" in perms for perms in granted.values()):
        problems.append(f"no role could manage users ({MANAGE_USERS}): keep it for one role")
    for role in sorted(SERVICE_ACCOUNT_ROLES & set(granted)):
        signing = sorted(p for p in granted[role] if signs(p))
        if signing:
            problems.append(
                f"{role} is a service account role: it may not hold the signing permissions "
                f"{', '.join(signing)} (a signature is a person's act, Part 11 §11.100(a), "
                "§11.200(a))"
            )
    return problems


def grants_of(content: Any) -> dict[str, frozenset[str]]:
    """Each role's permissions under a version's content: what it lists, plus the code's
    grants of permissions the version names nowhere (a module installed after it)."""
    listed = {role: frozenset(perms) for role, perms in content.items()}
    named = frozenset().union(*listed.values())
    code = code_grants()
    return {
        role: listed.get(role, frozenset()) | (frozenset(code[role]) - named)
        for role in DEFAULT_ROLES
    }


def permissions_for(
    session: Session, roles: Iterable[str], at: datetime | None = None
) -> tuple[store.InForce, frozenset[str]]:
    """The permissions the holder of ``roles`` had at ``at`` (now by default), with the
    version they came from."""
    rules = store.in_force(session, KEY, at)
    grants = grants_of(rules.content)
    held: frozenset[str] = frozenset().union(*(grants.get(role, frozenset()) for role in roles))
    return rules, held


def signing_roles(session: Session) -> frozenset[str]:
    """The roles whose permissions in force include one that signs."""
    grants = grants_of(store.in_force(session, KEY).content)
    return frozenset(role for role, perms in grants.items() if any(map(signs, perms)))


def _sandbox(session: Session, current: store.InForce, proposed: Any) -> list[str]:
    """Who the proposal changes: for each role gaining or losing permissions, how many active
    accounts hold it; and the roles that would start or stop signing."""
    before, after = grants_of(current.content), grants_of(proposed)
    holders: dict[str, int] = {}
    for user in session.scalars(select(User).where(User.is_active.is_(True))):
        for role in user.roles:
            holders[role] = holders.get(role, 0) + 1
    findings = []
    for role in sorted(DEFAULT_ROLES):
        gained, lost = sorted(after[role] - before[role]), sorted(before[role] - after[role])
        if not (gained or lost):
            continue
        parts = ([f"gains {', '.join(gained)}"] if gained else []) + (
            [f"loses {', '.join(lost)}"] if lost else []
        )
        findings.append(f"{role} ({holders.get(role, 0)} active accounts): " + "; ".join(parts))
        was, will = any(map(signs, before[role])), any(map(signs, after[role]))
        if will and not was:
            findings.append(
                f"{role} becomes a signing role: giving it to an account will need a second "
                "administrator's approval"
            )
        if was and not will:
            findings.append(f"{role} no longer holds a permission that signs")
    return findings or ["nobody's permissions change"]


def permission_grid(content: Any) -> store.Grid:
    """Permission × role, a mark where the role holds it."""
    grants = grants_of(content) if isinstance(content, dict) else {}
    roles = sorted(DEFAULT_ROLES)
    rows = [
        (permission, ["✓" if permission in grants.get(role, ()) else "" for role in roles])
        for permission in sorted(vocabulary())
    ]
    return store.Grid(("Permission", *roles), rows)


store.register_kind(
    store.ConfigKind(
        key=KEY,
        title="Roles and their permissions",
        module="kernel",
        description=(
            "For each role, the permissions its holders have. The read-only role reads and "
            "exports only; the administrator keeps *; a service account role never signs."
        ),
        builtin=code_grants,
        validate=_problems,
        controls=_control_problems,
        sandbox=_sandbox,
        regulatory_basis="21 CFR 11.10(d), 11.10(g), 11.100(a), 11.200(a); EU GMP Annex 11 §12",
        grid=permission_grid,
    )
)
