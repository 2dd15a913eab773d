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

Site roles: a version may also define roles the code does not, for a site's own way of working
(a contract QA reviewer), so that QA adds and drops them through change control without a
developer. A built-in role keeps its entry as today, a list of permissions; a site role is an
object ``{"description": …, "permissions": […]}``. Why the object form for site roles only:
every version written before site roles existed stays valid and reads the same, and a site
role has no description in the code, so the version must say what it is. A site role's name is
lower-case snake_case of 3 to 40 characters, not a built-in's or the system account's; it
holds permissions of the code's vocabulary only, never ``*``, and the controls above apply to
it as to any role. Accounts may be given a site role while a version in force defines it
(``auth.known_roles``); an account that still lists a role a later version dropped gets
nothing from it. Renaming is not a verb: a site adds the new role, moves people, then drops the
old one, each step a version under change control.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import clock
from pharmaqms.kernel.configuration import store
from pharmaqms.kernel.configuration.models import ConfigStatus
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
SITE_ROLE_NAME = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")
SITE_ROLE_NAME_LENGTH = range(3, 41)
SITE_ROLE_FIELDS = frozenset({"description", "permissions"})
SITE_ROLE_DESCRIPTION_MAX = 200
# A role name the code gives outside ``DEFAULT_ROLES``: the system account's, in workflows.
RESERVED_ROLE_NAMES = frozenset({"system"})


def is_site_role_name(name: str) -> bool:
    """Whether ``name`` could name a site role (not whether a version defines one)."""
    return (
        name not in DEFAULT_ROLES
        and name not in RESERVED_ROLE_NAMES
        and bool(SITE_ROLE_NAME.match(name))
        and len(name) in SITE_ROLE_NAME_LENGTH
    )


@dataclass(frozen=True)
class SiteRole:
    """A role a version defines that the code does not."""

    name: str
    description: str
    permissions: frozenset[str]


def code_grants() -> dict[str, list[str]]:
    """The code's grants: every role with its permissions, the built-in first version."""
    return {role: sorted(permissions) for role, (_, permissions) in DEFAULT_ROLES.items()}


def vocabulary() -> frozenset[str]:
    """Every permission the code knows: those its modules grant, and ``*``."""
    return frozenset(p for _, permissions in DEFAULT_ROLES.values() for p in permissions)


def _permission_problems(role: str, granted: Any) -> list[str]:
    if not isinstance(granted, list) or not all(isinstance(p, str) for p in granted):
        return [f"{role}: give a list of permission names"]
    unknown = sorted(set(granted) - vocabulary())
    if unknown:
        return [
            f"{role}: unknown permissions {', '.join(unknown)} (the code's permissions are "
            "those its modules grant, listed on the roles page)"
        ]
    return []


def _site_role_problems(name: str, entry: dict[str, Any]) -> list[str]:
    problems = []
    if name in RESERVED_ROLE_NAMES:
        problems.append(f"{name}: the name is the system account's role; choose another")
    elif not (SITE_ROLE_NAME.match(name) and len(name) in SITE_ROLE_NAME_LENGTH):
        problems.append(
            f"{name!r}: a site role's name is lower-case snake_case of 3 to 40 characters "
            "(a letter first, then letters, digits and single underscores)"
        )
    other = sorted(set(entry) - SITE_ROLE_FIELDS)
    if other:
        problems.append(
            f"{name}: a site role has a description and permissions only, not {', '.join(other)}"
        )
    description = entry.get("description")
    if not isinstance(description, str) or not description.strip():
        problems.append(f"{name}: describe the site role (what its holders do)")
    elif len(description) > SITE_ROLE_DESCRIPTION_MAX:
        problems.append(
            f"{name}: the description is longer than {SITE_ROLE_DESCRIPTION_MAX} characters"
        )
    return problems + _permission_problems(name, entry.get("permissions"))


