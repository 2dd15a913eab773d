"""Who may take each transition of a workflow, and its guards, as controlled configuration
(``workflow.<record type>.roles``), beside the signature rules (``workflow.<record type>
.signatures`` in ``kernel.workflow``), which say what a transition's signature means and who is
barred from it.

The code's transitions are the first version. A version gives each transition its roles and
its guards. Guards stay code: a version chooses them by name from the workflow's catalogue
(every guard the code declares on any of its transitions, all pure functions of the same
record type), and keeps those the code declares on the transition (the code's preconditions
are the floor, as its signatures are).

What a version may not do is refused with the reason (Part 11 §11.10(d), (g), §11.100(a),
§11.200; Annex 11 §12): leave a transition with no role; give a read-only role any transition
(it changes nothing); give a signed transition to a service account role (a signature is a
person's act); let one role take two steps the code keeps apart by role — where a transition
bars the author or the signer of another step, and the code gives the two steps to roles
that share none, a version keeps them apart.

A version may give a step to a site role (``role_permissions``) that a version of
``roles.permissions`` in force, or approved for a later date, defines (the two keys come into
force at their own dates); the sandbox says whether the roles version in force defines it and
who holds it.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, TypeGuard

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel.configuration import store as config_store
from pharmaqms.kernel.models import User
from pharmaqms.kernel.role_permissions import (
    is_site_role_name,
    site_roles_defined,
    site_roles_in_force,
)
from pharmaqms.kernel.roles import DEFAULT_ROLES, READ_ONLY_ROLES, SERVICE_ACCOUNT_ROLES

if TYPE_CHECKING:
    from pharmaqms.kernel.records import GxPRecord
    from pharmaqms.kernel.workflow import Guard, Transition, Workflow

# The system account acts for the software (scheduled steps): it never signs either.
SYSTEM_ROLE = "system"
NEVER_SIGN = SERVICE_ACCOUNT_ROLES | {SYSTEM_ROLE}
FIELDS = ("roles", "guards")


def roles_key(workflow: Workflow) -> str:
    return f"workflow.{workflow.record_type}.roles"


def guard_catalogue(workflow: Workflow) -> dict[str, Guard]:
    """The guards a version may choose from, by name: those the code declares on the
    workflow's transitions."""
    return {g.__name__: g for t in workflow.transitions for g in t.guards}


def transition_roles(workflow: Workflow) -> dict[str, dict[str, list[str]]]:
    """The code's roles and guards of each transition: the built-in first version."""
    return {
        t.name: {"roles": sorted(t.roles), "guards": [g.__name__ for g in t.guards]}
        for t in workflow.transitions
    }


def known_roles(workflow: Workflow) -> set[str]:
    return set(DEFAULT_ROLES) | {SYSTEM_ROLE} | {r for t in workflow.transitions for r in t.roles}


def _list_of_names(value: Any) -> TypeGuard[list[str]]:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def transition_entry_problems(workflow: Workflow, content: Any, needs: str) -> list[str]:
    """A per-transition configuration names every transition of the workflow and no other."""
    if not isinstance(content, dict):
        return ["give an object with one entry per transition"]
    names = [t.name for t in workflow.transitions]
    problems = []
    unknown = sorted(set(content) - set(names))
    if unknown:
        problems.append(f"unknown transitions {', '.join(unknown)}; known: {', '.join(names)}")
    missing = [n for n in names if n not in content]
    if missing:
        problems.append(f"every transition needs its {needs}; missing: {', '.join(missing)}")
    return problems


