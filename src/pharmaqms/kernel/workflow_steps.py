"""The steps of a workflow as controlled configuration (``workflow.<record type>.transitions``):
steps a site adds between the code's statuses, and the code's optional steps it withdraws from
some or all of the statuses they start from — "a CAPA in implementation goes back for plan
approval when its actions change"; "a deviation under investigation is not cancelled, it is
closed with its rationale".

The code has neither: the built-in first version adds and withdraws nothing. Statuses stay
code: registers, holds and clocks are keyed to them, and a status the code does not know
would be in no register. A site that wants another review stage adds a sign-off
(``workflow_sign_offs``), which keeps the record in its status until it is signed.

A site step enters a status as the code's own steps do, or it is refused with the reason:

- it leaves only a status the code lets records leave (a final status stays final) and enters
  one the code enters by a step (a record arrives in its first status by being created);
- it does not enter a status where a code step into it does work beyond the change of status
  (the deviation's "return to investigation" re-opens the investigator's task): the site step
  would skip that work;
- it keeps what every code step into that status demands: the guards they share, a signature
  with one of their meanings when they are all signed, the author barred when they all bar
  the author, the holders and signers they all bar (Part 11 §11.10(g), §11.50, §11.200);
- it is taken by people: a role the code or ``roles.permissions`` defines, never a read-only
  role nor the system account, and a signed step never by a service account role.

A withdrawal names a code step the code marks as optional (no verb of the code takes it) and
the statuses it is withdrawn from. It is refused if a status the code reaches (other than a
retired one) could no longer be reached, or a record could be left in a status with no step
out, or with no way to a final status.

Each site step records the version it ran under on its record; a withdrawn step is refused
with the version that withdrew it.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, TypeGuard

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pharmaqms.kernel.configuration import store as config_store
from pharmaqms.kernel.configuration.models import ConfigStatus
from pharmaqms.kernel.errors import NotFound, QMSError, TransitionNotAllowed
from pharmaqms.kernel.role_permissions import is_site_role_name
from pharmaqms.kernel.roles import READ_ONLY_ROLES
from pharmaqms.kernel.signatures import meaning_problem
from pharmaqms.kernel.workflow_roles import (
    NEVER_SIGN,
    SYSTEM_ROLE,
    guard_catalogue,
    known_roles,
    undefined_roles,
)

if TYPE_CHECKING:
    from pharmaqms.kernel.records import GxPRecord
    from pharmaqms.kernel.workflow import Transition, Workflow

FIELDS = (
    "label",
    "from",
    "to",
    "roles",
    "guards",
    "signature",
    "forbid_author",
    "forbid_holders_of",
    "forbid_signers_of",
    "reason_required",
)
# A site step's name starts with ``site_`` so that no later step of the code can take it; it
# is also the kind of the tasks a sign-off before it would open (at most 40 characters).
SITE_STEP = re.compile(r"^site_[a-z][a-z0-9_]{1,30}$")
LONGEST_LABEL = 80


def steps_key(workflow: Workflow) -> str:
    return f"workflow.{workflow.record_type}.transitions"


def builtin() -> dict[str, Any]:
    return {"added": {}, "withdrawn": {}}


def _names(value: Any) -> TypeGuard[list[str]]:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _final(workflow: Workflow) -> set[str]:
    return {s for s in workflow.states if not workflow.from_state(s)}


# --- the content's form ---------------------------------------------------------------------


def _added_problems(workflow: Workflow, model: type[GxPRecord], name: str, entry: Any) -> list[str]:
    if not isinstance(entry, dict) or set(entry) != set(FIELDS):
        return [f"{name}: give exactly the fields {', '.join(FIELDS)}"]
    states, problems = set(workflow.states), []
    label = entry["label"]
    if not isinstance(label, str) or not label.strip() or len(label) > LONGEST_LABEL:
        problems.append(f"{name}: label is the step's name as people read it (1–80 characters)")
    if not _names(entry["from"]) or not entry["from"]:
        problems.append(f"{name}: from is a list of the statuses it starts from")
    elif unknown := sorted(set(entry["from"]) - states):
        problems.append(
            f"{name}: unknown statuses {', '.join(unknown)}; {workflow.record_type} has "
            f"{', '.join(workflow.states)}"
        )
    if entry["to"] not in states:
        problems.append(f"{name}: to is one of the statuses {', '.join(workflow.states)}")
    elif _names(entry["from"]) and entry["to"] in entry["from"]:
        problems.append(f"{name}: a step leaves its status; {entry['to']} is in from")
    roles = known_roles(workflow)
    if not _names(entry["roles"]):
        problems.append(f"{name}: roles is a list of role names")
    elif unknown := sorted(r for r in set(entry["roles"]) - roles if not is_site_role_name(r)):
        problems.append(
            f"{name}: unknown roles {', '.join(unknown)}; known: {', '.join(sorted(roles))}, or "
            "a site role as roles.permissions names it (lower-case snake_case)"
        )
    catalogue = guard_catalogue(workflow)
    if not _names(entry["guards"]):
        problems.append(f"{name}: guards is a list of guard names")
    elif unknown := sorted(set(entry["guards"]) - set(catalogue)):
        problems.append(
            f"{name}: unknown guards {', '.join(unknown)}; the catalogue of "
            f"{workflow.record_type}: {', '.join(sorted(catalogue)) or 'none'}"
        )
    if entry["signature"] is not None and (problem := meaning_problem(name, entry["signature"])):
        problems.append(problem)
    for flag in ("forbid_author", "reason_required"):
        if not isinstance(entry[flag], bool):
            problems.append(f"{name}: {flag} is true or false")
    if not _names(entry["forbid_holders_of"]):
        problems.append(f"{name}: forbid_holders_of is a list of fields naming a person")
    else:
        for holder in entry["forbid_holders_of"]:
            if not holder.endswith("_id") or not hasattr(model, holder):
                problems.append(
                    f"{name}: {holder!r} is not a field of {model.__name__} naming a person"
                )
    if not _names(entry["forbid_signers_of"]):
        problems.append(f"{name}: forbid_signers_of is a list of signature meanings")
    else:
        for meaning in entry["forbid_signers_of"]:
            if problem := meaning_problem(f"{name} (forbid_signers_of)", meaning):
                problems.append(problem)
    return problems


def _problems(workflow: Workflow, model: type[GxPRecord], content: Any) -> list[str]:
    if not isinstance(content, dict) or set(content) != {"added", "withdrawn"}:
        return ["give an object with the fields added (site steps by name) and withdrawn"]
    added, withdrawn = content["added"], content["withdrawn"]
    code = {t.name: t for t in workflow.transitions}
    problems = []
    if not isinstance(withdrawn, dict):
        problems.append("withdrawn: give the code steps withdrawn, each with its statuses")
    else:
        for name, sources in withdrawn.items():
            if name not in code:
                problems.append(
                    f"withdrawn: {workflow.record_type} has no step {name!r}; its steps: "
                    f"{', '.join(code)}"
                )
            elif not _names(sources) or not sources:
                problems.append(f"withdrawn {name}: give the statuses it is withdrawn from")
            elif extra := sorted(set(sources) - code[name].source):
                problems.append(
                    f"withdrawn {name}: '{code[name].label}' does not start from "
                    f"{', '.join(extra)}; it starts from {', '.join(sorted(code[name].source))}"
                )
    if not isinstance(added, dict):
        return [*problems, "added: give the site steps, each under its name"]
    for name, entry in added.items():
        if not SITE_STEP.match(name):
            problems.append(
                f"added: {name!r} is not a site step's name: site_ then lower-case letters, "
                "digits and underscores, at most 36 characters"
            )
            continue
        problems.extend(_added_problems(workflow, model, name, entry))
    return problems


# --- what a version may not do --------------------------------------------------------------


def _entering_problems(workflow: Workflow, name: str, entry: dict[str, Any]) -> list[str]:
    """What every code step into the site step's status demands, and the work some do."""
    target, where = entry["to"], f"{name} ('{entry['label']}')"
    ways_in = [t for t in workflow.transitions if t.target == target]
    if not ways_in:
        return [
            f"{where}: no step of the code enters {target}; a record arrives there only as "
            "the code makes it"
        ]
    problems = []
    for t in ways_in:
        if t.effects:
            problems.append(
                f"{where}: entering {target} by the code's '{t.label}' ({t.name}) does work "
                "beyond the change of status, which a site step would skip; such a step is a "
                "change of the code"
            )
    shared = set.intersection(*({g.__name__ for g in t.guards} for t in ways_in))
    if missing := sorted(shared - set(entry["guards"])):
        problems.append(
            f"{where}: must keep the guards {', '.join(missing)}, which every code step into "
            f"{target} demands"
        )
    meanings = {t.signature for t in ways_in}
    if None not in meanings and entry["signature"] not in meanings:
        problems.append(
            f"{where}: every code step into {target} is signed "
            f"({' or '.join(sorted(str(m) for m in meanings))}); so must this one be "
            "(Part 11 §11.50, §11.200)"
        )
    if all(t.forbid_author for t in ways_in) and entry["forbid_author"] is not True:
        problems.append(
            f"{where}: every code step into {target} bars the author; so must this one "
            "(segregation of duties, Part 11 §11.10(g), Annex 11 §12)"
        )
    for listed in ("forbid_holders_of", "forbid_signers_of"):
        kept = set.intersection(*(set(getattr(t, listed)) for t in ways_in))
        if missing := sorted(kept - set(entry[listed])):
            problems.append(
                f"{where}: {listed} must keep {', '.join(missing)}, as every code step into "
                f"{target} does (segregation of duties)"
            )
    return problems