def _problems(content: Any) -> list[str]:
    if not isinstance(content, dict):
        return [
            "give an object with one entry per role: a built-in role's list of permissions, "
            'or a site role\'s {"description": …, "permissions": […]}'
        ]
    problems = []
    roles = sorted(DEFAULT_ROLES)
    unknown_roles = sorted(
        role for role, entry in content.items() if role not in roles and not isinstance(entry, dict)
    )
    if unknown_roles:
        problems.append(
            f"unknown roles {', '.join(unknown_roles)}; known: {', '.join(roles)}; a site "
            'role of your own is given as {"description": …, "permissions": […]}'
        )
    missing = [role for role in roles if role not in content]
    if missing:
        problems.append(
            f"every role needs its list (an empty one to hold nothing); missing: "
            f"{', '.join(missing)}"
        )
    for role in sorted(set(content) & set(roles)):
        if isinstance(content[role], dict):
            problems.append(
                f"{role} is a built-in role: give its list of permissions (the code describes "
                "it); a site role needs a name of its own"
            )
        else:
            problems += _permission_problems(role, content[role])
    for name in sorted(set(content) - set(roles)):
        if isinstance(content[name], dict):
            problems += _site_role_problems(name, content[name])
    return problems


def _listed(content: Any) -> dict[str, frozenset[str]]:
    """Each role's permissions as a version lists them: a built-in role's list, a site role's
    ``permissions``."""
    listed = {}
    for role, entry in content.items():
        granted = entry.get("permissions") if isinstance(entry, dict) else entry
        if isinstance(granted, list):
            listed[role] = frozenset(p for p in granted if isinstance(p, str))
    return listed


def site_roles(content: Any) -> dict[str, SiteRole]:
    """The roles a version defines that the code does not (its object-form entries)."""
    if not isinstance(content, dict):
        return {}
    listed = _listed(content)
    return {
        name: SiteRole(name, str(entry.get("description", "")), listed.get(name, frozenset()))
        for name, entry in content.items()
        if name not in DEFAULT_ROLES and isinstance(entry, dict)
    }