def _problems(workflow: Workflow, content: Any) -> list[str]:
    if not isinstance(content, dict):
        return ["give an object with one entry per transition"]
    names = [t.name for t in workflow.transitions]
    problems = transition_entry_problems(workflow, content, "roles")
    roles, catalogue = known_roles(workflow), guard_catalogue(workflow)
    for name in names:
        entry = content.get(name)
        if name not in content:
            continue
        if not isinstance(entry, dict) or set(entry) != set(FIELDS):
            problems.append(f"{name}: give exactly the fields {', '.join(FIELDS)}")
            continue
        if not _list_of_names(entry["roles"]):
            problems.append(f"{name}: roles is a list of role names")
        elif unknown := sorted(r for r in set(entry["roles"]) - roles if not is_site_role_name(r)):
            problems.append(
                f"{name}: unknown roles {', '.join(unknown)}; known: {', '.join(sorted(roles))}, "
                "or a site role as roles.permissions names it (lower-case snake_case)"
            )
        if not _list_of_names(entry["guards"]):
            problems.append(f"{name}: guards is a list of guard names")
        elif set(entry["guards"]) - set(catalogue):
            problems.append(
                f"{name}: unknown guards {', '.join(sorted(set(entry['guards']) - set(catalogue)))}"
                f"; the catalogue of {workflow.record_type}: "
                f"{', '.join(sorted(catalogue)) or 'none'}"
            )
    return problems


def undefined_roles(workflow: Workflow, session: Session, entries: dict[str, Any]) -> list[str]:
    """For each entry of a workflow key's content that names ``roles``: the roles neither the
    code nor roles.permissions defines (in force now, or approved for a later date). Refused
    where a step, a sign-off or a site step is given to one: a typo would leave it to
    nobody."""
    defined = known_roles(workflow) | site_roles_defined(session)
    problems = []
    for name, entry in entries.items():
        roles = entry.get("roles") if isinstance(entry, dict) else None
        if _list_of_names(roles) and (unknown := sorted(set(roles) - defined)):
            problems.append(
                f"{name}: unknown roles {', '.join(unknown)}: neither the code's nor a site role "
                "of roles.permissions (in force, or approved for a later date); define it there "
                "first"
            )
    return problems


def _reference_problems(workflow: Workflow, session: Session, content: Any) -> list[str]:
    return undefined_roles(workflow, session, content) if isinstance(content, dict) else []


def _sandbox(
    workflow: Workflow, session: Session, current: config_store.InForce, proposed: Any
) -> list[str]:
    """For each site role the proposal gives a step: whether the version of roles.permissions
    in force defines it and how many active accounts hold it — a step given to a role nobody
    can hold is taken by nobody through it."""
    if not isinstance(proposed, dict):
        return []
    rules, sites = site_roles_in_force(session)
    code = known_roles(workflow)
    steps: dict[str, list[str]] = {}
    for name, entry in proposed.items():
        if isinstance(entry, dict) and _list_of_names(entry.get("roles")):
            for role in entry["roles"]:
                if role not in code:
                    steps.setdefault(role, []).append(name)
    holders: dict[str, int] = {}
    for roles in session.scalars(select(User.roles).where(User.is_active.is_(True))):
        for role in roles:
            holders[role] = holders.get(role, 0) + 1
    findings = []
    for role, names in sorted(steps.items()):
        taken = ", ".join(names)
        if role in sites:
            findings.append(
                f"{role} (site role of {rules.label}, {holders.get(role, 0)} active accounts) "
                f"takes {taken}"
            )
        else:
            findings.append(
                f"{role} is not a role of {rules.label}: nobody can take {taken} through it "
                "until a version of roles.permissions defines it"
            )
    return findings


def _segregated(workflow: Workflow, drafting: set[str]) -> list[tuple[Transition, Transition]]:
    """(earlier step, later step) pairs the code keeps apart by role: the later bars the
    author (and the earlier submits from drafting) or bars the earlier's signers, and the code
    gives them no role in common."""
    pairs = []
    for later in workflow.transitions:
        for earlier in workflow.transitions:
            if earlier is later or earlier.roles & later.roles:
                continue
            submits = (
                later.forbid_author
                and earlier.target in later.source
                and bool(earlier.source & drafting)
            )
            signs_barred = bool(earlier.signature) and earlier.signature in later.forbid_signers_of
            if submits or signs_barred:
                pairs.append((earlier, later))
    return pairs


