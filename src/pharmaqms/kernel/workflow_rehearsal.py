"""The sandbox's rehearsal of a workflow configuration draft (who takes each step, its
signatures, its sign-offs, the steps a site adds or withdraws): the workflow engine itself,
run over the open records of the record type as each active person, once with the version in
force and once with the draft in force (``store.rehearsing``), and the differences said record
by record — "DEV-2026-0004 'Approve':
rosa.qa → nobody until 'Production concurs' is signed". It reads only: the draft is put in
force for the session's reads, nothing is written, and the records are the live ones.

What it does not rehearse: what a step would do when taken (its effects run only when it is
taken), and records newer than the rehearsal. It reads at most ``LIMIT`` records, the most
recent first, and says so when there were more."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pharmaqms.kernel.auth import actor_for
from pharmaqms.kernel.configuration import store
from pharmaqms.kernel.identity import Actor, Channel
from pharmaqms.kernel.models import User
from pharmaqms.kernel.records import GxPRecord
from pharmaqms.kernel.registry import RECORD_TYPES, RecordType
from pharmaqms.kernel.workflow import options

LIMIT = 100
_KEY = re.compile(r"^workflow\.(?P<type>[a-z0-9_]+)\.(roles|signatures|sign_offs|transitions)$")

# (record id, step name) -> usernames who may take it now
Takers = dict[tuple[int, str], set[str]]


def _people(session: Session) -> list[Actor]:
    users = session.scalars(
        select(User)
        .where(User.is_active.is_(True), User.is_service_account.is_(False))
        .order_by(User.username)
    ).all()
    return [actor_for(session, user, Channel.UI) for user in users if user.roles]


def _takers(
    session: Session, rt: RecordType, records: list[GxPRecord], people: list[Actor]
) -> tuple[Takers, dict[tuple[int, str], str]]:
    takers: Takers = {}
    labels: dict[tuple[int, str], str] = {}
    for record in records:
        for person in people:
            for option in options(session, rt.workflow, record, person):
                step = (record.id, option.transition.name)
                labels[step] = option.transition.label
                found = takers.setdefault(step, set())
                if option.allowed:
                    found.add(person.username)
    return takers, labels


def _names(usernames: set[str] | None) -> str:
    return ", ".join(sorted(usernames)) if usernames else "nobody"


def rehearse(session: Session, key: str, content: Any) -> list[str]:
    """The findings of the rehearsal for a workflow key; [] for any other key."""
    matched = _KEY.match(key)
    if matched is None or matched["type"] not in RECORD_TYPES:
        return []
    rt = RECORD_TYPES[matched["type"]]
    model: Any = rt.model
    active = sorted({state for t in rt.workflow.transitions for state in t.source})
    where = model.status.in_(active)
    total = int(session.scalar(select(func.count()).select_from(model).where(where)) or 0)
    records = list(
        session.scalars(select(model).where(where).order_by(model.id.desc()).limit(LIMIT))
    )
    people = _people(session)
    now, labels = _takers(session, rt, records, people)
    with store.rehearsing(session, key, content):
        draft, draft_labels = _takers(session, rt, records, people)
    labels.update(draft_labels)
    by_id = {record.id: record for record in records}
    changes = []
    for step in sorted(set(now) | set(draft), key=lambda s: (-s[0], s[1])):
        before, after = now.get(step), draft.get(step)
        if before == after:
            continue
        record = by_id[step[0]]
        if before is None:
            what = f"a new step, for {_names(after)}"
        elif after is None:
            what = f"no longer offered (now for {_names(before)})"
        else:
            what = f"{_names(before)} → {_names(after)}"
        changes.append(f"{record.audit_label()} '{labels[step]}': {what}")
    read = f"{len(records)} of {total}" if total > len(records) else f"{total}"
    summary = (
        f"rehearsed with the workflow engine on {read} open record(s) ({rt.plural.lower()}) as "
        f"{len(people)} active people: "
        + (f"{len(changes)} step(s) change who may take them" if changes else "no step changes")
    )
    return [summary, *changes]