def _control_problems(content: Any) -> list[str]:
    """What a version would break that Part 11 demands, with the reason."""
    if not isinstance(content, dict):
        return []
    sites = set(site_roles(content))
    granted = {
        role: set(perms)
        for role, perms in _listed(content).items()
        if role in DEFAULT_ROLES or role in sites
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
        role
        for role, perms in granted.items()
        if role != ADMINISTRATOR and role not in sites and "*" in perms
    )
    if others:
        problems.append(
            f"* (every permission) is the administrator's alone; not for {', '.join(others)}"
        )
    for role in sorted(r for r in sites if "*" in granted[r]):
        problems.append(
            f"{role} is a site role: it may not hold * (every permission is the "
            "administrator's alone); list the permissions it needs"
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
    grants of permissions no built-in role of the version lists (a module installed after it);
    and each site role the version defines with its permissions. A role the version does not define
    (a site role a later version dropped) is not among them: its holders get nothing from it."""
    listed = _listed(content)
    # Named by a built-in role's list: a site role naming a permission must not take the
    # code's grant of it from the built-in roles of a version that predates the permission.
    named = frozenset().union(*(perms for role, perms in listed.items() if role in DEFAULT_ROLES))
    code = code_grants()
    grants = {
        role: listed.get(role, frozenset()) | (frozenset(code[role]) - named)
        for role in DEFAULT_ROLES
    }
    # A site role holds what the version lists, nothing more: the code grants it nothing.
    grants.update({name: role.permissions for name, role in site_roles(content).items()})
    return grants


# Every request reads the grants of the version in force: worked out once per content (its
# SHA-256 names it), not per request (about a millisecond each, measured in
# bench/profile_create.py). A handful of versions exist in a site's life.
_GRANTS: dict[str, dict[str, frozenset[str]]] = {}


def _grants_in_force(rules: store.InForce) -> dict[str, frozenset[str]]:
    grants = _GRANTS.get(rules.content_sha256)
    if grants is None:
        if len(_GRANTS) > 64:
            _GRANTS.clear()
        grants = _GRANTS[rules.content_sha256] = grants_of(rules.content)
    return grants


def permissions_for(
    session: Session, roles: Iterable[str], at: datetime | None = None
) -> tuple[store.InForce, frozenset[str]]:
    """The permissions the holder of ``roles`` had at ``at`` (now by default), with the
    version they came from."""
    rules = store.in_force(session, KEY, at)
    grants = _grants_in_force(rules)
    held: frozenset[str] = frozenset().union(*(grants.get(role, frozenset()) for role in roles))
    return rules, held


def signing_roles(session: Session) -> frozenset[str]:
    """The roles whose permissions in force include one that signs."""
    grants = _grants_in_force(store.in_force(session, KEY))
    return frozenset(role for role, perms in grants.items() if any(map(signs, perms)))


def site_roles_in_force(session: Session) -> tuple[store.InForce, dict[str, SiteRole]]:
    """The site roles of the version in force now, with that version: the roles an account
    may be given beyond the code's."""
    rules = store.in_force(session, KEY)
    return rules, site_roles(rules.content)


def site_roles_defined(session: Session) -> frozenset[str]:
    """The site roles that exist now or will: those of the version in force and of the
    versions approved for a later date. A workflow step may be given to one of them (the
    step's version may come into force before or after the role's; the sandbox says which)."""
    defined = set(site_roles_in_force(session)[1])
    for version in store.versions(session, KEY):
        if version.status == ConfigStatus.APPROVED and version.effective_from > clock.now():
            defined |= set(site_roles(version.content))
    return frozenset(defined)


def _site_role_findings(
    role: str, before: dict[str, SiteRole], after: dict[str, SiteRole], holding: int
) -> list[str]:
    """What adding or dropping a site role does to the accounts that list it."""
    if role in after and role not in before:
        held = sorted(after[role].permissions)
        who = (
            "no one holds it yet"
            if not holding
            else f"{holding} active accounts still list it from an earlier version and would "
            "get its permissions again"
        )
        return [
            f"{role} is a new site role ({after[role].description}) with "
            f"{', '.join(held) or 'no permissions'}: {who}"
        ]
    if role in before and role not in after:
        lost = ", ".join(sorted(before[role].permissions)) or "no permissions"
        return [
            f"{role} (site role) is dropped: {holding} active accounts hold it and would lose "
            f"its permissions ({lost}); their accounts show it as no longer defined until an "
            "administrator takes it away"
        ]
    return []


def _sandbox(session: Session, current: store.InForce, proposed: Any) -> list[str]:
    """Who the proposal changes: for each role gaining or losing permissions, how many active
    accounts hold it; the site roles added or dropped and who holds them; and the roles that
    would start or stop signing."""
    before, after = grants_of(current.content), grants_of(proposed)
    sites_before, sites_after = site_roles(current.content), site_roles(proposed)
    holders: dict[str, int] = {}
    for user in session.scalars(select(User).where(User.is_active.is_(True))):
        for role in user.roles:
            holders[role] = holders.get(role, 0) + 1
    findings = []
    for role in sorted(set(before) | set(after)):
        site = _site_role_findings(role, sites_before, sites_after, holders.get(role, 0))
        was_held, will_hold = before.get(role, frozenset()), after.get(role, frozenset())
        gained, lost = sorted(will_hold - was_held), sorted(was_held - will_hold)
        if site:
            findings += site
        elif gained or lost:
            parts = ([f"gains {', '.join(gained)}"] if gained else []) + (
                [f"loses {', '.join(lost)}"] if lost else []
            )
            findings.append(f"{role} ({holders.get(role, 0)} active accounts): " + "; ".join(parts))
        else:
            continue
        was, will = any(map(signs, was_held)), any(map(signs, will_hold))
        if will and not was:
            findings.append(
                f"{role} becomes a signing role: giving it to an account will need a second "
                "administrator's approval"
            )
        if was and not will:
            findings.append(f"{role} no longer holds a permission that signs")
    return findings or ["nobody's permissions change"]


def permission_grid(content: Any) -> store.Grid:
    """Permission × role, a mark where the role holds it; the site roles after the code's."""
    grants = grants_of(content) if isinstance(content, dict) else {}
    sites = sorted(site_roles(content))
    roles = sorted(DEFAULT_ROLES) + sites
    rows = [
        (permission, ["✓" if permission in grants.get(role, ()) else "" for role in roles])
        for permission in sorted(vocabulary())
    ]
    headings = [*sorted(DEFAULT_ROLES), *(f"{name} (site role)" for name in sites)]
    return store.Grid(("Permission", *headings), rows)


store.register_kind(
    store.ConfigKind(
        key=KEY,
        title="Roles and their permissions",
        module="kernel",
        description=(
            "For each role, the permissions its holders have. The read-only role reads and "
            "exports only; the administrator keeps *; a service account role never signs. "
            'A site role of your own: "name": {"description": …, "permissions": […]}.'
        ),
        builtin=code_grants,
        validate=_problems,
        controls=_control_problems,
        sandbox=_sandbox,
        regulatory_basis="21 CFR 11.10(d), 11.10(g), 11.100(a), 11.200(a); EU GMP Annex 11 §12",
        reading=store.grid_reading(permission_grid),
    )
)