def _role_problems(name: str, entry: dict[str, Any]) -> list[str]:
    given, where = set(entry["roles"]), f"{name} ('{entry['label']}')"
    problems = []
    if not given:
        problems.append(f"{where}: give it at least one role, or nobody could take it")
    if read_only := sorted(given & READ_ONLY_ROLES):
        problems.append(
            f"{where}: {', '.join(read_only)} is read-only and takes no step (Part 11 §11.10(d))"
        )
    if SYSTEM_ROLE in given:
        problems.append(f"{where}: the system account takes only the code's scheduled steps")
    if entry["signature"] and (machines := sorted(given & NEVER_SIGN - {SYSTEM_ROLE})):
        problems.append(
            f"{where} is signed ({entry['signature']}): {', '.join(machines)} is a service "
            "account role and never signs (a signature is a person's act, Part 11 §11.100(a))"
        )
    return problems


def _graph(workflow: Workflow, content: dict[str, Any]) -> dict[str, set[str]]:
    """Where a record can go from each status under the version."""
    edges: dict[str, set[str]] = {s: set() for s in workflow.states}
    for t in workflow.transitions:
        for source in t.source - set(content["withdrawn"].get(t.name, [])):
            edges[source].add(t.target)
    for entry in content["added"].values():
        for source in entry["from"]:
            edges[source].add(entry["to"])
    return edges


