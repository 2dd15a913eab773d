"""Sign-offs a site adds to a workflow as controlled configuration
(``workflow.<record type>.sign_offs``): signed steps that must be taken before one of the
code's transitions, by a role the version names and with a meaning — regulatory affairs
concurring before a change is approved, the head of production co-signing a deviation's
closure. The record stays in its status while it collects them; the transition they precede
waits until each is signed on the record as it now is.

A sign-off is a signature (Part 11 §11.50): it covers the record's content at its version, so
any later change to the record — an edit, a change of status — asks for it again. Whoever
signed one may not also take the transition it precedes: a sign-off is another person's
concurrence (§11.10(g), Annex 11 §12).

The code has none: the built-in first version is empty. What a version may not do is refused
with the reason: a sign-off without a meaning, one given to no role, to a read-only role or
to a service account role, one before a transition the workflow does not have.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel.configuration import store as config_store
from pharmaqms.kernel.models import ElectronicSignature
from pharmaqms.kernel.role_permissions import is_site_role_name
from pharmaqms.kernel.roles import READ_ONLY_ROLES
from pharmaqms.kernel.signatures import MEANINGS
from pharmaqms.kernel.workflow_roles import NEVER_SIGN, known_roles, undefined_roles

if TYPE_CHECKING:
    from pharmaqms.kernel.records import GxPRecord
    from pharmaqms.kernel.workflow import Transition, Workflow

# Sign-offs share the transitions' URL and API (``…/transitions/sign_off.<name>``): the
# prefix keeps their names apart from the code's transitions, which never contain a dot.
PREFIX = "sign_off."
FIELDS = ("label", "before", "roles", "meaning", "forbid_author")
# The task kind is the step (at most 40 characters).
_NAME = re.compile(r"^[a-z][a-z0-9_]{1,30}$")


@dataclass(frozen=True)
class SignOff:
    name: str
    label: str
    before: str  # the code transition it precedes
    roles: tuple[str, ...]  # in the version's order: the first receives the task
    meaning: str
    forbid_author: bool

    @property
    def step(self) -> str:
        """Its name among the transitions (URL, API, signatures)."""
        return PREFIX + self.name


def sign_offs_key(workflow: Workflow) -> str:
    return f"workflow.{workflow.record_type}.sign_offs"


def is_sign_off(name: str) -> bool:
    return name.startswith(PREFIX)


def _list_of_names(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _problems(workflow: Workflow, content: Any) -> list[str]:
    if not isinstance(content, dict):
        return ["give an object with one entry per sign-off (an empty object: none)"]
    transitions = {t.name for t in workflow.transitions}
    problems: list[str] = []
    for name, entry in content.items():
        if not _NAME.match(name):
            problems.append(
                f"{name!r}: a sign-off's name is lower-case snake_case, 2 to 31 characters"
            )
        elif name in transitions:
            problems.append(f"{name}: a transition of {workflow.record_type} has that name")
        if not isinstance(entry, dict) or set(entry) != set(FIELDS):
            problems.append(f"{name}: give exactly the fields {', '.join(FIELDS)}")
            continue
        if not isinstance(entry["label"], str) or not entry["label"].strip():
            problems.append(f"{name}: give a label, shown on the button and the task")
        if not isinstance(entry["before"], str) or entry["before"] not in transitions:
            problems.append(
                f"{name}: before names a transition of {workflow.record_type}; one of: "
                f"{', '.join(sorted(transitions))}"
            )
        meaning = entry["meaning"]
        if not isinstance(meaning, str) or not meaning.strip():
            problems.append(
                f"{name}: a sign-off without a meaning is not a signature (Part 11 §11.50)"
            )
        elif meaning not in MEANINGS:
            problems.append(f"{name}: unknown meaning {meaning!r}; one of: {', '.join(MEANINGS)}")
        if not isinstance(entry["forbid_author"], bool):
            problems.append(f"{name}: forbid_author is true or false")
        roles = entry["roles"]
        if not _list_of_names(roles):
            problems.append(f"{name}: roles is a list of role names")
            continue
        code = known_roles(workflow)
        unknown = sorted(r for r in set(roles) - code if not is_site_role_name(r))
        if unknown:
            problems.append(
                f"{name}: unknown roles {', '.join(unknown)}; known: {', '.join(sorted(code))}, "
                "or a site role as roles.permissions names it (lower-case snake_case)"
            )
    return problems


def _control_problems(content: Any) -> list[str]:
    """Who may never sign: refused with the Part 11 clause."""
    if not isinstance(content, dict):
        return []
    problems = []
    for name, entry in content.items():
        if not isinstance(entry, dict) or not _list_of_names(entry.get("roles")):
            continue
        given = set(entry["roles"])
        if not given:
            problems.append(f"{name}: give it at least one role, or nobody could sign it off")
        if read_only := sorted(given & READ_ONLY_ROLES):
            problems.append(
                f"{name}: {', '.join(read_only)} is read-only and signs nothing (Part 11 §11.10(d))"
            )
        if machines := sorted(given & NEVER_SIGN):
            problems.append(
                f"{name}: {', '.join(machines)} is a service account role and never signs (a "
                "signature is a person's act, Part 11 §11.100(a))"
            )
    return problems


def _reference_problems(workflow: Workflow, session: Session, content: Any) -> list[str]:
    return undefined_roles(workflow, session, content) if isinstance(content, dict) else []


def _sandbox(
    workflow: Workflow,
    model: type[GxPRecord],
    session: Session,
    current: config_store.InForce,
    proposed: Any,
) -> list[str]:
    """How many records now wait at a transition the proposal adds a sign-off to: each of them
    would wait for it from the effective date (a sign-off asks for the record as it then is)."""
    if not isinstance(proposed, dict):
        return []
    before_current = {
        (e.get("before"), n) for n, e in (current.content or {}).items() if isinstance(e, dict)
    }
    findings = []
    for name, entry in proposed.items():
        if not isinstance(entry, dict) or (entry.get("before"), name) in before_current:
            continue
        transition = next((t for t in workflow.transitions if t.name == entry.get("before")), None)
        if transition is None:
            continue
        waiting = session.scalars(
            select(model.id).where(model.status.in_(sorted(transition.source)))
        ).all()
        findings.append(
            f"{name}: {len(waiting)} {workflow.record_type} record(s) now in "
            f"{', '.join(sorted(transition.source))} would wait for '{entry.get('label')}' "
            f"before '{transition.label}'"
        )
    return findings


def sign_offs_grid(content: Any) -> config_store.Grid:
    rows = []
    for name, entry in (content or {}).items():
        if isinstance(entry, dict):
            rows.append(
                (
                    f"{entry.get('label')} ({name})",
                    [
                        str(entry.get("before")),
                        ", ".join(entry.get("roles") or []),
                        str(entry.get("meaning")),
                        "yes" if entry.get("forbid_author") else "no",
                    ],
                )
            )
    return config_store.Grid(("Sign-off", "Before", "Roles", "Meaning", "Author barred"), rows)


def register_sign_offs(workflow: Workflow, model: type[GxPRecord], label: str) -> None:
    config_store.register_kind(
        config_store.ConfigKind(
            key=sign_offs_key(workflow),
            title=f"{label}: sign-offs added before a step",
            module=workflow.record_type,
            description=(
                "Signed steps a site adds before one of the workflow's transitions: a name, "
                "the label people see, the transition it precedes (before), the roles that "
                "sign it (the first receives the task), its signature meaning, and whether the "
                "record's author is barred. The code has none."
            ),
            builtin=dict,
            validate=lambda content: _problems(workflow, content),
            controls=_control_problems,
            regulatory_basis="21 CFR 11.50, 11.10(g), 11.100(a); EU GMP Annex 11 §12, §14",
            reading=config_store.grid_reading(sign_offs_grid),
            references=lambda session, content: _reference_problems(workflow, session, content),
            sandbox=lambda session, current, proposed: _sandbox(
                workflow, model, session, current, proposed
            ),
        )
    )


def in_force(
    session: Session, workflow: Workflow
) -> tuple[config_store.InForce | None, list[SignOff]]:
    """The sign-offs in force (none for a workflow whose record type is not registered)."""
    key = sign_offs_key(workflow)
    if not config_store.is_registered(key):
        return None, []
    version = config_store.in_force(session, key)
    found = [
        SignOff(
            name=name,
            label=entry["label"],
            before=entry["before"],
            roles=tuple(entry["roles"]),
            meaning=entry["meaning"],
            forbid_author=bool(entry["forbid_author"]),
        )
        for name, entry in (version.content or {}).items()
        if isinstance(entry, dict)
    ]
    return version, found


def valid_signature(
    session: Session, record: GxPRecord, sign_off: SignOff
) -> ElectronicSignature | None:
    """The sign-off's signature on the record as it now is (same version and content), or
    None: never signed, or the record changed since."""
    rows = session.scalars(
        select(ElectronicSignature)
        .where(
            ElectronicSignature.record_type == record.__audit_type__,
            ElectronicSignature.record_id == record.id,
            ElectronicSignature.transition == sign_off.step,
            ElectronicSignature.record_version == record.version,
        )
        .order_by(ElectronicSignature.id.desc())
    )
    content = record.content_hash()
    return next((s for s in rows if s.content_hash == content), None)


def waiting_reasons(
    session: Session,
    record: GxPRecord,
    transition: Transition,
    signer_id: int | None,
    sign_offs: list[SignOff],
) -> list[tuple[bool, str]]:
    """Why ``transition`` waits for its sign-offs: (is a segregation of duties, reason)."""
    found: list[tuple[bool, str]] = []
    for sign_off in sign_offs:
        if sign_off.before != transition.name:
            continue
        signature = valid_signature(session, record, sign_off)
        if signature is None:
            found.append(
                (
                    False,
                    f"'{transition.label}' waits for the sign-off '{sign_off.label}' "
                    f"({', '.join(sign_off.roles)}) on {record.audit_label()} as it now is",
                )
            )
        elif signature.signer_id == signer_id:
            found.append(
                (
                    True,
                    f"{signature.signer_username} signed off '{sign_off.label}': another "
                    f"person takes '{transition.label}'",
                )
            )
    return found