def _control_problems(workflow: Workflow, model: type[GxPRecord], content: Any) -> list[str]:
    if not isinstance(content, dict):
        return []
    entries = {
        t.name: (t, content[t.name])
        for t in workflow.transitions
        if isinstance(content.get(t.name), dict) and _list_of_names(content[t.name].get("roles"))
    }
    problems = []
    for t, entry in entries.values():
        where = f"'{t.label}' ({t.name})"
        given = set(entry["roles"])
        if not given:
            problems.append(f"{where}: give it at least one role, or nobody could take it")
        read_only = sorted(given & READ_ONLY_ROLES)
        if read_only:
            problems.append(
                f"{where}: {', '.join(read_only)} is read-only and takes no transition "
                "(Part 11 §11.10(d))"
            )
        machines = sorted(given & NEVER_SIGN)
        if t.signature and machines:
            problems.append(
                f"{where} is signed ({t.signature}): {', '.join(machines)} is a service account "
                "role and never signs (a signature is a person's act, Part 11 §11.100(a))"
            )
        guards = entry.get("guards")
        dropped = [g.__name__ for g in t.guards if g.__name__ not in (guards or [])]
        if _list_of_names(guards) and dropped:
            problems.append(
                f"{where}: must keep the guards {', '.join(dropped)} (a precondition the code "
                "demands); a version may add guards from the catalogue, not drop them"
            )
    drafting = {workflow.initial, *model.__draft_states__}
    for earlier, later in _segregated(workflow, drafting):
        if earlier.name not in entries or later.name not in entries:
            continue
        shared = sorted(
            set(entries[earlier.name][1]["roles"]) & set(entries[later.name][1]["roles"])
        )
        if shared:
            problems.append(
                f"'{later.label}' ({later.name}) and '{earlier.label}' ({earlier.name}) are kept "
                f"apart by role in the code (segregation of duties, Part 11 §11.10(g)): "
                f"{', '.join(shared)} may not take both"
            )
    return problems


def roles_grid(workflow: Workflow, content: Any) -> config_store.Grid:
    rows = []
    for t in workflow.transitions:
        entry = content.get(t.name) if isinstance(content, dict) else None
        if not isinstance(entry, dict):
            continue
        rows.append(
            (
                f"{t.label} ({t.name})" + (f" · signed {t.signature}" if t.signature else ""),
                [", ".join(entry.get("roles") or []), ", ".join(entry.get("guards") or [])],
            )
        )
    return config_store.Grid(("Transition", "Roles", "Guards"), rows)


def register_transition_roles(workflow: Workflow, model: type[GxPRecord], label: str) -> None:
    names: dict[str, Guard] = {}
    for t in workflow.transitions:
        for g in t.guards:
            if names.setdefault(g.__name__, g) is not g:
                raise ValueError(
                    f"{workflow.record_type}: two guards are named {g.__name__!r}; a version "
                    "chooses guards by name, so give them distinct names"
                )
    config_store.register_kind(
        config_store.ConfigKind(
            key=roles_key(workflow),
            title=f"{label}: who takes each step, and its guards",
            module=workflow.record_type,
            description=(
                "For each transition: the roles that may take it, and its guards by name from "
                "the workflow's catalogue (the code's guards are kept; others may be added)."
            ),
            builtin=lambda: transition_roles(workflow),
            validate=lambda content: _problems(workflow, content),
            controls=lambda content: _control_problems(workflow, model, content),
            regulatory_basis="21 CFR 11.10(d), 11.10(g), 11.100(a); EU GMP Annex 11 §12",
            reading=config_store.grid_reading(lambda content: roles_grid(workflow, content)),
            references=lambda session, content: _reference_problems(workflow, session, content),
            sandbox=lambda session, current, proposed: _sandbox(
                workflow, session, current, proposed
            ),
        )
    )


def apply(workflow: Workflow, transition: Transition, content: Any) -> Transition:
    """The transition with the roles and guards a version gives it (the code's when the
    version has no entry for it: a transition added to the code after the version)."""
    entry = content.get(transition.name) if isinstance(content, dict) else None
    if not isinstance(entry, dict):
        return transition
    catalogue = guard_catalogue(workflow)
    chosen = [catalogue[name] for name in entry.get("guards") or [] if name in catalogue]
    return dataclasses.replace(
        transition,
        roles=frozenset(entry.get("roles") or transition.roles),
        guards=tuple(dict.fromkeys([*transition.guards, *chosen])),
    )