def _reach(edges: dict[str, set[str]], start: Iterable[str]) -> set[str]:
    seen, stack = set(start), list(start)
    while stack:
        for nxt in edges[stack.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


def _shape_problems(workflow: Workflow, content: dict[str, Any]) -> list[str]:
    """What the withdrawals would leave: a status no record could reach, a record stuck."""
    code_edges = _graph(workflow, builtin())
    edges = _graph(workflow, content)
    was_reached = _reach(code_edges, [workflow.initial])
    reached = _reach(edges, [workflow.initial])
    final = _final(workflow)
    problems = []
    for state in workflow.states:
        label = workflow.state_label(state)
        if state in was_reached and state not in reached and state not in workflow.retired_states:
            problems.append(f"no record could reach {label} any more")
        if state not in reached:
            continue
        if code_edges[state] and not edges[state]:
            problems.append(f"a record in {label} would have no step out")
        elif final and not (_reach(edges, [state]) & final):
            problems.append(f"a record in {label} could never reach a final status")
    return problems


def _control_problems(workflow: Workflow, content: Any) -> list[str]:
    if _well_formed(content) is None:
        return []
    problems = []
    final = _final(workflow)
    code = {t.name: t for t in workflow.transitions}
    for name in content["withdrawn"]:
        if not code[name].withdrawable:
            optional = [t.name for t in workflow.transitions if t.withdrawable]
            problems.append(
                f"withdrawn: '{code[name].label}' ({name}) is a step the code's own verbs take "
                "or its records need; the optional steps of "
                f"{workflow.record_type}: {', '.join(optional) or 'none'}"
            )
    for name, entry in content["added"].items():
        where = f"{name} ('{entry['label']}')"
        for source in entry["from"]:
            if source in final or source in workflow.retired_states:
                problems.append(
                    f"{where}: {workflow.state_label(source)} is final in the code; a record "
                    "there is not taken back by a site step"
                )
        problems.extend(_entering_problems(workflow, name, entry))
        problems.extend(_role_problems(name, entry))
    problems.extend(_shape_problems(workflow, content))
    return problems


def _well_formed(content: Any) -> dict[str, Any] | None:
    """The content when it has the form the checks after the schema read, else None."""
    if not isinstance(content, dict) or set(content) != {"added", "withdrawn"}:
        return None
    if not isinstance(content["added"], dict) or not isinstance(content["withdrawn"], dict):
        return None
    return content


def _reference_problems(workflow: Workflow, session: Session, content: Any) -> list[str]:
    content = _well_formed(content)
    return undefined_roles(workflow, session, content["added"]) if content else []


# --- what a proposal would change, and how it reads -----------------------------------------


def _count_in(session: Session, model: type[GxPRecord], states: Iterable[str]) -> int:
    return int(
        session.scalar(
            select(func.count()).select_from(model).where(model.status.in_(sorted(states)))
        )
        or 0
    )


def _sandbox(
    workflow: Workflow,
    model: type[GxPRecord],
    session: Session,
    current: config_store.InForce,
    proposed: Any,
) -> list[str]:
    if _well_formed(proposed) is None:
        return []
    now = _well_formed(current.content) or builtin()
    code = {t.name: t for t in workflow.transitions}
    findings = []
    for name, entry in proposed["added"].items():
        if now["added"].get(name) == entry:
            continue
        sources = ", ".join(workflow.state_label(s) for s in entry["from"])
        findings.append(
            f"'{entry['label']}' ({name}): {_count_in(session, model, entry['from'])} record(s) "
            f"now in {sources} would be offered it, to {workflow.state_label(entry['to'])}, by "
            f"{', '.join(entry['roles'])}"
            + (f", signed {entry['signature']}" if entry["signature"] else ", not signed")
        )
        if entry["to"] in workflow.on_enter:
            findings.append(
                f"'{entry['label']}' ({name}) opens the task of "
                f"{workflow.state_label(entry['to'])}, as the code's steps into it do"
            )
    for name in sorted(set(now["added"]) - set(proposed["added"])):
        findings.append(f"{name}: no longer offered")
    for name, sources in proposed["withdrawn"].items():
        if sorted(now["withdrawn"].get(name, [])) == sorted(sources):
            continue
        findings.append(
            f"'{code[name].label}' ({name}) withdrawn from "
            f"{', '.join(workflow.state_label(s) for s in sources)}: "
            f"{_count_in(session, model, sources)} record(s) there now would no longer be "
            "offered it"
        )
    for name in sorted(set(now["withdrawn"]) - set(proposed["withdrawn"])):
        findings.append(f"'{code[name].label}' ({name}): offered again from every status")
    return findings


def steps_grid(workflow: Workflow, content: Any) -> config_store.Grid:
    rows = []
    for name, entry in (content or {}).get("added", {}).items():
        barred = [
            *(["the author"] if entry.get("forbid_author") else []),
            *entry.get("forbid_holders_of", []),
            *(f"signers as {m}" for m in entry.get("forbid_signers_of", [])),
        ]
        rows.append(
            (
                f"{entry['label']} ({name}) · added",
                [
                    ", ".join(workflow.state_label(s) for s in entry["from"]),
                    workflow.state_label(entry["to"]),
                    ", ".join(entry["roles"]),
                    ", ".join(entry["guards"]) or "—",
                    str(entry["signature"] or "—"),
                    ", ".join(barred) or "—",
                ],
            )
        )
    code = {t.name: t for t in workflow.transitions}
    for name, sources in (content or {}).get("withdrawn", {}).items():
        step = code.get(name)
        rows.append(
            (
                f"{step.label if step else name} ({name}) · withdrawn",
                [", ".join(workflow.state_label(s) for s in sources), "—", "—", "—", "—", "—"],
            )
        )
    return config_store.Grid(("Step", "From", "To", "Roles", "Guards", "Signed", "Barred"), rows)


def register_steps(workflow: Workflow, model: type[GxPRecord], label: str) -> None:
    if not workflow.site_steps:
        return  # the code keeps this workflow's steps to itself
    config_store.register_kind(
        config_store.ConfigKind(
            key=steps_key(workflow),
            title=f"{label}: steps added by the site, and optional steps withdrawn",
            module=workflow.record_type,
            description=(
                "added: site steps by name (site_…), each with its label, the statuses it "
                "starts from, the status it enters, roles, guards from the catalogue, "
                "signature meaning (null: not signed), who is barred and whether a reason is "
                "asked. withdrawn: optional code steps, each with the statuses it is "
                "withdrawn from."
            ),
            builtin=builtin,
            validate=lambda content: _problems(workflow, model, content),
            controls=lambda content: _control_problems(workflow, content),
            regulatory_basis=(
                "21 CFR 11.10(f), 11.10(g), 11.50, 11.200; EU GMP Annex 11 §12; "
                "EU GMP Chapter 1 §1.4"
            ),
            reading=config_store.grid_reading(lambda content: steps_grid(workflow, content)),
            references=lambda session, content: _reference_problems(workflow, session, content),
            sandbox=lambda session, current, proposed: _sandbox(
                workflow, model, session, current, proposed
            ),
        )
    )


# --- the steps in force ---------------------------------------------------------------------


def in_force(session: Session, workflow: Workflow) -> config_store.InForce | None:
    key = steps_key(workflow)
    return config_store.in_force(session, key) if config_store.is_registered(key) else None


def _site_step(workflow: Workflow, name: str, entry: dict[str, Any]) -> Transition | None:
    """The site step as a transition; None when the code no longer has a guard or status it
    names (the in-force check reports the version; the step is not offered meanwhile)."""
    from pharmaqms.kernel.workflow import Transition

    catalogue = guard_catalogue(workflow)
    states = set(workflow.states)
    if not set(entry["guards"]) <= set(catalogue) or not {*entry["from"], entry["to"]} <= states:
        return None
    return Transition(
        name=name,
        label=entry["label"],
        source=frozenset(entry["from"]),
        target=entry["to"],
        roles=frozenset(entry["roles"]),
        signature=entry["signature"],
        forbid_author=entry["forbid_author"],
        forbid_signers_of=frozenset(entry["forbid_signers_of"]),
        forbid_holders_of=tuple(entry["forbid_holders_of"]),
        reason_required=entry["reason_required"],
        guards=tuple(catalogue[g] for g in entry["guards"]),
    )


def apply(
    workflow: Workflow, steps: dict[str, Transition], version: config_store.InForce | None
) -> dict[str, Transition]:
    """The code's steps (as the other keys configure them) less what the version withdraws,
    then its site steps."""
    content = _well_formed(version.content if version is not None else None)
    if content is None:
        return steps
    result = {}
    for name, t in steps.items():
        left = t.source - set(content["withdrawn"].get(name, []))
        if left:
            result[name] = t if left == t.source else dataclasses.replace(t, source=left)
    for name, entry in content["added"].items():
        step = _site_step(workflow, name, entry) if name not in result else None
        if step is not None:
            result[name] = step
    return result


def label_of(session: Session, workflow: Workflow, name: str) -> str | None:
    """A site step's label as the latest approved version that has it names it (the audit
    trail names the step people took, after the version that added it was replaced)."""
    key = steps_key(workflow)
    if not config_store.is_registered(key) or not SITE_STEP.match(name):
        return None
    for version in config_store.versions(session, key):
        added = (_well_formed(version.content) or builtin())["added"]
        if version.status == ConfigStatus.APPROVED and isinstance(added.get(name), dict):
            return str(added[name].get("label") or name)
    return None


def is_site_step(workflow: Workflow, name: str) -> bool:
    return bool(SITE_STEP.match(name)) and name not in {t.name for t in workflow.transitions}


def unavailable(
    workflow: Workflow,
    version: config_store.InForce | None,
    record: GxPRecord,
    name: str,
    configured: dict[str, Transition],
) -> QMSError | None:
    """Why the step can't be offered at all: unknown, or withdrawn (from the record's status)
    by the version in force. None when it can (its other conditions are checked after)."""
    code = {t.name: t for t in workflow.transitions}
    step = configured.get(name)
    if name not in code and step is None:
        return NotFound(
            f"{workflow.record_type} has no transition {name!r}; known: {', '.join(configured)}"
        )
    if name not in code or version is None:
        return None
    label = code[name].label
    if step is None:
        return TransitionNotAllowed(f"'{label}' is withdrawn by {version.label}")
    if record.status in code[name].source and record.status not in step.source:
        return TransitionNotAllowed(
            f"'{label}' from {workflow.state_label(record.status)} is withdrawn by {version.label}"
        )
    return None
